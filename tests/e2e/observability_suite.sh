#!/bin/sh
# Observability and the rollout tools on the real kernel. Runs INSIDE the VM as root:
#   observability_suite.sh PROBE
# The metrics textfile (docs/metrics.md): rewritten every second, OpenMetrics with
# `# EOF`, counters that move with an allowed and a denied exec, the tickets gauges, out of
# the scope's reach, removed at a clean stop; `tickets --hits` (counted, kept across a
# restart); `policy simulate` and `suggest` on this VM's own monitor-mode audit log. Each
# case: lib.sh, "cases" (EXECGATE_CASES picks some). Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
METRICS=$W/metrics/execgate.prom
AUDIT2=$W/audit2/audit.jsonl # the monitor-mode log of the rollout case
# busybox copies named "true" (it runs the applet its name says): ticketed (OK, UNUSED),
# without a ticket (BAD, NEW), root-owned in a system directory outside the baseline (SYS)
OK=/opt/obs-ok/true BAD=/opt/obs-bad/true NEW=/opt/obs-new/true UNUSED=/opt/obs-unused/true
SYS=/usr/libexec/obs/true

always setup

policy() { # policy MODE AUDIT_LOG
  echo 'name = "observability"'
  echo "mode = \"$1\""
  policy_head
  echo 'max_ttl = "1d"'
  printf '[audit]\npath = "%s"\nsigning_key = "%s"\ncheckpoint_every = 50\n' "$2" "$W/audit.key"
  printf '[metrics]\ntextfile = "%s"\ninterval = "1s"\n' "$METRICS"
}

# metric SAMPLE: the value of the sample (name and labels exactly as written), 0 when absent
metric() {
  _mv=$(grep -F "$1 " "$METRICS" 2>/dev/null | sed -n 's/.* \([0-9.e+]*\)$/\1/p' | head -1)
  echo "${_mv:-0}"
}
# metric_above SAMPLE N: the sample's value is above N
metric_above() { [ "$(metric "$1")" -gt "$2" ] 2>/dev/null; }
# hits ID: the ticket's HITS column of `tickets --hits`; hits_are ID N: it is N
hits() { execgate tickets --hits | awk -v id="$1" '$1 == id { print $2 }'; }
hits_are() { [ "$(hits "$1")" = "$2" ]; }
# has REGEX: a line of $out matches (extended regex)
has() { printf '%s\n' "$out" | grep -qE -- "$1"; }
# group_of FILE: the line after FILE's row in simulate's table (its execs and mappings)
group_of() { printf '%s\n' "$out" | grep -A1 -- " $1\$" | tail -n 1; }
runs() { gated $PROBE exec "$1" >/dev/null 2>&1; }
denied() { out=$(gated $PROBE exec "$1" 2>&1); contains "$out" "EXEC_ERRNO=EPERM"; }

ALLOW_TICKET='execgate_decisions_total{event="exec",verdict="allow",reason="ticket"}'
DENY_NO_TICKET='execgate_decisions_total{event="exec",verdict="deny",reason="no_ticket"}'

# keys, files, the policies, the daemon in enforce mode; tickets: ok (30 min: expiring
# within the hour, T_OK) and unused (2 h, T_UNUSED)
case_setup() {
  mkdir -p $W $W/metrics
  execgate keygen -o $W/ops >/dev/null
  execgate keygen -o $W/audit >/dev/null
  for f in $OK $BAD $NEW $UNUSED $SYS; do mkdir -p "${f%/*}"; cp /bin/busybox $f; chmod 755 $f; done
  policy enforce "$AUDIT" >$W/enforce.toml
  policy monitor "$AUDIT2" >$W/monitor.toml
  check "policy check accepts [metrics]" execgate policy check $W/enforce.toml
  start_daemon $W/enforce.toml || abort "cannot start the daemon"
  ticket ok $OK --ttl 30m
  T_OK=$TID
  ticket unused $UNUSED --ttl 2h
  T_UNUSED=$TID
}

