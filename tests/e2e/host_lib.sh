# shellcheck shell=bash
# Host side of the VM scripts (run-vm-suites.sh, tests/bench/vm_exec_cost.sh), sourced with
# the script's arguments: sets repo, build (BUILD_DIR, else repo/build) and kernels (the
# arguments; default bookworm trixie), and stops when a binary the VM needs is not built.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(bookworm trixie)
for f in "$build/execgate" "$build/execgated" "$build/tests/eg-probe"; do
  [ -x "$f" ] || { echo "$(basename "$0"): $f missing: build first (scripts/test.sh)" >&2; exit 1; }
done
