#!/bin/sh
# The exec clock's check keeps its cadence. Runs INSIDE the VM as root: clock_suite.sh PROBE
# docs/gate.md's error bound for the exec clock assumes the daemon checks the estimate
# every 100 ms. Nothing the daemon does for a client may hold that check up: here a
# 256 MiB file is submitted (hashed twice by the daemon) while the check goes on; no gap
# between two checks may exceed 300 ms. Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
PROBE_DIR=$(dirname "$PROBE")
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

mkdir -p $W /opt/big
execgate keygen -o $W/ops >/dev/null
{
  echo 'name = "clock"'
  policy_head
  printf '[audit]\npath = "%s"\n' "$AUDIT"
} >$W/p.toml
start_daemon $W/p.toml || { summary; exit 1; }

# clock_field NAME: a number from status --json's gate.exec_clock
clock_field() { execgate --json status | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

head -c 268435456 /dev/zero >/opt/big/blob
chmod 755 /opt/big/blob
issue_ops big /opt/big/blob --ttl 1h
late0=$(clock_field late_checks)
t0=$($PROBE clock)
out=$(execgate submit $W/big.ticket 2>&1)
t1=$($PROBE clock)
late1=$(clock_field late_checks)
gap=$(clock_field max_check_gap_ms)
echo "  submit of a 256 MiB file: $(( (t1 - t0) / 1000000 )) ms; checks later than 300 ms: ${late0:-?} before, ${late1:-?} after; longest gap since start ${gap:-?} ms"
check "the 256 MiB ticket is installed" contains "$out" "installed"
check "status reports the check's cadence" sh -c "[ -n '$late0' ] && [ -n '$late1' ]"
check "the submit took over a second (the case means something)" [ $(( (t1 - t0) / 1000000 )) -gt 1000 ]
check "no clock check came later than 300 ms during the submit" [ "${late0:-x}" = "${late1:-y}" ]

# the same while the control socket is flooded with status requests and SIGHUPs arrive
late0=$(clock_field late_checks)
i=0
while [ $i -lt 20 ]; do
  execgate status >/dev/null
  kill -HUP $DPID
  i=$((i + 1))
done
late1=$(clock_field late_checks)
check "no clock check came later than 300 ms during 20 status requests and SIGHUPs" [ "${late0:-x}" = "${late1:-y}" ]

stop_daemon
summary
