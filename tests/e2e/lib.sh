# shellcheck shell=sh
# Shared helpers for the VM suites (sourced; POSIX sh / busybox).
PASS=0
FAIL=0
W=${W:-/tmp/eg}
AUDIT=$W/audit/audit.jsonl
# shellcheck disable=SC2034 # read by the suites
SOCK=/run/execgate/execgated.sock
# What the suites' policies trust as baseline: the VM's system dirs, the execgate binaries
# and the probe's directory (PROBE_DIR, set by the suite before sourcing this file).
BASELINE_PATHS='"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64", "/usr/lib", "/usr/local/bin", "/usr/local/lib", "'"${PROBE_DIR:-/nonexistent}"'"'

# policy_head: the start of the suites' policies: the /gated scope, the baseline above and
# the "ops" issuer; each suite appends its own keys of that issuer and its [audit] table
policy_head() {
  cat <<EOT
[scope]
cgroups = ["/gated"]
[baseline]
paths = [$BASELINE_PATHS]
[[issuer]]
name = "ops"
pubkey = "$W/ops.pub"
EOT
}

pass() { PASS=$((PASS + 1)); echo "PASS $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }
check() { # check NAME CONDITION-COMMAND... : pass when the command succeeds
  name=$1; shift
  if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}

# contains HAYSTACK NEEDLE
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

# poll CMD...: runs CMD every 0.1 s until it succeeds, for up to 5 s
poll() {
  _i=0
  while [ $_i -lt 50 ]; do
    "$@" && return 0
    sleep 0.1
    _i=$((_i + 1))
  done
  return 1
}

# audit_has PATTERN... : some audit line contains every pattern (waits up to 5 s)
audit_line() {
  [ -f "$AUDIT" ] || return 1
  lines=$(cat "$AUDIT")
  for p in "$@"; do lines=$(printf '%s\n' "$lines" | grep -F -- "$p"); done
  [ -n "$lines" ]
}
audit_has() { poll audit_line "$@" || { echo "  audit has no line with: $*" >&2; return 1; }; }

# audit_grows N PATTERN: waits until more than N audit lines contain PATTERN
audit_count_above() { [ "$(grep -cF -- "$2" "$AUDIT" 2>/dev/null)" -gt "$1" ]; }
audit_grows() { poll audit_count_above "$@" || { echo "  audit: still no more than $1 lines with $2" >&2; return 1; }; }

# audit_mark: a watermark (the audit log's line count); audit_since MARK PATTERN...: a line
# written after MARK contains every pattern (waits up to 5 s). Cases that assert on their
# own records use these, so a record of an earlier case never answers for them.
audit_mark() { if [ -f "$AUDIT" ]; then wc -l <"$AUDIT"; else echo 0; fi; }
audit_after() {
  _m=$1; shift
  lines=$(tail -n +$((_m + 1)) "$AUDIT")
  for p in "$@"; do lines=$(printf '%s\n' "$lines" | grep -F -- "$p"); done
  [ -n "$lines" ]
}
audit_since() { poll audit_after "$@" || { echo "  audit has no line after line $1 with: $*" >&2; return 1; }; }

# control WHAT MARK PROBE-ARGS...: outside the scope the probe succeeds (MARK_OK)
control() {
  what=$1 mark=$2
  shift 2
  out=$($PROBE "$@" 2>&1)
  check "control: $what works outside the scope" contains "$out" "${mark}_OK"
}

# refused WHAT MARK REASON HOOK PROBE-ARGS...: from the scope the probe fails with EPERM
# (MARK_ERRNO=EPERM) and a record with REASON and HOOK follows, an "exec" record for the
# hooks that decide whether code runs and an "access" record for every other
refused() {
  what=$1 mark=$2 reason=$3 hook=$4
  shift 4
  case $hook in exec | mmap_exec | mprotect_exec | exec_check) _ev="exec" ;; *) _ev="access" ;; esac
  _m=$(audit_mark)
  out=$(gated $PROBE "$@" 2>&1)
  check "bypass: $what from the scope" contains "$out" "${mark}_ERRNO=EPERM"
  check "  ... audited $reason ($hook, $_ev)" audit_since "$_m" "\"event\":\"$_ev\"" "\"reason\":\"$reason\"" "\"hook\":\"$hook\""
}

# outside_then_inside WHAT MARK REASON HOOK PROBE-ARGS...: control, then refused
outside_then_inside() {
  _w=$1 _k=$2 _r=$3 _h=$4
  shift 4
  control "$_w" "$_k" "$@"
  refused "$_w" "$_k" "$_r" "$_h" "$@"
}

# start_daemon POLICY: starts execgated and waits until it answers (up to 90 s: under
# emulation 6.12's verifier takes ~20 s for the gate's programs, 6.1's and 7.x's ~3 s)
start_daemon() {
  execgated --config "$1" --state-dir $W/state >>$W/daemon.log 2>&1 &
  DPID=$!
  i=0
  while [ $i -lt 900 ]; do
    execgate status >/dev/null 2>&1 && return 0
    kill -0 $DPID 2>/dev/null || { echo "execgated died:"; tail -5 $W/daemon.log; return 1; }
    sleep 0.1
    i=$((i + 1))
  done
  echo "execgated did not answer"; tail -5 $W/daemon.log
  return 1
}

stop_daemon() {
  kill -TERM $DPID 2>/dev/null
  wait $DPID 2>/dev/null
}

# restart_daemon POLICY: stops execgated and starts it again; ends the suite if it cannot
restart_daemon() {
  stop_daemon
  start_daemon "$1" || { echo "cannot restart the daemon"; summary; exit 1; }
}

# in_cg CGROUP CMD...: joins /sys/fs/cgroup/CGROUP directly (needs no daemon) and execs CMD
in_cg() {
  cg=$1; shift
  sh -c 'echo $$ > "/sys/fs/cgroup$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# in_scope CMD...: in_cg for the gated cgroup itself
in_scope() { in_cg /gated "$@"; }

# gated CMD...: runs CMD inside the gated scope (fresh cgroup via execgate run)
gated() { execgate run -- "$@"; }

# issue_ops NAME FILE ISSUE-ARGS...: signs a ticket for FILE on this host with the ops key
# into $W/NAME.ticket (not submitted)
issue_ops() {
  n=$1; f=$2; shift 2
  execgate issue --key $W/ops.key --binary "$f" --this-host -o $W/$n.ticket "$@" >/dev/null
}

# ticket NAME FILE ISSUE-ARGS...: issues and submits a ticket; sets TID
ticket() {
  issue_ops "$@" || return 1
  n=$1
  # shellcheck disable=SC2034 # read by the suites
  TID=$(execgate --json inspect $W/$n.ticket | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
  execgate submit $W/$n.ticket >/dev/null
}

summary() {
  echo "$PASS passed, $FAIL failed"
  [ $FAIL -eq 0 ]
}
