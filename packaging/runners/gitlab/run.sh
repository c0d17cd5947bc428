#!/bin/bash
# GitLab Runner custom executor: run_exec (docs/ci.md "GitLab Runner"). The runner calls it
# once per stage, the script it generated and the stage's name as the last two arguments
# (after any run_args): `run.sh [RUN_ARGS...] SCRIPT STAGE`. The script runs with bash
# inside job gitlab-<job id> (`execgate run --job`, which joins the job prepare.sh started
# and leaves it running), as EXECGATE_RUNNER_JOB_USER when the driver runs as root.
#
# Exit status, as the custom executor expects it:
#   0                          the stage's script succeeded;
#   $BUILD_FAILURE_EXIT_CODE   the script ran and failed (a command the gate denied
#                              included: the job tried to run what no ticket allows);
#                              its own status is also written to $BUILD_EXIT_CODE_FILE
#                              when the runner sets that;
#   $SYSTEM_FAILURE_EXIT_CODE  the script never started: the daemon, the gate or this
#                              driver failed. Told apart from the first by a marker the
#                              wrapper writes just before it execs the script, since
#                              `execgate run` exits with the command's status as well as
#                              with its own errors (1, 3).
set -euo pipefail
# shellcheck source=packaging/runners/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib.sh"
eg_prog="execgate gitlab run"
eg_fail_code=${SYSTEM_FAILURE_EXIT_CODE:-1}

[ $# -ge 2 ] || die "usage: $0 [RUN_ARGS...] SCRIPT STAGE (the custom executor's run_exec)"
args=("$@")
script=${args[$# - 2]}
stage=${args[$# - 1]}
build_failure=${BUILD_FAILURE_EXIT_CODE:-}
[[ $build_failure =~ ^[0-9]+$ ]] || die "BUILD_FAILURE_EXIT_CODE is not set: this script is the custom executor's run_exec"
[ -r "$script" ] || die "cannot read the $stage script $script"

eg_load_conf
id=$(eg_gitlab_job_id)
eg_gitlab_accounts

# The script, copied where the job's account can read it, and the marker's directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -- "$script" "$work/script"
marker=$work/started
# shellcheck disable=SC2016 # expanded by the wrapper's bash, in the job
wrapper='printf "%s\n" "$$" >"$1" || exit 1; exec bash "$2"'
if [ -n "$eg_job_uid" ]; then
  chown -R "$eg_job_uid:$eg_job_gid" "$work"
  cmd=("$(command -v setpriv)" --reuid="$eg_job_uid" --regid="$eg_job_gid" --init-groups --reset-env --
    bash -c "$wrapper" execgate-gitlab-stage "$marker" "$work/script")
else
  cmd=("$(command -v env)" PATH="$eg_caller_path" bash -c "$wrapper" execgate-gitlab-stage "$marker" "$work/script")
fi

rc=0
"$EXECGATE_BIN" run --job "$id" -- "${cmd[@]}" || rc=$?
if [ ! -e "$marker" ]; then
  die "execgate run --job $id failed (exit $rc) before the $stage script started: the daemon, the gate or the driver failed; nothing of the stage ran"
fi
[ "$rc" = 0 ] && exit 0
if [ -n "${BUILD_EXIT_CODE_FILE:-}" ]; then
  printf '%s\n' "$rc" >"$BUILD_EXIT_CODE_FILE" || echo "$eg_prog: cannot write $BUILD_EXIT_CODE_FILE" >&2
fi
echo "$eg_prog: the $stage script exited $rc" >&2
exit "$build_failure"
