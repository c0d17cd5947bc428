#!/bin/sh
# The gate against its own workload, root included. Runs INSIDE the VM (scripts/vm-run.sh)
# as root:  tamper_suite.sh PROBE
# The scope runs under the default privilege posture (docs/gate.md "Privilege posture").
# Each case (lib.sh, "cases"; EXECGATE_CASES picks some) is a bypass class: the attack is
# refused from the scope with EPERM and audited with its reason and hook (records after
# the case's own watermark), and where the operation is an ordinary one, a control shows
# it works outside the scope.
# Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
PIN=/sys/fs/bpf/execgate
LDSO=/lib64/ld-linux-x86-64.so.2
EGD=$(command -v execgated)

always setup final

# keys (a second issuer's outside the policy's directory), files, the policy and the
# daemon, and the files the cases share: /opt/tm/true ticketed (T_TRUE), /opt/tm/unticketed
case_setup() {
  mkdir -p $W /opt/tm /mnt/tm
  execgate keygen -o $W/ops >/dev/null
  execgate keygen -o $W/audit >/dev/null
  for n in true once parented plain unticketed; do cp /bin/busybox /opt/tm/$n; done
  for n in prog once-prog parent-prog; do cp $PROBE /opt/tm/$n; done # dynamic: ld.so can run them
  printf '#!/nonexistent/interpreter\n' >/opt/tm/broken.sh
  chmod 755 /opt/tm/*
  mkdir -p /etc/eg-keys && execgate keygen -o /etc/eg-keys/second >/dev/null
  {
    policy_head
    cat <<EOT
[[issuer]]
name = "second"
pubkey = "/etc/eg-keys/second.pub"
[audit]
path = "$AUDIT"
signing_key = "$W/audit.key"
EOT
  } >$W/enforce.toml
  check "policy check accepts the default posture" execgate policy check $W/enforce.toml
  start_daemon $W/enforce.toml || abort "cannot start the daemon"
  ticket true /opt/tm/true --ttl 1h
  T_TRUE=$TID
}

# --- unprivileged paths ---
# PTRACE_TRACEME: the parent would write the next (ticketed) image's code before it runs
case_ptrace_traceme() {
  control "PTRACE_TRACEME" TRACEME traceme
  refused "PTRACE_TRACEME (root)" TRACEME ptrace ptrace_traceme traceme
  refused "PTRACE_TRACEME (uid 1000)" TRACEME ptrace ptrace_traceme setuid-exec 1000 $PROBE traceme
}

# executable mappings: a ticket's per-exec conditions hold through the loader too
case_loader_ticketed() {
  ticket ld $LDSO --ttl 1h
  ticket prog /opt/tm/prog --ttl 1h
  out=$(gated $LDSO /opt/tm/prog clock 2>&1)
  check "control: ld.so runs a file whose ticket sets no per-exec condition" sh -c "echo '$out' | grep -qE '^[0-9]+$'"
}

needs loader_max_uses loader_ticketed # ld.so's ticket
case_loader_max_uses() {
  ticket once /opt/tm/once-prog --ttl 1h --max-uses 1
  T_ONCE=$TID
  m=$(audit_mark)
  out=$(gated $LDSO /opt/tm/once-prog clock 2>&1)
  check "bypass: ld.so maps a max_uses file (a use left) past its count" sh -c "! echo '$out' | grep -qE '^[0-9]+$'"
  check "  ... audited loader_bypass (mmap_exec) naming the file" audit_since "$m" '"reason":"loader_bypass"' '"hook":"mmap_exec"' "\"ticket\":\"$T_ONCE\"" 'once-prog'
  m=$(audit_mark)
  out=$(gated /opt/tm/once-prog clock 2>&1)
  check "the max_uses=1 file execs once (its own image maps)" sh -c "echo '$out' | grep -qE '^[0-9]+$'"
  check "  ... and that exec spent the ticket" audit_since "$m" '"event":"ticket_expired"' '"reason":"exhausted"' "\"ticket\":\"$T_ONCE\""
  m=$(audit_mark)
  out=$(gated $LDSO /opt/tm/once-prog clock 2>&1)
  check "bypass: ld.so runs a max_uses file after its last use" sh -c "! echo '$out' | grep -qE '^[0-9]+$'"
  check "  ... audited loader_bypass (mmap_exec): no ticket covers it any more" audit_since "$m" '"reason":"loader_bypass"' '"hook":"mmap_exec"' 'once-prog'
}

needs loader_lineage loader_ticketed # ld.so's ticket
case_loader_lineage() {
  ticket launcher /opt/tm/plain --ttl 1h
  T_LAUNCHER=$TID
  ticket parented /opt/tm/parent-prog --ttl 1h --parent "$T_LAUNCHER"
  T_PARENTED=$TID
  out=$(gated $LDSO /opt/tm/parent-prog clock 2>&1)
  check "bypass: ld.so runs a parent-bound file from the wrong parent" sh -c "! echo '$out' | grep -qE '^[0-9]+$'"
  check "  ... audited lineage (mmap_exec)" audit_has '"reason":"lineage"' '"hook":"mmap_exec"' "\"ticket\":\"$T_PARENTED\""
}

# a failed exec leaves no lineage behind: a ticketed script whose interpreter is missing
# passes the gate's check, then fails; the parent-bound file must not see its ticket
case_failed_exec_lineage() {
  ticket broken /opt/tm/broken.sh --ttl 1h
  T_BROKEN=$TID
  ticket child /opt/tm/parented --ttl 1h --parent "$T_BROKEN"
  T_CHILD=$TID
  out=$(gated $PROBE exec-then /opt/tm/broken.sh /opt/tm/parented true 2>&1)
  check "the first exec passed the gate, then failed (its interpreter is missing)" contains "$out" "FIRST_ERRNO=ENOENT"
  check "  ... the gate allowed it with its ticket" audit_has '"verdict":"allow"' "\"ticket\":\"$T_BROKEN\""
  check "bypass: the failed exec's ticket as the parent of the next" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited lineage" audit_has '"reason":"lineage"' "\"ticket\":\"$T_CHILD\""
}

# truncation by every path: open(O_RDONLY|O_TRUNC) is file_truncate since 6.2
case_truncate_open() {
  out=$($PROBE open-trunc /opt/tm/true 2>&1)
  check "bypass: open(O_RDONLY|O_TRUNC) empties a ticketed binary (any process)" contains "$out" "OPEN_ERRNO=EPERM"
  check "  ... audited write_protected (truncate)" audit_has '"reason":"write_protected"' '"hook":"truncate"' "\"ticket\":\"$T_TRUE\""
  check "  ... and it still runs" gated /opt/tm/true
}

# --- root in the scope ---
# the gate switched off: kill the daemon, unmount bpffs under the pins
case_signal_daemon() {
  sleep 1000 &
  VICTIM=$!
  out=$(gated sh -c "sleep 1000 & $PROBE kill \$! 9")
  check "control: the scope signals its own processes" contains "$out" "KILL_OK"
  refused "SIGKILL a process outside it" KILL scope_escape other_task kill $VICTIM 9
  refused "SIGKILL execgated" KILL scope_escape other_task kill $DPID 9
  check "  ... execgated still runs" kill -0 $DPID
  refused "SIGSTOP execgated" KILL scope_escape other_task kill $DPID 19
  refused "renice execgated" SETNICE scope_escape other_task setnice $DPID 19
  refused "take execgated's file descriptors (prlimit)" PRLIMIT scope_escape other_task prlimit-nofile $DPID 3
  kill $VICTIM
}

# (umount asks for CAP_SYS_ADMIN, which the posture refuses, before its LSM hook; mount
# calls its hook first; with every capability allowed the umount hook refuses: bypass_suite.sh)
case_mount_umount_bpffs() {
  refused "unmount bpffs under the pins" UMOUNT privilege capable umount /sys/fs/bpf
  check "  ... the pins are still there" [ -e $PIN/link_eg_bprm_check ]
}

case_mount_tmpfs() {
  control "mount a tmpfs" MOUNT mount-tmpfs /mnt/tm
  umount /mnt/tm
  refused "mount a tmpfs" MOUNT privilege mount mount-tmpfs /mnt/tm
}

case_mount_umount() {
  refused "unmount a filesystem (/tmp)" UMOUNT privilege capable umount /tmp
  check "  ... the record names CAP_SYS_ADMIN" audit_has '"hook":"capable"' '"capability":"CAP_SYS_ADMIN"'
}

# the policy swapped: rename its directory aside, mount over it, or SIGHUP a new one
case_policy_swap() {
  refused "rename the policy's directory aside" RENAME gate_tamper protected_name rename $W $W.aside
  refused "mount a tmpfs over the policy's directory" MOUNT privilege mount mount-tmpfs $W
  refused "SIGHUP execgated" KILL scope_escape other_task kill $DPID 1
}

# execgated reads a reload through the directory it opened at start: even root outside
# the scope renaming it aside and putting a monitor policy in its place changes nothing
case_policy_reload_dir() {
  n_log=$(wc -l <$W/daemon.log)
  mv $W $W.aside && mkdir $W && { echo 'mode = "monitor"'; cat $W.aside/enforce.toml; } >$W/enforce.toml
  kill -HUP $DPID
  poll sh -c "tail -n +$((n_log + 1)) $W.aside/daemon.log | grep -q 'policy reloaded\|reload refused'"
  mode_now=$(status_field mode)
  rm -rf $W && mv $W.aside $W
  check "reload reads the policy through the directory opened at start (still enforce)" [ "$mode_now" = "enforce" ]
  n_log=$(wc -l <$W/daemon.log)
  kill -HUP $DPID # the protected set again, with every directory back in place
  poll sh -c "tail -n +$((n_log + 1)) $W/daemon.log | grep -q 'policy reloaded'"
}

# the scope swapped: a decoy cgroup bind-mounted over the scope's path
case_scope_decoy() {
  mkdir -p /sys/fs/cgroup/decoy
  refused "bind-mount a decoy cgroup over the scope" MOUNT privilege mount bind-mount /sys/fs/cgroup/decoy /sys/fs/cgroup/gated
  # root outside doing it, then SIGHUP: execgated refuses a scope on another mount
  mount --bind /sys/fs/cgroup/decoy /sys/fs/cgroup/gated
  n_log=$(wc -l <$W/daemon.log)
  kill -HUP $DPID
  poll sh -c "tail -n +$((n_log + 1)) $W/daemon.log | grep -q 'reload refused.*another mount'"
  check "a scope path with a cgroup mounted over it is refused on reload" sh -c "tail -n +$((n_log + 1)) $W/daemon.log | grep -q 'reload refused.*another mount'"
  umount /sys/fs/cgroup/gated
  out=$(gated $PROBE exec /opt/tm/unticketed 2>&1)
  check "  ... and the real scope is still gated" contains "$out" "EXEC_ERRNO=EPERM"
}

# usermode helpers: the kernel runs them as root, outside the scope
case_helper_modprobe() {
  MODPROBE=$(cat /proc/sys/kernel/modprobe)
  check "the kernel's modprobe ($MODPROBE) exists" [ -e "$MODPROBE" ]
  refused "remove the kernel's modprobe" UNLINK gate_tamper protected_name unlink "$MODPROBE"
  refused "rename the kernel's modprobe" RENAME gate_tamper protected_name rename "$MODPROBE" "$MODPROBE.aside"
  TARGET=$(readlink -f "$MODPROBE")
  refused "write the program modprobe points to ($TARGET)" OPEN gate_tamper helper_write open-write "$TARGET"
  refused "rename the directory holding modprobe" RENAME gate_tamper protected_name rename "$(dirname "$MODPROBE")" "$(dirname "$MODPROBE").aside"
}

case_helper_autoload() {
  gated $PROBE socket 5 >/dev/null 2>&1 # AF_APPLETALK: not loaded, the kernel asks for net-pf-5
  check "bypass: module autoload (the kernel would run modprobe) from the scope" audit_has '"reason":"privilege"' '"hook":"module_request"' 'net-pf-5'
}

# execgated's own binary, its directories, its libraries
case_helper_daemon_files() {
  refused "replace execgated's binary (rename over it)" RENAME gate_tamper protected_name rename /opt/tm/true "$EGD"
  EGD_DIR=$(dirname "$(dirname "$EGD")") # e.g. /usr/local: an ancestor, not a mount point
  refused "rename an ancestor of execgated ($EGD_DIR)" RENAME gate_tamper protected_name rename "$EGD_DIR" "$EGD_DIR.aside"
  LIBC=$(ls /lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc.so.6 2>/dev/null | head -1)
  refused "truncate a library execgated maps ($LIBC)" TRUNCATE gate_tamper helper_write truncate "$LIBC"
  refused "chmod 0 execgated" CHMOD gate_tamper protected_name chmod "$EGD" 0
}

# bytes beneath the filesystem: loop devices
case_loop_device() {
  insmod "/lib/modules/$(uname -r)/extra/loop.ko" 2>/dev/null
  check "the loop driver is loaded" [ -e /dev/loop-control ]
  control "LOOP_CTL_GET_FREE" IOCTL ioctl /dev/loop-control 4c82
  refused "configure a loop device (LOOP_CTL_GET_FREE)" IOCTL gate_tamper block_config ioctl /dev/loop-control 4c82
  dd if=/dev/zero of=/var/tmp/img bs=1M count=8 2>/dev/null && mke2fs -F -q /var/tmp/img
  mkdir -p /mnt/img && mount -o loop /var/tmp/img /mnt/img
  check "a loop-backed filesystem is mounted (outside the scope)" grep -q ' /mnt/img ' /proc/mounts
  cp /bin/busybox /mnt/img/true && chmod 755 /mnt/img/true
  issue_ops loopt /mnt/img/true --ttl 1h
  out=$(execgate submit $W/loopt.ticket 2>&1); rc=$?
  check "a file on a loop-backed filesystem is refused at submit (exit 3)" [ "$rc" = 3 ]
  check "  ... unsupported_fs, naming the loop device" sh -c "echo '$out' | grep -q 'unsupported_fs' && echo '$out' | grep -q loop"
  umount /mnt/img
}

# a filesystem whose last mount ends takes its entries along: nothing mounted later on the
# same device number matches them
case_sb_delete() {
  mount -t tmpfs tmpfs /mnt/tm
  cp /bin/busybox /mnt/tm/true && chmod 755 /mnt/tm/true
  ticket tmpt /mnt/tm/true --ttl 1h
  key=$($PROBE entry-key /mnt/tm/true)
  out=$($PROBE has-entry $PIN $key 2>&1)
  check "the ticket's kernel entry exists while its filesystem is mounted" contains "$out" "ENTRY_OK"
  umount /mnt/tm
  out=$($PROBE has-entry $PIN $key 2>&1)
  check "  ... and is gone once the filesystem is unmounted (sb_delete)" contains "$out" "ENTRY_ERRNO=ENOENT"
}

# state rewound: a revoked ticket's record planted back, the state directory moved. This
# case revokes a ticket (T_RV) and keeps its record ($W/kept.json) and the state directory
# from before the revocation ($W/state.before) for the cases that need it.
case_state_revoked() {
  cp /bin/busybox /opt/tm/rv && chmod 755 /opt/tm/rv
  ticket rv /opt/tm/rv --ttl 1h
  T_RV=$TID
  REC=$W/state/installed/$T_RV.json
  check "the ticket's record is in installed/" [ -f "$REC" ]
  cp "$REC" $W/kept.json
  cp -a $W/state $W/state.before # a copy from before the revocation, for the rewind below
  execgate revoke --key $W/ops.key "$T_RV" -o $W/rv.revocation >/dev/null
  execgate submit $W/rv.revocation >/dev/null
  check "revoked: its record is gone" [ ! -e "$REC" ]
  refused "link(2) a revoked ticket's record into installed/" LINK gate_tamper state_write link $W/kept.json "$REC"
  refused "symlink into installed/" SYMLINK gate_tamper state_write symlink $W/kept.json "$REC"
  refused "mkdir in the state directory" MKDIR gate_tamper state_write mkdir $W/state/installed/x
  refused "rename the state directory aside" RENAME gate_tamper state_write rename $W/state $W/state.old
  refused "remove installed/" RMDIR gate_tamper state_write rmdir $W/state/installed
}

# root outside plants it back and restarts the daemon: refused at start-up, by name
needs state_planted state_revoked
case_state_planted() {
  cp $W/kept.json "$REC"
  restart_daemon $W/enforce.toml
  check "a planted revoked record is refused at start-up" audit_has '"event":"ticket_refused"' '"reason":"revoked"' "$T_RV" "$REC"
  check "  ... and removed" [ ! -e "$REC" ]
  out=$(gated $PROBE exec /opt/tm/rv 2>&1)
  check "  ... its file does not run" contains "$out" "EXEC_ERRNO=EPERM"
}

# root outside restores the whole state directory from a copy taken before the revocation
# (tombstone and all): the audit log records the revocation, the daemon refuses to start
# naming the missing tombstone, and the pinned gate keeps enforcing
needs state_rewound state_revoked
case_state_rewound() {
  stop_daemon
  mv $W/state $W/state.now && cp -a $W/state.before $W/state
  out=$(execgated --config $W/enforce.toml --state-dir $W/state 2>&1); rc=$?
  check "a state directory rewound past a revocation is refused at start-up" [ "$rc" != 0 ]
  check "  ... naming the missing tombstone" contains "$out" "tombstones/$T_RV.json is missing"
  out=$(in_scope $PROBE exec /opt/tm/unticketed 2>&1)
  check "  ... the gate kept enforcing meanwhile" contains "$out" "EXEC_ERRNO=EPERM"
  rm -rf $W/state && mv $W/state.now $W/state
  start_daemon $W/enforce.toml || abort "cannot restart the daemon"
}

# plant_record NAME FILE [SEAL]: root outside the scope writes installed/<id>.json by hand
# for a ticket of a trusted issuer that was never submitted (the log never saw it); sets
# PL_ID and PL_REC
plant_record() {
  cp /bin/busybox "$2" && chmod 755 "$2"
  issue_ops "$1" "$2" --ttl 1h
  PL_ID=$(execgate --json inspect "$W/$1.ticket" | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
  PL_REC=$W/state/installed/$PL_ID.json
  _pl_env=$(tr -d '\n' <"$W/$1.ticket" | sed 's/\\/\\\\/g; s/"/\\"/g')
  printf '{"envelope":"%s","installed_at":%s,"uses_left":null%s}\n' "$_pl_env" "$(date +%s)" \
    "${3:+,\"seal\":\"$3\"}" >"$PL_REC"
}

# root outside plants records the daemon never wrote (docs/daemon.md "The seal"): one
# unsealed, one with a seal copied from a real record, and a real record with one field
# changed; each refused at start-up by name (planted), removed, its file not run. The
# control: the same ticket submitted runs.
case_state_sealed() {
  check "installed records carry the seal" grep -q '"seal":"[0-9a-f]\{64\}"' "$W/state/installed/$T_TRUE.json"
  seal=$(sed -n 's/.*"seal":"\([0-9a-f]\{64\}\)".*/\1/p' "$W/state/installed/$T_TRUE.json")
  cp /bin/busybox /opt/tm/edited && chmod 755 /opt/tm/edited
  ticket edited /opt/tm/edited --ttl 1h --max-uses 2
  T_ED=$TID
  ED_REC=$W/state/installed/$T_ED.json
  plant_record planted /opt/tm/planted
  P1=$PL_ID P1_REC=$PL_REC
  plant_record copied /opt/tm/copied "$seal"
  P2=$PL_ID P2_REC=$PL_REC
  stop_daemon
  sed -i 's/"uses_left":[0-9]*/"uses_left":9/' "$ED_REC" # more uses than the ticket has
  start_daemon $W/enforce.toml || abort "cannot restart the daemon"
  check "a planted unsealed record (a valid ticket never submitted) is refused at start-up, by name" \
    audit_has '"event":"ticket_refused"' '"reason":"planted"' "$P1" "$P1_REC" "has no state seal"
  check "a planted record with another record's seal is refused" \
    audit_has '"event":"ticket_refused"' '"reason":"planted"' "$P2" "does not verify"
  check "the daemon's own record with a field changed (uses_left) is refused" \
    audit_has '"event":"ticket_refused"' '"reason":"planted"' "$T_ED" "$ED_REC"
  for r in "$P1_REC" "$P2_REC" "$ED_REC"; do check "  ... ${r##*/} removed" [ ! -e "$r" ]; done
  for f in planted copied edited; do
    out=$(gated $PROBE exec /opt/tm/$f 2>&1)
    check "  ... /opt/tm/$f does not run" contains "$out" "EXEC_ERRNO=EPERM"
  done
  check "  ... the daemon's own record stays (T_TRUE runs)" gated /opt/tm/true
  execgate submit $W/planted.ticket >/dev/null
  out=$(gated $PROBE exec /opt/tm/planted 2>&1) # busybox named planted: runs, knows no such applet
  check "control: the planted ticket submitted runs" contains "$out" "applet not found"
}

