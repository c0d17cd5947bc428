#!/usr/bin/env bash
# vm-run.sh [options] -- CMD [ARGS...]
#
# Boots a Debian cloud kernel under qemu (TCG, no KVM) with a throw-away busybox initramfs,
# runs CMD as root inside it and exits with CMD's exit status. CMD's stdout+stderr are streamed
# to this script's stdout byte for byte (they travel on their own serial port, so kernel
# messages never mix in). See docs/vm.md.
#
# Options:
#   --kernel NAME|PATH    bookworm (default, 6.1), trixie (6.12) or backports (trixie-backports,
#                         7.x), fetched by scripts/fetch-kernel.sh; or a path to a bzImage/vmlinuz
#   --timeout SECONDS     kill the VM after this long (default 600); exit 124
#   --add PATH            copy PATH (file or directory, recursively) into the VM at its own
#                         absolute path; dynamically linked ELF files bring their libraries
#   --append-cmdline STR  append STR to the kernel command line
#   --console             also stream the kernel console (ttyS0) to stderr
#   -v, --verbose         report initramfs size and timings on stderr
#   -h, --help            this text
#
# Environment: BUILD_DIR (default <repo>/build), EXECGATE_CACHE (default ~/.cache/execgate),
#   EXECGATE_VM_KERNEL, EXECGATE_VM_TIMEOUT, EXECGATE_VM_MEM (1G), EXECGATE_VM_SMP (2),
#   EXECGATE_VM_NOLOCK=1 (do not serialise VMs), EXECGATE_VM_CONSOLE=1 (same as --console),
#   EXECGATE_VM_VERBOSE=1 (same as --verbose), EXECGATE_VM_COMPRESS=none|gzip (per-run part),
#   EXECGATE_VM_BUSYBOX (busybox binary), EXECGATE_VM_SHELL (/bin/sh in the VM; default
#   /bin/dash, "busybox" for busybox ash), EXECGATE_VM_BOOT_RETRIES (1: boots again when the
#   VM died before CMD started), EXECGATE_VM_TCG_THREAD (single|multi, default single),
#   EXECGATE_VM_QEMU_ARGS (extra qemu arguments, word-split).
#
# Exit status: CMD's status; 124 timeout; 125 VM/harness failure (bad usage, no kernel,
#   qemu error, boot failure, kernel panic, no exit marker).
set -uo pipefail
umask 022

prog=vm-run
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

fail() { echo "$prog: $*" >&2; exit 125; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

kernel=${EXECGATE_VM_KERNEL:-bookworm}
timeout_s=${EXECGATE_VM_TIMEOUT:-600}
mem=${EXECGATE_VM_MEM:-1G}
smp=${EXECGATE_VM_SMP:-2}
show_console=${EXECGATE_VM_CONSOLE:-0}
verbose=${EXECGATE_VM_VERBOSE:-0}
t0=$(date +%s.%N)
extra_cmdline=
adds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) [ $# -ge 2 ] || fail "--kernel needs a value"; kernel=$2; shift 2 ;;
    --kernel=*) kernel=${1#*=}; shift ;;
    --timeout) [ $# -ge 2 ] || fail "--timeout needs a value"; timeout_s=$2; shift 2 ;;
    --timeout=*) timeout_s=${1#*=}; shift ;;
    --add) [ $# -ge 2 ] || fail "--add needs a path"; adds+=("$2"); shift 2 ;;
    --add=*) adds+=("${1#*=}"); shift ;;
    --append-cmdline) [ $# -ge 2 ] || fail "--append-cmdline needs a value"
                      extra_cmdline+=" $2"; shift 2 ;;
    --append-cmdline=*) extra_cmdline+=" ${1#*=}"; shift ;;
    --console) show_console=1; shift ;;
    -v|--verbose) verbose=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) usage >&2; fail "unknown option '$1'" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { usage >&2; fail "no command given (usage: $0 [options] -- CMD [ARGS...])"; }
