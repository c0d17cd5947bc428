# shellcheck shell=sh
# Shared helpers for the VM suites (sourced, with E2E set to this directory; POSIX sh /
# busybox).
PASS=0
FAIL=0
W=${W:-/tmp/eg}
AUDIT=$W/audit/audit.jsonl
# shellcheck disable=SC2034 # read by the suites
SOCK=/run/execgate/execgated.sock
# The probe's directory: where the VM has eg-probe, execgated-faults and the unit tests
# (from PROBE, set by the suite before sourcing this file, unless PROBE_DIR is set).
PROBE_DIR=${PROBE_DIR:-$(dirname "${PROBE:-/nonexistent/eg-probe}")}
# What the suites' policies trust as baseline: the VM's system dirs, the execgate binaries
# and the probe's directory.
BASELINE_PATHS='"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64", "/usr/lib", "/usr/local/bin", "/usr/local/lib", "'"$PROBE_DIR"'"'

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

# open_policy NAME MODE: the exec and bypass suites' policy: every capability allowed in the
# scope (those suites test the hooks that hold whatever the policy grants: settime,
# lockdown, module loads, devices; the default privilege posture, which refuses most of
# those capabilities first, is tamper_suite.sh's), no built-in baseline, a signed log
open_policy() {
  cat <<EOT
name = "$1"
mode = "$2"
[scope]
cgroups = ["/gated"]
capabilities = ["all"]
[baseline]
trust = "none"
paths = [$BASELINE_PATHS]
[[issuer]]
name = "ops"
pubkey = "$W/ops.pub"
max_ttl = "1d"
[audit]
path = "$AUDIT"
signing_key = "$W/audit.key"
checkpoint_every = 50
EOT
}

# open_setup NAME: the exec and bypass suites' setup once their files are in place: keys,
# the policy in both modes ($W/enforce.toml, $W/monitor.toml), the daemon in enforce mode,
# and /opt/app/true ticketed (T_TRUE)
open_setup() {
  execgate keygen -o $W/ops >/dev/null
  execgate keygen -o $W/audit >/dev/null
  open_policy "$1" enforce >$W/enforce.toml
  open_policy "$1" monitor >$W/monitor.toml
  check "policy check accepts the suite's policy" execgate policy check $W/enforce.toml
  start_daemon $W/enforce.toml || abort "cannot start the daemon"
  check "status: gate attached, enforce" status_is attached=true mode=enforce
  mkdir -p /opt/app && cp /bin/busybox /opt/app/true && chmod 755 /opt/app/true
  ticket true /opt/app/true --ttl 1h
  # shellcheck disable=SC2034 # read by the suites
  T_TRUE=$TID
}

# pass, fail, check, contains, poll and the audit log's audit_mark, audit_lines,
# audit_after, audit_since: checks.sh, shared with the systemd host (tests/host/guest.sh)
on_fail() { [ -z "$CASE" ] || _listed "$CASE" "$_cr_failed" || _cr_failed="$_cr_failed $CASE"; }
# shellcheck source=tests/e2e/checks.sh
. "$E2E/checks.sh"

