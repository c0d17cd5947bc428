#!/bin/sh
# The exec decision on the real kernel: what a ticket lets run and what it binds (validity,
# uid, uses, lineage, the interpreter of a script), the gate without its daemon, restarts,
# monitor mode, scopes by cgroup level and the baseline. Runs INSIDE the VM
# (scripts/vm-run.sh) as root:
#   exec_suite.sh PROBE
# Each case (lib.sh, "cases"; EXECGATE_CASES picks some) checks the kernel's errno and its
# own audit records. Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

always setup audit_verifies

# the cases' files, then lib.sh open_setup: keys, policies, the daemon, /opt/app/true
# ticketed (T_TRUE)
case_setup() {
  mkdir -p $W /opt/app
  # busybox copies named after applets; each case gets its own inode
  for n in plain echo cat sleep; do cp /bin/busybox /opt/app/$n; done
  for d in mu cp1 script; do mkdir -p /opt/$d; cp /bin/busybox /opt/$d/true; cp /bin/busybox /opt/$d/echo; done
  chmod 755 /opt/app/* /opt/*/*
  open_setup exec
}

case_unticketed() {
  out=$(gated $PROBE exec /opt/app/plain 2>&1)
  check "unticketed exec in scope fails with EPERM" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited deny no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' '/opt/app/plain'
}

case_ticketed() {
  out=$(gated $PROBE exec /opt/app/true 2>&1); rc=$?
  check "ticketed exec runs" [ "$rc" = 0 -a -z "$out" ]
  check "  ... audited allow with the ticket id" audit_has '"verdict":"allow"' "\"ticket\":\"$T_TRUE\""
  check "execgate run runs a ticketed command" gated /opt/app/true
  check "same content at another inode is not covered" sh -c "execgate run -- $PROBE exec /opt/cp1/echo | grep -q EXEC_ERRNO=EPERM"
}

# expired: the kernel alone denies (daemon stopped)
case_expired() {
  ticket echo /opt/app/echo --ttl 2s
  T_ECHO=$TID
  kill -STOP $DPID
  sleep 3
  out=$(in_scope $PROBE exec /opt/app/echo x 2>&1)
  kill -CONT $DPID
  check "expired ticket denied by the kernel without the daemon" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited expired" audit_has '"reason":"expired"' "\"ticket\":\"$T_ECHO\""
  check "  ... daemon records ticket_expired" audit_has '"event":"ticket_expired"' "$T_ECHO"
}

case_not_yet_valid() {
  ticket cat /opt/app/cat --ttl 1h --not-before +1h
  out=$(gated $PROBE exec /opt/app/cat /dev/null 2>&1)
  check "not-yet-valid ticket denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited not_yet_valid" audit_has '"reason":"not_yet_valid"' "\"ticket\":\"$TID\""
}

case_uid_mismatch() {
  ticket sleep /opt/app/sleep --ttl 1h --uid 4242
  out=$(gated $PROBE exec /opt/app/sleep 0 2>&1)
  check "uid mismatch denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited uid_mismatch" audit_has '"reason":"uid_mismatch"' "\"ticket\":\"$TID\""
}

case_max_uses() {
  ticket mu /opt/mu/true --ttl 1h --max-uses 2
  T_MU=$TID
  gated $PROBE exec /opt/mu/true >/dev/null 2>&1; r1=$?
  gated $PROBE exec /opt/mu/true >/dev/null 2>&1; r2=$?
  out=$(gated $PROBE exec /opt/mu/true 2>&1)
  check "max_uses=2: two execs run" [ "$r1" = 0 -a "$r2" = 0 ]
  check "max_uses=2: the third is denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited exhausted" audit_has '"reason":"exhausted"' "\"ticket\":\"$T_MU\""
}

