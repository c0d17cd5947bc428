#!/bin/bash
# GitLab Runner custom executor: prepare_exec (docs/ci.md "GitLab Runner"). Runs once per
# job, before any of its scripts, outside the gated scope: signs the job's tickets with
# the runner's delegated key and starts job gitlab-<job id> with them (its cgroup below
# the policy's scope). run.sh then runs every stage's script inside that job, cleanup.sh
# ends it. The job id comes from the runner's JOB_RESPONSE_FILE, which the job cannot
# change. Any failure exits $SYSTEM_FAILURE_EXIT_CODE (the runner retries prepare up to
# three times; a job half-started is ended first, so a retry starts clean) and nothing of
# the job runs.
set -euo pipefail
# shellcheck source=packaging/runners/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib.sh"
eg_prog="execgate gitlab prepare"
eg_fail_code=${SYSTEM_FAILURE_EXIT_CODE:-1}

eg_load_conf
id=$(eg_gitlab_job_id)
eg_gitlab_accounts

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
initiator=$(eg_printable "gitlab:${CUSTOM_ENV_CI_PROJECT_PATH:-?} pipeline ${CUSTOM_ENV_CI_PIPELINE_ID:-?} job ${id#gitlab-} ${CUSTOM_ENV_CI_JOB_NAME:-}")
eg_sign "$eg_sign_mode" "$id" "$initiator" "$tmp"
eg_ticket_args
cgroup=$("$EXECGATE_BIN" job start "$id" "${eg_args[@]}") || {
  rc=$?
  "$EXECGATE_BIN" job end "$id" >/dev/null 2>&1 || :
  die "execgate job start $id failed (exit $rc): nothing of the job runs"
}
echo "execgate: job $id started in ${cgroup:-?}, ${#eg_tickets[@]} ticket(s)"
