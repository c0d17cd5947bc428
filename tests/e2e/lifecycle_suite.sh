#!/bin/sh
# Ticket lifecycle in the daemon (real kernel). Runs INSIDE the VM as root:
#   lifecycle_suite.sh PROBE
# Refusals at submit, revocation (and its latency), replay across restarts, expiry,
# reconciliation after the maps were edited behind the daemon's back, corrupted state,
# the spool, SIGHUP, and a hostile control-socket client. Each case: lib.sh, "cases"
# (EXECGATE_CASES picks some). Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
STATE=$W/state

always setup

policy() { # policy WITH_OPS2
  echo 'name = "lifecycle"'
  policy_head
  echo 'max_ttl = "1d"'
  if [ "$1" = 1 ]; then printf '[[issuer]]\nname = "ops2"\npubkey = "%s"\n' "$W/ops2.pub"; fi
  printf '[audit]\npath = "%s"\n' "$AUDIT"
}

# issue NAME PATH ARGS... (not submitted)
issue() { n=$1; f=$2; shift 2; execgate issue --binary "$f" -o $W/$n.ticket "$@" >/dev/null; }
tid() { execgate --json inspect $W/$1.ticket | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1; }
# refused NAME REASON: submit exits 3 and names the reason, and the refusal is audited
refused() {
  _rm=$(audit_mark)
  out=$(execgate submit $W/$1.ticket 2>&1); rc=$?
  [ "$rc" = 3 ] && contains "$out" "refused $2" && audit_since "$_rm" '"event":"ticket_refused"' "\"reason\":\"$2\""
}
denied() { out=$(gated $PROBE exec "$1" 2>&1); contains "$out" "EXEC_ERRNO=EPERM"; }
runs() { gated $PROBE exec "$1" >/dev/null 2>&1; }

# keys, files, the policy (with a second issuer, ops2) and the daemon, and a ticket the
# cases rely on: "rogrev", for /opt/ok/true
case_setup() {
  mkdir -p $W
  execgate keygen -o $W/ops >/dev/null
  execgate keygen -o $W/ops2 >/dev/null
  execgate keygen -o $W/rogue >/dev/null
  for d in ok bad rv mu m1 m2 rk1 rk2 ex dr fg sp hup "fi"; do mkdir -p /opt/$d; cp /bin/busybox /opt/$d/true; chmod 755 /opt/$d/true; done
  policy 1 >$W/p.toml
  start_daemon $W/p.toml || abort "cannot start the daemon"
  issue rogrev /opt/ok/true --key $W/ops.key --ttl 1h --this-host
  execgate submit $W/rogrev.ticket >/dev/null
}

case_submit_refusals() {
  issue rogue /opt/bad/true --key $W/rogue.key --ttl 1h --this-host
  check "untrusted issuer refused" refused rogue untrusted_issuer
  issue wh /opt/bad/true --key $W/ops.key --ttl 1h --host 0123456789abcdef0123456789abcdef
  check "wrong host refused" refused wh wrong_host
  issue any /opt/bad/true --key $W/ops.key --ttl 1h --host '*'
  check "hosts=\"*\" refused without allow_any_host" refused any wrong_host
  issue long /opt/bad/true --key $W/ops.key --ttl 2d --this-host
  check "ttl above the issuer's max_ttl refused" refused long ttl_too_long
  issue sig /opt/bad/true --key $W/ops.key --ttl 1h --this-host
  # change the signature's first base64 digit (still canonical base64, wrong signature)
  sed 's/"sig":"A/"sig":"B/; t; s/"sig":"./"sig":"A/' $W/sig.ticket >$W/sig2.ticket && mv $W/sig2.ticket $W/sig.ticket
  check "bad signature refused" refused sig bad_signature
  issue dm /opt/bad/true --key $W/ops.key --ttl 1h --this-host
  echo >>/opt/bad/true
  check "digest mismatch refused" refused dm digest_mismatch
  issue mf /opt/fi/true --key $W/ops.key --ttl 1h --this-host
  mv /opt/fi/true /opt/fi/gone
  check "missing file refused" refused mf missing_file
  mv /opt/fi/gone /opt/fi/true
  check "refused tickets are not installed" denied /opt/bad/true
}

