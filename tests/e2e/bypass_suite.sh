#!/bin/sh
# The ways around the exec gate, on the real kernel: rewriting or replacing a ticketed
# file, the sealing race, the loader and executable mappings, nameless files, leaving the
# scope, the gate's own pins and the daemon's files, kernel settings and usermode helpers,
# devices beneath the filesystems (block, /dev/mem, SG_IO, NVMe and io_uring passthrough),
# ptrace. Every capability is allowed in the scope (lib.sh open_policy); the default
# privilege posture is tamper_suite.sh's. Runs INSIDE the VM (scripts/vm-run.sh) as root,
# with an NVMe disk (run-vm-suites.sh):
#   bypass_suite.sh PROBE
# Each case (lib.sh, "cases"; EXECGATE_CASES picks some) checks the kernel's errno and its
# own audit records. Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

always setup audit_verifies

# the cases' files, then lib.sh open_setup: keys, policies, the daemon, /opt/app/true
# ticketed (T_TRUE), which cases copy, write or run
case_setup() {
  mkdir -p $W
  # a file in a baseline directory, pinned at daemon start (the scope may not write it)
  mkdir -p /usr/local/lib/egpin && cp /bin/busybox /usr/local/lib/egpin/echo && chmod 755 /usr/local/lib/egpin/echo
  for d in r1 st cp1; do mkdir -p /opt/$d; cp /bin/busybox /opt/$d/true; cp /bin/busybox /opt/$d/echo; done
  chmod 755 /opt/*/*
  open_setup bypass
}

# --- the ticketed file itself: rewritten, replaced ---
# a ticketed file cannot be opened for writing, from any process
case_write_ticketed() {
  out=$($PROBE open-write /opt/app/true 2>&1)
  check "open-for-write of a ticketed binary refused (outside scope too)" contains "$out" "OPEN_ERRNO=EPERM"
  check "  ... audited write_protected" audit_has '"reason":"write_protected"' "\"ticket\":\"$T_TRUE\""
  check "cp over a ticketed binary fails" sh -c '! cp /bin/busybox /opt/app/true 2>/dev/null'
}

case_replace_rename() {
  ticket r1 /opt/r1/true --ttl 1h
  cp /bin/busybox /opt/r1/true.new && mv /opt/r1/true.new /opt/r1/true
  out=$(gated $PROBE exec /opt/r1/true 2>&1)
  check "binary replaced by rename is denied" contains "$out" "EXEC_ERRNO=EPERM"
}

# --- sealing: what the daemon hashed is what runs ---
start_writer() { # start_writer VERB FILE: a probe holding FILE writable (hold-write or
  # mmap-write) until $W/trigger exists; returns once it holds it; sets HOLD
  rm -f $W/trigger $W/done
  $PROBE "$1" "$2" $W/trigger $W/done >$W/hold.out 2>&1 &
  HOLD=$!
  i=0; while ! grep -q HOLD_OPEN $W/hold.out 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
}
# a file open for writing elsewhere is not ticketed (its writer could change it later)
case_seal_held_writer() {
  start_writer hold-write /opt/st/true
  issue_ops st /opt/st/true --ttl 1h
  out=$(execgate submit $W/st.ticket 2>&1); rc=$?
  check "sealing: a file held open for writing elsewhere is refused (exit 3)" [ "$rc" = 3 ]
  check "  ... reason open_for_write" contains "$out" "open_for_write"
  check "  ... audited" audit_has '"event":"ticket_refused"' '"reason":"open_for_write"'
  out=$(gated $PROBE exec /opt/st/true 2>&1)
  check "  ... and the file does not run (ETXTBSY while the writer holds it)" contains "$out" "EXEC_ERRNO=ETXTBSY"
  touch $W/trigger
  wait $HOLD
  out=$(execgate submit $W/st.ticket 2>&1)
  check "  ... once written, its old ticket no longer matches (digest_mismatch)" contains "$out" "digest_mismatch"
}

# bytes changed through a shared writable mapping made before the ticket: no page fault,
# so no ctime change; the mapping counts as a writer, so the ticket never seals
case_seal_mapped_writer() {
  cp /bin/busybox /opt/st/mapped
  start_writer mmap-write /opt/st/mapped
  issue_ops mapped /opt/st/mapped --ttl 1h
  out=$(execgate submit $W/mapped.ticket 2>&1); rc=$?
  check "sealing: a file mapped shared+writable elsewhere is refused (open_for_write)" sh -c "[ $rc = 3 ] && echo '$out' | grep -q open_for_write"
  touch $W/trigger
  wait $HOLD
  out=$(gated $PROBE exec /opt/st/mapped 2>&1)
  check "  ... its bytes changed through the mapping do not run" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited no_ticket" audit_has '"reason":"no_ticket"' '/opt/st/mapped'
  out=$(execgate submit $W/mapped.ticket 2>&1)
  check "  ... and the old ticket no longer matches them (digest_mismatch)" contains "$out" "digest_mismatch"
}

# truncate by path: refused like a write open; a metadata change (chmod u+s) after the
# ticket moves ctime: stale
case_seal_stale() {
  cp /bin/busybox /opt/st/true
  ticket st /opt/st/true --ttl 1h
  T_ST=$TID
  out=$($PROBE truncate /opt/st/true 2>&1)
  check "truncate by path of a ticketed file is refused" contains "$out" "TRUNCATE_ERRNO=EPERM"
  check "  ... audited write_protected (hook truncate)" audit_has '"reason":"write_protected"' '"hook":"truncate"' "\"ticket\":\"$T_ST\""
  chmod 4755 /opt/st/true
  out=$(gated $PROBE exec /opt/st/true 2>&1)
  check "ticketed binary made setuid after the ticket is denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited stale" audit_has '"reason":"stale"' "\"ticket\":\"$T_ST\""
}

# inode reuse: a file deleted and another created on the same inode number with a ctime
# forged by setting the clock back matches (dev, ino, ctime); it does not match the
# i_generation the kernel recorded at the sealing open. The entry is shifted to another
# generation with bpf() from outside the scope, which is what the reused inode looks like.
case_seal_inode_reuse() {
  mkdir -p /opt/gen && cp /bin/busybox /opt/gen/true
  ticket gen /opt/gen/true --ttl 1h
  T_GEN=$TID
  check "ticketed binary runs (generation recorded at sealing)" sh -c "$(command -v execgate) run -- $PROBE exec /opt/gen/true true"
  out=$($PROBE shift-generation /sys/fs/bpf/execgate /opt/gen/true 1 2>&1)
  check "  ... its entry shifted to another i_generation" contains "$out" "MAP_OK"
  out=$(gated $PROBE exec /opt/gen/true 2>&1)
  check "same dev, inode and ctime, another generation (inode reuse): denied" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited stale" audit_has '"reason":"stale"' "\"ticket\":\"$T_GEN\""
  $PROBE shift-generation /sys/fs/bpf/execgate /opt/gen/true -1 >/dev/null
  check "  ... and runs again with the generation restored" sh -c "$(command -v execgate) run -- $PROBE exec /opt/gen/true true"
}

# while the daemon seals a file (a big one: hashing takes a while under TCG) it neither
# runs (`unsealed`) nor opens for writing
case_seal_in_progress() {
  mkdir -p /opt/big && cp /bin/busybox /opt/big/true && dd if=/dev/zero bs=1M count=96 >>/opt/big/true 2>/dev/null
  issue_ops big /opt/big/true --ttl 1h
  execgate submit $W/big.ticket >$W/big.out 2>&1 &
  SUB=$!
  seen=0; i=0
  while [ $i -lt 100 ] && kill -0 $SUB 2>/dev/null; do
    in_scope $PROBE exec /opt/big/true >/dev/null 2>&1  # not `execgate run`: it asks the busy daemon
    if audit_lines | grep -F '"reason":"unsealed"' | grep -qF /opt/big/true; then seen=1; break; fi
    sleep 0.05; i=$((i + 1))
  done
  check "sealing: an exec while the file is being sealed is denied (unsealed)" [ $seen = 1 ]
  [ $seen = 1 ] || { echo "  tries $i; submit: $(cat $W/big.out)"; audit_lines | grep -F /opt/big/true | cut -c1-300 | tail -5; }
  out=$($PROBE open-write /opt/big/true 2>&1)
  check "  ... and it cannot be opened for writing meanwhile" contains "$out" "OPEN_ERRNO=EPERM"
  wait $SUB; rc=$?
  check "  ... the submit then installs it" sh -c "[ $rc = 0 ] && grep -q installed $W/big.out"
  out=$(gated $PROBE exec /opt/big/true 2>&1); rc=$?
  check "  ... and it runs" [ "$rc" = 0 ]
  rm -f /opt/big/true
}

# --- other ways to run code: each denied and audited ---
case_write_baseline() {
  out=$(gated $PROBE open-write /usr/local/lib/egpin/echo 2>&1)
  check "bypass: open a pinned baseline binary for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  check "  ... audited write_protected" audit_has '"reason":"write_protected"' '"hook":"open_write"' '"path":"echo"' '"ticket":null'
  out=$(gated $PROBE truncate /usr/local/lib/egpin/echo 2>&1)
  check "bypass: truncate a pinned baseline binary from the scope" contains "$out" "TRUNCATE_ERRNO=EPERM"
  out=$(gated /usr/local/lib/egpin/echo intact 2>&1)
  check "  ... and it still runs unchanged" [ "$out" = "intact" ]
}

case_loader_ldso() {
  out=$(gated $PROBE exec /lib64/ld-linux-x86-64.so.2 /opt/cp1/echo 2>&1)
  check "bypass: run via the dynamic loader" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited loader_bypass" audit_has '"reason":"loader_bypass"' '"hook":"exec"'
}

case_loader_mmap() {
  out=$(gated $PROBE mmap-exec /opt/cp1/echo 2>&1)
  check "bypass: mmap PROT_EXEC of an unticketed file" contains "$out" "MMAP_ERRNO=EPERM"
  check "  ... audited" audit_has '"reason":"loader_bypass"' '"hook":"mmap_exec"'
}

case_loader_mprotect() {
  out=$(gated $PROBE mprotect-exec /opt/cp1/echo 2>&1)
  check "bypass: mprotect to PROT_EXEC of an unticketed file" contains "$out" "MPROTECT_ERRNO=EPERM"
  check "  ... audited" audit_has '"reason":"loader_bypass"' '"hook":"mprotect_exec"'
}

case_nameless_memfd() {
  out=$(gated $PROBE memfd-exec /opt/app/true 2>&1)
  check "bypass: memfd copy of a ticketed binary (fexecve)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited memfd" audit_has '"reason":"memfd"'
}

case_nameless_tmpfile() {
  out=$(gated $PROBE tmpfile-exec /tmp /opt/app/true 2>&1)
  check "bypass: O_TMPFILE copy of a ticketed binary (fexecve)" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited tmpfile" audit_has '"reason":"tmpfile"' '"hook":"exec"'
}

case_nameless_unlinked() {
  out=$(gated $PROBE unlinked-exec /tmp/eg-unlinked /opt/app/true 2>&1)
  check "bypass: a copy unlinked while open, run through its fd" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited unlinked" audit_has '"reason":"unlinked"' '"hook":"exec"'
}

case_execveat_empty() {
  out=$(gated $PROBE execveat-empty /opt/cp1/echo 2>&1)
  check "bypass: execveat(fd, \"\", AT_EMPTY_PATH) of an unticketed file" contains "$out" "EXEC_ERRNO=EPERM"
}

case_fresh_file() {
  cp /bin/busybox $W/tmpfile-exec; chmod 755 $W/tmpfile-exec
  out=$(gated $PROBE exec $W/tmpfile-exec true 2>&1)
  check "bypass: freshly written file in /tmp" contains "$out" "EXEC_ERRNO=EPERM"
}

# --- leaving the scope ---
case_scope_cgroup_procs() {
  out=$(gated sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs && echo ESCAPED' 2>&1)
  check "bypass: leave the scope through cgroup.procs" sh -c "! echo '$out' | grep -q ESCAPED"
  check "  ... audited scope_escape" audit_has '"reason":"scope_escape"' '"hook":"cgroup_write"'
}

case_scope_clone_into_cgroup() {
  out=$(gated $PROBE clone-into-cgroup /sys/fs/cgroup 2>&1)
  check "bypass: clone3(CLONE_INTO_CGROUP) out of the scope" contains "$out" "CLONE_ERRNO=EPERM"
  check "  ... audited" audit_has '"reason":"scope_escape"' '"hook":"clone_into_cgroup"'
}

case_scope_inherited_fd() {
  out=$(sh -c "exec 3>/sys/fs/cgroup/cgroup.procs; execgate run -- sh -c 'echo \$\$ >&3; cat /proc/self/cgroup'" 2>&1)
  check "bypass: leave the scope through an inherited cgroup.procs fd" contains "$out" "/gated/"
  check "  ... audited scope_escape (fd_write)" audit_has '"reason":"scope_escape"' '"hook":"fd_write"'
}

# --- the gate's pins, the daemon's files ---
case_gate_bpf() {
  out=$(gated $PROBE bpf 2>&1)
  check "bypass: bpf() from the scope (map edits, detach)" contains "$out" "BPF_ERRNO=EPERM"
  check "  ... audited gate_tamper" audit_has '"reason":"gate_tamper"' '"hook":"bpf"'
}

# with every capability allowed (this suite's policy), the mount hooks still refuse
case_gate_mount() {
  mkdir -p /mnt/gm
  refused "mount a tmpfs (mount hook)" MOUNT privilege mount mount-tmpfs /mnt/gm
  refused "unmount bpffs under the pins (mount hook)" UMOUNT gate_tamper mount umount /sys/fs/bpf
  check "  ... the pins are still there" [ -e /sys/fs/bpf/execgate/link_eg_bprm_check ]
}

case_gate_pin_unlink() {
  gated rm -f /sys/fs/bpf/execgate/link_eg_bprm_check >/dev/null 2>&1
  check "bypass: unlink the gate's pinned link from the scope" [ -e /sys/fs/bpf/execgate/link_eg_bprm_check ]
  check "  ... audited" audit_has '"reason":"gate_tamper"' '"hook":"pin_unlink"'
}

# the state directory (setup's ticket has a record in installed/), the audit log, the policy
case_daemon_files() {
  f=$(ls $W/state/installed/*.json | head -1)
  gated sh -c "rm -f $f" >/dev/null 2>&1
  check "bypass: delete the daemon's state from the scope" [ -f "$f" ]
  check "  ... audited gate_tamper (state_write)" audit_has '"reason":"gate_tamper"' '"hook":"state_write"'
  out=$(gated $PROBE open-write $AUDIT 2>&1)
  check "bypass: open the audit log for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  gated sh -c "echo '{}' > $W/state/spent/00000000000000000000000000000000.json" >/dev/null 2>&1
  check "bypass: plant a file in the daemon's state from the scope" [ ! -e $W/state/spent/00000000000000000000000000000000.json ]
  gated sh -c "mv $f $W/state/x.json" >/dev/null 2>&1
  check "bypass: rename the daemon's state from the scope" [ -f "$f" ]
  gated sh -c "echo 'mode = \"monitor\"' > $W/enforce.toml" >/dev/null 2>&1
  check "bypass: rewrite the policy from the scope" grep -q 'mode = "enforce"' $W/enforce.toml
}

case_daemon_audit_fd() {
  sh -c "exec 3>>$AUDIT; execgate run -- sh -c 'echo forged >&3'" >/dev/null 2>&1
  check "bypass: append to the audit log through an inherited fd" sh -c "! grep -q '^forged' $AUDIT"
  check "  ... audited gate_tamper (fd_write)" audit_has '"reason":"gate_tamper"' '"hook":"fd_write"'
}

# --- the kernel: modules, the clock, settings and usermode helpers, lockdown ---
case_kernel_module() {
  out=$($PROBE finit-module /bin/busybox 2>&1)
  check "control: outside the scope a bogus module fails on its content" sh -c "echo '$out' | grep -q MODULE_ERRNO && ! echo '$out' | grep -q EPERM"
  out=$(gated $PROBE finit-module /bin/busybox 2>&1)
  check "bypass: load a kernel module (finit_module) from the scope" contains "$out" "MODULE_ERRNO=EPERM"
  out=$(gated $PROBE init-module 2>&1)
  check "bypass: load a kernel module (init_module) from the scope" contains "$out" "MODULE_ERRNO=EPERM"
  check "  ... audited gate_tamper (kernel_load)" audit_has '"reason":"gate_tamper"' '"hook":"kernel_load"'
}

case_kernel_settime() {
  # CAP_SYS_TIME is asked first (capable: clock_adjust); the settime hook stands behind it
  outside_then_inside "set the system clock (half of forging a ctime)" SETTIME gate_tamper clock_adjust settime
}

# usermode helpers: root in a cgroup scope pointing core_pattern (or modprobe, hotplug,
# uevent_helper) at its own program would have the kernel run it outside the scope
case_kernel_core_pattern() {
  cp_before=$(cat /proc/sys/kernel/core_pattern)
  outside_then_inside "open core_pattern (a sysctl) for writing" OPEN scope_escape kernel_setting \
    open-write /proc/sys/kernel/core_pattern
  out=$(gated $PROBE open-write /proc/sys/kernel/modprobe 2>&1)
  check "bypass: point kernel.modprobe at a program from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  m=$(audit_mark)
  sh -c "exec 3>/proc/sys/kernel/core_pattern; execgate run -- sh -c 'echo \"|/tmp/evil\" >&3'" >/dev/null 2>&1
  check "bypass: write core_pattern through an fd opened before entering the scope" [ "$(cat /proc/sys/kernel/core_pattern)" = "$cp_before" ]
  check "  ... audited (fd_write)" audit_since "$m" '"hook":"fd_write"'
}

# binfmt_misc: a registered handler is a program the kernel runs for matching files,
# whoever execs them (the module comes from the kernel package: scripts/fetch-kernel.sh)
case_kernel_binfmt_misc() {
  insmod "/lib/modules/$(uname -r)/extra/binfmt_misc.ko" 2>/dev/null
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
  check "binfmt_misc is loaded and mounted" [ -e /proc/sys/fs/binfmt_misc/register ]
  out=$($PROBE open-write /proc/sys/fs/binfmt_misc/register 2>&1)
  check "control: outside the scope binfmt_misc's register opens for writing" contains "$out" "OPEN_OK"
  m=$(audit_mark)
  out=$(gated $PROBE open-write /proc/sys/fs/binfmt_misc/register 2>&1)
  check "bypass: register a binfmt_misc handler from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  check "  ... audited (kernel_setting)" audit_since "$m" '"hook":"kernel_setting"'
  echo ':egc:E::egc::/tmp/evil:' >/proc/sys/fs/binfmt_misc/register 2>/dev/null
  check "control: outside the scope a handler registers" [ -e /proc/sys/fs/binfmt_misc/egc ]
  echo -1 >/proc/sys/fs/binfmt_misc/egc 2>/dev/null
  m=$(audit_mark)
  sh -c "exec 3>/proc/sys/fs/binfmt_misc/register; execgate run -- sh -c 'echo \":eg:E::egx::/tmp/evil:\" >&3'" >/dev/null 2>&1
  check "  ... nor through an fd opened before entering the scope" [ ! -e /proc/sys/fs/binfmt_misc/eg ]
  check "  ... audited (fd_write)" audit_since "$m" '"hook":"fd_write"'
}

# what kernel lockdown (integrity) forbids, e.g. I/O port access (disk controllers)
case_kernel_iopl() {
  outside_then_inside "iopl(3) (raw I/O ports)" IOPL gate_tamper lockdown iopl
}

case_kernel_ima_policy() {
  if [ -e /sys/kernel/security/ima/policy ]; then
    out=$(gated $PROBE open-write /sys/kernel/security/ima/policy 2>&1)
    check "bypass: write an IMA policy (securityfs) from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  else
    echo "note: $(uname -r) has no /sys/kernel/security/ima/policy"
  fi
}

case_kernel_uevent_helper() {
  if [ -e /sys/kernel/uevent_helper ]; then
    out=$(gated $PROBE open-write /sys/kernel/uevent_helper 2>&1)
    check "bypass: set /sys/kernel/uevent_helper from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  else
    echo "note: $(uname -r) has no /sys/kernel/uevent_helper"
  fi
}

# --- bytes beneath the filesystems: a block device under ticketed files, /dev/mem,
# --- SG_IO, NVMe passthrough by ioctl and by io_uring ---
case_device_block() {
  mknod /tmp/eg-blk b 7 200 2>/dev/null
  out=$($PROBE open-write /tmp/eg-blk 2>&1)
  check "control: outside the scope a block device opens for writing (or fails on the device)" sh -c "echo '$out' | grep -q -e OPEN_OK -e ENXIO"
  out=$(gated $PROBE open-write /tmp/eg-blk 2>&1)
  check "bypass: open a block device for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  check "  ... audited gate_tamper (device_write)" audit_has '"reason":"gate_tamper"' '"hook":"device_write"'
  rm -f /tmp/eg-blk
}

# reading a disk from the scope: its blocks hold every file, the audit signing key's
# included (the NVMe disk of this suite's VM); by open, through an fd opened before
# entering the scope, and by a mapping
case_device_block_read() {
  BLK=$(ls /dev/nvme0n1 /dev/vda /dev/sda 2>/dev/null | head -1)
  check "the VM has a disk" [ -n "$BLK" ]
  outside_then_inside "read a disk (block device)" OPEN gate_tamper device_read open-read "${BLK:-/dev/nvme0n1}"
  out=$(sh -c "exec 3<${BLK:-/dev/nvme0n1}; $PROBE fd-op read 3" 2>&1)
  check "control: outside the scope an fd on the disk reads" contains "$out" "READ_OK"
  m=$(audit_mark)
  out=$(sh -c "exec 3<${BLK:-/dev/nvme0n1}; execgate run -- $PROBE fd-op read 3" 2>&1)
  check "bypass: read a disk through an fd opened before entering the scope" contains "$out" "READ_ERRNO=EPERM"
  out=$(sh -c "exec 3<${BLK:-/dev/nvme0n1}; execgate run -- $PROBE fd-op mmap-read 3" 2>&1)
  check "bypass: map a disk through an fd opened before entering the scope" contains "$out" "MMAP_OP_ERRNO=EPERM"
  check "  ... audited gate_tamper (device_read)" audit_since "$m" '"reason":"gate_tamper"' '"hook":"device_read"'
}

# --- writes that bypass write(2): through an fd opened O_RDWR before entering the scope
# on a key the gate trusts (an issuer's public key), every other way to change its bytes
# is refused like write(2); an ordinary file is written the same ways ---
case_fd_write_paths() {
  before=$(sha256sum $W/ops.pub)
  printf 'ordinary\n' >/tmp/egplain # outside $W: the policy's directory is protected
  for op in mmap-write mprotect-write fallocate copy-range splice ftruncate; do
    case $op in mmap-write) mk=MMAP_OP hk=mmap_write ;; mprotect-write) mk=MPROTECT hk=mmap_write ;;
      ftruncate) mk=FTRUNCATE hk=helper_write ;; *) mk=$(echo $op | tr 'a-z-' 'A-Z_') hk=fd_write ;; esac
    out=$(sh -c "exec 3<>/tmp/egplain; execgate run -- $PROBE fd-op $op 3" 2>&1)
    check "control: $op of an ordinary file through an inherited fd works in the scope" contains "$out" "${mk}_OK"
    m=$(audit_mark)
    out=$(sh -c "exec 3<>$W/ops.pub; execgate run -- $PROBE fd-op $op 3" 2>&1)
    check "bypass: $op of an issuer key through an fd opened before entering the scope" contains "$out" "${mk}_ERRNO=EPERM"
    check "  ... audited gate_tamper ($hk)" audit_since "$m" '"reason":"gate_tamper"' "\"hook\":\"$hk\""
  done
  check "  ... the issuer key is unchanged" [ "$(sha256sum $W/ops.pub)" = "$before" ]
}

# --- files the scope wrote: never run, mapped executable or loaded outside it (a usermode
# --- helper, a host service, the loader of a host program, the kernel) ---
egw_script() { printf '#!/bin/sh\necho EGW_RAN\n' >"$1" && chmod 755 "$1"; }
case_written_exec_outside() {
  rm -f /tmp/egw-in /tmp/egw-out /tmp/egw-mv /tmp/egw-mv.src
  egw_script /tmp/egw-out
  out=$($PROBE exec /tmp/egw-out 2>&1)
  check "control: a script written outside the scope runs outside it" contains "$out" "EGW_RAN"
  gated sh -c "printf '#!/bin/sh\necho EGW_RAN\n' >/tmp/egw-in; chmod 755 /tmp/egw-in" >/dev/null 2>&1
  m=$(audit_mark)
  out=$($PROBE exec /tmp/egw-in 2>&1)
  check "bypass: a script the scope wrote, run outside it" contains "$out" "EXEC_ERRNO=EPERM"
  check "  ... audited scope_written (exec)" audit_since "$m" '"event":"exec"' '"reason":"scope_written"' '"hook":"exec"'
  egw_script /tmp/egw-mv.src
  gated mv /tmp/egw-mv.src /tmp/egw-mv >/dev/null 2>&1
  out=$($PROBE exec /tmp/egw-mv 2>&1)
  check "bypass: a script renamed by the scope, run outside it" contains "$out" "EXEC_ERRNO=EPERM"
  egw_script /tmp/egw-mm
  sh -c "exec 3<>/tmp/egw-mm; execgate run -- $PROBE fd-op mmap-write 3" >/dev/null 2>&1
  out=$($PROBE exec /tmp/egw-mm 2>&1)
  check "bypass: a script the scope changed through a shared mapping, run outside it" contains "$out" "EXEC_ERRNO=EPERM"
  rm -f /tmp/egw-in
  egw_script /tmp/egw-in
  out=$($PROBE exec /tmp/egw-in 2>&1)
  check "  ... a new file written outside at the same name runs (the mark went with the file)" contains "$out" "EGW_RAN"
}

# a usermode helper: the kernel runs the core_pattern pipe program as root, outside every
# scope, for a crash anywhere. Its path (set after the daemon started) is not a reserved
# name, so the scope may create it (as TOMOYO's /sbin/tomoyo-init): it must not run.
case_written_usermode_helper() {
  old=$(cat /proc/sys/kernel/core_pattern)
  rm -f /tmp/egw-helper /tmp/egw-helper-ran
  echo '|/tmp/egw-helper' >/proc/sys/kernel/core_pattern
  printf '#!/bin/sh\ntouch /tmp/egw-helper-ran\n' >/tmp/egw-helper && chmod 755 /tmp/egw-helper
  sh -c 'kill -SEGV $$' 2>/dev/null
  check "control: the kernel runs a core_pattern helper written outside the scope" poll [ -e /tmp/egw-helper-ran ]
  rm -f /tmp/egw-helper /tmp/egw-helper-ran
  m=$(audit_mark)
  gated sh -c "printf '#!/bin/sh\ntouch /tmp/egw-helper-ran\n' >/tmp/egw-helper; chmod 755 /tmp/egw-helper; kill -SEGV \$\$" >/dev/null 2>&1
  check "  ... the scope's own helper is refused when the kernel runs it" audit_since "$m" '"reason":"scope_written"' '"hook":"exec"'
  check "  ... and did not run" [ ! -e /tmp/egw-helper-ran ]
  echo "$old" >/proc/sys/kernel/core_pattern
  rm -f /tmp/egw-helper
}

# the loader of a host program (/etc/ld.so.preload, LD_PRELOAD) maps a library
# executable; the kernel loads a module
case_written_mapping_and_module() {
  cp /bin/busybox /tmp/egw-lib-out
  control "map executable a file written outside the scope" MMAP mmap-exec /tmp/egw-lib-out
  gated cp /bin/busybox /tmp/egw-lib >/dev/null 2>&1
  m=$(audit_mark)
  out=$($PROBE mmap-exec /tmp/egw-lib 2>&1)
  check "bypass: a library the scope wrote, mapped executable outside it" contains "$out" "MMAP_ERRNO=EPERM"
  check "  ... audited scope_written (mmap_exec)" audit_since "$m" '"reason":"scope_written"' '"hook":"mmap_exec"'
  out=$($PROBE finit-module /tmp/egw-lib-out 2>&1)
  check "control: a bogus module written outside fails on its content" sh -c "echo '$out' | grep -q MODULE_ERRNO && ! echo '$out' | grep -q EPERM"
  m=$(audit_mark)
  out=$($PROBE finit-module /tmp/egw-lib 2>&1)
  check "bypass: a module the scope wrote, loaded from outside" contains "$out" "MODULE_ERRNO=EPERM"
  check "  ... audited scope_written (kernel_load)" audit_since "$m" '"reason":"scope_written"' '"hook":"kernel_load"'
}

# a baseline directory takes no new name from the scope (create, rename, link), and a
# reload never pins what the scope wrote there (here: a file made outside, unpinned, then
# rewritten from the scope through an inherited fd)
case_written_baseline_reload() {
  rm -f /usr/local/lib/egpin/egnew /usr/local/lib/egpin/egctl /usr/local/lib/egpin/egmod /tmp/egnew
  m=$(audit_mark)
  gated sh -c ': >/usr/local/lib/egpin/egnew' >/dev/null 2>&1
  check "bypass: create a file in a baseline directory from the scope" [ ! -e /usr/local/lib/egpin/egnew ]
  check "  ... audited write_protected (baseline_name)" audit_since "$m" '"reason":"write_protected"' '"hook":"baseline_name"'
  cp /bin/busybox /tmp/egnew
  gated mv /tmp/egnew /usr/local/lib/egpin/egnew >/dev/null 2>&1
  check "bypass: rename a file into a baseline directory from the scope" [ ! -e /usr/local/lib/egpin/egnew ]
  cp /bin/busybox /usr/local/lib/egpin/egctl
  cp /bin/busybox /usr/local/lib/egpin/egmod
  chmod 600 /usr/local/lib/egpin/egmod # not pinnable yet; writable for the fd below
  sh -c "exec 3<>/usr/local/lib/egpin/egmod; execgate run -- $PROBE fd-op fallocate 3" >/dev/null 2>&1
  chmod 755 /usr/local/lib/egpin/egmod
  kill -HUP $DPID
  check "control: after SIGHUP a file put there from outside runs in the scope" \
    poll sh -c "! execgate run -- $PROBE exec /usr/local/lib/egpin/egctl 2>&1 | grep -q EXEC_ERRNO"
  out=$(gated $PROBE exec /usr/local/lib/egpin/egmod 2>&1)
  check "bypass: a baseline file the scope wrote is not pinned at the reload" contains "$out" "EXEC_ERRNO=EPERM"
  rm -f /usr/local/lib/egpin/egmod /usr/local/lib/egpin/egctl
}

# --- with every capability allowed: the clock and the new mount API (no hooks of their own) ---
case_clock_adjtime() {
  outside_then_inside "step the clock by clock_adjtime(ADJ_SETOFFSET)" ADJTIME gate_tamper clock_adjust adjtime
}

case_mount_new_api() {
  mkdir -p /mnt/egms && mount -t tmpfs tmpfs /mnt/egms
  control "mount_setattr(MOUNT_ATTR_RDONLY)" SETATTR mount-setattr /mnt/egms ro
  $PROBE mount-setattr /mnt/egms rw >/dev/null 2>&1
  refused "make a mount read-only (mount_setattr)" SETATTR privilege mount mount-setattr /mnt/egms ro
  check "  ... the mount is still writable" touch /mnt/egms/x
  outside_then_inside "pick a mounted filesystem to reconfigure (fspick)" FSPICK privilege mount fspick /mnt/egms
  outside_then_inside "open a new filesystem context (fsopen)" FSOPEN privilege mount fsopen tmpfs
  umount /mnt/egms
}

case_device_mem() {
  [ -e /dev/mem ] || mknod /dev/mem c 1 1
  out=$(gated $PROBE open-write /dev/mem 2>&1)
  check "bypass: open /dev/mem for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
  m=$(audit_mark)
  sh -c "exec 4>/dev/mem && execgate run -- sh -c 'echo x >&4'" >/dev/null 2>&1
  check "  ... nor written through an fd opened before entering the scope (fd_write)" audit_since "$m" '"hook":"fd_write"'
}

case_device_sg_io() {
  out=$($PROBE ioctl /dev/null 2285 2>&1)
  check "control: SG_IO outside the scope reaches the driver" contains "$out" "IOCTL_ERRNO=ENOTTY"
  out=$(gated $PROBE ioctl /dev/null 2285 2>&1)
  check "bypass: SG_IO (writes through a read-only disk fd) from the scope" contains "$out" "IOCTL_ERRNO=EPERM"
  check "  ... audited gate_tamper (device_command, an access record)" audit_has '"event":"access"' '"reason":"gate_tamper"' '"hook":"device_command"'
}

case_device_nvme_ioctl() {
  out=$(gated $PROBE ioctl /dev/null c0484e43 2>&1)
  check "bypass: NVMe passthrough ioctl from the scope" contains "$out" "IOCTL_ERRNO=EPERM"
  check "  ... audited gate_tamper (device_command)" audit_has '"reason":"gate_tamper"' '"hook":"device_command"'
}

# io_uring passthrough: an NVMe read by IORING_OP_URING_CMD on a read-only fd of the
# namespace's generic char device (run-vm-suites.sh gives this suite's VM an NVMe disk)
case_device_uring_cmd() {
  NG=$(ls /dev/ng*n1 2>/dev/null | head -1)
  check "the VM has an NVMe generic char device (/dev/ngXnY)" [ -n "$NG" ]
  out=$($PROBE uring-cmd ${NG:-/dev/ng0n1} 2>&1)
  check "control: outside the scope an io_uring NVMe passthrough read is served" contains "$out" "URING_CMD_OK"
  out=$(gated $PROBE uring-cmd ${NG:-/dev/ng0n1} 2>&1)
  check "bypass: io_uring NVMe passthrough read (uring_cmd) from the scope" contains "$out" "URING_CMD_ERRNO=EPERM"
  check "  ... audited gate_tamper (device_command, not device_write: it was a read)" audit_has '"reason":"gate_tamper"' '"hook":"device_command"'
}

# io_uring: a ring whose SQPOLL kernel thread belongs to a process outside the scope runs
# what the workload writes into it as that process, outside the scope (the thread reads
# the path from its creator's memory: the creator keeps it there and names its address)
case_uring_sqpoll_inherited() {
  printf 'x\n' >/tmp/egring
  out=$($PROBE uring-sqpoll-fork /tmp/egring $PROBE uring-open 7 @PATH@ 2>&1)
  check "control: outside the scope an inherited SQPOLL ring opens a file through its thread" contains "$out" "URING_OPEN_OK"
  m=$(audit_mark)
  out=$($PROBE uring-sqpoll-fork /sys/fs/cgroup/cgroup.procs execgate run -- $PROBE uring-open 7 @PATH@ 2>&1)
  check "bypass: open cgroup.procs through an SQPOLL ring made outside the scope" contains "$out" "MMAP_ERRNO=EPERM"
  check "  ... audited scope_escape (uring_sqpoll)" audit_since "$m" '"reason":"scope_escape"' '"hook":"uring_sqpoll"'
  out=$(gated $PROBE uring-open-self /tmp/egring 2>&1)
  check "control: the workload's own SQPOLL ring works in the scope" contains "$out" "URING_OPEN_OK"
  out=$(gated $PROBE uring-open-self /sys/fs/cgroup/cgroup.procs 2>&1)
  check "  ... and its thread is judged in the scope (cgroup.procs refused)" contains "$out" "URING_OPEN_ERRNO=EPERM"
}

case_ptrace_attach() {
  sleep 100 &
  VICTIM=$!
  out=$(gated $PROBE ptrace $VICTIM 2>&1)
  kill $VICTIM
  check "bypass: ptrace a process outside the scope" contains "$out" "PTRACE_ERRNO=EPERM"
  check "  ... audited ptrace" audit_has '"reason":"ptrace"'
}

# every refusal above is in a chain that verifies
case_audit_verifies() { log_verifies; }

run_cases