[[ "$timeout_s" =~ ^[0-9]+$ ]] && [ "$timeout_s" -gt 0 ] || fail "--timeout must be a positive integer (seconds), got '$timeout_s'"

for t in qemu-system-x86_64 cpio gzip ldd timeout sha256sum; do
  command -v "$t" >/dev/null || fail "required tool '$t' not found (run scripts/install-deps.sh)"
done
# Applets come from a busybox (static by default). /bin/sh is the host's dash when present:
# Debian's busybox-static is built with "prefer applets"/"standalone shell", so its ash would run
# applets without any execve() and ignore PATH, which defeats an exec gate's tests.
busybox=${EXECGATE_VM_BUSYBOX:-}
if [ -z "$busybox" ]; then
  for b in /usr/bin/busybox /bin/busybox; do
    [ -x "$b" ] && { busybox=$b; break; }
  done
  [ -n "$busybox" ] || fail "busybox not found (install busybox-static)"
  if ldd "$busybox" >/dev/null 2>&1; then
    fail "$busybox is dynamically linked; install busybox-static (or set EXECGATE_VM_BUSYBOX)"
  fi
fi
[ -x "$busybox" ] || fail "busybox $busybox is not executable"
busybox=$(readlink -f "$busybox")
vm_shell=${EXECGATE_VM_SHELL:-/bin/dash}
if [ "$vm_shell" != busybox ]; then
  [ -x "$vm_shell" ] || { [ -n "${EXECGATE_VM_SHELL:-}" ] && fail "EXECGATE_VM_SHELL=$vm_shell is not executable"; vm_shell=busybox; }
  [ "$vm_shell" = busybox ] || vm_shell=$(readlink -f "$vm_shell")
fi

cache=${EXECGATE_CACHE:-${HOME:-/root}/.cache/execgate}
mkdir -p "$cache/initramfs" || fail "cannot create cache dir $cache"

# --- kernel ------------------------------------------------------------------------------------
case "$kernel" in
  */*) vmlinuz=$kernel; [ -r "$vmlinuz" ] || fail "kernel image $vmlinuz not readable" ;;
  *) vmlinuz=$("$here/fetch-kernel.sh" "$kernel") || fail "could not get kernel '$kernel' (scripts/fetch-kernel.sh $kernel failed)" ;;
esac

# --- working dir -------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/execgate-vm.XXXXXX") || fail "mktemp failed"
qpid=
tailpid=
cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
  [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "$prog: interrupted" >&2; exit 130' INT
trap 'echo "$prog: terminated" >&2; exit 143' TERM HUP

declare -A seen_lib=()
run=$tmp/run

is_elf() { [ -f "$1" ] && [ "$(LC_ALL=C head -c 4 "$1" 2>/dev/null | tr -d '\0')" = $'\177ELF' ]; }

# copy_file SRC DEST_ABS [ROOT]: regular file content (symlinks dereferenced), mode kept.
copy_file() {
  local root=${3:-$run}
  mkdir -p "$root$(dirname "$2")" && cp -L --preserve=mode,timestamps "$1" "$root$2"
}

# Shared libraries of an ELF (as ldd resolves them on the host), copied to the same paths.
add_libs() { # FILE [ROOT]
  local f=$1 root=${2:-$run} line lib
  is_elf "$f" || return 0
  local out
  out=$(LC_ALL=C ldd "$f" 2>/dev/null) || return 0
  while IFS= read -r line; do
    case "$line" in
      *"=> not found"*) echo "$prog: warning: $f needs ${line%% =>*} (not found on the host)" | tr -d '\t' >&2; continue ;;
      *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
      *"=>"*) continue ;;     # linux-vdso.so.1 => (...) and friends
      *[[:space:]]/*) lib=${line#"${line%%/*}"}; lib=${lib%% (*} ;;   # the dynamic loader
      *) continue ;;
    esac
    [ -n "$lib" ] && [ -z "${seen_lib[$root$lib]:-}" ] || continue
    seen_lib[$root$lib]=1
    [ -e "$root$lib" ] || copy_file "$lib" "$lib" "$root" || fail "copying library $lib (needed by $f) failed"
  done <<<"$out"
}

# --- base initramfs (cached): busybox, applet links, /init, static /etc files --------------------
# Keyed by busybox, the shell (and its libraries) and this script: any change rebuilds it.
base_inputs=("$busybox" "${BASH_SOURCE[0]}")
if [ "$vm_shell" != busybox ]; then
  base_inputs+=("$vm_shell")
  while IFS= read -r l; do base_inputs+=("$l"); done < <(LC_ALL=C ldd "$vm_shell" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
fi
if ldd "$busybox" >/dev/null 2>&1; then
  while IFS= read -r l; do base_inputs+=("$l"); done < <(LC_ALL=C ldd "$busybox" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
fi
base_key=$(sha256sum "${base_inputs[@]}" | sed 's/ .*//' | sha256sum | cut -c1-16)
base=$cache/initramfs/base-$base_key.cpio.gz

