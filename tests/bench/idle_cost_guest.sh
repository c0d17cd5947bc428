#!/bin/sh
# Inside the VM (see idle_cost.sh): idle_cost_guest.sh SECONDS
# Starts execgated with the suites' policy and no workload, waits 5 s, and prints per
# thread its CPU (schedstat) and voluntary context switches over SECONDS:
#   IDLE NAME CPU_NS SWITCHES SECONDS
SECS=${1:-20}
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
mkdir -p $W/audit /sys/fs/cgroup/gated
execgate keygen -o $W/ops >/dev/null
execgate keygen -o $W/audit >/dev/null
open_policy idle enforce >$W/p.toml
start_daemon $W/p.toml || { echo "BROKEN execgated did not start"; exit 1; }
sleep 5
snap() {
  for t in /proc/$DPID/task/*; do
    echo "$(cat $t/comm) $(cut -d' ' -f1 $t/schedstat) $(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' $t/status)"
  done
}
snap >/tmp/idle0
sleep "$SECS"
snap >/tmp/idle1
paste /tmp/idle0 /tmp/idle1 | awk -v s="$SECS" '{ print "IDLE", $1, $5 - $2, $6 - $3, s }'
stop_daemon
