#!/bin/bash
# GitLab Runner custom executor: cleanup_exec (docs/ci.md "GitLab Runner"). Runs after
# every job, failed ones included, outside the gated scope: `execgate job end` uninstalls
# the job's tickets and build outputs, kills what is left of the job and removes its
# cgroup. Its status does not change the job's; a failure is a warning in the runner's
# log (exit $SYSTEM_FAILURE_EXIT_CODE).
set -euo pipefail
# shellcheck source=packaging/runners/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib.sh"
eg_prog="execgate gitlab cleanup"
eg_fail_code=${SYSTEM_FAILURE_EXIT_CODE:-1}

eg_load_conf
id=$(eg_gitlab_job_id)
"$EXECGATE_BIN" job end "$id" ||
  die "execgate job end $id failed (exit $?) (exit 3 when prepare never started it)"
echo "execgate: job $id ended"