write_init() {
cat <<'INIT'
#!/bin/sh
# execgate vm-run init (PID 1). Console (ttyS0) carries kernel noise and the exit marker;
# CMD's output goes to ttyS1, which the host streams to its stdout.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C TERM=dumb EXECGATE_VM=1
export EXECGATE_BPF_OBJECT=/usr/local/lib/execgate/execgate.bpf.o
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
chmod 0755 /     # rootfs (tmpfs) starts out 1777
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# tmpfs on /tmp and /run, keeping whatever the initramfs put there (--add /tmp/x).
for d in /tmp /run; do
  mkdir -p /.mnt$d
  case $d in /tmp) m=1777 ;; *) m=0755 ;; esac
  mount -t tmpfs -o mode=$m tmpfs /.mnt$d
  cp -a $d/. /.mnt$d/ 2>/dev/null
  mount --move /.mnt$d $d
done
rm -rf /.mnt
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t securityfs securityfs /sys/kernel/security
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /var/lib /var/log /var/tmp /etc/execgate /root
chmod 1777 /var/tmp
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >/etc/machine-id
echo >>/etc/machine-id
chmod 0444 /etc/machine-id
hostname execgate-vm
ip link set lo up 2>/dev/null
stty -F /dev/ttyS1 raw -echo 2>/dev/null
cd /root
. /etc/vm-run/cmd
printf '\nEXECGATE_VM_READY\n'
("$@") </dev/null >/dev/ttyS1 2>&1
rc=$?
# tcsetattr(TCSADRAIN): wait until CMD's output has left the UART before powering off.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
printf '\nEXECGATE_VM_EXIT=%d\n' "$rc"
sync
poweroff -f
INIT
}