# _listed WORD LIST: WORD is one of the space-separated words of LIST
_listed() { case " $2 " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# ---- cases ----
# A suite is a list of cases: shell functions defined one per line as `case_NAME() {`, run
# in the order of the file by `run_cases`, which prints "=== case NAME" before each and the
# summary ("N passed, M failed") after the last. Two declarations, at the top level:
#   always NAME...        cases that run whatever EXECGATE_CASES selects: the suite's setup
#                         (keys, files, policies, the daemon) and a closing check of the log
#   needs NAME PREREQ...  NAME uses what the cases PREREQ leave behind (a ticket, a
#                         revocation, a log with records); selecting NAME runs them as well,
#                         in their place before it
# EXECGATE_CASES (comma- or space-separated names, shell patterns: 'ptrace_*,loader_*')
# selects cases; unset or empty, every case runs. A selection that matches none of the
# suite's cases is a failure, not an empty pass.
# Each case starts with an audit watermark, CASE_MARK: audit_has, audit_lines and
# audit_count see only the records written after it, so no record of another case answers
# for this one. A case that does assert on an earlier case's records names them with
# audit_since MARK and the mark that case kept.
CASE=
CASE_MARK=0
_cr_always=
_cr_failed=
always() { _cr_always="$_cr_always $*"; }
needs() {
  _cr_c=$1; shift
  eval "_cr_needs_$_cr_c=\"\${_cr_needs_$_cr_c:-} $*\""
}
_cr_needs() { eval "echo \${_cr_needs_$1:-}"; } # _cr_needs NAME: what NAME needs

# case_selected NAME: EXECGATE_CASES is empty or one of its patterns matches NAME
case_selected() {
  [ -n "${EXECGATE_CASES:-}" ] || return 0
  set -f # the patterns are matched against case names, not files
  for _cr_p in $(echo "$EXECGATE_CASES" | tr ',' ' '); do
    # shellcheck disable=SC2254 # the pattern is meant as a pattern
    case $1 in $_cr_p) set +f; return 0 ;; esac
  done
  set +f
  return 1
}

# _cr_select NAME: adds what NAME needs (recursively), then NAME, to _cr_selected
_cr_select() {
  _listed "$1" "$_cr_selected" && return 0
  for _cr_d in $(_cr_needs "$1"); do _cr_select "$_cr_d"; done
  _cr_selected="$_cr_selected $1"
}

