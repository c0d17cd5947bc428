#!/bin/sh
# Inside the VM (see peer_bench.sh):
#   peer_bench_guest.sh LOOP STAGE ROUNDS N_EXEC N_DYN N_SYS UID PIN STATS_REPS
# LOOP: peer_loop; STAGE: a directory holding `dyntrue` (a dynamically linked binary).
# Runs the configurations A (no gate), B (execgate, bench outside the scope), C (inside),
# D (inside, execgated SIGSTOPped) and E (fapolicyd, execgate uninstalled) in ROUNDS
# rounds, interleaved: odd rounds A E B C D, even rounds B C D A E (the gate is installed
# or removed once per round). Every line the host parses starts with a tag:
#   R ROUND CFG op NAME n N ns_per_op X fails F   one op's loop
#   R ROUND CFG deny denied 0|1 status S          the refused exec's check (C, D, E)
#   DAEMON ROUND CFG ...                          execgated's (C, D, B) or fapolicyd's (E) CPU
#   S REP CFG op ... / S REP CFG prog OP NAME runs R ns T   the bpf_stats passes (B, C)
#   BROKEN what                                   a run that does not measure what it claims
#   INFO, AUDIT, FAPO ...                         facts for the report
LOOP=$1
STAGE=$2
ROUNDS=${3:-11}
N_EXEC=${4:-200}
N_DYN=${5:-40}
N_SYS=${6:-2000}
BUID=${7:-1000}
PIN=${8:-1}
STATS_REPS=${9:-3}
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

PINS=/sys/fs/bpf/execgate
CG=/gated/bench
T=/sys/kernel/tracing
broken() { echo "BROKEN $*"; BROKEN=1; }
BROKEN=0

# Single-threaded TCG runs the vCPUs in turns on one host thread: the bench, execgated and
# fapolicyd all on CPU 0 (children inherit it), so each one's work lands in the wall time
# of what caused it and bpf_stats is not charged the other vCPU's turn.
if [ "$PIN" = 1 ]; then
  taskset -p 1 $$ >/dev/null || { echo "taskset failed"; exit 1; }
fi
echo "INFO kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vcpus, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), pinned to cpu 0: $PIN, bench uid $BUID"
echo "INFO rounds $ROUNDS, static execs $N_EXEC, dynamic execs $N_DYN, forks $N_EXEC, syscall ops $N_SYS (each loop after a tenth of it as warm-up)"

# ---- files ----
mkdir -p $W /opt/bench /opt/untrusted /tmp/peer
cp /bin/busybox /opt/bench/true            # static: busybox runs its `true` applet
cp "$STAGE/dyntrue" /opt/bench/dyntrue     # dynamic (coreutils true; its libraries were added)
cp /bin/busybox /opt/untrusted/true        # neither ticketed, nor in the baseline, nor trusted
head -c 4096 /dev/urandom >/tmp/peer/data
head -c 4096 /dev/zero >/tmp/peer/scratch
chown "$BUID:$BUID" /tmp/peer/scratch
echo "INFO dynamic binary: $(head -c 4 /opt/bench/dyntrue | od -An -c | tr -s ' ') $(wc -c </opt/bench/dyntrue) bytes; static: $(wc -c </opt/bench/true) bytes"
OPS="exec_static exec_dynamic read write open_ro open_wr mmap mmap_exec mprotect fork"
ARGS="--uid $BUID --n-exec $N_EXEC --n-dyn $N_DYN --n-sys $N_SYS --static /opt/bench/true --dynamic /opt/bench/dyntrue --data /tmp/peer/data --scratch /tmp/peer/scratch --xfile /opt/bench/true --deny /opt/untrusted/true"
# execs per in-scope run, warm-up included
RUN_S=$((N_EXEC + N_EXEC / 10))
RUN_D=$((N_DYN + N_DYN / 10))
WANT_S=0
WANT_D=0
WANT_DENY=0

