#!/bin/sh
# The exec clock (docs/gate.md "Exec clock"). Runs INSIDE the VM as root: clock_suite.sh PROBE
# Its error bound assumes the daemon checks the estimate every 100 ms: nothing the daemon
# does for a client may hold that check up (a 256 MiB file submitted, hashed twice by the
# daemon, and a flood of status requests and SIGHUPs: no gap between two checks over
# 300 ms). Ticket validity keeps counting the time the host was suspended; without a
# kernel config naming CONFIG_HZ, or with a wrong one, the gate reads the clocksource.
# Each case: lib.sh, "cases" (EXECGATE_CASES picks some). Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
KCONFIG=/boot/config-$(uname -r)

always setup

# keys, the policy, the daemon, a ticketed file the cases run (/opt/clk/true), and a copy
# of the kernel config the cases take away or change
case_setup() {
  mkdir -p $W /opt/big /opt/clk
  execgate keygen -o $W/ops >/dev/null
  cp /bin/busybox /opt/clk/true && chmod 755 /opt/clk/true
  cp "$KCONFIG" $W/kconfig
  {
    echo 'name = "clock"'
    policy_head
    printf '[audit]\npath = "%s"\n' "$AUDIT"
  } >$W/p.toml
  start_daemon $W/p.toml || abort "cannot start the daemon"
  ticket clk /opt/clk/true --ttl 1h
}

case_cadence_big_submit() {
  head -c 268435456 /dev/zero >/opt/big/blob
  chmod 755 /opt/big/blob
  issue_ops big /opt/big/blob --ttl 1h
  late0=$(status_field late_checks)
  t0=$($PROBE clock)
  out=$(execgate submit $W/big.ticket 2>&1)
  t1=$($PROBE clock)
  late1=$(status_field late_checks)
  gap=$(status_field max_check_gap_ms)
  echo "  submit of a 256 MiB file: $(( (t1 - t0) / 1000000 )) ms; checks later than 300 ms: ${late0:-?} before, ${late1:-?} after; longest gap since start ${gap:-?} ms"
  check "the 256 MiB ticket is installed" contains "$out" "installed"
  check "status reports the check's cadence" sh -c "[ -n '$late0' ] && [ -n '$late1' ]"
  check "the submit took over a second (the case means something)" [ $(( (t1 - t0) / 1000000 )) -gt 1000 ]
  check "no clock check came later than 300 ms during the submit" [ "${late0:-x}" = "${late1:-y}" ]
  # the blob's 256 MiB of the VM's memory (its root is in RAM) back for the cases after this
  # one: its ticket revoked first, then the file removed
  big=$(execgate inspect $W/big.ticket | sed -n 's/^ticket \([0-9a-f]\{32\}\)$/\1/p')
  execgate revoke --key $W/ops.key -o $W/big.rev "$big" >/dev/null && execgate submit $W/big.rev >/dev/null
  rm -f /opt/big/blob
}

# the same while the control socket is flooded with status requests and SIGHUPs arrive
case_cadence_status_flood() {
  late0=$(status_field late_checks)
  i=0
  while [ $i -lt 20 ]; do
    execgate status >/dev/null
    kill -HUP $DPID
    i=$((i + 1))
  done
  late1=$(status_field late_checks)
  check "no clock check came later than 300 ms during 20 status requests and SIGHUPs" [ "${late0:-x}" = "${late1:-y}" ]
}

