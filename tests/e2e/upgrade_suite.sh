#!/bin/sh
# A new daemon over the pinned gate. Runs INSIDE the VM as root: upgrade_suite.sh PROBE
# (execgated-faults beside PROBE: the daemon built with fault points).
# A daemon whose install fails half way, and a daemon of another kernel ABI, each over the
# pins of a running gate: each refuses, says why, and leaves the old gate enforcing with
# every pinned link the old one. A good daemon of another build then takes over without a
# gap; a restart of the same build keeps the pinned programs, unless the set is not whole;
# a pin or rename refused half way leaves every hook pinned.
# Each case: lib.sh, "cases" (EXECGATE_CASES picks some).
# Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
PIN=/sys/fs/bpf/execgate
FAULTS=$PROBE_DIR/execgated-faults

always setup

# in_scope, not gated: these run while no daemon is up
denied() { out=$(in_scope $PROBE exec "$1" 2>&1); contains "$out" "EXEC_ERRNO=EPERM"; }
runs() { in_scope $PROBE exec "$1" >/dev/null 2>&1; }

# the first daemon: a ticket installed, then stopped; its pinned links (links0) are the
# gate the other cases must leave enforcing
case_setup() {
  mkdir -p $W /opt/up/ticketed /opt/up/plain
  execgate keygen -o $W/ops >/dev/null
  for n in ticketed plain; do cp /bin/busybox /opt/up/$n/true; done
  chmod 755 /opt/up/*/true
  {
    echo 'name = "upgrade"'
    policy_head
    printf '[audit]\npath = "%s"\n' "$AUDIT"
  } >$W/p.toml
  start_daemon $W/p.toml || abort "cannot start the daemon"
  ticket up /opt/up/ticketed/true --ttl 1h
  check "the ticketed file runs" runs /opt/up/ticketed/true
  check "an unticketed file is denied" denied /opt/up/plain/true
  stop_daemon
  links0=$($PROBE link-ids $PIN)
  check "the stopped daemon left its links pinned" [ "$(echo "$links0" | grep -c '^link_')" -gt 40 ]
}

# old_gate_holds WHAT: the pinned links are the very ones of the first daemon, and enforce
old_gate_holds() {
  check "  ... every pinned link is still the old one ($1)" [ "$($PROBE link-ids $PIN)" = "$links0" ]
  check "  ... the old gate still denies an unticketed file" denied /opt/up/plain/true
  check "  ... and runs the ticketed one" runs /opt/up/ticketed/true
}

# enforces: the gate pinned now denies the unticketed file and runs the ticketed one
enforces() {
  check "  ... and enforces: unticketed denied" denied /opt/up/plain/true
  check "  ... ticketed runs" runs /opt/up/ticketed/true
}

# an install that fails at its last program: all or nothing
case_failed_attach() {
  out=$(EXECGATE_FAULT_ATTACH=last timeout 120 $FAULTS --config $W/p.toml --state-dir $W/state 2>&1); rc=$?
  echo "  execgated-faults (attach fails): $out" | head -3
  check "a daemon whose last program cannot attach exits non-zero" [ "$rc" != 0 ]
  check "  ... saying which program" contains "$out" "cannot attach eg_"
  old_gate_holds "failed attach"
}

# a daemon of the next kernel ABI: refuses, naming both and what to run
case_abi_bump() {
  out=$(EXECGATE_FAULT_ABI_BUMP=1 timeout 120 $FAULTS --config $W/p.toml --state-dir $W/state 2>&1); rc=$?
  echo "  execgated-faults (next ABI): $out" | head -3
  check "a daemon of another kernel ABI over the pins exits non-zero" [ "$rc" != 0 ]
  check "  ... naming the pinned ABI and its own" contains "$out" "kernel ABI"
  check "  ... and what to run" contains "$out" "execgated --uninstall"
  old_gate_holds "other ABI"
  check "the pin directory names its ABI" sh -c "ls $PIN | grep -q '^abi-[0-9]*$'"
}

# a good daemon of another build takes over: every link replaced, none left behind
# (execgated-faults with EXECGATE_FAULT_NEW_BUILD=1 stands for the new version; it
# replaces the pins the cases above check)
case_takeover() {
  m=$(audit_mark)
  export EXECGATE_FAULT_NEW_BUILD=1
  EXECGATED=$FAULTS start_daemon $W/p.toml || abort "cannot start the daemon"
  unset EXECGATE_FAULT_NEW_BUILD
  echo "$links0" >$W/links0
  $PROBE link-ids $PIN >$W/links1
  check "a good daemon of another build pins the same programs" [ "$(cut -d' ' -f1 $W/links0)" = "$(cut -d' ' -f1 $W/links1)" ]
  check "  ... every link a new one" sh -c "! grep -qxF -f $W/links0 $W/links1"
  check "  ... audited as loaded" audit_since "$m" '"event":"daemon_start"' '"programs":"loaded"'
  enforces
  stop_daemon
}

# a restart of the same build keeps the pinned programs: no link changes, nothing is
# verified again (docs/daemon.md "Restarts")
needs same_build takeover
case_same_build() {
  m=$(audit_mark)
  start_daemon $W/p.toml || abort "cannot start the daemon"
  $PROBE link-ids $PIN >$W/links2
  check "a restart of the same build keeps every pinned link" cmp -s $W/links1 $W/links2
  check "  ... audited as kept" audit_since "$m" '"event":"daemon_start"' '"programs":"kept"'
  enforces
  stop_daemon
}

# a pinned set that is not whole (a link pin removed by root outside the scope) is loaded
# again, not kept
needs link_missing takeover
case_link_missing() {
  rm $PIN/link_eg_file_open
  m=$(audit_mark)
  start_daemon $W/p.toml || abort "cannot start the daemon"
  $PROBE link-ids $PIN >$W/links3
  check "a pinned set with a link missing is loaded again" audit_since "$m" '"event":"daemon_start"' '"programs":"loaded"'
  check "  ... every program pinned again" [ "$(cut -d' ' -f1 $W/links1)" = "$(cut -d' ' -f1 $W/links3)" ]
  check "  ... each link a new one" sh -c "! grep -qxF -f $W/links1 $W/links3"
  enforces
  stop_daemon
}

# a pin that fails half way (bpffs refusing a new link's pin, or its rename over the old
# one, at the first, a middle or the last link, or the build stamp's pin): every hook's pin
# holds the old link or the new one, never none, and the gate enforces; the next start
# loads again (docs/daemon.md "Restarts")
needs pin_faults takeover
case_pin_faults() {
  $PROBE link-ids $PIN >$W/before
  n=$(wc -l <$W/before)
  for step in pin:0 rename:0 pin:$((n / 2)) rename:$((n / 2)) pin:last rename:last stamp; do
    out=$(EXECGATE_FAULT_PIN=$step timeout 120 $FAULTS --config $W/p.toml --state-dir $W/state 2>&1); rc=$?
    echo "  execgated-faults ($step fails): $out" | head -2
    $PROBE link-ids $PIN >$W/after
    check "a daemon whose $step fails exits non-zero" [ "$rc" != 0 ]
    check "  ... saying what bpffs refused" sh -c 'echo "$1" | grep -qE "cannot (pin|rename) /"' _ "$out"
    check "  ... every hook still has its link pinned, each one readable" \
      sh -c "[ \"\$(cut -d' ' -f1 $W/before)\" = \"\$(cut -d' ' -f1 $W/after)\" ] && ! grep -q unreadable $W/after"
    check "  ... no temporary pin left" sh -c "! ls $PIN | grep -q '^new_'"
    enforces
  done
  check "the last failures replaced links (a rename that took is kept)" sh -c "! cmp -s $W/before $W/after"
  m=$(audit_mark)
  start_daemon $W/p.toml || abort "cannot start the daemon"
  check "the next start loads again (no build stamp)" audit_since "$m" '"event":"daemon_start"' '"programs":"loaded"'
  enforces
  stop_daemon
}

run_cases