# ---- execgate: policy, keys, tickets ----
# Tickets (not the baseline) allow the bench binaries, as in production; their libraries
# (/lib, /lib64) are in the suites' baseline (tests/e2e/lib.sh policy_head). The ring buffer
# keeps its default size (4 MiB, ~11400 events): D's run makes RUN_S + RUN_D + 1 events.
# [audit] required stays false (default).
execgate keygen -o $W/ops >/dev/null
execgate keygen -o $W/audit >/dev/null
{ policy_head; printf '[audit]\npath = "%s"\nsigning_key = "%s"\n' "$AUDIT" "$W/audit.key"; } >$W/p.toml
mkdir -p /sys/fs/cgroup$CG
start_daemon $W/p.toml || { echo "BROKEN execgated did not start"; exit 1; }
ticket static /opt/bench/true --ttl 3h || { echo "BROKEN cannot ticket the static binary"; exit 1; }
TID_S=$TID
ticket dynamic /opt/bench/dyntrue --ttl 3h || { echo "BROKEN cannot ticket the dynamic binary"; exit 1; }
TID_D=$TID
echo "INFO execgate: tickets $TID_S (static) $TID_D (dynamic); baseline $(status_field pinned_files) files pinned, $(status_field refused_files) refused, trust $(status_field trust)"
GATE=1

# ring-buffer wakeups: a kprobe on bpf_ringbuf_notify (the irq_work that wakes the reader)
# counts them in kprobe_profile; tracing off, the hit count still runs
WAKE=0
if [ -w $T/kprobe_events ] && echo 'p:egwake bpf_ringbuf_notify' >>$T/kprobe_events 2>/dev/null; then
  echo 0 >$T/tracing_on
  echo 1 >$T/events/kprobes/egwake/enable && WAKE=1
fi
[ $WAKE = 1 ] || echo "INFO ring-buffer wakeups: no kprobe on bpf_ringbuf_notify, not counted"
wakeups() { if [ $WAKE = 1 ]; then awk '$1 == "egwake" { print $2 }' $T/kprobe_profile; else echo 0; fi; }

