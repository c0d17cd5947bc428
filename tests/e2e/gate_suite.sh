#!/bin/sh
# The kernel gate's end-to-end suite. Runs INSIDE the VM (scripts/vm-run.sh) as root:
#   gate_suite.sh PROBE
# Every case attacks or uses the real BPF-LSM gate and checks the kernel's errno and the
# audit record. Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
PROBE_DIR=$(dirname "$PROBE")
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

mkdir -p $W /opt/app
execgate keygen -o $W/ops >/dev/null
execgate keygen -o $W/audit >/dev/null
# busybox copies named after applets; each case gets its own inode
for n in true echo cat sleep; do cp /bin/busybox /opt/app/$n; done
# a file in a baseline directory, pinned at daemon start (the scope may not write it)
mkdir -p /usr/local/lib/egpin && cp /bin/busybox /usr/local/lib/egpin/echo && chmod 755 /usr/local/lib/egpin/echo
for d in mu r1 st cp1 script; do mkdir -p /opt/$d; cp /bin/busybox /opt/$d/true; cp /bin/busybox /opt/$d/echo; done
chmod 755 /opt/app/* /opt/*/*

# Every capability is allowed in this suite's scope: it tests the hooks that hold whatever
# the policy grants (settime, lockdown, module loads, devices). The default privilege
# posture, which refuses most of those capabilities first, is tamper_suite.sh's.
policy() { # policy MODE [EXTRA-AUDIT-LINES]
  cat <<EOT
name = "e2e"
mode = "$1"
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
policy enforce >$W/enforce.toml
policy monitor >$W/monitor.toml

check "policy check accepts the suite's policy" execgate policy check $W/enforce.toml
start_daemon $W/enforce.toml || { echo "cannot start the daemon"; summary; exit 1; }
check "status: gate attached, enforce" sh -c 'execgate status | grep -q "attached.*mode enforce"'

# --- 1. unticketed exec in scope: EPERM ---
out=$(gated $PROBE exec /opt/app/true 2>&1)
check "unticketed exec in scope fails with EPERM" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited deny no_ticket" audit_has '"verdict":"deny"' '"reason":"no_ticket"' '/opt/app/true'

# --- 2. ticketed exec runs ---
ticket true /opt/app/true --ttl 1h
T_TRUE=$TID
out=$(gated $PROBE exec /opt/app/true 2>&1); rc=$?
check "ticketed exec runs" [ "$rc" = 0 -a -z "$out" ]
check "  ... audited allow with the ticket id" audit_has '"verdict":"allow"' "\"ticket\":\"$T_TRUE\""
check "execgate run runs a ticketed command" gated /opt/app/true
check "same content at another inode is not covered" sh -c "execgate run -- $PROBE exec /opt/cp1/echo | grep -q EXEC_ERRNO=EPERM"

# --- 3. expired: the kernel alone denies (daemon stopped) ---
ticket echo /opt/app/echo --ttl 2s
T_ECHO=$TID
kill -STOP $DPID
sleep 3
out=$(in_scope $PROBE exec /opt/app/echo x 2>&1)
kill -CONT $DPID
check "expired ticket denied by the kernel without the daemon" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited expired" audit_has '"reason":"expired"' "\"ticket\":\"$T_ECHO\""
check "  ... daemon records ticket_expired" audit_has '"event":"ticket_expired"' "$T_ECHO"

# --- 4. not yet valid ---
ticket cat /opt/app/cat --ttl 1h --not-before +1h
out=$(gated $PROBE exec /opt/app/cat /dev/null 2>&1)
check "not-yet-valid ticket denied" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited not_yet_valid" audit_has '"reason":"not_yet_valid"' "\"ticket\":\"$TID\""

# --- 5. uid mismatch ---
ticket sleep /opt/app/sleep --ttl 1h --uid 4242
out=$(gated $PROBE exec /opt/app/sleep 0 2>&1)
check "uid mismatch denied" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited uid_mismatch" audit_has '"reason":"uid_mismatch"' "\"ticket\":\"$TID\""

# --- 6. a ticketed file cannot be opened for writing, from any process ---
out=$($PROBE open-write /opt/app/true 2>&1)
check "open-for-write of a ticketed binary refused (outside scope too)" contains "$out" "OPEN_ERRNO=EPERM"
check "  ... audited write_protected" audit_has '"reason":"write_protected"' "\"ticket\":\"$T_TRUE\""
check "cp over a ticketed binary fails" sh -c '! cp /bin/busybox /opt/app/true 2>/dev/null'

# --- 7. replaced by rename (new inode) ---
ticket r1 /opt/r1/true --ttl 1h
cp /bin/busybox /opt/r1/true.new && mv /opt/r1/true.new /opt/r1/true
out=$(gated $PROBE exec /opt/r1/true 2>&1)
check "binary replaced by rename is denied" contains "$out" "EXEC_ERRNO=EPERM"

# --- 8. sealing: what the daemon hashed is what runs ---
start_writer() { # start_writer VERB FILE: a probe holding FILE writable (hold-write or
  # mmap-write) until $W/trigger exists; returns once it holds it; sets HOLD
  rm -f $W/trigger $W/done
  $PROBE "$1" "$2" $W/trigger $W/done >$W/hold.out 2>&1 &
  HOLD=$!
  i=0; while ! grep -q HOLD_OPEN $W/hold.out 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
}
# 8a. a file open for writing elsewhere is not ticketed (its writer could change it later)
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
out=$(execgate submit $W/st.ticket 2>&1); rc=$?
check "  ... once written, its old ticket no longer matches (digest_mismatch)" contains "$out" "digest_mismatch"
# 8b. bytes changed through a shared writable mapping made before the ticket: no page
# fault, so no ctime change; the mapping counts as a writer, so the ticket never seals
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
# 8c. truncate by path: refused like a write open; a metadata change (chmod u+s) after
# the ticket moves ctime: stale
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
# 8c'. inode reuse: a file deleted and another created on the same inode number with a
# ctime forged by setting the clock back matches (dev, ino, ctime); it does not match the
# i_generation the kernel recorded at the sealing open. The entry is shifted to another
# generation with bpf() from outside the scope, which is what the reused inode looks like.
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

# 8d. while the daemon seals a file (a big one: hashing takes a while under TCG) it
# neither runs (`unsealed`) nor opens for writing
mkdir -p /opt/big && cp /bin/busybox /opt/big/true && dd if=/dev/zero bs=1M count=96 >>/opt/big/true 2>/dev/null
issue_ops big /opt/big/true --ttl 1h
execgate submit $W/big.ticket >$W/big.out 2>&1 &
SUB=$!
seen=0; i=0
while [ $i -lt 100 ] && kill -0 $SUB 2>/dev/null; do
  in_scope $PROBE exec /opt/big/true >/dev/null 2>&1  # not `execgate run`: it asks the busy daemon
  if grep -F '"reason":"unsealed"' $AUDIT | grep -qF /opt/big/true; then seen=1; break; fi
  sleep 0.05; i=$((i + 1))
done
check "sealing: an exec while the file is being sealed is denied (unsealed)" [ $seen = 1 ]
[ $seen = 1 ] || { echo "  tries $i; submit: $(cat $W/big.out)"; grep -F /opt/big/true $AUDIT | cut -c1-300 | tail -5; }
out=$($PROBE open-write /opt/big/true 2>&1)
check "  ... and it cannot be opened for writing meanwhile" contains "$out" "OPEN_ERRNO=EPERM"
wait $SUB; rc=$?
check "  ... the submit then installs it" sh -c "[ $rc = 0 ] && grep -q installed $W/big.out"
out=$(gated $PROBE exec /opt/big/true 2>&1); rc=$?
check "  ... and it runs" [ "$rc" = 0 ]
rm -f /opt/big/true

# --- 9. max_uses = 2 ---
ticket mu /opt/mu/true --ttl 1h --max-uses 2
T_MU=$TID
gated $PROBE exec /opt/mu/true >/dev/null 2>&1; r1=$?
gated $PROBE exec /opt/mu/true >/dev/null 2>&1; r2=$?
out=$(gated $PROBE exec /opt/mu/true 2>&1)
check "max_uses=2: two execs run" [ "$r1" = 0 -a "$r2" = 0 ]
check "max_uses=2: the third is denied" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited exhausted" audit_has '"reason":"exhausted"' "\"ticket\":\"$T_MU\""

# --- 9b. lineage: a child ticket runs only from its parent ticket's image ---
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

# --- 10. outside the scope nothing changes ---
out=$($PROBE exec /opt/cp1/echo outside 2>&1)
check "process outside the scope is unaffected" [ "$out" = "outside" ]

# --- 11. bypass attempts: each denied and audited ---
out=$(gated $PROBE open-write /usr/local/lib/egpin/echo 2>&1)
check "bypass: open a pinned baseline binary for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
check "  ... audited write_protected" audit_has '"reason":"write_protected"' '"hook":"open_write"' '"path":"echo"' '"ticket":null'
out=$(gated $PROBE truncate /usr/local/lib/egpin/echo 2>&1)
check "bypass: truncate a pinned baseline binary from the scope" contains "$out" "TRUNCATE_ERRNO=EPERM"
out=$(gated /usr/local/lib/egpin/echo intact 2>&1)
check "  ... and it still runs unchanged" [ "$out" = "intact" ]

out=$(gated $PROBE exec /lib64/ld-linux-x86-64.so.2 /opt/cp1/echo 2>&1)
check "bypass: run via the dynamic loader" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited loader_bypass" audit_has '"reason":"loader_bypass"' '"hook":"exec"'
out=$(gated $PROBE mmap-exec /opt/cp1/echo 2>&1)
check "bypass: mmap PROT_EXEC of an unticketed file" contains "$out" "MMAP_ERRNO=EPERM"
check "  ... audited" audit_has '"reason":"loader_bypass"' '"hook":"mmap_exec"'
out=$(gated $PROBE mprotect-exec /opt/cp1/echo 2>&1)
check "bypass: mprotect to PROT_EXEC of an unticketed file" contains "$out" "MPROTECT_ERRNO=EPERM"
check "  ... audited" audit_has '"reason":"loader_bypass"' '"hook":"mprotect_exec"'
out=$(gated $PROBE memfd-exec /opt/app/true 2>&1)
check "bypass: memfd copy of a ticketed binary (fexecve)" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited memfd" audit_has '"reason":"memfd"'
m=$(audit_mark)
out=$(gated $PROBE tmpfile-exec /tmp /opt/app/true 2>&1)
check "bypass: O_TMPFILE copy of a ticketed binary (fexecve)" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited tmpfile" audit_since "$m" '"reason":"tmpfile"' '"hook":"exec"'
m=$(audit_mark)
out=$(gated $PROBE unlinked-exec /tmp/eg-unlinked /opt/app/true 2>&1)
check "bypass: a copy unlinked while open, run through its fd" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited unlinked" audit_since "$m" '"reason":"unlinked"' '"hook":"exec"'
out=$(gated $PROBE execveat-empty /opt/cp1/echo 2>&1)
check "bypass: execveat(fd, \"\", AT_EMPTY_PATH) of an unticketed file" contains "$out" "EXEC_ERRNO=EPERM"
cp /bin/busybox $W/tmpfile-exec; chmod 755 $W/tmpfile-exec
out=$(gated $PROBE exec $W/tmpfile-exec true 2>&1)
check "bypass: freshly written file in /tmp" contains "$out" "EXEC_ERRNO=EPERM"
mv /opt/script/true /opt/script/sh
printf '#!/opt/script/sh\necho script-ran\n' >/opt/script/run.sh; chmod 755 /opt/script/run.sh
ticket script /opt/script/run.sh --ttl 1h
out=$(gated $PROBE exec /opt/script/run.sh 2>&1)
check "bypass: ticketed script with an unticketed interpreter" contains "$out" "EXEC_ERRNO=EPERM"
out=$(gated sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs && echo ESCAPED' 2>&1)
check "bypass: leave the scope through cgroup.procs" sh -c "! echo '$out' | grep -q ESCAPED"
check "  ... audited scope_escape" audit_has '"reason":"scope_escape"' '"hook":"cgroup_write"'
out=$(gated $PROBE clone-into-cgroup /sys/fs/cgroup 2>&1)
check "bypass: clone3(CLONE_INTO_CGROUP) out of the scope" contains "$out" "CLONE_ERRNO=EPERM"
check "  ... audited" audit_has '"reason":"scope_escape"' '"hook":"clone_into_cgroup"'
out=$(gated $PROBE bpf 2>&1)
check "bypass: bpf() from the scope (map edits, detach)" contains "$out" "BPF_ERRNO=EPERM"
check "  ... audited gate_tamper" audit_has '"reason":"gate_tamper"' '"hook":"bpf"'
# with every capability allowed (this suite's policy), the mount hooks still refuse
mkdir -p /mnt/gm
refused "mount a tmpfs (mount hook)" MOUNT privilege mount mount-tmpfs /mnt/gm
refused "unmount bpffs under the pins (mount hook)" UMOUNT gate_tamper mount umount /sys/fs/bpf
check "  ... the pins are still there" [ -e /sys/fs/bpf/execgate/link_eg_bprm_check ]
gated rm -f /sys/fs/bpf/execgate/link_eg_bprm_check >/dev/null 2>&1
check "bypass: unlink the gate's pinned link from the scope" [ -e /sys/fs/bpf/execgate/link_eg_bprm_check ]
check "  ... audited" audit_has '"reason":"gate_tamper"' '"hook":"pin_unlink"'
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
out=$(sh -c "exec 3>/sys/fs/cgroup/cgroup.procs; execgate run -- sh -c 'echo \$\$ >&3; cat /proc/self/cgroup'" 2>&1)
check "bypass: leave the scope through an inherited cgroup.procs fd" contains "$out" "/gated/"
check "  ... audited scope_escape (fd_write)" audit_has '"reason":"scope_escape"' '"hook":"fd_write"'
out=$(sh -c "exec 3>>$AUDIT; execgate run -- sh -c 'echo forged >&3'" 2>&1)
check "bypass: append to the audit log through an inherited fd" sh -c "! grep -q '^forged' $AUDIT"
check "  ... audited gate_tamper (fd_write)" audit_has '"reason":"gate_tamper"' '"hook":"fd_write"'
out=$($PROBE finit-module /bin/busybox 2>&1)
check "control: outside the scope a bogus module fails on its content" sh -c "echo '$out' | grep -q MODULE_ERRNO && ! echo '$out' | grep -q EPERM"
out=$(gated $PROBE finit-module /bin/busybox 2>&1)
check "bypass: load a kernel module (finit_module) from the scope" contains "$out" "MODULE_ERRNO=EPERM"
out=$(gated $PROBE init-module 2>&1)
check "bypass: load a kernel module (init_module) from the scope" contains "$out" "MODULE_ERRNO=EPERM"
check "  ... audited gate_tamper (kernel_load)" audit_has '"reason":"gate_tamper"' '"hook":"kernel_load"'
outside_then_inside "set the system clock (half of forging a ctime)" SETTIME gate_tamper settime settime
# usermode helpers: root in a cgroup scope pointing core_pattern (or modprobe, hotplug,
# uevent_helper) at its own program would have the kernel run it outside the scope
cp_before=$(cat /proc/sys/kernel/core_pattern)
outside_then_inside "open core_pattern (a sysctl) for writing" OPEN scope_escape kernel_setting \
  open-write /proc/sys/kernel/core_pattern
out=$(gated $PROBE open-write /proc/sys/kernel/modprobe 2>&1)
check "bypass: point kernel.modprobe at a program from the scope" contains "$out" "OPEN_ERRNO=EPERM"
n_fd=$(grep -cF '"hook":"fd_write"' $AUDIT)
sh -c "exec 3>/proc/sys/kernel/core_pattern; execgate run -- sh -c 'echo \"|/tmp/evil\" >&3'" >/dev/null 2>&1
check "bypass: write core_pattern through an fd opened before entering the scope" [ "$(cat /proc/sys/kernel/core_pattern)" = "$cp_before" ]
check "  ... audited (fd_write)" audit_grows "$n_fd" '"hook":"fd_write"'
# binfmt_misc: a registered handler is a program the kernel runs for matching files,
# whoever execs them (the module comes from the kernel package: scripts/fetch-kernel.sh)
insmod "/lib/modules/$(uname -r)/extra/binfmt_misc.ko" 2>/dev/null
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
check "binfmt_misc is loaded and mounted" [ -e /proc/sys/fs/binfmt_misc/register ]
out=$($PROBE open-write /proc/sys/fs/binfmt_misc/register 2>&1)
check "control: outside the scope binfmt_misc's register opens for writing" contains "$out" "OPEN_OK"
n_ks=$(grep -cF '"hook":"kernel_setting"' $AUDIT)
out=$(gated $PROBE open-write /proc/sys/fs/binfmt_misc/register 2>&1)
check "bypass: register a binfmt_misc handler from the scope" contains "$out" "OPEN_ERRNO=EPERM"
check "  ... audited (kernel_setting)" audit_grows "$n_ks" '"hook":"kernel_setting"'
echo ':egc:E::egc::/tmp/evil:' >/proc/sys/fs/binfmt_misc/register 2>/dev/null
check "control: outside the scope a handler registers" [ -e /proc/sys/fs/binfmt_misc/egc ]
echo -1 >/proc/sys/fs/binfmt_misc/egc 2>/dev/null
n_fd=$(grep -cF '"hook":"fd_write"' $AUDIT)
sh -c "exec 3>/proc/sys/fs/binfmt_misc/register; execgate run -- sh -c 'echo \":eg:E::egx::/tmp/evil:\" >&3'" >/dev/null 2>&1
check "  ... nor through an fd opened before entering the scope" [ ! -e /proc/sys/fs/binfmt_misc/eg ]
check "  ... audited (fd_write)" audit_grows "$n_fd" '"hook":"fd_write"'
# what kernel lockdown (integrity) forbids, e.g. I/O port access (disk controllers)
outside_then_inside "iopl(3) (raw I/O ports)" IOPL gate_tamper lockdown iopl
# bytes beneath the filesystems: a block device under ticketed files, /dev/mem, SG_IO
mknod /tmp/eg-blk b 7 200 2>/dev/null
out=$($PROBE open-write /tmp/eg-blk 2>&1)
check "control: outside the scope a block device opens for writing (or fails on the device)" sh -c "echo '$out' | grep -q -e OPEN_OK -e ENXIO"
out=$(gated $PROBE open-write /tmp/eg-blk 2>&1)
check "bypass: open a block device for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
check "  ... audited gate_tamper (device_write)" audit_has '"reason":"gate_tamper"' '"hook":"device_write"'
[ -e /dev/mem ] || mknod /dev/mem c 1 1
out=$(gated $PROBE open-write /dev/mem 2>&1)
check "bypass: open /dev/mem for writing from the scope" contains "$out" "OPEN_ERRNO=EPERM"
out=$($PROBE ioctl /dev/null 2285 2>&1)
check "control: SG_IO outside the scope reaches the driver" contains "$out" "IOCTL_ERRNO=ENOTTY"
m=$(audit_mark)
out=$(gated $PROBE ioctl /dev/null 2285 2>&1)
check "bypass: SG_IO (writes through a read-only disk fd) from the scope" contains "$out" "IOCTL_ERRNO=EPERM"
check "  ... audited gate_tamper (device_command, an access record)" audit_since "$m" '"event":"access"' '"reason":"gate_tamper"' '"hook":"device_command"'
m=$(audit_mark)
out=$(gated $PROBE ioctl /dev/null c0484e43 2>&1)
check "bypass: NVMe passthrough ioctl from the scope" contains "$out" "IOCTL_ERRNO=EPERM"
check "  ... audited gate_tamper (device_command)" audit_since "$m" '"reason":"gate_tamper"' '"hook":"device_command"'
# io_uring passthrough: an NVMe read by IORING_OP_URING_CMD on a read-only fd of the
# namespace's generic char device (run-vm-suites.sh gives this suite's VM an NVMe disk)
NG=$(ls /dev/ng*n1 2>/dev/null | head -1)
check "the VM has an NVMe generic char device (/dev/ngXnY)" [ -n "$NG" ]
out=$($PROBE uring-cmd ${NG:-/dev/ng0n1} 2>&1)
check "control: outside the scope an io_uring NVMe passthrough read is served" contains "$out" "URING_CMD_OK"
m=$(audit_mark)
out=$(gated $PROBE uring-cmd ${NG:-/dev/ng0n1} 2>&1)
check "bypass: io_uring NVMe passthrough read (uring_cmd) from the scope" contains "$out" "URING_CMD_ERRNO=EPERM"
check "  ... audited gate_tamper (device_command, not device_write: it was a read)" audit_since "$m" '"reason":"gate_tamper"' '"hook":"device_command"'
n_fd=$(grep -cF '"hook":"fd_write"' $AUDIT)
sh -c "exec 4>/dev/mem && execgate run -- sh -c 'echo x >&4'" >/dev/null 2>&1
check "  ... nor written through an fd opened before entering the scope (fd_write)" audit_grows "$n_fd" '"hook":"fd_write"'
rm -f /tmp/eg-blk
if [ -e /sys/kernel/security/ima/policy ]; then
  out=$(gated $PROBE open-write /sys/kernel/security/ima/policy 2>&1)
  check "bypass: write an IMA policy (securityfs) from the scope" contains "$out" "OPEN_ERRNO=EPERM"
fi
if [ -e /sys/kernel/uevent_helper ]; then
  out=$(gated $PROBE open-write /sys/kernel/uevent_helper 2>&1)
  check "bypass: set /sys/kernel/uevent_helper from the scope" contains "$out" "OPEN_ERRNO=EPERM"
fi
sleep 100 &
VICTIM=$!
out=$(gated $PROBE ptrace $VICTIM 2>&1)
kill $VICTIM
check "bypass: ptrace a process outside the scope" contains "$out" "PTRACE_ERRNO=EPERM"
check "  ... audited ptrace" audit_has '"reason":"ptrace"'

# --- 12. SIGKILL the daemon: the pinned gate keeps enforcing ---
kill -KILL $DPID; wait $DPID 2>/dev/null
out=$(in_scope $PROBE exec /opt/cp1/echo 2>&1)
check "daemon SIGKILLed: unticketed exec still EPERM" contains "$out" "EXEC_ERRNO=EPERM"
out=$(in_scope $PROBE exec /opt/app/true 2>&1); rc=$?
check "daemon SIGKILLed: ticketed exec still runs" [ "$rc" = 0 ]

# --- 13. restart: pinned state reused ---
start_daemon $W/enforce.toml
check "restarted daemon reuses the pins" audit_has '"event":"daemon_start"' '"reason":"reused_pins"'
check "restarted daemon still lists the ticket" sh -c "execgate tickets | grep -q $T_TRUE"
out=$(gated $PROBE exec /opt/app/true 2>&1); rc=$?
check "ticket installed before the restart still runs" [ "$rc" = 0 ]
check "kernel events lost while the daemon was down are audited after restart" audit_has '"reason":"no_ticket"' '/opt/cp1/echo'

# --- 14. monitor mode: denies nothing, still records ---
stop_daemon
start_daemon $W/monitor.toml
out=$(gated $PROBE exec /opt/cp1/echo monitored 2>&1)
check "monitor mode lets an unticketed exec run" [ "$out" = "monitored" ]
check "  ... and records monitor_deny" audit_has '"verdict":"monitor_deny"' '"reason":"no_ticket"' '/opt/cp1/echo'
stop_daemon
start_daemon $W/enforce.toml
out=$(gated $PROBE exec /opt/cp1/echo 2>&1)
check "back to enforce: denied again" contains "$out" "EXEC_ERRNO=EPERM"

# --- 14b. scope by level: a nested scope cgroup gates its own subtree, nothing around it;
# a scope change on SIGHUP takes effect at once ---
scope_shows() { execgate status 2>/dev/null | grep -q "^scope:.*$1"; }
scope_is() { poll scope_shows "$1"; } # scope_is TEXT: until `execgate status` shows TEXT in its scope line
cp $W/enforce.toml $W/enforce.toml.orig
sed 's|^cgroups = \["/gated"\]|cgroups = ["/gated", "/deep/a/b"]|' $W/enforce.toml.orig >$W/enforce.toml
kill -HUP $DPID
check "SIGHUP: the nested scope /deep/a/b is active" scope_is "/deep/a/b"
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
poll sh -c '! execgate status | grep -q "^scope:.*/deep/a/b"'
out=$(in_cg /deep/a/b/c $PROBE exec /opt/cp1/echo released 2>&1)
check "SIGHUP without /deep/a/b: its subtree is released at once" [ "$out" = "released" ]
out=$(in_scope $PROBE exec /opt/cp1/echo 2>&1)
check "  ... while /gated stays gated" contains "$out" "EXEC_ERRNO=EPERM"

# the baseline pins only files no one but root can write: a group-writable file in a
# baseline directory (its group could rewrite it, even through a shared writable mapping
# made before the pin) is not pinned, and runs once it is root's alone again
refused_count_is() { # N: the status line counts N refused baseline files (0: none)
  if [ "$1" = 0 ]; then
    execgate status 2>/dev/null | grep "^baseline:" | grep -qv refused
  else
    execgate status 2>/dev/null | grep -q "^baseline:.* $1 refused"
  fi
}
baseline_refused() { poll refused_count_is "$1"; }
mkdir -p $PROBE_DIR/egw && cp /bin/busybox $PROBE_DIR/egw/true && chmod 0775 $PROBE_DIR/egw/true
kill -HUP $DPID
check "SIGHUP: a group-writable file in a baseline directory is refused (status)" baseline_refused 1
out=$(gated $PROBE exec $PROBE_DIR/egw/true 2>&1)
check "  ... and does not run in the scope" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited no_ticket" audit_has '"reason":"no_ticket"' 'egw/true'
chmod 0755 $PROBE_DIR/egw/true
kill -HUP $DPID
check "SIGHUP: root's alone again, it is pinned" baseline_refused 0
check "  ... and runs" sh -c "$(command -v execgate) run -- $PROBE exec $PROBE_DIR/egw/true"
rm -rf $PROBE_DIR/egw

# --- 14b. suspend: ticket validity keeps counting the time the host slept ---
# The exec path judges validity on jiffies (docs/gate.md, "Exec clock"), which stop while
# the host sleeps; CLOCK_BOOTTIME does not. A ticket that expires while the host is
# suspended must be expired at resume. Times are chosen so that, without the resume
# recalibration, the estimate would sit more than its 1 s margin inside the ticket's window
# (2 s after the start of a 6 s ticket) and the exec would run.
check "status: the exec clock runs on jiffies" sh -c 'execgate status | grep -q "^clock: *jiffies"'
mkdir -p /opt/sus && cp /bin/busybox /opt/sus/true && chmod 755 /opt/sus/true
ticket sus /opt/sus/true --ttl 6s
T_SUS=$TID
out=$(in_scope $PROBE exec /opt/sus/true 2>&1)
check "before the suspend the 6 s ticket runs" [ -z "$out" ]
sleep 2
kill -STOP $DPID # the daemon would remove the expired entry at resume; the kernel alone decides
echo enabled >/sys/class/rtc/rtc0/device/power/wakeup
echo 0 >/sys/class/rtc/rtc0/wakealarm && echo +8 >/sys/class/rtc/rtc0/wakealarm
b0=$(cut -d' ' -f1 /proc/uptime)
src=0
if ! echo mem >/sys/power/state; then src=1; fi
b1=$(cut -d' ' -f1 /proc/uptime)
out=$(in_scope $PROBE exec /opt/sus/true 2>&1)
kill -CONT $DPID
check "the host suspended to RAM (rc $src, boot clock $b0 -> $b1)" [ "$src" = 0 ]
check "a ticket that expired while the host slept is denied at resume" contains "$out" "EXEC_ERRNO=EPERM"
check "  ... audited: exec denied expired" audit_has '"event":"exec"' '"verdict":"deny"' '"reason":"expired"' "\"ticket\":\"$T_SUS\""
out=$(in_scope $PROBE exec /opt/app/true 2>&1)
check "  ... a ticket still valid runs after the resume" [ -z "$out" ]
check "  ... and the exec clock has its base again" sh -c 'execgate status | grep -q "^clock: *jiffies"'
# without a kernel config naming CONFIG_HZ the daemon runs the gate on clock reads alone
mv "/boot/config-$(uname -r)" $W/kconfig
restart_daemon $W/enforce.toml
check "no kernel config: status says the clocksource is read on every check" \
  sh -c 'execgate status | grep -q "^clock: *clocksource on every check (kernel config"'
check "  ... the daemon says why" grep -q "no CONFIG_HZ" $W/daemon.log
out=$(in_scope $PROBE exec /opt/app/true 2>&1)
check "  ... a ticketed exec runs" [ -z "$out" ]
out=$(in_scope $PROBE exec /opt/sus/true 2>&1)
check "  ... the file whose ticket expired stays denied" contains "$out" "EXEC_ERRNO=EPERM"
# a config whose CONFIG_HZ is not the running kernel's (1000 for 250): the estimate runs at
# a quarter of the clock's pace; the daemon's 100 ms check must drop it before its error
# reaches the 1 s margin, and execs then read the clock
sed 's/^CONFIG_HZ=.*/CONFIG_HZ=1000/' $W/kconfig >"/boot/config-$(uname -r)"
restart_daemon $W/enforce.toml
clock_drifted() { execgate status 2>/dev/null | grep -q "^clock: *clocksource on every check (estimate was [0-9]* ms off"; }
check "wrong CONFIG_HZ: the estimate is dropped (status)" poll clock_drifted
d=$(execgate status | sed -n 's/.*estimate was \([0-9]*\) ms off.*/\1/p')
check "  ... within the margin: off by ${d:-?} ms (under 1 s) when dropped" [ "${d:-1000}" -lt 1000 ]
check "  ... the daemon says so" grep -q "ms off the boot clock (wrong CONFIG_HZ?)" $W/daemon.log
out=$(in_scope $PROBE exec /opt/app/true 2>&1)
check "  ... a ticketed exec runs" [ -z "$out" ]
mv $W/kconfig "/boot/config-$(uname -r)"
restart_daemon $W/enforce.toml
check "  ... config back: jiffies again" sh -c 'execgate status | grep -q "^clock: *jiffies"'

# --- 15. the audit log verifies ---
stop_daemon
out=$(execgate audit verify $AUDIT --pub $W/audit.pub 2>&1); rc=$?
check "audit log of the whole run verifies" [ "$rc" = 0 ]
[ "$rc" = 0 ] || echo "$out" | head -5

summary