case_metrics_file() {
  check "metrics file written" poll test -s "$METRICS"
  check "  ... OpenMetrics: ends with # EOF" [ "$(tail -n 1 "$METRICS")" = "# EOF" ]
  check "  ... counters typed without _total, sampled with it" grep -qx '# TYPE execgate_decisions counter' "$METRICS"
  check "  ... build info" grep -q '^execgate_build_info{version="[0-9.]*"} 1$' "$METRICS"
  check "  ... mode enforce" grep -qx 'execgate_mode{mode="enforce"} 1' "$METRICS"
  check "  ... one exec clock source in use" [ "$(grep -c '^execgate_exec_clock_source{source=.*} 1$' "$METRICS")" = 1 ]
  check "  ... tickets installed: 2" poll grep -qx 'execgate_tickets_installed 2' "$METRICS"
  check "  ... tickets expiring within 1 h: 1" poll grep -qx 'execgate_tickets_expiring_1h 1' "$METRICS"
  check "  ... readable by node_exporter (0644)" [ "$(ls -l "$METRICS" | cut -c1-10)" = "-rw-r--r--" ]
  a0=$(metric "$ALLOW_TICKET")
  d0=$(metric "$DENY_NO_TICKET")
  l0=$(metric execgate_audit_lag_seconds_count)
  check "an allowed exec in the scope" runs $OK
  check "a denied exec in the scope" denied $BAD
  check "  ... allow/ticket counter moved" poll metric_above "$ALLOW_TICKET" "$a0"
  check "  ... deny/no_ticket counter moved" poll metric_above "$DENY_NO_TICKET" "$d0"
  check "  ... audit lag observed" poll metric_above execgate_audit_lag_seconds_count "$l0"
  echo "  $(grep '^execgate_audit_lag_seconds_sum\|^execgate_audit_lag_seconds_count\|^execgate_ringbuf_drops_total' "$METRICS" | tr '\n' ' ')"
  check "  ... no temporary file left beside it" [ "$(ls -A $W/metrics)" = "execgate.prom" ]
  gated sh -c "echo forged >$METRICS" 2>/dev/null
  check "the scope cannot rewrite the metrics file" [ "$(tail -n 1 "$METRICS")" = "# EOF" ]
  check "  ... audited" audit_has '"event":"access"' '"verdict":"deny"' '"hook":"state_write"'
  check "status --json names the textfile" [ "$(status_field textfile)" = "$METRICS" ]
}

case_tickets_hits() {
  h0=$(hits "$T_OK")
  runs $OK
  runs $OK
  check "tickets --hits: two execs counted" poll hits_are "$T_OK" $((h0 + 2))
  check "  ... the unused ticket: 0 hits, listed first" [ "$(execgate tickets --hits | sed -n 2p | awk '{ print $1, $2 }')" = "$T_UNUSED 0" ]
  check "  ... --json carries hits and hits_since" sh -c "execgate --json tickets --hits | grep -q '\"hits\":$((h0 + 2)),\"hits_since\":[0-9]'"
  stop_daemon
  check "metrics file removed at a clean stop" [ ! -e "$METRICS" ]
  start_daemon $W/enforce.toml || abort "cannot restart the daemon"
  check "after a restart the hits are rebuilt from the audit log" hits_are "$T_OK" $((h0 + 2))
  check "  ... and the metrics file is back" poll test -s "$METRICS"
}

# reload SED: applies SED to the running policy and sends SIGHUP; true once it is recorded
reload() {
  _rm=$(audit_mark)
  sed -i "$1" $W/enforce.toml
  kill -HUP $DPID
  audit_since "$_rm" '"event":"policy_reload"'
}