# ---- fapolicyd ----
FAPO=0
if command -v fapolicyd >/dev/null && [ -d /etc/fapolicyd ]; then
  FAPO=1
  grep -q '^fapolicyd:' /etc/passwd || echo 'fapolicyd:x:999:999:fapolicyd:/var/lib/fapolicyd:/bin/false' >>/etc/passwd
  grep -q '^fapolicyd:' /etc/group || echo 'fapolicyd:x:999:' >>/etc/group
  mkdir -p /var/lib/fapolicyd /run/fapolicyd
  chown 999:999 /var/lib/fapolicyd
  chown 0:999 /run/fapolicyd
  chmod 0770 /run/fapolicyd
  # The VM's root is the initramfs, type "rootfs", which Debian's watch_fs does not list:
  # added, so that / is watched.
  sed -i 's/^watch_fs = /watch_fs = rootfs,/' /etc/fapolicyd/fapolicyd.conf
  echo "FAPO conf: $(grep -v '^#' /etc/fapolicyd/fapolicyd.conf | grep . | tr '\n' ';')"
  # The trust database (file backend; Debian's build has no rpmdb): the bench binaries, the
  # loader and libraries, busybox and dash (the VM's shell and tools). Not /opt/untrusted.
  for f in /opt/bench/ "$LOOP" /bin/busybox /bin/dash /lib/x86_64-linux-gnu/ /lib64/; do
    fapolicyd-cli --file add "$f" >/dev/null 2>&1 || { echo "FAPO fapolicyd-cli --file add $f failed"; FAPO=0; }
  done
  echo "FAPO trust file: $(grep -vc '^#' /etc/fapolicyd/fapolicyd.trust) entries"
  # compiled.rules as fagenrules makes it (rules.d in sort order, comments and blank lines
  # dropped; fagenrules itself needs `ls -v`, which busybox lacks)
  compile_rules() {
    for f in /etc/fapolicyd/rules.d/*.rules; do cat "$f"; done |
      grep -v '^[[:space:]]*#' | grep . >/etc/fapolicyd/compiled.rules
  }
  # 1. The package's rules.d as shipped: 90-deny-execute.rules alone. Nothing may start
  # while it runs (the shell's own execs would be denied), so peer_loop starts it and asks.
  compile_rules
  echo "FAPO shipped rules.d: $(cd /etc/fapolicyd/rules.d && echo *) = $(tr '\n' ';' </etc/fapolicyd/compiled.rules)"
  $LOOP spawn-check $W/fapo-shipped.log 'Starting to listen' 60 "$BUID" /opt/bench/true -- "$(command -v fapolicyd)" --debug-deny |
    sed 's/^/FAPO shipped rules, a trusted binary (uid '"$BUID"'): /'
  sed -n 's/^\(rule=.*\)/FAPO shipped rules log: \1/p' $W/fapo-shipped.log
  # 2. The rules E runs with: the package's sample-rules set its README-rules names for the
  # old default policy (fapolicyd.rules.known-libs), into rules.d.
  rm -f /etc/fapolicyd/rules.d/*
  for f in 10-languages 20-dracut 21-updaters 30-patterns 40-bad-elf 41-shared-obj 42-trusted-elf \
           70-trusted-lang 72-shell 90-deny-execute 95-allow-open; do
    cp /usr/share/fapolicyd/sample-rules/$f.rules /etc/fapolicyd/rules.d/ || FAPO=0
  done
  compile_rules
  echo "FAPO E rules: $(tr '\n' ';' </etc/fapolicyd/compiled.rules | sed 's/^%languages=[^;]*;/%languages=...;/')"
else
  echo "FAPO not in the VM (fapolicyd not installed on the host): E cannot run"
fi
[ $FAPO = 1 ] || echo "FAPO E cannot run (see the FAPO lines above)"

# ---- helpers ----
sum_sched() { # PID: ns on CPU of all its threads (schedstat)
  s=0
  for t in /proc/"$1"/task/*; do
    n=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)
    s=$((s + ${n:-0}))
  done
  echo $s
}
ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; } # utime + stime (clock ticks)
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$1"/status; }
evt_tid() { # the event thread: the one at nice -10
  for t in /proc/"$DPID"/task/*; do
    [ "$(awk '{ print $19 }' "$t/stat")" = -10 ] && { echo "${t##*/}"; return; }
  done
}
evt_sched() { [ -n "$ETID" ] && cut -d' ' -f1 /proc/"$DPID"/task/"$ETID"/schedstat || echo 0; }
evt_cs() { [ -n "$ETID" ] && sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/"$DPID"/task/"$ETID"/status || echo 0; }
uptime_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }

recs() { # TID: allowed exec records of that ticket in the audit log
  grep -F "\"ticket\":\"$1\"" "$AUDIT" | grep -F '"event":"exec"' | grep -c '"verdict":"allow"'
}
drained() { [ "$(recs "$TID_S")" -ge "$WANT_S" ] && [ "$(recs "$TID_D")" -ge "$WANT_D" ]; }
wait_drained() { # up to 30 s
  i=0
  while [ $i -lt 100 ]; do drained && return 0; sleep 0.3; i=$((i + 1)); done
  return 1
}
drops() { status_field audit_drops; }