# A newc cpio entry with no data (directories and device nodes without needing mknod/root).
newc_entry() { # NAME MODE(octal) NLINK RDEVMAJOR RDEVMINOR INO
  local name=$1 ns=$(( ${#1} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$6" "$((8#$2))" 0 0 "$3" 0 0 0 0 "$4" "$5" "$ns" 0
  printf '%s\0' "$name"
  local pad=$(( (4 - (110 + ns) % 4) % 4 ))
  [ "$pad" -gt 0 ] && printf '%*s' "$pad" '' | tr ' ' '\0'
  return 0
}

build_base() {
  local s=$tmp/base d
  mkdir -p "$s"
  for d in bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin usr/local/lib/execgate \
           lib lib64 usr/lib etc/vm-run etc/execgate proc sys dev tmp run root mnt \
           var/lib var/log var/tmp; do
    mkdir -p "$s/$d"
  done
  chmod 1777 "$s/tmp"
  chmod 0700 "$s/root"
  cp "$busybox" "$s/bin/busybox"
  chmod 0755 "$s/bin/busybox"
  add_libs "$busybox" "$s"
  # Every applet in /bin, and also at its canonical place (e.g. /usr/bin/env for shebangs).
  local a name
  while read -r a; do
    name=${a##*/}
    [ "$name" = busybox ] && continue
    [ -e "$s/bin/$name" ] || ln -s busybox "$s/bin/$name"
    case "$a" in
      bin/*|"") ;;
      *) [ -e "$s/$a" ] || [ -L "$s/$a" ] || { mkdir -p "$s/${a%/*}"; ln -s /bin/busybox "$s/$a"; } ;;
    esac
  done < <("$busybox" --list-full)
  if [ "$vm_shell" != busybox ]; then
    cp "$vm_shell" "$s/bin/${vm_shell##*/}"
    chmod 0755 "$s/bin/${vm_shell##*/}"
    add_libs "$vm_shell" "$s"
    rm -f "$s/bin/sh"
    ln -s "${vm_shell##*/}" "$s/bin/sh"
  fi
  write_init >"$s/init"
  chmod 0755 "$s/init"
  printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nexecgate-test:x:1000:1000:execgate test user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$s/etc/passwd"
  printf 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nexecgate-test:x:1000:\nnogroup:x:65534:\n' >"$s/etc/group"
  printf 'root::0:0:99999:7:::\n' >"$s/etc/shadow"
  chmod 0600 "$s/etc/shadow"
  echo execgate-vm >"$s/etc/hostname"
  printf '127.0.0.1\tlocalhost execgate-vm\n::1\tlocalhost\n' >"$s/etc/hosts"
  : >"$s/etc/fstab"
  ln -s /proc/self/mounts "$s/etc/mtab"
  {
    (cd "$s" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) || return 1
    # /dev/console must exist before init runs (devtmpfs is mounted by init itself).
    newc_entry dev 040755 2 0 0 900001
    newc_entry dev/console 020600 1 5 1 900002
    newc_entry TRAILER!!! 0 1 0 0 0
  } | gzip -9 >"$tmp/base.cpio.gz" || return 1
  mv -f "$tmp/base.cpio.gz" "$base"
  # Drop bases of other busybox/harness versions that have not been used for a day.
  find "$cache/initramfs" -maxdepth 1 -name 'base-*.cpio.gz' ! -name "${base##*/}" -atime +1 -delete 2>/dev/null
  return 0
}
if [ ! -s "$base" ]; then
  build_base || fail "building the base initramfs failed"
fi

# --- per-run part: CMD, execgate build output, --add files, shared libraries ----------------------
mkdir -p "$run/etc/vm-run"

# Command line: one POSIX-sh 'set --' with every argument single-quoted (exact boundaries).
squote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
  printf 'set --'
  for a in "$@"; do printf ' '; squote "$a"; done
  printf '\n'
} >"$run/etc/vm-run/cmd"

# execgate build output
build_dir=${BUILD_DIR:-$repo/build}
for b in execgate execgated; do
  if [ -f "$build_dir/$b" ]; then
    copy_file "$build_dir/$b" "/usr/local/bin/$b" || fail "copying $build_dir/$b failed"
    chmod 0755 "$run/usr/local/bin/$b"
    add_libs "$build_dir/$b"
  fi
done
if [ -f "$build_dir/execgate.bpf.o" ]; then
  copy_file "$build_dir/execgate.bpf.o" /usr/local/lib/execgate/execgate.bpf.o || fail "copying execgate.bpf.o failed"
  copy_file "$build_dir/execgate.bpf.o" /usr/local/bin/execgate.bpf.o || fail "copying execgate.bpf.o failed"
  chmod 0644 "$run/usr/local/lib/execgate/execgate.bpf.o" "$run/usr/local/bin/execgate.bpf.o"
fi

# The kernel's config at /boot/config-RELEASE, as a Debian host has it (execgated reads
# CONFIG_HZ there for its exec clock); fetched kernels keep it beside the image.
# Its modules the suites load (fetch-kernel.sh's MODULES) go to /lib/modules/RELEASE/extra.
kdir=$(dirname "$vmlinuz")
if [ -f "$kdir/config" ] && [ -f "$kdir/version" ]; then
  copy_file "$kdir/config" "/boot/config-$(cat "$kdir/version")" || fail "copying the kernel config failed"
  for m in "$kdir"/modules/*.ko; do
    [ -f "$m" ] || continue
    copy_file "$m" "/lib/modules/$(cat "$kdir/version")/extra/${m##*/}" || fail "copying module $m failed"
  done
fi

# --add paths
for p in "${adds[@]}"; do
  [ -e "$p" ] || fail "--add $p: no such file or directory"
  case "$p" in /*) abs=$p ;; *) abs=$PWD/$p ;; esac
  abs=$(realpath -s -m "$abs")
  [ "$abs" != / ] || fail "--add /: refusing to copy the whole host"
  if [ -d "$p" ]; then
    # Directories are copied as they are (symlinks inside stay symlinks); a symlink given on
    # the command line is followed. Merges with what is already there (several --add).
    mkdir -p "$run$abs" && chmod --reference="$p" "$run$abs" && cp -a "$p/." "$run$abs/" ||
      fail "copying directory $p failed"
    while IFS= read -r -d '' f; do add_libs "$f"; done < <(find "$run$abs" -type f -print0)
  else
    copy_file "$p" "$abs" || fail "copying $p failed"
    add_libs "$p"
  fi
done

# Directory modes: the VM's standard directories keep their usual modes (the per-run archive
# would otherwise re-chmod them); other directories get the host directory's mode when it
# exists (e.g. 0700 from mktemp -d), else 0755.
while IFS= read -r -d '' d; do
  rel=${d#"$run"}
  case "$rel" in
    /tmp|/var/tmp) chmod 1777 "$d" ;;
    /root) chmod 0700 "$d" ;;
    /bin|/sbin|/lib|/lib64|/etc|/etc/vm-run|/etc/execgate|/var|/var/lib|/var/log|/run|/mnt|/usr|/usr/bin|/usr/sbin|/usr/lib|/usr/local|/usr/local/*)
      chmod 0755 "$d" ;;
    *) if [ -d "$rel" ]; then chmod --reference="$rel" "$d"; else chmod 0755 "$d"; fi ;;
  esac
done < <(find "$run" -mindepth 1 -type d -print0)

# The per-run part is left uncompressed by default: gunzip under TCG costs more than it saves.
case "${EXECGATE_VM_COMPRESS:-none}" in
  none) compress="cat" ;;
  gzip) compress="gzip -1" ;;
  *) fail "EXECGATE_VM_COMPRESS must be none or gzip" ;;
esac
initrd=$tmp/initrd.img
{
  cat "$base" || fail "cannot read $base"
  # An uncompressed archive may follow only at a 4-byte aligned offset (zeros are skipped).
  pad=$(( (4 - $(stat -c %s "$base") % 4) % 4 ))
  [ "$pad" = 0 ] || head -c "$pad" /dev/zero
  (cd "$run" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) | $compress
} >"$initrd" || fail "building the initramfs failed"
t1=$(date +%s.%N)

# --- boot ----------------------------------------------------------------------------------------
# Serialise VMs on this machine (2 cores, TCG); the timeout only counts once we hold the lock.
if [ "${EXECGATE_VM_NOLOCK:-0}" != 1 ] && command -v flock >/dev/null; then
  exec 8>"$cache/vm.lock"
  if ! flock -n 8; then
    echo "$prog: waiting for another vm-run on this machine to finish ($cache/vm.lock)" >&2
    flock 8
  fi
fi

console=$tmp/console.log
cmdline="console=ttyS0 quiet loglevel=1 panic=-1${extra_cmdline}"
# Single-threaded TCG by default: with MTTCG (thread=multi) a vCPU can run stale translated
# code after the kernel live-patches its text (text_poke with int3), which showed up as a rare
# "Oops: int3" at boot on 6.12; it is no slower here. The guest still has $smp CPUs.
tcg_thread=${EXECGATE_VM_TCG_THREAD:-single}

diagnose() {
  echo "$prog: --- last console lines ($vmlinuz) ---" >&2
  # Skip stack-trace/register-dump lines so the reason (panic message, init errors) shows.
  tr -d '\r' <"$console" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
    grep -avE '^[[:space:]]*$|^\[[ 0-9.]+\]  |^\[[ 0-9.]+\] (R[A-Z0-9]{2}|Code|CR2|FS|CS|DR[0-9]):' | tail -n 25 >&2
  if [ -s "$tmp/qemu.err" ]; then
    echo "$prog: --- qemu stderr ---" >&2
    grep -v 'TCG doesn.t support requested feature' "$tmp/qemu.err" | tail -n 20 >&2
  fi
}

boot_retries=${EXECGATE_VM_BOOT_RETRIES:-1}
[[ "$boot_retries" =~ ^[0-9]+$ ]] || fail "EXECGATE_VM_BOOT_RETRIES must be a number"
attempt=0
while :; do
  attempt=$((attempt + 1))
  : >"$console"
  start=$(date +%s.%N)
  timeout -k 5 "$timeout_s" qemu-system-x86_64 \
    -accel "tcg,thread=$tcg_thread" -cpu max -m "$mem" -smp "$smp" \
    -nodefaults -nographic -no-reboot -monitor none \
    -kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline" \
    -serial "file:$console" -serial stdio ${EXECGATE_VM_QEMU_ARGS:-} \
    </dev/null 2>"$tmp/qemu.err" &
  qpid=$!
  if [ "$show_console" = 1 ]; then
    # Follows the console until qemu (its timeout wrapper) exits.
    tail -n +1 -f --pid="$qpid" "$console" | sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r$//' >&2 &
    tailpid=$!
  fi
  wait "$qpid"
  qrc=$?
  qpid=
  if [ -n "$tailpid" ]; then wait "$tailpid" 2>/dev/null; tailpid=; fi
  elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  if [ "$verbose" = 1 ]; then
    awk -v a="$t0" -v b="$t1" -v n="$(stat -c %s "$initrd")" -v e="$elapsed" -v k="$vmlinuz" \
      'BEGIN { printf "vm-run: kernel %s, initramfs %.1f MB prepared in %.2fs, VM ran %ss\n", k, n / 1048576, b - a, e }' >&2
  fi

  marker=$(tr -d '\r' <"$console" | sed -n 's/.*EXECGATE_VM_EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1)
  ready=0
  grep -aq 'EXECGATE_VM_READY' "$console" && ready=1
  if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    if [ "$ready" = 1 ]; then
      echo "$prog: timeout: CMD did not finish within ${timeout_s}s; VM killed" >&2
    else
      echo "$prog: timeout: VM did not finish booting within ${timeout_s}s; VM killed" >&2
    fi
    diagnose
    exit 124
  fi
  [ -n "$marker" ] && exit "$marker"
  if [ "$ready" = 1 ]; then
    echo "$prog: VM died while running CMD (kernel panic/oops or init killed) after ${elapsed}s; qemu exit $qrc" >&2
    diagnose
    exit 125
  fi
  # CMD never started, so nothing has run yet: booting again is safe.
  if [ "$attempt" -le "$boot_retries" ]; then
    echo "$prog: warning: VM failed to boot (attempt $attempt, ${elapsed}s, qemu exit $qrc); retrying" >&2
    diagnose
    continue
  fi
  echo "$prog: VM failed to boot (no init start marker) after ${elapsed}s, $attempt attempt(s); qemu exit $qrc" >&2
  diagnose
  exit 125
done
