#!/bin/sh
# Inside the VM (see vm_exec_cost.sh): exec_cost_guest.sh PROBE ROUNDS EXECS
# The daemon runs as in production (signed audit log); a ticketed binary is exec'd EXECS
# times in the gated cgroup per round. Per round it reads bpf_stats of every gate program
# and times the same storm outside the scope. Prints one line per round and a summary.
E2E=/work/main/tests/e2e
PROBE=$1
ROUNDS=${2:-8}
EXECS=${3:-500}
PROBE_DIR=$(dirname "$PROBE")
[ -f "$E2E/lib.sh" ] || E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
. "$E2E/lib.sh"

# Single-threaded TCG runs the guest's vCPUs in turns on one host thread: when two vCPUs
# have work, a program on one is charged the other's whole turn. Everything here (daemon
# included) runs on CPU 0 so bpf_stats measures the programs, not the turns.
taskset -p 1 $$ >/dev/null || { echo "taskset failed"; exit 1; }
mkdir -p $W /opt/bench
execgate keygen -o $W/ops >/dev/null
execgate keygen -o $W/audit >/dev/null
cp /bin/busybox /opt/bench/true
{ policy_head; printf '[audit]\npath = "%s"\nsigning_key = "%s"\n' "$AUDIT" "$W/audit.key"; } >$W/p.toml
start_daemon $W/p.toml || exit 1
ticket bench /opt/bench/true --ttl 1h || { echo "cannot ticket the bench binary"; exit 1; }

# stats PROG: "runs ns" of one pinned gate program; all_ns: ns summed over all of them
stats() { $PROBE prog-stats /sys/fs/bpf/execgate/link_eg_$1 | sed -n 's/.*run_cnt=\([0-9]*\) run_time_ns=\([0-9]*\).*/\1 \2/p'; }
all_ns() {
  t=0
  for l in /sys/fs/bpf/execgate/link_eg_*; do
    n=$($PROBE prog-stats "$l" | sed -n 's/.*run_time_ns=\([0-9]*\).*/\1/p')
    t=$((t + ${n:-0}))
  done
  echo $t
}
storm_ns() { sed -n 's/.*ok=\([0-9]*\) denied=\([0-9]*\) ns=\([0-9]*\).*/\1 \2 \3/p'; }

echo "kernel $(uname -r) clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) vcpus $(grep -c ^processor /proc/cpuinfo), bench pinned to cpu 0"
mkdir -p /sys/fs/cgroup/gated/bench
$PROBE clock-cost  # what the one boot-clock read per exec costs on this clocksource
echo 1 >/proc/sys/kernel/bpf_stats_enabled
r=1
while [ $r -le $ROUNDS ]; do
  set -- $(stats bprm_check); c0=$1; n0=$2; a0=$(all_ns)
  # in a child of the scope cgroup, as `execgate run` places its commands; the output
  # goes to /tmp, not $W: the policy's directory is closed to the scope
  in_cg /gated/bench $PROBE exec-storm $EXECS /opt/bench/true >/tmp/storm.out
  set -- $(stats bprm_check); c1=$1; n1=$2; a1=$(all_ns)
  set -- $(storm_ns </tmp/storm.out); ok=$1; den=$2; gated=$3
  $PROBE exec-storm $EXECS /opt/bench/true >/tmp/storm.out
  set -- $(storm_ns </tmp/storm.out); free=$3
  if [ "$ok" != "$EXECS" ] || [ "$den" != 0 ]; then echo "round $r: only $ok of $EXECS execs ran ($den denied)"; exit 1; fi
  # runs = the storm's execs + the joining shell's and the probe's own exec
  runs=$((c1 - c0))
  echo "round $r bprm_ns_per_exec $(( (n1 - n0) / runs )) runs $runs all_hooks_ns_per_exec $(( (a1 - a0) / runs )) wall_gated_ns $gated wall_free_ns $free"
  r=$((r + 1))
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled
sleep 1
recs=$(grep -F '"event":"exec"' $AUDIT | grep -F "\"ticket\":\"$TID\"" | grep -c '"verdict":"allow"')
echo "audit exec records for the ticket: $recs of $((ROUNDS * EXECS))"
$PROBE audit-delay $AUDIT /opt/bench/true
stop_daemon