# suspend: ticket validity keeps counting the time the host slept. The exec path judges
# validity on jiffies, which stop while the host sleeps; CLOCK_BOOTTIME does not. A
# ticket that expires while the host is suspended must be expired at resume. Times are
# chosen so that, without the resume recalibration, the estimate would sit more than its
# 1 s margin inside the ticket's window (2 s after the start of a 6 s ticket) and the exec
# would run.
case_suspend() {
  check "status: the exec clock runs on jiffies" status_is source=jiffies
  mkdir -p /opt/sus && cp /bin/busybox /opt/sus/true && chmod 755 /opt/sus/true
  ticket sus /opt/sus/true --ttl 6s
  T_SUS=$TID
  out=$(in_scope $PROBE exec /opt/sus/true 2>&1)
  check "before the suspend the 6 s ticket runs" [ -z "$out" ]
  sleep 2
  kill -STOP $DPID # the daemon would remove the expired entry at resume; the kernel alone decides
  echo enabled >/sys/class/rtc/rtc0/device/power/wakeup
  echo 0 >/sys/class/rtc/rtc0/wakealarm && echo +8 >/sys/class/rtc/rtc0/wakealarm
  b0=$(cut -d' ' -f1 /proc/uptime)
  src=0
  if ! echo mem >/sys/power/state; then src=1; fi
  b1=$(cut -d' ' -f1 /proc/uptime)
  out=$(in_scope $PROBE exec /opt/sus/true 2>&1)
  kill -CONT $DPID
  check "the host suspended to RAM (rc $src, boot clock $b0 -> $b1)" [ "$src" = 0 ]
  check "a ticket that expired while the host slept is denied at resume" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited: exec denied expired" audit_has '"event":"exec"' '"verdict":"deny"' '"reason":"expired"' "\"ticket\":\"$T_SUS\""
  out=$(in_scope $PROBE exec /opt/clk/true 2>&1)
  check "  ... a ticket still valid runs after the resume" [ -z "$out" ]
  check "  ... and the exec clock has its base again" status_is source=jiffies
}

# without a kernel config naming CONFIG_HZ the daemon runs the gate on clock reads alone
needs no_kernel_config suspend # the file whose ticket expired
case_no_kernel_config() {
  rm -f "$KCONFIG"
  n_log=$(wc -l <$W/daemon.log)
  restart_daemon $W/p.toml
  check "no kernel config: status says the clocksource is read on every check" status_is source=clocksource tick_ns=0
  check "  ... the daemon says why" sh -c "tail -n +$((n_log + 1)) $W/daemon.log | grep -q 'no CONFIG_HZ'"
  out=$(in_scope $PROBE exec /opt/clk/true 2>&1)
  check "  ... a ticketed exec runs" [ -z "$out" ]
  out=$(in_scope $PROBE exec /opt/sus/true 2>&1)
  check "  ... the file whose ticket expired stays denied" contains "$out" "EXEC_ERRNO=EPERM"
  cp $W/kconfig "$KCONFIG" # read at the next start
}

# a config whose CONFIG_HZ is not the running kernel's (1000 for 250): the estimate runs at
# a quarter of the clock's pace; the daemon's 100 ms check must drop it before its error
# reaches the 1 s margin, and execs then read the clock
clock_drifted() {
  _j=$(execgate --json status 2>/dev/null) && [ "$(status_field source "$_j")" = clocksource ] &&
    [ "$(status_field tick_ns "$_j")" -gt 0 ] && [ "$(status_field drift_ms "$_j")" -gt 0 ]
}
case_wrong_hz() {
  sed 's/^CONFIG_HZ=.*/CONFIG_HZ=1000/' $W/kconfig >"$KCONFIG"
  n_log=$(wc -l <$W/daemon.log)
  restart_daemon $W/p.toml
  check "wrong CONFIG_HZ: the estimate is dropped (status)" poll clock_drifted
  d=$(status_field drift_ms)
  check "  ... within the margin: off by ${d:-?} ms (under 1 s) when dropped" [ "${d:-1000}" -lt 1000 ]
  check "  ... the daemon says so" sh -c "tail -n +$((n_log + 1)) $W/daemon.log | grep -qF 'ms off the boot clock (wrong CONFIG_HZ?)'"
  out=$(in_scope $PROBE exec /opt/clk/true 2>&1)
  check "  ... a ticketed exec runs" [ -z "$out" ]
  cp $W/kconfig "$KCONFIG"
  restart_daemon $W/p.toml
  check "  ... config back: jiffies again" status_is source=jiffies
}

run_cases
