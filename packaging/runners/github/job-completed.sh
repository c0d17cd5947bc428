#!/bin/bash
# GitHub Actions self-hosted runner: the job-completed hook (docs/ci.md "GitHub Actions").
# The runner's .env names it: ACTIONS_RUNNER_HOOK_JOB_COMPLETED=<this file>. It runs as a
# child of Runner.Worker, so inside the job that job-started.sh started: `execgate job end`
# from inside ends the job's authorization (its tickets and build outputs); the daemon
# removes the job's cgroup once Runner.Worker and what is left of the job have exited.
# The job's id is derived again from the variables no workflow can override.
set -euo pipefail
# shellcheck source=packaging/runners/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib.sh"
eg_prog="execgate job-completed hook"

eg_load_conf
id=$(eg_github_job_id)
"$EXECGATE_BIN" job end "$id" || die "execgate job end $id failed (exit $?)"
echo "execgate: job $id ended"