# the metrics thread sleeps until its next write (no polling), and a reload that changes
# the interval wakes it: a shorter interval takes effect at once
case_metrics_interval_reload() {
  check "a reload to interval 1h" reload 's/^interval = "1s"$/interval = "1h"/'
  sleep 2 # a write that had begun before the reload is done
  rm -f "$METRICS"
  sleep 3
  check "  ... no write for 3 s" [ ! -e "$METRICS" ]
  check "a reload back to interval 1s" reload 's/^interval = "1h"$/interval = "1s"/'
  check "  ... the metrics file written again at once" poll test -s "$METRICS"
}

# the rollout tools on a monitor-mode log of this VM (a log of its own): BAD and NEW have
# no ticket, SYS is root-owned in a system directory outside the baseline
case_rollout_monitor_log() {
  restart_daemon $W/monitor.toml
  check "metrics: mode monitor" poll grep -qx 'execgate_mode{mode="monitor"} 1' "$METRICS"
  for f in $OK $BAD $NEW $BAD $SYS; do check "monitor mode: $f runs" runs $f; done
  check "  ... recorded monitor_deny" poll sh -c "grep -F '\"path\":\"$SYS\"' $AUDIT2 | grep -qF monitor_deny"
  sleep 6 # a signed checkpoint every 5 s
  out=$(execgate policy simulate --policy $W/enforce.toml --pub $W/audit.pub $AUDIT2 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /'
  check "simulate: the enforce policy would deny: exit 3" [ "$rc" = 3 ]
  check "  ... the log verified with its key" has "checkpoint signature\(s\) verified"
  check "  ... $BAD denied, no_ticket" has "^[0-9]+ +.*no_ticket.* $BAD\$"
  check "  ... its two execs grouped" contains "$(group_of $BAD)" " 2 exec(s), "
  check "  ... $NEW and $SYS denied" sh -c "printf '%s\n' \"\$0\" | grep -q ' $NEW\$' && printf '%s\n' \"\$0\" | grep -q ' $SYS\$'" "$out"
  check "  ... and ticketed $OK: simulate judges by the tickets it is given" has " $OK\$"

  out=$(execgate suggest --key $W/ops.key $AUDIT2 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /'
  check "suggest: exit 0" [ "$rc" = 0 ]
  check "  ... the root-owned system file as a baseline path" has "^  \"$SYS\",  # 1 exec"
  check "  ... an issue line for $NEW" has "^execgate issue --key $W/ops.key --binary $NEW --host $(cat /etc/machine-id) --ttl 8h --uid 0 "
  check "  ... none for $OK (its ticket let it run)" sh -c "! printf '%s\n' \"\$0\" | grep -q -- '--binary $OK '" "$out"

  # the draft applied: its tickets signed, its baseline path in the candidate
  mkdir -p $W/cand
  printf '%s\n' "$out" | grep '^execgate issue ' | sed "s|-o \([^ ]*\)\$|-o $W/cand/\1|" >$W/cand.sh
  check "  ... its issue lines sign" sh -c "sh $W/cand.sh >/dev/null"
  cp $W/ok.ticket $W/cand/
  sed "s|^paths = \[|paths = [\"$SYS\", |" $W/enforce.toml >$W/cand.toml
  out=$(execgate policy simulate --policy $W/cand.toml --tickets $W/cand --pub $W/audit.pub $AUDIT2 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /'
  check "simulate with the drafted tickets and baseline: nothing denied, exit 0" [ "$rc" = 0 ]
  check "  ... every ticket usable" has "3 usable, 0 refused"

  # the first exec record's uid changed, its hash left as it was
  awk '!d && /"event":"exec"/ { sub(/"uid":0/, "\"uid\":1"); d = 1 } { print }' $AUDIT2 >$W/broken.jsonl
  out=$(execgate policy simulate --policy $W/enforce.toml $W/broken.jsonl 2>&1); rc=$?
  check "a broken chain is refused: exit 3" [ "$rc" = 3 ]
  check "  ... saying so" has "does not verify: broken at seq"
  out=$(execgate policy simulate --policy $W/enforce.toml --unverified $W/broken.jsonl 2>&1)
  check "  ... --unverified reads it and says so" has "NOT VERIFIED: broken at seq"
}

run_cases