gate_off() {
  [ $GATE = 1 ] || return 0
  stop_daemon
  execgated --uninstall >>$W/daemon.log 2>&1 || broken "execgated --uninstall failed"
  ls $PINS/link_* >/dev/null 2>&1 && broken "links still pinned after --uninstall"
  GATE=0
}
gate_on() {
  [ $GATE = 0 ] || return 0
  start_daemon $W/p.toml || { broken "execgated did not start again"; return 1; }
  GATE=1
  settle
  ETID=$(evt_tid)
}
# settle: until execgated used less than 5 ms of CPU in half a second (at most 5 s): its
# start-up work (pinning, reconciling) does not land in the next run
settle() {
  i=0
  while [ $i -lt 10 ]; do
    a=$(sum_sched "$DPID")
    sleep 0.5
    [ $(($(sum_sched "$DPID") - a)) -lt 5000000 ] && return 0
    i=$((i + 1))
  done
}
ETID=$(evt_tid)

# run_cfg ROUND CFG [--cgroup CG]: one run of every op; the output tagged R ROUND CFG
run_cfg() {
  r=$1 cfg=$2
  shift 2
  # shellcheck disable=SC2086 # ARGS and OPS are word lists
  $LOOP bench "$@" $ARGS $OPS deny >/tmp/peer/out 2>&1 || broken "round $r $cfg: peer_loop failed: $(tail -3 /tmp/peer/out | tr '\n' ' ')"
  sed "s/^/R $r $cfg /" /tmp/peer/out
  ! grep -q 'fails [1-9]' /tmp/peer/out || broken "round $r $cfg: an operation failed: $(grep 'fails [1-9]' /tmp/peer/out | tr '\n' ' ')"
}

# execgated's share of a run: CPU (ticks, schedstat), its event thread's CPU and voluntary
# context switches, ring-buffer wakeups, the wall time, RSS
daemon_before() { c0=$(ticks "$DPID"); s0=$(sum_sched "$DPID"); e0=$(evt_sched); v0=$(evt_cs); k0=$(wakeups); u0=$(uptime_cs); }
daemon_after() { # ROUND CFG EXECS
  echo "DAEMON $1 $2 execs $3 ticks $(($(ticks "$DPID") - c0)) sched_ns $(($(sum_sched "$DPID") - s0))" \
    "evt_ns $(($(evt_sched) - e0)) evt_cs $(($(evt_cs) - v0)) wakeups $(($(wakeups) - k0))" \
    "wall_cs $(($(uptime_cs) - u0)) rss_kb $(rss "$DPID")"
}

