#!/bin/bash
# sign-job-tickets.sh JOB_ID [INITIATOR]: signs job JOB_ID's tickets (the toolchain and
# builders lists of runner.conf) with the runner's delegated key and prints them, one
# ticket envelope a line. Run by the runner hooks through `sudo -n` when the account that
# runs the jobs must not read the key (docs/ci.md "Who may read the key"), as root or the
# account owning the key. It signs only what runner.conf lists, bound to one job, so a job
# that runs it too gains nothing it does not already have.
# Installed as /usr/share/execgate/runners/sign-job-tickets.sh. Exit 0, or 1 with the
# reason on stderr; 2 on a usage error.
set -euo pipefail
# shellcheck source=packaging/runners/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
eg_prog=execgate-sign-job-tickets
# run as root or as the account that owns the key: files that account owns are trusted
eg_trust_self=1

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 JOB_ID [INITIATOR]" >&2
  exit 2
fi
id=$1 initiator=${2:-}
eg_valid_job_id "$id" || { echo "$eg_prog: '$id' is not a job id (1..100 of [A-Za-z0-9._-])" >&2; exit 2; }
[[ $initiator =~ ^[[:print:]]{0,256}$ ]] || { echo "$eg_prog: the initiator must be at most 256 printable characters" >&2; exit 2; }

# Through sudo, only the system's configuration counts (sudo's env_reset drops the
# variable anyway).
[ -z "${SUDO_UID:-}" ] || EXECGATE_RUNNER_CONF=/etc/execgate/runner.conf
eg_load_conf

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
eg_sign direct "$id" "$initiator" "$out"
for t in "${eg_tickets[@]}"; do
  cat -- "$t"
done
