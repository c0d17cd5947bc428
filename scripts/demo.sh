#!/usr/bin/env bash
# The product's main job on a default setup: builds if needed, starts the gate (on this
# machine when its kernel has BPF-LSM active, otherwise inside the VM) and shows, step by
# step, an unticketed binary refused, a ticket issued and submitted, the binary running,
# and the kernel's decisions as they happen.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
if [ ! -x "$build/execgate" ] || [ ! -x "$build/execgated" ]; then
  echo "demo: building first"
  "$root/scripts/install-deps.sh"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 --target execgate execgated
fi
if [ "$(id -u)" = 0 ] && grep -qw bpf /sys/kernel/security/lsm 2>/dev/null && [ "${EXECGATE_DEMO_VM:-0}" != 1 ]; then
  echo "demo: this kernel has BPF-LSM active: running on this machine"
  PATH=$build:$PATH exec sh "$root/scripts/demo-steps.sh"
fi
echo "demo: this kernel has no active BPF-LSM (or you are not root): running inside the VM (scripts/vm-run.sh)"
BUILD_DIR=$build exec "$root/scripts/vm-run.sh" --add "$root/scripts/demo-steps.sh" -- sh "$root/scripts/demo-steps.sh"
