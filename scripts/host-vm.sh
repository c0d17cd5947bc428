#!/usr/bin/env bash
# host-vm.sh [options] PAYLOAD_DIR
#
# Boots the Debian system of scripts/host-image.sh (Debian 12 unless --release) under qemu (TCG) with systemd as PID 1,
# its own cloud kernel and initramfs, and runs PAYLOAD_DIR/run in it as root once the system
# is up (vm-payload.service, after multi-user.target). The root disk is a throw-away overlay
# over the cached image; PAYLOAD_DIR is a second, read-only disk mounted at /payload. The
# payload's stdout+stderr stream to our stdout; we exit with its status. A payload that exits
# 100 is asking for a reboot: the guest runs `systemctl reboot`, boots again from the same
# disks and runs the payload again (it keeps its progress on the root disk, e.g. /var/lib).
#
# Options:
#   --release NAME      the image's release: bookworm (Debian 12, default) or trixie (13)
#   --timeout SECONDS   per boot (default 900); exit 124 when hit
#   --console           also stream the guest's console (ttyS0) to stderr
#   -v, --verbose       timings on stderr
#   -h, --help          this text
# Environment: EXECGATE_CACHE, EXECGATE_VM_MEM (default 2G), EXECGATE_VM_SMP (2),
#   EXECGATE_VM_NOLOCK, EXECGATE_VM_QEMU_ARGS, EXECGATE_VM_MAX_REBOOTS (4), as for vm-run.sh.
# Exit status: the payload's; 124 timeout; 125 harness or boot failure.
set -uo pipefail
umask 022
prog=host-vm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "$prog: $*" >&2; exit 125; }

timeout_s=900
mem=${EXECGATE_VM_MEM:-2G}
smp=${EXECGATE_VM_SMP:-2}
show_console=${EXECGATE_VM_CONSOLE:-0}
verbose=${EXECGATE_VM_VERBOSE:-0}
payload=
release=bookworm
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) [ $# -ge 2 ] || fail "--timeout needs a value"; timeout_s=$2; shift 2 ;;
    --release) [ $# -ge 2 ] || fail "--release needs a value"; release=$2; shift 2 ;;
    --console) show_console=1; shift ;;
    -v | --verbose) verbose=1; shift ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) fail "unknown option '$1' (see --help)" ;;
    *) [ -z "$payload" ] || fail "one payload directory only"; payload=$1; shift ;;
  esac
done
[ -n "$payload" ] || fail "usage: $0 [options] PAYLOAD_DIR (see --help)"
[ -x "$payload/run" ] || fail "$payload/run is missing or not executable"
[[ "$timeout_s" =~ ^[0-9]+$ ]] && [ "$timeout_s" -gt 0 ] || fail "--timeout must be a positive integer, got '$timeout_s'"
for t in qemu-system-x86_64 qemu-img mkfs.ext4 timeout; do
  command -v "$t" >/dev/null || fail "required tool '$t' not found (run scripts/install-deps.sh)"
done

# shellcheck source=scripts/vm/boot.sh
. "$here/vm/boot.sh" || fail "cannot read $here/vm/boot.sh"

t0=$(date +%s.%N)
cache=${EXECGATE_CACHE:-${HOME:-/root}/.cache/execgate}
image=$("$here/host-image.sh" --release "$release") || fail "no host image (scripts/host-image.sh failed)"
vm_workdir execgate-host-vm

qemu-img create -q -f qcow2 -F raw -b "$image/rootfs.img" "$tmp/root.qcow2" || fail "qemu-img create failed"
size_mb=$(( $(du -sm "$payload" | cut -f1) + 32 ))
mkfs.ext4 -q -L egpayload -d "$payload" "$tmp/payload.img" "${size_mb}M" >"$tmp/mkfs.log" 2>&1 || fail "mkfs.ext4 of the payload failed"
vmlinuz=$image/vmlinuz
initrd=$image/initrd.img
extra_cmdline=" root=LABEL=egroot rw"
EXECGATE_VM_QEMU_ARGS="${EXECGATE_VM_QEMU_ARGS:-} -drive file=$tmp/root.qcow2,format=qcow2,if=virtio -drive file=$tmp/payload.img,format=raw,if=virtio,readonly=on"
export EXECGATE_VM_QEMU_ARGS
t1=$(date +%s.%N)
[ "$verbose" = 1 ] && echo "$prog: image $image (kernel $(cat "$image/version"))" >&2
boot_vm