# revocation: immediate, tombstoned
case_revocation() {
  issue rv /opt/rv/true --key $W/ops.key --ttl 1h --this-host
  execgate submit $W/rv.ticket >/dev/null
  check "ticket runs before revocation" runs /opt/rv/true
  execgate revoke --key $W/ops.key "$(tid rv)" --reason e2e -o $W/rv.revocation >/dev/null
  t0=$($PROBE clock)
  sub=$($PROBE submit-file $SOCK $W/rv.revocation)
  out=$(in_scope $PROBE exec /opt/rv/true 2>&1)
  t1=$($PROBE clock)
  rt=$(echo "$sub" | sed -n 's/ROUNDTRIP_NS //p')
  echo "  revocation latency under TCG: submit round trip (maps updated) $((rt / 1000000)) ms;" \
    "submit + first denied exec $(( (t1 - t0) / 1000000 )) ms (target < 100 ms)"
  check "revocation accepted" contains "$sub" '"result":"revoked"'
  check "first exec after the revocation returns is denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited ticket_revoked" audit_has '"event":"ticket_revoked"' "$(tid rv)"
  check "revoked ticket resubmitted is refused" refused rv revoked
}

case_revocation_untrusted() {
  execgate revoke --key $W/rogue.key "$(tid rogrev)" -o $W/rogrev.revocation >/dev/null
  out=$(execgate submit $W/rogrev.revocation 2>&1)
  check "revocation from an untrusted key is refused" contains "$out" "refused untrusted_issuer"
  check "  ... the ticket still runs" runs /opt/ok/true
}

# replay: a spent max_uses ticket stays spent
case_replay() {
  issue mu /opt/mu/true --key $W/ops.key --ttl 1h --this-host --max-uses 1
  execgate submit $W/mu.ticket >/dev/null
  check "max_uses=1 ticket runs once" runs /opt/mu/true
  check "  ... then is exhausted" denied /opt/mu/true
  check "spent ticket resubmitted is refused replay" refused mu replay
  check "tickets no longer lists the spent ticket" sh -c "! execgate tickets | grep -q $(tid mu)"
}

# the exec that takes the last use spends the ticket at once
case_last_use() {
  issue m1 /opt/m1/true --key $W/ops.key --ttl 1h --this-host --max-uses 1
  execgate submit $W/m1.ticket >/dev/null
  in_scope $PROBE exec /opt/m1/true >/dev/null 2>&1; rc1=$?
  out=$(execgate submit $W/m1.ticket 2>&1); rc=$?
  check "max_uses=1: the one exec runs" [ "$rc1" = 0 ]
  check "resubmitted right after its last use (no denied exec between): refused replay, exit 3" sh -c "[ $rc = 3 ] && echo '$out' | grep -q 'refused replay'"
  check "  ... the last use audited (ticket_expired exhausted)" audit_has '"event":"ticket_expired"' '"reason":"exhausted"' "$(tid m1)"
  check "  ... tickets no longer lists it" sh -c "! execgate tickets | grep -q $(tid m1)"
  restart_daemon $W/p.toml
  check "  ... after a restart: still refused replay" refused m1 replay
}

# the daemon stopped (SIGSTOP) before it can read the event of the last use, then killed
case_last_use_unread() {
  issue m2 /opt/m2/true --key $W/ops.key --ttl 1h --this-host --max-uses 1
  execgate submit $W/m2.ticket >/dev/null
  kill -STOP $DPID
  check "daemon frozen: the one exec runs (the kernel counts the use)" in_scope $PROBE exec /opt/m2/true
  kill -KILL $DPID
  wait $DPID 2>/dev/null
  start_daemon $W/p.toml || abort "cannot restart the daemon"
  check "killed before it read the last use, restarted: refused replay" refused m2 replay
  check "  ... and not runnable" denied /opt/m2/true
}

