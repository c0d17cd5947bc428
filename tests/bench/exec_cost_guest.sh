#!/bin/sh
# Inside the VM (see vm_exec_cost.sh): exec_cost_guest.sh PROBE ROUNDS BATCHES SIZE [MAPS]
# The daemon runs as in production (signed audit log). Each round, on each clocksource the
# kernel offers of tsc and hpet, `eg-probe exec-cost` execs a ticketed binary BATCHES x SIZE
# times from a child cgroup of the scope and reads bpf_stats of bprm_check around every
# batch from outside the scope. Per round and clocksource it prints the median and mean
# over batches, the time of all gate programs per exec, and the wall time of the storm
# against the same storm outside the scope. Then: audit completeness and delay.
# MAPS=T:B: on the kernel's clocksource only, each round runs twice, as installed and with
# the ticket map holding T entries and the baseline map B (entries that name no file,
# added before and removed after the run): labels CS and CS+maps.
PROBE=$1
ROUNDS=${2:-8}
BATCHES=${3:-20}
SIZE=${4:-25}
MAPS=${5:-}
PROBE_DIR=$(dirname "$PROBE")
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
# shellcheck source=tests/e2e/lib.sh
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

# all_ns: run_time_ns summed over every gate program
all_ns() {
  t=0
  for l in /sys/fs/bpf/execgate/link_eg_*; do
    n=$($PROBE prog-stats "$l" | sed -n 's/.*run_time_ns=\([0-9]*\).*/\1/p')
    t=$((t + ${n:-0}))
  done
  echo $t
}
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; } # field NAME <LINE: the number after NAME=

CS=/sys/devices/system/clocksource/clocksource0
sources=
for cs in tsc hpet; do grep -qw $cs $CS/available_clocksource && sources="$sources $cs"; done
configs=$sources
if [ -n "$MAPS" ]; then
  FILL_T=${MAPS%%:*} FILL_B=${MAPS##*:}
  sources=$(cat $CS/current_clocksource)
  configs="$sources $sources+maps"
fi
echo "kernel $(uname -r) clocksources:$sources (default $(cat $CS/current_clocksource)) vcpus $(grep -c ^processor /proc/cpuinfo), bench pinned to cpu 0"
$PROBE prog-stats /sys/fs/bpf/execgate/link_eg_bprm_check | sed 's/.*jited_bytes=/bprm_check jited bytes /'
# exec_clock: how the exec path reads time (docs/gate.md "Exec clock"), from status --json
exec_clock() {
  _ec=$(execgate --json status 2>/dev/null)
  echo "$(status_field source "$_ec") (tick $(status_field tick_ns "$_ec") ns, drift $(status_field drift_ms "$_ec") ms, late checks $(status_field late_checks "$_ec"))"
}
echo "exec clock: $(exec_clock)"
if [ -n "$MAPS" ]; then
  echo "maps: installed $(status_field pinned_files) baseline files and 1 ticket; +maps adds $FILL_T ticket entries and $FILL_B baseline entries"
fi
mkdir -p /sys/fs/cgroup/gated/bench
echo 1 >/proc/sys/kernel/bpf_stats_enabled
storms=0
r=1
while [ $r -le $ROUNDS ]; do
  # odd rounds in order, even rounds reversed: a drift of the host hits every config alike
  order=$configs
  [ $((r % 2)) = 0 ] && order=$(echo $configs | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
  for cs in $order; do
    echo "${cs%+maps}" >$CS/current_clocksource || { echo "cannot switch to clocksource $cs"; exit 1; }
    if [ "$cs" != "${cs%+maps}" ]; then
      $PROBE map-fill /sys/fs/bpf/execgate/eg_tickets "$FILL_T" >/dev/null &&
        $PROBE map-fill /sys/fs/bpf/execgate/eg_baseline "$FILL_B" >/dev/null || { echo "round $r: cannot fill the maps"; exit 1; }
    fi
    a0=$(all_ns)
    # in a child of the scope cgroup, as `execgate run` places its commands; the output
    # goes to /tmp, not $W: the policy's directory is closed to the scope
    $PROBE exec-cost /sys/fs/bpf/execgate/link_eg_bprm_check /gated/bench $BATCHES $SIZE /opt/bench/true >/tmp/cost.out
    a1=$(all_ns)
    line=$(cat /tmp/cost.out)
    runs=$(echo "$line" | field runs)
    [ -n "$runs" ] && [ "$runs" -gt 0 ] || { echo "round $r $cs: exec-cost failed: $line"; exit 1; }
    [ "$(echo "$line" | field stray_batches)" = 0 ] || echo "round $r $cs: other execs ran in the scope during a batch: $line"
    storms=$((storms + BATCHES * SIZE))
    $PROBE exec-storm $((BATCHES * SIZE)) /opt/bench/true >/tmp/storm.out
    free=$(field ns </tmp/storm.out)
    echo "round $r cs $cs median_ns $(echo "$line" | field median_ns) mean_ns $(echo "$line" | field mean_ns)" \
      "all_hooks_ns_per_exec $(( (a1 - a0) / runs )) wall_gated_ns $(echo "$line" | field wall_ns) wall_free_ns $free"
    if [ "$cs" != "${cs%+maps}" ]; then
      $PROBE map-drain /sys/fs/bpf/execgate/eg_tickets "$FILL_T" >/dev/null &&
        $PROBE map-drain /sys/fs/bpf/execgate/eg_baseline "$FILL_B" >/dev/null || { echo "round $r: cannot drain the maps"; exit 1; }
    fi
  done
  r=$((r + 1))
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled
echo "exec clock at the end: $(exec_clock)"
sleep 1
recs=$(grep -F '"event":"exec"' $AUDIT | grep -F "\"ticket\":\"$TID\"" | grep -c '"verdict":"allow"')
echo "audit exec records for the ticket: $recs of $storms"
$PROBE audit-delay $AUDIT /opt/bench/true
stop_daemon
