#!/usr/bin/env bash
# The one test command (README, .ci/run): installs deps, shellchecks every script, builds
# with warnings as errors, runs the unit tests, fuzzes the ticket parser for 60 s under ASan+UBSan, then runs the
# real-kernel suites in the VM: all of them on bookworm 6.1 and trixie 6.12, the gate and
# tamper suites on the newest kernel (trixie-backports 7.x), and last the VM benchmark of
# the exec path on 6.1 and 6.12 (prints its figures; fails only when execs are denied or
# not all recorded).
#
#   scripts/test.sh                   # everything
#   EXECGATE_KERNELS=bookworm scripts/test.sh          (all suites on these kernels only)
#   EXECGATE_SKIP_VM=1 scripts/test.sh    # no VM (say so: nothing kernel-side is proven)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "shellcheck (every script, warnings are errors)"
git ls-files -z '*.sh' | xargs -0 shellcheck -x -S warning
echo "shellcheck: clean"

step "build ($build, warnings are errors)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXECGATE_WERROR=ON >/dev/null
cmake --build "$build" -j2

step "unit tests"
ctest --test-dir "$build" --output-on-failure -j2

step "fuzz (${FUZZ_SECONDS:-60} s, ASan+UBSan)"
scripts/fuzz.sh

if [ "${EXECGATE_SKIP_VM:-0}" = 1 ]; then
  echo "EXECGATE_SKIP_VM=1: the real-kernel suites did NOT run"
  exit 0
fi
step "real-kernel suites in the VM"
read -r -a kernels <<<"${EXECGATE_KERNELS:-bookworm trixie}"
newest=()
[ -n "${EXECGATE_KERNELS:-}" ] || newest=("backports:gate,tamper")
for k in "${kernels[@]}" "${newest[@]}"; do scripts/fetch-kernel.sh "${k%%:*}" >/dev/null; done
BUILD_DIR=$build tests/e2e/run-vm-suites.sh "${kernels[@]}" "${newest[@]}"

step "VM benchmark: exec path cost (tests/bench/vm_exec_cost.sh)"
BUILD_DIR=$build tests/bench/vm_exec_cost.sh "${kernels[@]}"