# two tickets for one file: the kernel holds the one valid longest, at install, at start
# and when one goes (docs/daemon.md)
# ticket_of PATH: the ticket that the last allowed exec of PATH was decided by
ticket_of() {
  runs "$1" || return 1
  sleep 0.3
  audit_lines | grep -F '"event":"exec"' | grep -F "\"path\":\"$1\"" | grep -F '"verdict":"allow"' | tail -1 |
    sed -n 's/.*"ticket":"\([0-9a-f]*\)".*/\1/p'
}
case_ticket_rank() {
  issue rk1long /opt/rk1/true --key $W/ops.key --ttl 2h --this-host
  issue rk1short /opt/rk1/true --key $W/ops.key --ttl 1h --this-host
  execgate submit $W/rk1long.ticket >/dev/null
  execgate submit $W/rk1short.ticket >/dev/null
  check "longer ticket installed first, shorter second: the longer decides" [ "$(ticket_of /opt/rk1/true)" = "$(tid rk1long)" ]
  issue rk2short /opt/rk2/true --key $W/ops.key --ttl 1h --this-host
  issue rk2long /opt/rk2/true --key $W/ops.key --ttl 2h --this-host
  execgate submit $W/rk2short.ticket >/dev/null
  execgate submit $W/rk2long.ticket >/dev/null
  check "shorter installed first, longer second: the longer decides" [ "$(ticket_of /opt/rk2/true)" = "$(tid rk2long)" ]
  restart_daemon $W/p.toml
  check "after a restart: still the longer" [ "$(ticket_of /opt/rk1/true)" = "$(tid rk1long)" ]
  execgate revoke --key $W/ops.key "$(tid rk1long)" -o $W/rk1long.revocation >/dev/null
  execgate submit $W/rk1long.revocation >/dev/null
  check "the longer revoked: the shorter stays in force" [ "$(ticket_of /opt/rk1/true)" = "$(tid rk1short)" ]
  execgate revoke --key $W/ops.key "$(tid rk2short)" -o $W/rk2short.revocation >/dev/null
  execgate submit $W/rk2short.revocation >/dev/null
  check "the shorter revoked: the longer stays in force" [ "$(ticket_of /opt/rk2/true)" = "$(tid rk2long)" ]
}

# expiry: the daemon removes expired entries
case_expiry() {
  issue ex /opt/ex/true --key $W/ops.key --ttl 2s --this-host
  execgate submit $W/ex.ticket >/dev/null
  sleep 3.5
  check "expired ticket removed from the list" sh -c "! execgate tickets | grep -q $(tid ex)"
  check "  ... and audited ticket_expired" audit_has '"event":"ticket_expired"' "$(tid ex)"
}

# restart: tombstones, spent set and installed tickets persist
needs restart_persists revocation replay
case_restart_persists() {
  restart_daemon $W/p.toml
  check "after restart: revoked stays revoked" refused rv revoked
  check "after restart: spent stays spent (replay)" refused mu replay
  check "after restart: installed ticket still runs" runs /opt/ok/true
}

# reconciliation: kernel map edited behind the daemon's back
case_reconcile() {
  issue dr /opt/dr/true --key $W/ops.key --ttl 1h --this-host
  execgate submit $W/dr.ticket >/dev/null
  check "ticket dr runs" runs /opt/dr/true
  out=$($PROBE drop-entry /sys/fs/bpf/execgate /opt/dr/true)
  check "drop the kernel entry with bpf() from outside the scope" contains "$out" MAP_OK
  check "entry dropped behind the daemon: exec denied" denied /opt/dr/true
  out=$($PROBE forge-entry /sys/fs/bpf/execgate /opt/fg/true)
  check "forged entry (bpf from outside the scope) is written" contains "$out" MAP_OK
  # the forger does not know the inode's i_generation (random on tmpfs), which the kernel
  # recorded at the daemon's sealing open of real tickets: the forgery does not run
  check "  ... and does not run without the inode's generation" denied /opt/fg/true
  restart_daemon $W/p.toml
  check "restart re-adds the dropped entry" runs /opt/dr/true
  check "restart removes the forged entry" denied /opt/fg/true
  check "  ... and audits it as unbacked" audit_has '"reason":"unbacked"'
}