# run_cases [NAME...]: runs the cases NAME... (default: every case_NAME of the suite's
# file, in file order) as selected above, then prints the summary; its status is the
# summary's
run_cases() {
  # shellcheck disable=SC2046 # case names are single words
  [ $# -gt 0 ] || set -- $(sed -n 's/^case_\([A-Za-z0-9_]*\)() *{.*/\1/p' "$0")
  _cr_selected=
  _cr_matched=0
  for _cr_n; do
    command -v "case_$_cr_n" >/dev/null || { fail "runner" "no function case_$_cr_n"; continue; }
    if case_selected "$_cr_n"; then
      _cr_select "$_cr_n"
      _cr_matched=$((_cr_matched + 1))
    elif _listed "$_cr_n" "$_cr_always"; then
      _cr_select "$_cr_n"
    fi
  done
  if [ -n "${EXECGATE_CASES:-}" ]; then
    [ "$_cr_matched" -gt 0 ] || { fail "EXECGATE_CASES" "no case of $(basename "$0") matches '$EXECGATE_CASES'"; summary; return; }
    _cr_order=
    for _cr_n; do _listed "$_cr_n" "$_cr_selected" && _cr_order="$_cr_order $_cr_n"; done
    echo "EXECGATE_CASES='$EXECGATE_CASES': $_cr_matched of $# cases; with setup and prerequisites:$_cr_order"
  fi
  _cr_ran=
  for _cr_n; do
    _listed "$_cr_n" "$_cr_selected" || continue
    for _cr_d in $(_cr_needs "$_cr_n"); do
      _listed "$_cr_d" "$_cr_ran" || fail "runner" "case $_cr_n needs $_cr_d, which has not run before it"
    done
    CASE=$_cr_n
    echo "=== case $_cr_n"
    CASE_MARK=$(audit_mark)
    "case_$_cr_n"
    _cr_ran="$_cr_ran $_cr_n"
  done
  CASE=
  summary
}

# abort WHY: a failure the suite cannot go on from (the daemon does not start)
abort() { fail "${CASE:-suite}" "$1"; summary; exit 1; }

# ---- the audit log ----
# audit_has PATTERN...: the same after the case's watermark
audit_has() { poll audit_after "$CASE_MARK" "$@" || { echo "  audit has no line since case $CASE began with: $*" >&2; return 1; }; }
# audit_count PATTERN...: how many lines since the case began contain every pattern
audit_count() {
  _al=$(audit_lines)
  for _ap in "$@"; do _al=$(printf '%s\n' "$_al" | grep -F -- "$_ap"); done
  if [ -n "$_al" ]; then printf '%s\n' "$_al" | wc -l; else echo 0; fi
}

# ---- the daemon's status (docs/daemon.md "status --json"; no jq in the VM) ----
# status_field NAME [JSON]: the value of member NAME of `execgate --json status` (or of
# JSON): a number, true / false, a string without its quotes, an array as its JSON text;
# empty when the daemon does not answer. Every name the suites read occurs once in it.
status_field() {
  printf '%s\n' "${2:-$(execgate --json status 2>/dev/null)}" |
    sed -nE "s/.*\"$1\":(\"[^\"]*\"|\[[^]]*\]|[^,}]*).*/\1/p" | sed -E 's/^"(.*)"$/\1/'
}
# status_is NAME=VALUE...: the daemon answers and every member NAME has VALUE
status_is() {
  _sj=$(execgate --json status 2>/dev/null) || return 1
  for _kv in "$@"; do [ "$(status_field "${_kv%%=*}" "$_sj")" = "${_kv#*=}" ] || return 1; done
}

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
start_daemon() { # start_daemon POLICY (EXECGATED: another daemon binary; STATE_DIR: another state directory)
  ${EXECGATED:-execgated} --config "$1" --state-dir "${STATE_DIR:-$W/state}" >>$W/daemon.log 2>&1 &
  DPID=$!
  _sd_i=0
  while [ $_sd_i -lt 900 ]; do
    execgate status >/dev/null 2>&1 && return 0
    kill -0 $DPID 2>/dev/null || { echo "execgated died:"; grep -v "^[0-9]*: (" $W/daemon.log | tail -${EXECGATE_DIED_LINES:-5}; return 1; }
    sleep 0.1
    _sd_i=$((_sd_i + 1))
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
  start_daemon "$1" || abort "cannot restart the daemon"
}

# in_cg CGROUP CMD...: joins /sys/fs/cgroup/CGROUP directly (needs no daemon) and execs CMD
in_cg() {
  _cg=$1; shift
  sh -c 'echo $$ > "/sys/fs/cgroup$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# in_scope CMD...: in_cg for the gated cgroup itself
in_scope() { in_cg /gated "$@"; }

# gated CMD...: runs CMD inside the gated scope (fresh cgroup via execgate run)
gated() { execgate run -- "$@"; }

# issue_ops NAME FILE ISSUE-ARGS...: signs a ticket for FILE on this host with the ops key
# into $W/NAME.ticket (not submitted)
issue_ops() {
  _io_n=$1; _io_f=$2; shift 2
  execgate issue --key $W/ops.key --binary "$_io_f" --this-host -o "$W/$_io_n.ticket" "$@" >/dev/null
}

# ticket NAME FILE ISSUE-ARGS...: issues and submits a ticket; sets TID
ticket() {
  issue_ops "$@" || return 1
  # shellcheck disable=SC2034 # read by the suites
  TID=$(execgate --json inspect "$W/$1.ticket" | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
  execgate submit "$W/$1.ticket" >/dev/null
}

# log_verifies: stops the daemon; the audit log of the whole run verifies (the suites
# whose policy signs it)
log_verifies() {
  stop_daemon
  out=$(execgate audit verify $AUDIT --pub $W/audit.pub 2>&1); rc=$?
  check "audit log of the whole run verifies" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || echo "$out" | head -5
}

# summary: the cases that failed (and how to run them again alone), then "N passed, M failed"
summary() {
  [ -z "$_cr_failed" ] || echo "failed cases:$_cr_failed (again alone: EXECGATE_CASES='$(echo $_cr_failed | tr ' ' ,)')"
  echo "$PASS passed, $FAIL failed"
  [ $FAIL -eq 0 ]
}
