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

# The parts; each only defines functions (and payload.sh the library table). The flow is below.
# shellcheck source=scripts/vm/initramfs.sh
. "$here/vm/initramfs.sh" || fail "cannot read $here/vm/initramfs.sh"
# shellcheck source=scripts/vm/payload.sh
. "$here/vm/payload.sh" || fail "cannot read $here/vm/payload.sh"
# shellcheck source=scripts/vm/boot.sh
. "$here/vm/boot.sh" || fail "cannot read $here/vm/boot.sh"

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
pick_busybox_and_shell

cache=${EXECGATE_CACHE:-${HOME:-/root}/.cache/execgate}
mkdir -p "$cache/initramfs" || fail "cannot create cache dir $cache"

# --- kernel ------------------------------------------------------------------------------------
case "$kernel" in
  */*) vmlinuz=$kernel; [ -r "$vmlinuz" ] || fail "kernel image $vmlinuz not readable" ;;
  *) vmlinuz=$("$here/fetch-kernel.sh" "$kernel") || fail "could not get kernel '$kernel' (scripts/fetch-kernel.sh $kernel failed)" ;;
esac

# --- working dir -------------------------------------------------------------------------------
vm_workdir execgate-vm

# --- initramfs: the cached base (vm/initramfs.sh), then this run's part (vm/payload.sh) --------
base_initramfs
run=$tmp/run
build_payload "$@"
initrd=$tmp/initrd.img
pack_initrd "$initrd"
t1=$(date +%s.%N)

# --- boot (vm/boot.sh): exits with CMD's status, 124 or 125 ------------------------------------
boot_vm
