#!/bin/sh
# Audit evidence from the real kernel. Runs INSIDE the VM as root: audit_suite.sh PROBE
# Exec storm (every exec recorded or accounted for by a gap), program cost per exec from
# bpf_stats, event delay, "required = true" with a full ring buffer, and tampering with
# the log the VM produced. Each case: lib.sh, "cases" (EXECGATE_CASES picks some).
# Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
STORM=${STORM:-5000}

always setup

policy() { # policy REQUIRED RINGBUF_KIB
  policy_head
  cat <<EOT
[audit]
path = "$AUDIT"
signing_key = "$W/audit.key"
checkpoint_every = 1000
required = $1
ringbuf_kib = $2
EOT
}

# keys, the policy, the daemon, the storm's ticketed file (/opt/st/true, ticket T_ST)
case_setup() {
  mkdir -p $W /opt/st
  execgate keygen -o $W/ops >/dev/null
  execgate keygen -o $W/audit >/dev/null
  cp /bin/busybox /opt/st/true; chmod 755 /opt/st/true
  policy false 4096 >$W/p.toml
  start_daemon $W/p.toml || abort "cannot start the daemon"
  ticket st /opt/st/true --ttl 1h
  T_ST=$TID
}

# exec storm: every exec is on the record
case_storm() {
  echo 1 >/proc/sys/kernel/bpf_stats_enabled
  s0=$($PROBE prog-stats /sys/fs/bpf/execgate/link_eg_bprm_check)
  out=$(in_scope $PROBE exec-storm $STORM /opt/st/true)
  s1=$($PROBE prog-stats /sys/fs/bpf/execgate/link_eg_bprm_check)
  echo 0 >/proc/sys/kernel/bpf_stats_enabled
  echo "  $out"
  check "storm: $STORM execs all allowed" contains "$out" "ok=$STORM denied=0"
  sleep 1
  execgate status >/dev/null
  recs=$(audit_count '"event":"exec"' "\"ticket\":\"$T_ST\"" '"verdict":"allow"')
  gaps=$(audit_lines | grep -F '"event":"gap"' | sed -n 's/.*"count":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
  echo "  storm: $recs exec records, gaps account for $gaps"
  check "storm: exec records + gap counts = $STORM" [ $((recs + gaps)) -eq $STORM ]
  cnt0=$(echo "$s0" | sed -n 's/.*run_cnt=\([0-9]*\).*/\1/p'); ns0=$(echo "$s0" | sed -n 's/.*run_time_ns=\([0-9]*\).*/\1/p')
  cnt1=$(echo "$s1" | sed -n 's/.*run_cnt=\([0-9]*\).*/\1/p'); ns1=$(echo "$s1" | sed -n 's/.*run_time_ns=\([0-9]*\).*/\1/p')
  if [ -n "$cnt1" ] && [ $((cnt1 - cnt0)) -gt 0 ]; then
    per=$(( (ns1 - ns0) / (cnt1 - cnt0) ))
    echo "  bench: bprm_check program time per exec (bpf_stats, TCG, one unpinned storm): $per ns over $((cnt1 - cnt0)) runs (target <= 20000 ns; the benchmark proper is tests/bench/vm_exec_cost.sh)"
    check "bpf_stats counted the storm's runs" [ $((cnt1 - cnt0)) -ge $STORM ]
  else
    fail "bpf_stats" "no run_cnt ($s0 / $s1)"
  fi
  lat=$($PROBE audit-delay $AUDIT /opt/st/true)
  echo "  bench: $lat (target: none over 100 ms; TCG timing, noisy when the host is busy)"
  # the hard check guards the failure mode (events held back until a wakeup that never
  # comes); the 100 ms target is a benchmark figure printed above
  check "every storm event reached the log within 1 s" sh -c "echo '$lat' | grep -Eq 'max_ms=([0-9]{1,2}|[0-9]{3}) '"
}

# required = true: no evidence, no execution
drops_reported() { [ "$(status_field audit_drops)" -gt 0 ] 2>/dev/null; }
case_required() {
  stop_daemon
  execgated --uninstall 2>/dev/null
  policy true 4 >$W/req.toml
  start_daemon $W/req.toml || abort "cannot start the daemon with required = true"
  kill -STOP $DPID
  out=$(in_scope $PROBE exec-storm 60 /opt/st/true)
  kill -CONT $DPID
  echo "  with the reader stopped and a 4 KiB ring buffer: $out"
  check "required=true: execs are denied once the ring buffer is full" sh -c "echo '$out' | grep -qv 'denied=0'"
  check "  ... and the first ones (with room for evidence) ran" sh -c "echo '$out' | grep -qv ' ok=0 '"
  check "  ... the loss is recorded as a gap" audit_has '"event":"gap"' '"reason":"ring_buffer_full"'
  check "  ... status reports audit drops" drops_reported
  stop_daemon
}

# the VM's log verifies (the storm wrote over 1000 records: signed checkpoints in it)
needs log_verifies storm
case_log_verifies() {
  stop_daemon
  out=$(execgate audit verify $AUDIT --pub $W/audit.pub 2>&1); rc=$?
  check "audit verify passes on the VM's log" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || echo "$out" | head -3
  tail_out=$(execgate audit tail -n 200 $AUDIT 2>&1)
  check "audit tail prints decisions readably" contains "$tail_out" "allow"
}

# every kind of tampering with that log is caught
T=$W/tamper.jsonl
seq_at() { sed -n "${1}p" $AUDIT | sed -n 's/.*"seq":\([0-9]*\).*/\1/p'; }
broken_at() { # broken_at SEQ: verify exits 3 and names SEQ
  out=$(execgate audit verify $T --pub $W/audit.pub 2>&1); rc=$?
  [ "$rc" = 3 ] && contains "$out" "seq $1" || { echo "  rc=$rc: $out" | head -2; return 1; }
}
needs tampering log_verifies
case_tampering() {
  n=$(wc -l <$AUDIT)
  mid=$((n / 2))
  S=$(seq_at $mid)
  sed "${mid}s/\"pid\":\([0-9]\)/\"pid\":9\1/" $AUDIT >$T
  check "tamper: edited record caught at its seq" broken_at $S
  sed "${mid}d" $AUDIT >$T
  check "tamper: deleted record caught" broken_at $S
  sed -n "1,$((mid - 1))p" $AUDIT >$T; sed -n "$((mid + 1))p" $AUDIT >>$T; sed -n "${mid}p" $AUDIT >>$T; sed -n "$((mid + 2)),\$p" $AUDIT >>$T
  check "tamper: reordered records caught" broken_at $S
  sed -n "1,$((mid - 1))p" $AUDIT >$T; sed -n "3p" $AUDIT >>$T; sed -n "${mid},\$p" $AUDIT >>$T
  check "tamper: inserted record caught" broken_at $S
  head -c $(( $(wc -c <$AUDIT) - 17 )) $AUDIT >$T
  out=$(execgate audit verify $T --pub $W/audit.pub 2>&1)
  check "tamper: truncated file caught" [ $? = 3 ]
  cl=$(grep -n '"event":"checkpoint"' $AUDIT | head -1 | cut -d: -f1)
  sed "${cl}s/\"sig\":\"A/\"sig\":\"B/; t; ${cl}s/\"sig\":\"./\"sig\":\"A/" $AUDIT >$T
  out=$(execgate audit verify $T --pub $W/audit.pub 2>&1)
  check "tamper: forged checkpoint signature caught" [ $? = 3 ]
  cp $AUDIT $T
  out=$(execgate audit verify $T --pub $W/ops.pub 2>&1)
  check "tamper: wrong key refused" [ $? = 3 ]
}

run_cases