# the seal's key: closed to the scope; a state directory with another key, or none, than
# the one the log names is refused at start-up by name, and no key is made up
case_state_key() {
  refused "read the state directory's seal key" OPEN gate_tamper state_write open-read $W/state/state.key
  stop_daemon
  cp -a $W/state/state.key $W/state.key.kept
  printf '%064d\n' 0 >$W/state/state.key
  out=$(execgated --config $W/enforce.toml --state-dir $W/state 2>&1); rc=$?
  check "another state key than the log names: refused at start-up" [ "$rc" != 0 ]
  check "  ... naming the file and the log's record" contains "$out" "state.key is state key"
  rm $W/state/state.key
  out=$(execgated --config $W/enforce.toml --state-dir $W/state 2>&1); rc=$?
  check "no state key where the log names one (a state directory emptied or swapped): refused" [ "$rc" != 0 ]
  check "  ... naming the missing file" contains "$out" "state.key is missing"
  check "  ... and no key is made up" [ ! -e $W/state/state.key ]
  out=$(in_scope $PROBE exec /opt/tm/unticketed 2>&1)
  check "  ... the gate kept enforcing meanwhile" contains "$out" "EXEC_ERRNO=EPERM"
  cp -a $W/state.key.kept $W/state/state.key
  start_daemon $W/enforce.toml || abort "cannot restart the daemon"
  check "the directory's own key: the daemon starts, naming it" audit_has '"event":"daemon_start"' '"state_key":"'
}