# corrupted state stops the daemon, naming the file (setup's ticket has a record)
case_corrupted_state() {
  stop_daemon
  f=$(ls $STATE/installed/*.json | head -1)
  cp "$f" $W/saved.json
  echo '{broken' >"$f"
  out=$(execgated --config $W/p.toml --state-dir $STATE 2>&1); rc=$?
  check "corrupted state file: daemon refuses to start" [ "$rc" != 0 ]
  check "  ... and names the file" contains "$out" "$f"
  cp $W/saved.json "$f"
  check "  ... the gate kept enforcing meanwhile" sh -c "in_scope() { sh -c 'echo \$\$ > /sys/fs/cgroup/gated/cgroup.procs && exec \"\$@\"' sh \"\$@\"; }; in_scope $PROBE exec /opt/fg/true | grep -q EXEC_ERRNO=EPERM"
  start_daemon $W/p.toml || abort "cannot restart the daemon"
}

# A first start that fails after it pinned the gate (here at the state: a corrupted record)
# leaves the policy's scope denied, not open: the pins outlive execgated, and the policy's
# scopes are in the config from the install on, with nothing installed or pinned as
# baseline yet (execgated.cpp, PolicyApplier::close_scopes)
case_fresh_start_fails_closed() {
  stop_daemon
  execgated --uninstall >/dev/null 2>&1
  check "uninstalled: nothing is pinned" [ ! -e /sys/fs/bpf/execgate/eg_tickets ]
  f=$(ls $STATE/installed/*.json | head -1)
  cp "$f" $W/saved.json
  echo '{broken' >"$f"
  out=$(execgated --config $W/p.toml --state-dir $STATE 2>&1); rc=$?
  check "a first start with a corrupted state file fails" [ "$rc" != 0 ]
  check "  ... having pinned the gate" [ -e /sys/fs/bpf/execgate/eg_tickets ]
  in_scope /opt/ok/true >/dev/null 2>&1; rc=$?
  check "  ... which denies in the scope (even the ticketed file: nothing is installed)" [ "$rc" != 0 ]
  /opt/ok/true; rc=$?
  check "  ... and nothing outside it" [ "$rc" = 0 ]
  cp $W/saved.json "$f"
  start_daemon $W/p.toml || abort "cannot restart the daemon"
  check "restarted over those pins: the ticketed file runs" runs /opt/ok/true
  check "  ... and the denial made while no daemon ran is audited" audit_has '"verdict":"deny"' 'ok/true'
}

case_spool() {
  issue sp /opt/sp/true --key $W/ops.key --ttl 1h --this-host
  cp $W/sp.ticket $STATE/inbox/.sp.tmp && mv $STATE/inbox/.sp.tmp $STATE/inbox/sp.json
  i=0; while [ ! -f $STATE/inbox/done/sp.json ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  check "spool: a delivered ticket ends in done/" [ -f $STATE/inbox/done/sp.json ]
  check "spool: and is installed" runs /opt/sp/true
  echo 'not a ticket' >$STATE/inbox/junk.json
  i=0; while [ ! -f $STATE/inbox/rejected/junk.json.reason ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  check "spool: junk ends in rejected/ with a .reason" grep -q malformed $STATE/inbox/rejected/junk.json.reason
}

# SIGHUP: an issuer removed from the policy takes its tickets with it
case_sighup_issuer() {
  issue hup /opt/hup/true --key $W/ops2.key --ttl 1h --this-host
  execgate submit $W/hup.ticket >/dev/null
  check "ticket from issuer ops2 runs" runs /opt/hup/true
  policy 0 >$W/p.toml
  kill -HUP $DPID
  i=0; while execgate tickets | grep -q "$(tid hup)" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  check "SIGHUP without ops2: its ticket is uninstalled" denied /opt/hup/true
  check "  ... audited" audit_has '"event":"ticket_revoked"' '"reason":"untrusted_issuer"' "$(tid hup)"
  check "  ... other tickets stay" runs /opt/ok/true
  check "  ... the reload is audited as policy_reload (not daemon_start)" audit_has '"event":"policy_reload"' '"reason":"sighup"'
}

# SIGHUP never opens a window: the loader check and the state directory's protection
# hold while the daemon reloads its policy over and over
case_sighup_window() {
  reloads0=$(grep -c 'policy reloaded' $W/daemon.log)
  touch $W/hupping
  (while [ -f $W/hupping ]; do kill -HUP $DPID; sleep 0.05; done) &
  HUPS=$!
  ldso=$(in_scope $PROBE exec-storm 3000 /lib64/ld-linux-x86-64.so.2 --version 2>&1)
  plant=$(in_scope $PROBE create-loop 30000 $STATE/installed/planted.json 2>&1)
  rm -f $W/hupping
  wait $HUPS
  reloads=$(( $(grep -c 'policy reloaded' $W/daemon.log) - reloads0 ))
  echo "  during $reloads reloads: ld.so $ldso; state directory: $plant"
  check "the daemon reloaded several times meanwhile (the case means something)" [ "$reloads" -ge 3 ]
  check "ld.so run as a program: no exec got through during the reloads" contains "$ldso" "ok=0 denied=3000"
  check "no file created in the state directory during the reloads" contains "$plant" "created=0 refused=30000"
  check "  ... the daemon still answers" execgate status
}

case_fileinfo() {
  out=$(execgate fileinfo /opt/ok/true)
  check "fileinfo names the covering ticket" contains "$out" "$(tid rogrev)"
}

# hostile control-socket clients
case_hostile_clients() {
  rss() { sed -n 's/VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$DPID/status; }
  rss0=$(rss)
  out=$($PROBE sock-send $SOCK '{"op": ')
  check "malformed JSON gets an error reply" contains "$out" '"ok":false'
  out=$($PROBE sock-send $SOCK '[1,2,3]')
  check "non-object request gets an error reply" contains "$out" '"ok":false'
  out=$($PROBE sock-big $SOCK 10485760)
  check "10 MiB request refused" contains "$out" "larger than"
  $PROBE sock-idle $SOCK 200 4 >$W/idle.out &
  IDLE=$!
  sleep 1
  t0=$($PROBE clock); execgate status >/dev/null; rc=$?; t1=$($PROBE clock)
  echo "  status with 200 idle clients connected: $(( (t1 - t0) / 1000000 )) ms"
  check "200 idle clients: the next good client is answered" [ "$rc" = 0 ]
  wait $IDLE
  pids=
  i=0; while [ $i -lt 20 ]; do $PROBE sock-send $SOCK '{"op":"status"}' >/dev/null & pids="$pids $!"; i=$((i+1)); done
  wait $pids
  out=$($PROBE setuid-exec 1000 "$(command -v execgate)" status 2>&1); rc=$?
  check "non-root client refused" sh -c "[ $rc != 0 ] && echo '$out' | grep -qi 'permission denied'"
  rss1=$(rss)
  echo "  daemon VmRSS before/after hostile clients: ${rss0} kB / ${rss1} kB"
  check "daemon memory stays flat (< 16 MiB growth)" [ $((rss1 - rss0)) -lt 16384 ]
  check "daemon still answers" execgate status
}

# ---- the audit log's file system full (docs/audit.md "When the disk is full") ----
# A 8 MiB tmpfs holds the log (and its reserve); a file written beside it from outside the
# scope fills it (a file system shared with something the scope can fill). Its own state
# directory, a signed log, the suite's daemon stopped meanwhile and started again after.
DF=/mnt/egdf
df_policy() { # df_policy REQUIRED
  echo 'name = "diskfull"'
  policy_head
  echo 'max_ttl = "1d"'
  printf '[audit]\npath = "%s"\nsigning_key = "%s"\nrequired = %s\n' "$DF/audit/audit.jsonl" "$W/dfaudit.key" "$1"
}
# df_begin REQUIRED: the tmpfs, the policy, the daemon, /opt/df/true ticketed (DF_INO)
df_begin() {
  stop_daemon
  mkdir -p $DF /opt/df
  mount -t tmpfs -o size=8m egdf $DF || { fail "tmpfs" "cannot mount"; return 1; }
  [ -f $W/dfaudit.key ] || execgate keygen -o $W/dfaudit >/dev/null
  cp /bin/busybox /opt/df/true; chmod 755 /opt/df/true
  DF_INO=$(stat -c %i /opt/df/true)
  AUDIT=$DF/audit/audit.jsonl
  CASE_MARK=0
  df_policy "$1" >$W/df.toml
  rm -rf $W/state-df
  STATE_DIR=$W/state-df start_daemon $W/df.toml || { fail "daemon" "cannot start with the diskfull policy"; return 1; }
  issue df /opt/df/true --key $W/ops.key --ttl 1h --this-host
  execgate submit $W/df.ticket >/dev/null
}
# df_end: the log verifies; the suite's own log and daemon back
df_end() {
  stop_daemon
  out=$(execgate audit verify $AUDIT --pub $W/dfaudit.pub 2>&1); rc=$?
  check "  ... execgate audit verify passes on the log" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || echo "$out" | head -5
  umount $DF
  AUDIT=$W/audit/audit.jsonl
  CASE_MARK=$(audit_mark)
  start_daemon $W/p.toml || abort "cannot restart the suite's daemon"
}
df_fill() { dd if=/dev/zero of=$DF/fill$1 bs=64k 2>/dev/null; sync; }
df_execs() { audit_count '"event":"exec"' '"hook":"exec"' "\"ino\":$DF_INO,"; }
# (execgate run execs it in a new cgroup of the scope: while the log is stalled with
# `required` every exec in the scope is denied, a probe started first would be as well)
df_run() { # df_run: one exec of /opt/df/true in the scope (its output in DF_OUT); counts it
  DF_TRIED=$((DF_TRIED + 1))
  gated /opt/df/true >$W/df.out 2>&1; _dr=$?
  DF_OUT=$(cat $W/df.out)
  return $_dr
}
# df_until_stalled: ticketed execs until the daemon says stalled (at most 20)
df_until_stalled() {
  _du=0
  while [ $_du -lt 20 ] && ! status_is stalled=true; do df_run; sleep 0.3; _du=$((_du + 1)); done
}

case_audit_disk_full() {
  DF_TRIED=0
  df_begin true || return
  check "disk not full: status not stalled" status_is stalled=false
  df_run
  check "disk not full: the ticketed file runs" [ $? = 0 ]
  df_fill 1
  # the first record that does not fit (the log's last page may take a few): the writer
  # gives up its reserve, writes what it holds and the record of the full disk, and stalls
  df_until_stalled
  check "the log's file system full: status says stalled" poll status_is stalled=true
  check "  ... the full disk is on the log (gap disk_full)" audit_has '"event":"gap"' '"reason":"disk_full"'
  df_fill 2 # the reserve's space taken too: records are held in memory
  df_run
  check "  ... a ticketed exec in the scope is denied EPERM" contains "$DF_OUT" "Operation not permitted"
  df_run
  check "  ... and again" contains "$DF_OUT" "Operation not permitted"
  echo "  status while full: disk_full=$(status_field disk_full) held_records=$(status_field held_records)"
  rm -f $DF/fill1 $DF/fill2
  check "space back: not stalled within 5 s, without a restart" poll status_is stalled=false
  df_run
  check "  ... a ticketed exec runs again" [ $? = 0 ]
  check "  ... the denied execs are on the log as audit_unavailable" audit_has '"event":"exec"' "\"ino\":$DF_INO," '"reason":"audit_unavailable"'
  sleep 1
  n=$(df_execs)
  echo "  $DF_TRIED execs attempted, $n exec records of /opt/df/true"
  check "  ... every exec attempted is on the log" [ "$n" = "$DF_TRIED" ]
  df_end
}

case_audit_disk_full_optional() {
  DF_TRIED=0
  df_begin false || return
  df_fill 1
  df_until_stalled
  check "not required, disk full: status says stalled" poll status_is stalled=true
  df_fill 2
  ok=0
  for i in 1 2 3 4 5; do df_run && ok=$((ok + 1)); done
  check "  ... execs in the scope still run" [ "$ok" = 5 ]
  rm -f $DF/fill1 $DF/fill2
  check "space back: not stalled within 5 s" poll status_is stalled=false
  sleep 1
  n=$(df_execs)
  lost=$(audit_lines | grep -F '"event":"gap"' | grep -F '"reason":"disk_full"' | sed -n 's/.*"count":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
  echo "  $DF_TRIED execs attempted, $n exec records, gaps count $lost lost"
  check "  ... the log has every exec or an exact gap count" [ $((n + lost)) = "$DF_TRIED" ]
  df_end
}

run_cases