run_A() { gate_off; run_cfg "$1" A; }
run_B() {
  gate_on || return
  daemon_before
  run_cfg "$1" B
  daemon_after "$1" B 0
}
# scope_run_checks ROUND CFG [WHY]: after a run in the scope (C, D): every exec of it in the
# audit log, its unticketed exec denied, no ring-buffer drop (WHY is added to that message)
scope_run_checks() {
  WANT_S=$((WANT_S + RUN_S)); WANT_D=$((WANT_D + RUN_D)); WANT_DENY=$((WANT_DENY + 1))
  wait_drained || broken "round $1 $2: exec records missing after 30 s (static $(recs "$TID_S")/$WANT_S, dynamic $(recs "$TID_D")/$WANT_D)"
  daemon_after "$1" "$2" $((RUN_S + RUN_D))
  grep -q '^deny denied 1' /tmp/peer/out || broken "round $1 $2: the unticketed exec was not denied in the scope"
  [ "$(drops)" = 0 ] || broken "round $1 $2: ring-buffer drops $(drops)${3:+ ($3)}"
}
run_C() {
  gate_on || return
  daemon_before
  run_cfg "$1" C --cgroup $CG
  scope_run_checks "$1" C
}
run_D() {
  gate_on || return
  daemon_before
  kill -STOP "$DPID"
  run_cfg "$1" D --cgroup $CG
  kill -CONT "$DPID"
  scope_run_checks "$1" D "nothing may be lost with the reader stopped"
}
run_E() {
  [ $FAPO = 1 ] || return 0
  gate_off
  fapolicyd --debug-deny >$W/fapo.log 2>&1 &
  FPID=$!
  i=0
  until grep -qs 'Starting to listen' $W/fapo.log; do
    kill -0 $FPID 2>/dev/null && [ $i -lt 300 ] || { broken "round $1 E: fapolicyd did not start: $(tail -3 $W/fapo.log | tr '\n' ' ')"; return; }
    sleep 0.1
    i=$((i + 1))
  done
  c0=$(ticks $FPID); s0=$(sum_sched $FPID); u0=$(uptime_cs)
  run_cfg "$1" E
  line="ticks $(($(ticks $FPID) - c0)) sched_ns $(($(sum_sched $FPID) - s0)) wall_cs $(($(uptime_cs) - u0)) rss_kb $(rss $FPID)"
  kill -0 $FPID 2>/dev/null || broken "round $1 E: fapolicyd is not running after the run"
  grep -q '^deny denied 1' /tmp/peer/out || broken "round $1 E: fapolicyd did not deny the untrusted binary"
  kill -TERM $FPID
  wait $FPID
  # its decisions from start to stop (the run's, plus the few of the shell around it)
  echo "DAEMON $1 E execs $((RUN_S + RUN_D)) $line decisions $(($(sed -n 's/^Allowed accesses: //p' $W/fapo.log) + $(sed -n 's/^Denied accesses: //p' $W/fapo.log)))"
  # denials other than the untrusted binary's mean E measured something else
  n=$(grep -c '^rule=' $W/fapo.log)
  [ "$n" = 1 ] || broken "round $1 E: fapolicyd logged $n denials: $(grep '^rule=' $W/fapo.log | head -3 | tr '\n' ' ')"
  if [ "$1" = 1 ]; then grep -v '^allow\|^deny\|^%' $W/fapo.log | sed 's/^/FAPO round 1 log: /' | head -40; fi
}

# ---- the rounds ----
r=1
while [ "$r" -le "$ROUNDS" ]; do
  if [ $((r % 2)) = 1 ]; then order="A E B C D"; else order="B C D A E"; fi
  echo "INFO round $r: $order (at $(cut -d' ' -f1 /proc/uptime) s since boot)"
  for c in $order; do "run_$c" "$r"; done
  r=$((r + 1))
done

# ---- per-program bpf_stats, outside (B) and inside (C) the scope, STATS_REPS times ----
gate_on
sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || echo 1 >/proc/sys/kernel/bpf_stats_enabled
i=1
while [ $i -le "$STATS_REPS" ]; do
  # shellcheck disable=SC2086
  $LOOP bench --stats $PINS $ARGS $OPS | sed "s/^/S $i B /"
  # shellcheck disable=SC2086
  $LOOP bench --stats $PINS --cgroup $CG $ARGS $OPS | sed "s/^/S $i C /"
  WANT_S=$((WANT_S + RUN_S)); WANT_D=$((WANT_D + RUN_D))
  i=$((i + 1))
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled
set -- $PINS/link_*
echo "INFO programs attached: $#; bpf_stats pass: $STATS_REPS runs each of B and C"

# ---- audit completeness ----
wait_drained
deny=$(grep -F '"event":"exec"' "$AUDIT" | grep -F '"verdict":"deny"' | grep -c '/opt/untrusted/true')
gaps=$(grep -c '"event":"gap"' "$AUDIT")
echo "AUDIT static $(recs "$TID_S") of $WANT_S, dynamic $(recs "$TID_D") of $WANT_D, denials $deny of $WANT_DENY, gap records $gaps, drops now $(drops)"
[ "$(recs "$TID_S")" = $WANT_S ] && [ "$(recs "$TID_D")" = $WANT_D ] && [ "$deny" = $WANT_DENY ] && [ "$gaps" = 0 ] ||
  broken "audit: events lost or extra (see the AUDIT line)"
stop_daemon
echo "INFO guest done at $(cut -d' ' -f1 /proc/uptime) s since boot"
exit $BROKEN
