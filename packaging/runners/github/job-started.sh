#!/bin/bash
# GitHub Actions self-hosted runner: the job-started hook (docs/ci.md "GitHub Actions").
# The runner's .env names it: ACTIONS_RUNNER_HOOK_JOB_STARTED=<this file>. The runner runs
# it with `bash -e` as a child of Runner.Worker, the process that then runs every step of
# the job, with the job's GITHUB_* and RUNNER_* variables; a non-zero exit fails the job
# before any step runs.
#
# It signs the job's tickets with the runner's delegated key (through sudo: the runner's
# account, which also runs the steps, must not read the key), then asks the daemon to
# start job gh-<run id>-<attempt>-<job>-<runner name> with Runner.Worker moved into the
# job's cgroup: every step of the job then runs gated, with these tickets only. Any
# failure exits non-zero, so the job never runs ungated.
set -euo pipefail
# shellcheck source=packaging/runners/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib.sh"
eg_prog="execgate job-started hook"

eg_load_conf
[ "$(id -u)" != 0 ] ||
  die "the runner runs as root: its jobs could read the delegate key; run it as an unprivileged account (docs/ci.md \"GitHub Actions\")"
id=$(eg_github_job_id)
worker=$(eg_find_worker "$PPID") ||
  die "no Runner.Worker among this hook's ancestors (from pid $PPID): it must be run by the runner as ACTIONS_RUNNER_HOOK_JOB_STARTED; refusing to let the job run ungated"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
initiator=$(eg_printable "github:${GITHUB_REPOSITORY:-?} run $GITHUB_RUN_ID attempt $GITHUB_RUN_ATTEMPT job $GITHUB_JOB on $RUNNER_NAME")
eg_sign sudo "$id" "$initiator" "$tmp"
eg_ticket_args
cgroup=$("$EXECGATE_BIN" job start "$id" --pid "$worker" "${eg_args[@]}") ||
  die "execgate job start $id failed (exit $?): the job does not run"
echo "execgate: job $id started: Runner.Worker (pid $worker) in ${cgroup:-?}, ${#eg_tickets[@]} ticket(s)"