# lineage: a child ticket runs only from its parent ticket's image
case_lineage() {
  mkdir -p /opt/lin; cp $PROBE /opt/lin/launcher; cp /bin/busybox /opt/lin/true; chmod 755 /opt/lin/*
  ticket lparent /opt/lin/launcher --ttl 1h
  T_LP=$TID
  ticket lchild /opt/lin/true --ttl 1h --parent $T_LP
  T_LC=$TID
  out=$(gated $PROBE exec /opt/lin/true 2>&1)
  check "lineage: child ticket from a process without the parent ticket is denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited lineage" audit_has '"reason":"lineage"' "\"ticket\":\"$T_LC\""
  out=$(gated /opt/lin/launcher exec /opt/lin/true 2>&1); rc=$?
  check "lineage: the parent ticket's image may exec the child" [ "$rc" = 0 -a -z "$out" ]
  check "  ... audited allow with the lineage" audit_has '"verdict":"allow"' "\"ticket\":\"$T_LC\"" "\"lineage\":[\"$T_LP\"]"
}

case_outside_scope() {
  out=$($PROBE exec /opt/cp1/echo outside 2>&1)
  check "process outside the scope is unaffected" [ "$out" = "outside" ]
}

# a ticket for a script does not cover its interpreter
case_script_interpreter() {
  mv /opt/script/true /opt/script/sh
  printf '#!/opt/script/sh\necho script-ran\n' >/opt/script/run.sh; chmod 755 /opt/script/run.sh
  ticket script /opt/script/run.sh --ttl 1h
  out=$(gated $PROBE exec /opt/script/run.sh 2>&1)
  check "bypass: ticketed script with an unticketed interpreter" contains "$out" "EXEC_ERRNO=EPERM"
}

# SIGKILL the daemon: the pinned gate keeps enforcing; restarted, it reuses the pins (its
# own build's programs too) and records what the kernel decided meanwhile
case_daemon_killed() {
  kill -KILL $DPID; wait $DPID 2>/dev/null
  out=$(in_scope $PROBE exec /opt/cp1/echo 2>&1)
  check "daemon SIGKILLed: unticketed exec still EPERM" contains "$out" "EXEC_ERRNO=EPERM"
  out=$(in_scope $PROBE exec /opt/app/true 2>&1); rc=$?
  check "daemon SIGKILLed: ticketed exec still runs" [ "$rc" = 0 ]
  start_daemon $W/enforce.toml || abort "cannot restart the daemon"
  check "restarted daemon reuses the pins" audit_has '"event":"daemon_start"' '"reason":"reused_pins"'
  check "  ... and keeps its pinned programs (same build: none loaded again)" audit_has '"event":"daemon_start"' '"programs":"kept"'
  check "restarted daemon still lists the ticket" sh -c "execgate tickets | grep -q $T_TRUE"
  out=$(gated $PROBE exec /opt/app/true 2>&1); rc=$?
  check "ticket installed before the restart still runs" [ "$rc" = 0 ]
  check "kernel events lost while the daemon was down are audited after restart" audit_has '"reason":"no_ticket"' '/opt/cp1/echo'
}

# monitor mode: denies nothing, still records
case_monitor_mode() {
  stop_daemon
  start_daemon $W/monitor.toml || abort "cannot start the daemon in monitor mode"
  out=$(gated $PROBE exec /opt/cp1/echo monitored 2>&1)
  check "monitor mode lets an unticketed exec run" [ "$out" = "monitored" ]
  check "  ... and records monitor_deny" audit_has '"verdict":"monitor_deny"' '"reason":"no_ticket"' '/opt/cp1/echo'
  stop_daemon
  start_daemon $W/enforce.toml || abort "cannot start the daemon in enforce mode"
  out=$(gated $PROBE exec /opt/cp1/echo 2>&1)
  check "back to enforce: denied again" contains "$out" "EXEC_ERRNO=EPERM"
}

# scope by level: a nested scope cgroup gates its own subtree, nothing around it; a scope
# change on SIGHUP takes effect at once
scope_has() { contains "$(status_field cgroups)" "\"$1\""; }
scope_lacks() { _sc=$(status_field cgroups) && [ -n "$_sc" ] && ! contains "$_sc" "\"$1\""; }
case_nested_scope() {
  cp $W/enforce.toml $W/enforce.toml.orig
  sed 's|^cgroups = \["/gated"\]|cgroups = ["/gated", "/deep/a/b"]|' $W/enforce.toml.orig >$W/enforce.toml
  kill -HUP $DPID
  check "SIGHUP: the nested scope /deep/a/b is active" poll scope_has /deep/a/b
  mkdir -p /sys/fs/cgroup/deep/a/b/c /sys/fs/cgroup/deep/a/bb
  out=$(in_cg /deep/a/b/c $PROBE exec /opt/cp1/echo 2>&1)
  check "nested scope: a child cgroup of /deep/a/b is gated" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"reason":"no_ticket"' '/opt/cp1/echo' '"verdict":"deny"'
  out=$(in_cg /deep/a/b $PROBE exec /opt/cp1/echo 2>&1)
  check "nested scope: /deep/a/b itself is gated" contains "$out" "EXEC_ERRNO=EPERM"
  out=$(in_cg /deep/a $PROBE exec /opt/cp1/echo above 2>&1)
  check "nested scope: its parent /deep/a is not" [ "$out" = "above" ]
  out=$(in_cg /deep/a/bb $PROBE exec /opt/cp1/echo sibling 2>&1)
  check "nested scope: a sibling named /deep/a/bb is not" [ "$out" = "sibling" ]
  # The kernel reaches a scope's cgroup by walking up from the task's own, up to 4 levels,
  # and asks the kernel's ancestor helper beyond: both sides of that line, in and out.
  mkdir -p /sys/fs/cgroup/deep/a/b/c/d/e/f/g/h /sys/fs/cgroup/deep/a/bb/c/d/e/f/g
  for cg in /deep/a/b/c/d/e/f /deep/a/b/c/d/e/f/g /deep/a/b/c/d/e/f/g/h; do
    out=$(in_cg $cg $PROBE exec /opt/cp1/echo 2>&1)
    check "nested scope: $cg ($(echo ${cg#/deep/a/b} | tr -cd / | wc -c) levels below it) is gated" contains "$out" "EXEC_ERRNO=EPERM"
  done
  out=$(in_cg /deep/a/bb/c/d/e/f/g $PROBE exec /opt/cp1/echo deep-sibling 2>&1)
  check "nested scope: /deep/a/bb/c/d/e/f/g (below the sibling) is not" [ "$out" = "deep-sibling" ]
  cp $W/enforce.toml.orig $W/enforce.toml
  kill -HUP $DPID
  poll scope_lacks /deep/a/b
  out=$(in_cg /deep/a/b/c $PROBE exec /opt/cp1/echo released 2>&1)
  check "SIGHUP without /deep/a/b: its subtree is released at once" [ "$out" = "released" ]
  out=$(in_scope $PROBE exec /opt/cp1/echo 2>&1)
  check "  ... while /gated stays gated" contains "$out" "EXEC_ERRNO=EPERM"
}

# the baseline pins only files no one but root can write: a group-writable file in a
# baseline directory (its group could rewrite it, even through a shared writable mapping
# made before the pin) is not pinned, and runs once it is root's alone again
case_baseline_writable() {
  mkdir -p $PROBE_DIR/egw && cp /bin/busybox $PROBE_DIR/egw/true && chmod 0775 $PROBE_DIR/egw/true
  kill -HUP $DPID
  check "SIGHUP: a group-writable file in a baseline directory is refused (status)" poll status_is refused_files=1
  out=$(gated $PROBE exec $PROBE_DIR/egw/true 2>&1)
  check "  ... and does not run in the scope" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"reason":"no_ticket"' 'egw/true'
  chmod 0755 $PROBE_DIR/egw/true
  kill -HUP $DPID
  check "SIGHUP: root's alone again, it is pinned" poll status_is refused_files=0
  check "  ... and runs" sh -c "$(command -v execgate) run -- $PROBE exec $PROBE_DIR/egw/true"
  rm -rf $PROBE_DIR/egw
}

# The decision table (tests/e2e/decision_cases.txt), through the real programs: each
# "both" row's entries written into the pinned maps for /opt/dt/true (eg-probe
# decision-entries, with the i_generation the daemon's sealing recorded), then its exec or
# mapping in the scope. The verdict and the audited reason must be the row's, which
# tests/unit/decision_native_test.cpp checks on the same code compiled natively. The
# caller of "exec:caller=HH" is a copy of the probe whose entry holds ticket HH... with
# uses (a per-exec ticket: its image's ticket is the caller's); the real ticket issued for
# it names a parent, so the daemon tracks lineage. Last: /opt/dt's entries are forged.
dt_trim() { printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
case_decision_table() {
  pin=/sys/fs/bpf/execgate n=0
  mkdir -p /opt/dt
  cp /bin/busybox /opt/dt/true; cp $PROBE /opt/dt/caller; chmod 755 /opt/dt/true /opt/dt/caller
  ticket dt_true /opt/dt/true --ttl 1h
  ticket dt_caller /opt/dt/caller --ttl 1h --parent 0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a
  gen=$($PROBE entry-generation $pin /opt/dt/true)
  cgen=$($PROBE entry-generation $pin /opt/dt/caller)
  check "decision table: the sealed entries' generations are read" [ -n "$gen" -a -n "$cgen" ]
  while IFS='|' read -r name entries ask expect where; do
    case $name in '#'* | '') continue ;; esac
    name=$(dt_trim "$name"); ask=$(dt_trim "$ask"); expect=$(dt_trim "$expect"); where=$(dt_trim "$where")
    [ "$where" = both ] || continue
    n=$((n + 1))
    # shellcheck disable=SC2086 # the row's entries are words
    out=$($PROBE decision-entries $pin /opt/dt/true "$gen" $entries)
    contains "$out" ENTRIES_OK || { fail "decision table: $name" "entries '$entries': $out"; continue; }
    mark=$(audit_mark)
    case $ask in
      exec) out=$(gated $PROBE exec /opt/dt/true 2>&1) ;;
      exec:caller=*)
        $PROBE decision-entries $pin /opt/dt/caller "$cgen" "ticket:id=${ask#exec:caller=}:uses=100000" >/dev/null
        out=$(gated /opt/dt/caller exec /opt/dt/true 2>&1) ;;
      map) out=$(gated $PROBE mmap-exec /opt/dt/true 2>&1) ;;
      memfd) out=$(gated $PROBE memfd-exec /opt/dt/true 2>&1) ;;
      tmpfile) out=$(gated $PROBE tmpfile-exec /opt/dt /opt/dt/true 2>&1) ;;
      unlinked) out=$(gated $PROBE unlinked-exec /opt/dt/gone /opt/dt/true 2>&1) ;;
      *) fail "decision table: $name" "unknown ask '$ask'"; continue ;;
    esac
    rc=$?
    case $expect in
      ticket | baseline)
        ok=1; { [ "$rc" = 0 ] && ! contains "$out" "_ERRNO="; } || ok=0
        check "decision table: $name: allowed ($ask)" [ "$ok" = 1 ]
        # allowed mappings are not recorded; allowed execs are, with the reason
        [ "$ask" = map ] || check "  ... audited allow $expect" audit_since "$mark" '"verdict":"allow"' "\"reason\":\"$expect\"" dt/true ;;
      *)
        check "decision table: $name: denied ($ask)" contains "$out" "_ERRNO=EPERM"
        check "  ... audited deny $expect" audit_since "$mark" '"verdict":"deny"' "\"reason\":\"$expect\"" ;;
    esac
  done <"$E2E/decision_cases.txt"
  $PROBE decision-entries $pin /opt/dt/true "$gen" - >/dev/null  # the fleet word cleared
  check "decision table: every row for the VM was run ($n)" [ "$n" -ge 25 ]
}

# The fleet on the real kernel (docs/fleet.md): etcd inside the VM on 127.0.0.1, execgated
# with a [fleet] and execgate-sync feeding it. A ticket published to etcd runs; its
# revocation published to etcd denies it (the latency from publish to denial is printed);
# with etcd stopped past max_silence the fleet's tickets are denied fleet_silent in the
# kernel while a local ticket still runs, and run again once etcd is back.
fleet_etcd() { # starts etcd (data under $W/etcd) and waits until it answers
  etcd --name eg --data-dir $W/etcd --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster eg=http://127.0.0.1:2380 \
    >>$W/etcd.log 2>&1 &
  EPID=$!
  long_poll etcdctl --endpoints=http://127.0.0.1:2379 endpoint health >/dev/null 2>&1
}
# fleet_publish FILE: `execgate fleet publish` as an operator runs it; sets REV (the revision)
fleet_publish() {
  REV=$(execgate --json fleet publish --config $W/fleet.toml "$1" | sed -n 's/.*"revision":\([0-9]*\).*/\1/p' | head -1)
  [ -n "$REV" ]
}
fleet_acked() { execgate fleet status --config $W/fleet.toml --wait-revision "$1" --timeout 30s >/dev/null; }
# the seq of the newest audit checkpoint the host published (sets CP)
fleet_checkpoint() {
  CP=$(etcdctl --endpoints=http://127.0.0.1:2379 get --prefix --keys-only "/execgate/hosts/$machine/checkpoints/" |
    sed -n 's|.*/checkpoints/\([0-9]*\)$|\1|p' | sort -n | tail -1)
  [ -n "$CP" ]
}
fleet_verify() { out=$(execgate audit verify "$1" --fleet --config $W/fleet.toml --pub $W/audit.pub 2>&1); }
fleet_verify_holds() { fleet_verify $AUDIT && contains "$out" "the log holds every one"; }
fleet_verify_cut() { # a copy of the log cut back before the published checkpoint
  mkdir -p $W/cut && head -n $((CP - 1)) $AUDIT >$W/cut/audit.jsonl
  ! fleet_verify $W/cut && contains "$out" "log truncated"
}
fleet_runs() { gated "$1" 2>/dev/null; }
fleet_denied() { out=$(gated $PROBE exec "$1" 2>&1); contains "$out" "EXEC_ERRNO=EPERM"; }
now_ms() { read -r _up _ </proc/uptime; echo $((${_up%.*}${_up#*.} * 10)); } # uptime in ms (10 ms steps)
long_poll() { POLL_TRIES=300 poll "$@"; } # 300 tries: at least 30 s (etcd's start under TCG)
case_fleet() {
  # busybox copies named after an applet (true), one inode per ticket
  mkdir -p /opt/fleet1 /opt/fleet2 $W/sync && cp /bin/busybox /opt/fleet1/true && cp /bin/busybox /opt/fleet2/true &&
    chmod 755 /opt/fleet1/true /opt/fleet2/true
  check "fleet: etcd starts on 127.0.0.1" fleet_etcd || return
  { cat $W/enforce.toml; printf '[fleet]\nendpoints = ["http://127.0.0.1:2379"]\nmax_silence = "4s"\n'; } >$W/fleet.toml
  restart_daemon $W/fleet.toml
  execgate-sync --config $W/fleet.toml --state-dir $W/sync >>$W/sync.log 2>&1 &
  SPID=$!
  issue_ops fleet1 /opt/fleet1/true --ttl 1h
  id1=$(execgate --json inspect $W/fleet1.ticket | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
  check "fleet: nothing runs before the publish" fleet_denied /opt/fleet1/true
  machine=$(cat /etc/machine-id)
  check "fleet: the host enrolls its audit key" execgate fleet enroll --config $W/fleet.toml
  check "  ... the operator approves it" execgate fleet approve "$machine" --key $W/ops.key --config $W/fleet.toml
  check "fleet: execgate fleet publish" fleet_publish $W/fleet1.ticket
  check "fleet: the ticket published to etcd runs" long_poll fleet_runs /opt/fleet1/true ||
    { tail -15 $W/sync.log; tail -15 $W/daemon.log; tail -5 $W/etcd.log; }
  check "  ... installed from the fleet (its key in tickets --json)" sh -c "execgate --json tickets | grep -q '\"fleet_key\":\"/execgate/tickets/$id1\"'"
  execgate revoke --key $W/ops.key -o $W/fleet1.rev "$id1" >/dev/null
  t0=$(now_ms)
  fleet_publish $W/fleet1.rev
  check "fleet: its revocation published to etcd denies it" long_poll fleet_denied /opt/fleet1/true
  echo "  fleet: publish to denial $(($(now_ms) - t0)) ms (etcd, execgate-sync, execgated, the kernel, and the polling exec; TCG)"
  check "  ... audited ticket_revoked" audit_has '"event":"ticket_revoked"' "$id1"
  check "  ... revoked everywhere: fleet status --wait-revision $REV (the host's signed ack, its approved key)" fleet_acked "$REV"
  check "fleet: the host published a signed audit checkpoint to etcd" long_poll fleet_checkpoint
  check "  ... audit verify --fleet: the log holds it" fleet_verify_holds || echo "$out" | tail -5
  check "  ... a copy of the log cut back before it: log truncated" fleet_verify_cut || echo "$out" | tail -5
  issue_ops fleet2 /opt/fleet2/true --ttl 1h
  id2=$(execgate --json inspect $W/fleet2.ticket | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
  fleet_publish $W/fleet2.ticket
  check "fleet: a second published ticket runs" long_poll fleet_runs /opt/fleet2/true
  kill $EPID; wait $EPID 2>/dev/null
  check "fleet: etcd stopped past max_silence: the fleet's ticket is denied" long_poll fleet_denied /opt/fleet2/true
  check "  ... audited deny fleet_silent" audit_has '"verdict":"deny"' '"reason":"fleet_silent"' "$id2"
  check "  ... the edge audited (fleet silent)" audit_has '"event":"fleet"' '"reason":"silent"'
  check "  ... a local ticket still runs" gated /opt/app/true
  check "fleet: etcd back" fleet_etcd
  check "fleet: the fleet's ticket runs again" long_poll fleet_runs /opt/fleet2/true
  check "  ... the edge audited (fleet resumed)" audit_has '"event":"fleet"' '"reason":"resumed"'
  kill $SPID $EPID; wait $SPID $EPID 2>/dev/null
  restart_daemon $W/enforce.toml
  check "fleet: the policy without [fleet]: its tickets are gone" fleet_denied /opt/fleet2/true
}

# Delegation (docs/tickets.md "Delegation") in the real kernel: ops delegates to a CI key
# for tickets of at most 10 minutes and one subject; the CI key's ticket runs, its exec
# record names the origin (issuer, delegation, ticket); one beyond the delegation is refused
# at submit; revoking the delegation denies its ticket in the kernel at once.
case_delegation() {
  mkdir -p /opt/deleg && cp /bin/busybox /opt/deleg/true && chmod 755 /opt/deleg/true
  execgate keygen -o $W/ci >/dev/null
  execgate delegate --key $W/ops.key --to $W/ci.pub --ttl 1h --max-ttl 10m --host "$(cat /etc/machine-id)" \
    --max-subjects 1 -o $W/ci.delegation >/dev/null
  did=$(execgate inspect $W/ci.delegation | sed -n 's/^delegation \([0-9a-f]\{32\}\)$/\1/p' | head -1)
  execgate issue --key $W/ci.key --delegation $W/ci.delegation --binary /opt/deleg/true --this-host --ttl 5m \
    -o $W/deleg.ticket >/dev/null
  tid=$(execgate inspect $W/deleg.ticket | sed -n 's/^ticket \([0-9a-f]\{32\}\)$/\1/p')
  check "delegation: the CI key's ticket is installed" sh -c "execgate submit $W/deleg.ticket >/dev/null"
  check "  ... and runs" gated /opt/deleg/true
  check "  ... its exec record names the origin: issuer, delegation $did, ticket" \
    audit_has '"verdict":"allow"' "\"delegation\":\"$did\"" "\"ticket\":\"$tid\""
  execgate issue --key $W/ci.key --delegation $W/ci.delegation --binary /opt/deleg/true --this-host --ttl 1h \
    -o $W/deleg-long.ticket >/dev/null
  out=$(execgate submit $W/deleg-long.ticket 2>&1)
  check "delegation: a ticket beyond it (1h > max_ttl 10m) is refused at submit" contains "$out" "delegation_exceeded"
  execgate revoke --key $W/ops.key -o $W/deleg.rev "$did" >/dev/null
  execgate submit $W/deleg.rev >/dev/null
  out=$(gated $PROBE exec /opt/deleg/true 2>&1)
  check "delegation revoked: its ticket is denied in the kernel (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited ticket_revoked delegation_revoked" audit_has '"event":"ticket_revoked"' '"reason":"delegation_revoked"' "$tid"
  out=$(execgate submit $W/deleg.ticket 2>&1)
  check "  ... and refused if submitted again" contains "$out" "delegation_revoked"
  check "control: the issuer's own ticket for the same file still runs" ticket deleg_own /opt/deleg/true --ttl 5m
  check "  ... and runs" gated /opt/deleg/true
}

# Jobs (docs/gate.md "Jobs"): a job-bound ticket runs only inside its job; the control
# socket from inside a job neither starts, joins nor ends another job, nor moves anything
# out of the scope; ending a job takes its tickets away.
case_jobs() {
  mkdir -p /opt/jobs && cp /bin/busybox /opt/jobs/true && chmod 755 /opt/jobs/true
  check "job start a: its cgroup below the scope" sh -c "execgate job start a | grep -qx /sys/fs/cgroup/gated/job.a"
  check "  ... audited job_started" audit_has '"event":"job_started"' '"job":"a"'
  execgate job start b >/dev/null
  issue_ops job_a /opt/jobs/true --ttl 10m --job a
  tid=$(execgate inspect $W/job_a.ticket | sed -n 's/^ticket \([0-9a-f]\{32\}\)$/\1/p')
  check "a ticket bound to job a is installed" sh -c "execgate submit $W/job_a.ticket >/dev/null"
  check "  ... and runs inside job a" execgate run --job a -- /opt/jobs/true
  check "  ... its exec record names the job" audit_has '"verdict":"allow"' "\"ticket\":\"$tid\"" '"job":"a"'
  out=$(execgate run --job b -- $PROBE exec /opt/jobs/true 2>&1)
  check "  ... denied in job b (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited wrong_job" audit_has '"verdict":"deny"' '"reason":"wrong_job"' '/opt/jobs/true'
  out=$(gated $PROBE exec /opt/jobs/true 2>&1)
  check "  ... denied in the scope outside any job (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "control: outside the scope it runs (ungated)" /opt/jobs/true
  # the runner's model: a delegated key that may sign only job-bound tickets
  execgate keygen -o $W/runner >/dev/null
  execgate delegate --key $W/ops.key --to $W/runner.pub --ttl 1h --max-ttl 10m --host "$(cat /etc/machine-id)" \
    --require-job -o $W/runner.delegation >/dev/null
  execgate issue --key $W/runner.key --delegation $W/runner.delegation --binary /opt/jobs/true --this-host --ttl 5m \
    -o $W/runner-nojob.ticket >/dev/null
  out=$(execgate submit $W/runner-nojob.ticket 2>&1)
  check "a runner key's ticket naming no job is refused at submit (require_job)" contains "$out" "delegation_exceeded"
  execgate issue --key $W/runner.key --delegation $W/runner.delegation --binary /opt/jobs/true --this-host --ttl 5m \
    --job b -o $W/runner-b.ticket >/dev/null
  check "  ... its ticket for job b is installed" sh -c "execgate submit $W/runner-b.ticket >/dev/null"
  check "  ... and runs in job b" execgate run --job b -- /opt/jobs/true
  out=$(execgate run --job a -- $PROBE exec /opt/jobs/true 2>&1)
  check "  control: job a still runs its own ticket" [ -z "$out" ]
  issue_ops job_z /opt/jobs/true --ttl 10m --job zz
  out=$(execgate submit $W/job_z.ticket 2>&1)
  check "a ticket naming a job that is not running is refused wrong_job" contains "$out" "wrong_job"

  # from inside job a, over the control socket
  out=$(execgate run --job a -- execgate job end b 2>&1); rc=$?
  check "inside job a: job end b is refused (exit 3)" [ "$rc" = 3 ]
  check "  ... job b still runs" sh -c "execgate job list | grep -q '^b '"
  out=$(execgate run --job a -- execgate job start c 2>&1); rc=$?
  check "inside job a: job start c is refused (exit 3)" [ "$rc" = 3 ]
  check "  ... no cgroup made" [ ! -d /sys/fs/cgroup/gated/job.c ]
  out=$(execgate run --job a -- execgate run --job b -- /opt/jobs/true 2>&1); rc=$?
  check "inside job a: run --job b (a move into job b) is refused (exit 3)" [ "$rc" = 3 ]
  sleep 30 & outside=$!
  out=$(execgate run --job a -- execgate job start c --pid $outside 2>&1); rc=$?
  check "inside job a: moving a process from outside the scope is refused" [ "$rc" = 3 ]
  kill $outside 2>/dev/null
  execgate run -- sleep 30 & sleep 1
  ingated=$(cat /sys/fs/cgroup/gated/run-*/cgroup.procs | head -1)
  out=$(execgate job start c --pid "$ingated" 2>&1); rc=$?
  check "outside: moving a process that lies in the scope already into a job is refused" [ "$rc" = 3 ]
  check "  ... and the job it was to start does not stay" [ ! -d /sys/fs/cgroup/gated/job.c ]
  kill "$ingated" 2>/dev/null
  # its own job, from inside: authorizations go, the caller lives on
  out=$(execgate run --job a -- sh -c "execgate job end a >/dev/null; echo ended; $PROBE exec /opt/jobs/true" 2>&1)
  check "inside job a: job end a ends its own job" contains "$out" "ended"
  check "  ... and the job's ticket is denied at once (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited ticket_revoked job_ended" audit_has '"event":"ticket_revoked"' '"reason":"job_ended"' "$tid"
  check "  ... and job_ended, its processes not killed" audit_has '"event":"job_ended"' '"job":"a"' '"killed":false'
  check "  ... its cgroup is removed once empty" poll test ! -d /sys/fs/cgroup/gated/job.a
  execgate run --job b -- sleep 60 & sleep 1
  check "job end b from outside" sh -c "execgate job end b | grep -q 'processes killed'"
  check "  ... its processes are killed and its cgroup removed" poll test ! -d /sys/fs/cgroup/gated/job.b
}

# Build outputs allowed by lineage, with a real toolchain (tcc, a compiler and linker in one
# binary) as the builder of a job: what it links inside the job runs there, and nothing else
# does (docs/gate.md "Jobs").
case_job_builds() {
  [ -x /usr/bin/tcc ] || { fail "job builds" "no tcc in the VM (tests/e2e/run-vm-suites.sh adds it)"; return; }
  mkdir -p /opt/toolchain /work/jb && cp /usr/bin/tcc /opt/toolchain/tcc && cp $PROBE /opt/toolchain/mkexe
  chmod 755 /opt/toolchain/*
  printf '#include <stdio.h>\nint main(void) { puts("built in the job"); return 0; }\n' >/work/jb/hello.c
  execgate job start build >/dev/null
  execgate job start other >/dev/null
  issue_ops builder /opt/toolchain/tcc --binary /opt/toolchain/mkexe --ttl 10m --job build --builder
  bid=$(execgate inspect $W/builder.ticket | sed -n 's/^ticket \([0-9a-f]\{32\}\)$/\1/p')
  check "the job's builder ticket (tcc) is installed" sh -c "execgate submit $W/builder.ticket >/dev/null"
  check "tcc compiles and links inside the job" execgate run --job build -- /opt/toolchain/tcc -o /work/jb/hello /work/jb/hello.c
  out=$(execgate run --job build -- /work/jb/hello 2>&1)
  check "  ... the output runs inside the job" contains "$out" "built in the job"
  check "  ... audited job_output, naming the builder ticket, the writer and the job" \
    audit_has '"verdict":"allow"' '"reason":"job_output"' "\"builder_ticket\":\"$bid\"" '"writer_pid":' '"job":"build"'
  out=$(execgate run --job other -- $PROBE exec /work/jb/hello 2>&1)
  check "  ... denied from another job (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited wrong_job" audit_has '"verdict":"deny"' '"reason":"wrong_job"' '/work/jb/hello'
  execgate run --job build -- cp /work/jb/hello /work/jb/hello-cp
  out=$(execgate run --job build -- $PROBE exec /work/jb/hello-cp 2>&1)
  check "the same bytes written by cp in the job are denied (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' 'hello-cp'
  # rewritten after linking: by a step of the job, from outside the scope, through a shared mapping
  for how in step outside mapping; do
    execgate run --job build -- /opt/toolchain/tcc -o /work/jb/re-$how /work/jb/hello.c
    case $how in
      step) execgate run --job build -- sh -c "printf '\n' >>/work/jb/re-$how" ;;
      outside) printf '\n' >>/work/jb/re-$how ;;
      mapping) rm -f /work/jb/t /work/jb/d
        execgate run --job build -- $PROBE mmap-write /work/jb/re-$how /work/jb/t /work/jb/d >/dev/null &
        writer=$!
        sleep 1; touch /work/jb/t; poll test -e /work/jb/d; wait $writer ;;
    esac
    out=$(execgate run --job build -- $PROBE exec /work/jb/re-$how 2>&1)
    check "an output rewritten after linking ($how) is denied (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
    check "  ... audited no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' "re-$how"
  done
  # the builder writes, then a child it runs writes through the fd it inherited
  execgate run --job build -- /opt/toolchain/mkexe write-file /work/jb/hello /work/jb/fd-out /bin/sh -c 'printf x >&3' >/dev/null
  out=$(execgate run --job build -- $PROBE exec /work/jb/fd-out 2>&1)
  check "an output a child wrote through an inherited fd is denied (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' 'fd-out' 
  execgate run --job build -- /opt/toolchain/mkexe write-file /work/jb/hello /work/jb/fd-ctl >/dev/null
  check "  control: the builder's own write alone runs" execgate run --job build -- /work/jb/fd-ctl
  execgate run --job build -- /opt/toolchain/tcc -o /work/jb/late /work/jb/hello.c
  execgate revoke --key $W/ops.key -o $W/builder.rev "$bid" >/dev/null
  execgate submit $W/builder.rev >/dev/null
  out=$(execgate run --job build -- $PROBE exec /work/jb/late 2>&1)
  check "with the builder's ticket revoked, its output is denied (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited builder_gone" audit_has '"verdict":"deny"' '"reason":"builder_gone"' '/work/jb/late'
  issue_ops builder2 /opt/toolchain/tcc --ttl 10m --job build --builder
  execgate submit $W/builder2.ticket >/dev/null
  execgate run --job build -- /opt/toolchain/tcc -o /work/jb/final /work/jb/hello.c
  check "a new builder ticket: its output runs" execgate run --job build -- /work/jb/final
  execgate job end build >/dev/null
  execgate job start build >/dev/null
  out=$(execgate run --job build -- $PROBE exec /work/jb/final 2>&1)
  check "after the job ends, its output is denied in a new job of the same name (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' '/work/jb/final'
  out=$(execgate run --job build -- $PROBE exec /opt/toolchain/tcc 2>&1)
  check "  ... and so are its tickets (EPERM)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' '/opt/toolchain/tcc' 
  out=$(/work/jb/final 2>&1)
  check "control: an output does not run outside the scope either (scope_written)" [ "$out" != "built in the job" ]
  /opt/toolchain/tcc -o /work/jb/host /work/jb/hello.c
  check "control: tcc outside the scope builds what runs there" sh -c '/work/jb/host | grep -q "built in the job"'
  execgate job end build >/dev/null
  execgate job end other >/dev/null
}

# the audit log of the whole run verifies
case_audit_verifies() { log_verifies; }

run_cases
