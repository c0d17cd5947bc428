# shellcheck shell=sh
# The checks both VM harnesses print, and how they read the audit log: sourced by
# tests/e2e/lib.sh (the real-kernel suites, busybox sh) and tests/host/guest.sh (the
# systemd host, which gets it beside itself in its payload). POSIX sh.
#   PASS / FAIL   the counts (a harness may start them from saved values)
#   AUDIT         the audit log the audit_* helpers read
#   on_fail NAME  called after each failure (the suites note the failed case; default none)
#   on_count      called after each pass or failure (the systemd host saves its counts)
#   POLL_TRIES    how many 0.1 s rounds poll waits (default 50: 5 s)
PASS=${PASS:-0}
FAIL=${FAIL:-0}
command -v on_fail >/dev/null 2>&1 || on_fail() { :; }
command -v on_count >/dev/null 2>&1 || on_count() { :; }

pass() { PASS=$((PASS + 1)); echo "PASS $1"; on_count; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1${2:+: $2}"; on_fail "$1"; on_count; }
check() { # check NAME CONDITION-COMMAND... : pass when the command succeeds
  name=$1; shift
  if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}

# contains HAYSTACK NEEDLE
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

# poll CMD...: runs CMD every 0.1 s until it succeeds, for up to POLL_TRIES rounds
poll() {
  _i=0
  while [ $_i -lt "${POLL_TRIES:-50}" ]; do
    "$@" && return 0
    sleep 0.1
    _i=$((_i + 1))
  done
  return 1
}

# audit_mark: a watermark (the audit log's line count)
audit_mark() { if [ -f "$AUDIT" ]; then wc -l <"$AUDIT"; else echo 0; fi; }
# audit_lines [MARK]: the lines written after MARK (default: CASE_MARK, else 0)
audit_lines() { [ -f "$AUDIT" ] && tail -n +$((${1:-${CASE_MARK:-0}} + 1)) "$AUDIT"; }
# audit_after MARK PATTERN...: a line written after MARK contains every pattern
audit_after() {
  _al=$(audit_lines "$1") || return 1
  shift
  for _ap in "$@"; do _al=$(printf '%s\n' "$_al" | grep -F -- "$_ap"); done
  [ -n "$_al" ]
}
# audit_since MARK PATTERN...: waits (poll) for such a line
audit_since() { poll audit_after "$@" || { echo "  audit has no line after line $1 with: $*" >&2; return 1; }; }