# the audit log destroyed: inode flags, then truncation
case_audit_log_flags() {
  : >$W/scratch
  out=$($PROBE ioctl $W/scratch 40086602 2>&1)
  check "control: FS_IOC_SETFLAGS outside the scope reaches the filesystem" sh -c "! echo '$out' | grep -q EPERM"
  refused "clear the audit log's append-only flag (FS_IOC_SETFLAGS)" IOCTL privilege file_attr ioctl $AUDIT 40086602
  out=$(gated $PROBE truncate $AUDIT 2>&1)
  check "bypass: truncate the audit log from the scope (append-only: the kernel refuses)" contains "$out" "TRUNCATE_ERRNO=EPERM"
}

# the rule beneath the flag: no truncation of the daemon's files from the scope, by path
# or by open(O_TRUNC) (file_truncate since 6.2); and no second name for a state file
# outside the daemon's directories, where it would be writable
needs state_tombstone state_revoked # a tombstone
case_state_tombstone() {
  TOMB=$(ls $W/state/tombstones/*.json | head -1)
  refused "truncate a tombstone" TRUNCATE gate_tamper state_write truncate "$TOMB"
  refused "open a tombstone with O_TRUNC" OPEN gate_tamper state_write open-trunc "$TOMB"
  check "  ... the tombstone is intact" [ -s "$TOMB" ]
  refused "hard-link a tombstone out of the state directory" LINK gate_tamper protected_name link "$TOMB" /tmp/tomb-link
}

# --- what else reaches the same states (docs/lsm-hooks.md, "Gaps found by this audit") ---
# signals chosen through an fd's owner (F_SETOWN + F_SETSIG) reach execgated without task_kill
case_fd_owner() {
  out=$(gated $PROBE setown 0 2>&1)
  check "control: the scope may make itself (nobody) an fd's owner" contains "$out" "SETOWN_OK"
  refused "make execgated an fd's signal owner (F_SETOWN)" SETOWN scope_escape other_task setown $DPID
  m=$(audit_mark)
  out=$($PROBE sigio $DPID 19 2>&1) # root outside the scope: the gate still keeps such signals from execgated
  check "SIGSTOP through SIGIO does not reach execgated" sh -c "! grep -q '^State:.*T' /proc/$DPID/status"
  check "  ... audited (other_task)" audit_since "$m" '"hook":"other_task"' '"arg":19'
}

# request_key(2): the kernel would run /sbin/request-key (and what /etc/request-key.d names)
case_request_key() {
  out=$(gated $PROBE request-key 2>&1)
  check "bypass: a request-key upcall from the scope" contains "$out" "REQUEST_KEY_ERRNO=EPERM"
  check "  ... audited scope_escape (key_upcall)" audit_has '"reason":"scope_escape"' '"hook":"key_upcall"'
}

case_reserved_names() {
  if [ -e /sbin/request-key ]; then echo "note: /sbin/request-key exists"; else
    refused "create the missing /sbin/request-key (a reserved name)" SYMLINK gate_tamper protected_name symlink /bin/busybox /sbin/request-key
  fi
  if [ -e /etc/ld.so.preload ]; then echo "note: /etc/ld.so.preload exists"; else
    refused "create /etc/ld.so.preload (execgated would load it at its next start)" MKDIR gate_tamper protected_name mkdir /etc/ld.so.preload
  fi
}

# procfs beyond sysctls: the sysrq trigger, another process's files
case_procfs() {
  control "open /proc/sysrq-trigger for writing" OPEN open-write /proc/sysrq-trigger
  refused "open /proc/sysrq-trigger for writing" OPEN scope_escape kernel_setting open-write /proc/sysrq-trigger
  out=$(gated $PROBE open-write /proc/self/oom_score_adj 2>&1)
  check "control: the scope writes its own /proc/self/oom_score_adj" contains "$out" "OPEN_OK"
  refused "set execgated's oom_score_adj" OPEN scope_escape kernel_setting open-write /proc/$DPID/oom_score_adj
}

# the control socket: no impostor
case_control_socket() {
  refused "remove execgated's control socket" UNLINK gate_tamper state_write unlink /run/execgate/execgated.sock
}

# input injection: a terminal's input queue, evdev and uinput devices
case_input_injection() {
  control "TIOCSTI into the console" IOCTL ioctl /dev/console 5412
  refused "TIOCSTI (type into a terminal read outside the scope)" IOCTL scope_escape tty_inject ioctl /dev/console 5412
  mknod /tmp/eg-event c 13 64 2>/dev/null
  refused "write an input event device (evdev)" OPEN gate_tamper device_write open-write /tmp/eg-event
  rm -f /tmp/eg-event
}

# the cgroup tree: no scope cgroup removed and made anew with another id, no new cgroups
case_cgroup_tree() {
  mkdir -p /sys/fs/cgroup/decoy
  refused "create a cgroup" MKDIR scope_escape cgroup_write mkdir /sys/fs/cgroup/eg-new
  refused "remove a cgroup" RMDIR scope_escape cgroup_write rmdir /sys/fs/cgroup/decoy
}

# AT_EXECVE_CHECK (6.14 and later): the answer interpreters ask for is the exec decision
case_exec_check() {
  out=$($PROBE exec-check /opt/tm/unticketed 2>&1)
  if contains "$out" "EXEC_CHECK_ERRNO=EINVAL"; then
    echo "note: $(uname -r) has no AT_EXECVE_CHECK (6.14 and later)"
  else
    check "control: outside the scope AT_EXECVE_CHECK answers yes" contains "$out" "EXEC_CHECK_OK"
    out=$(gated $PROBE exec-check /opt/tm/true 2>&1)
    check "AT_EXECVE_CHECK answers yes for a ticketed file in the scope" contains "$out" "EXEC_CHECK_OK"
    refused "AT_EXECVE_CHECK of an unticketed file" EXEC_CHECK no_ticket exec_check exec-check /opt/tm/unticketed
  fi
}

# the keys the gate trusts: an issuer key outside the policy's directory, the audit signing key
case_trusted_keys() {
  refused "rewrite an issuer's public key" OPEN gate_tamper helper_write open-write /etc/eg-keys/second.pub
  refused "rename an issuer's public key aside" RENAME gate_tamper protected_name rename /etc/eg-keys/second.pub /etc/eg-keys/x.pub
  control "read the audit signing key" OPEN open-read $W/audit.key
  refused "read the audit signing key" OPEN gate_tamper state_write open-read $W/audit.key
}

# --- the privilege posture ---
case_posture_settime() {
  # CAP_SYS_TIME is refused whatever the posture allows (docs/gate.md "Privilege posture")
  outside_then_inside "set the clock (CAP_SYS_TIME)" SETTIME gate_tamper clock_adjust settime
  outside_then_inside "step the clock by clock_adjtime(ADJ_SETOFFSET)" ADJTIME gate_tamper clock_adjust adjtime
}

case_posture_userns() {
  outside_then_inside "create a user namespace" UNSHARE privilege userns_create unshare-user
  refused "create a user namespace (uid 1000)" UNSHARE privilege userns_create setuid-exec 1000 $PROBE unshare-user
}

case_posture_mknod() {
  out=$(gated $PROBE mknod-blk /tmp/eg-blk 2>&1)
  check "bypass: mknod a block device from the scope" contains "$out" "MKNOD_ERRNO=EPERM"
  check "  ... audited privilege" audit_has '"reason":"privilege"'
}

case_posture_sysfs() {
  outside_then_inside "write a sysfs setting" OPEN scope_escape kernel_setting open-write /sys/kernel/mm/transparent_hugepage/enabled
}

# ordinary workloads under the default posture: nothing they do is refused. Files, modes,
# owners, pipes, a tar round trip, as root and as uid 1000; a test suite (the daemon's own
# unit tests: temporary directories, symlinks, an audit log with rotation, /proc reads),
# as root and as uid 1000; a service (an HTTP server in the scope, reached from outside)
case_workloads() {
  work='mkdir -p /var/tmp/w && cd /var/tmp/w && echo hi >a && cp a b && chmod 600 b && cat b | grep -q hi && tar cf t.tar a b && mkdir x && cd x && tar xf ../t.tar && ls a b && cd / && rm -r /var/tmp/w && echo WORK_OK'
  out=$(gated sh -c "$work" 2>&1)
  check "an ordinary root workload runs under the default posture" contains "$out" "WORK_OK"
  out=$(gated $PROBE setuid-exec 1000 /bin/sh -c "cd /tmp && $work" 2>&1)
  check "an ordinary uid 1000 workload runs under the default posture" contains "$out" "WORK_OK"
  check "  ... and nothing of it was refused" sh -c "! tail -n +$((CASE_MARK + 1)) $AUDIT | grep -q '\"verdict\":\"deny\"'"
  UT=$PROBE_DIR/execgate_daemon_tests
  check "the unit-test binary is in the VM" [ -x "$UT" ]
  m=$(audit_mark)
  out=$(gated "$UT" --gtest_brief=1 2>&1)
  check "a test suite runs under the default posture (root)" contains "$out" "[  PASSED  ]"
  out=$(gated $PROBE setuid-exec 1000 /bin/sh -c "cd /tmp && TMPDIR=/tmp $UT --gtest_brief=1" 2>&1)
  check "a test suite runs under the default posture (uid 1000)" contains "$out" "[  PASSED  ]"
  mkdir -p /var/tmp/www && echo served >/var/tmp/www/index.html
  execgate run -- httpd -f -p 127.0.0.1:8088 -h /var/tmp/www >/dev/null 2>&1 &
  poll sh -c 'wget -q -O - http://127.0.0.1:8088/index.html 2>/dev/null | grep -q served'
  check "a service runs under the default posture (httpd in the scope, fetched from outside)" sh -c 'wget -q -O - http://127.0.0.1:8088/index.html | grep -q served'
  killall httpd 2>/dev/null
  check "  ... and nothing of the three workloads was refused" sh -c "! tail -n +$((m + 1)) $AUDIT | grep -q '\"verdict\":\"deny\"'"
}

# --- execgated as the scope's confused deputy (docs/gate.md "The daemon's filesystem
# operations"): the spool inbox is writable from the scope, execgated is root outside it ---
# rejected/ swapped for a symlink to /etc, then a malformed ld.so.preload dropped in the
# inbox: the swap is refused, and the file lands in the spool's own rejected/, never in /etc
case_spool_symlink_swap() {
  IN=$W/state/inbox
  gated $PROBE symlink /etc $IN/rejected.new >/dev/null 2>&1
  check "control: the scope may create names in the inbox" [ -L $IN/rejected.new ]
  refused "remove the spool's rejected/ (to put a symlink there)" RMDIR gate_tamper protected_name rmdir $IN/rejected
  refused "rename the spool's rejected/ aside" RENAME gate_tamper protected_name rename $IN/rejected $IN/rejected.old
  refused "rename the spool's done/ aside" RENAME gate_tamper protected_name rename $IN/done $IN/done.old
  refused "plant a name in the spool's rejected/" SYMLINK gate_tamper state_write symlink /etc $IN/rejected/x
  refused "rename the spool's inbox aside" RENAME gate_tamper state_write rename $IN $W/state/inbox.old
  rm -f $IN/rejected.new
  [ ! -e /etc/ld.so.preload ] || abort "/etc/ld.so.preload exists before the case"
  gated sh -c "echo /tmp/evil.so > $IN/ld.so.preload"
  check "a malformed ld.so.preload dropped in the inbox is judged" poll [ -f $IN/rejected/ld.so.preload.reason ]
  check "  ... malformed, in the spool's own rejected/" grep -q '^malformed' $IN/rejected/ld.so.preload.reason
  check "  ... and /etc/ld.so.preload does not exist" [ ! -e /etc/ld.so.preload ]
  rm -f $IN/rejected/ld.so.preload $IN/rejected/ld.so.preload.reason
}

# the inbox names tracefs' trace_pipe (a regular file whose read waits for events) and a
# FIFO: the daemon does not block on them; status answers and a revocation dropped in the
# inbox afterwards takes effect
case_spool_trace_pipe() {
  IN=$W/state/inbox
  TP=/sys/kernel/tracing/trace_pipe
  [ -e $TP ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
  if [ -e $TP ]; then
    gated $PROBE symlink $TP $IN/tp >/dev/null 2>&1
    check "the scope names trace_pipe in the inbox" [ -L $IN/tp ]
  else
    echo "note: no tracefs in this VM: FIFOs only"
  fi
  mkfifo $W/spool.fifo
  gated $PROBE symlink $W/spool.fifo $IN/fifo-link >/dev/null 2>&1
  gated mkfifo $IN/fifo
  mkdir -p /opt/sprv && cp /bin/busybox /opt/sprv/true && chmod 755 /opt/sprv/true
  ticket sprv /opt/sprv/true --ttl 1h
  out=$(gated $PROBE exec /opt/sprv/true 2>&1)
  check "the ticketed file runs before the revocation" sh -c "! echo '$out' | grep -q EXEC_ERRNO"
  execgate revoke --key $W/ops.key "$TID" --reason e2e -o $W/sprv.revocation >/dev/null
  cp $W/sprv.revocation $IN/.sprv.tmp && mv $IN/.sprv.tmp $IN/sprv.revocation
  check "execgate status answers within 10 s" timeout 10 execgate status
  check "the revocation dropped in the inbox is done" poll [ -f $IN/done/sprv.revocation ]
  out=$(gated $PROBE exec /opt/sprv/true 2>&1)
  check "  ... and the revoked file is denied" contains "$out" "EXEC_ERRNO=EPERM"
  [ -e $TP ] && check "trace_pipe's link rejected unread" grep -q 'malformed: a symlink' $IN/rejected/tp.reason
  check "the FIFO rejected unread" grep -q 'malformed: a FIFO' $IN/rejected/fifo.reason
  check "the link to a FIFO rejected unread" grep -q 'malformed: a symlink' $IN/rejected/fifo-link.reason
  rm -f $W/spool.fifo
}

# 300 connections held open from the scope: peers outside it are served, and a
# revocation from the scope itself is answered, not refused busy
case_spool_control_flood() {
  in_scope $PROBE sock-idle $SOCK 300 20 >$W/flood.out 2>&1 &
  FLOOD=$!
  # under TCG the probe may still be opening its 300 connections (IDLE_OPEN not yet
  # printed) while the checks below run: the flood is on either way
  i=0; while ! grep -q IDLE_OPEN $W/flood.out && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  check "the scope's flood of connections is running" kill -0 $FLOOD
  echo "  flood: $(cat $W/flood.out) after $((i / 10)) s"
  check "status from outside the scope is answered" timeout 5 execgate status
  mkdir -p /opt/spfl && cp /bin/busybox /opt/spfl/true && chmod 755 /opt/spfl/true
  ticket spfl /opt/spfl/true --ttl 1h
  execgate revoke --key $W/ops.key "$TID" --reason e2e -o $W/spfl.revocation >/dev/null
  out=$(gated $PROBE submit-file $SOCK $W/spfl.revocation 2>&1)
  check "a revocation submitted from the scope meanwhile is not refused busy" contains "$out" '"result":"revoked"'
  out=$(gated $PROBE exec /opt/spfl/true 2>&1)
  check "  ... and takes effect" contains "$out" "EXEC_ERRNO=EPERM"
  wait $FLOOD
}

# the daemon still serves, and every refusal above is in a chain that verifies
case_final() {
  check "execgated still answers" execgate status
  stop_daemon
  check "the audit log verifies" execgate audit verify $AUDIT --pub $W/audit.pub
}

run_cases
