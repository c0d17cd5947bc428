#!/usr/bin/env bash
# The one test command (README, .ci/run): installs deps, shellchecks every script, checks
# that what the docs name exists (scripts/check-docs.sh), builds with warnings as errors,
# runs the unit tests, the CI runner hooks against the runners' contracts (no build needed)
# and the fleet's 3-member etcd walk-through, builds the CLI without the daemon (EXECGATE_DAEMON=OFF, the issuing
# workstation's build) and runs its offline verbs, fuzzes the four parsers (tickets,
# policy, audit lines, control requests) for 20 s each under ASan+UBSan, then runs the
# real-kernel suites in the VM: every security suite (exec, bypass, tamper, launcher,
# lifecycle) on bookworm 6.1, trixie 6.12 and trixie-backports 7.x; the others on two
# kernels each (clock and upgrade on 6.1 and 7.x, where a daemon start verifies in
# seconds; audit and no-LSM on 6.1 and 6.12, observability on 6.1), two VMs at a time;
# builds the Debian package and runs it on Debian 12 and Debian 13 systems booted with
# systemd (install, enforce, reboot, upgrade during an exec loop, a broken daemon at boot,
# stop, purge), and last the VM benchmarks on one kernel (6.1): the exec path (as
# installed and with full maps), the whole cost beside fapolicyd (2 rounds) and a compile-heavy
# job (2 rounds of 60 files). The
# benchmarks (the host's after the unit tests) print their figures and fail only when
# execs are denied or not all recorded, never on a ratio.
#
#   scripts/test.sh                   # everything
#   EXECGATE_KERNELS=bookworm scripts/test.sh          (all suites on these kernels only)
#   EXECGATE_SKIP_VM=1 scripts/test.sh    # no VM (say so: nothing kernel-side is proven)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
step() { printf '\n=== %s (at %d min %02d s)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

step "dependencies"
scripts/install-deps.sh

step "shellcheck (every script, warnings are errors)"
git ls-files -z '*.sh' | xargs -0 shellcheck -x -S warning
echo "shellcheck: clean"

step "docs: every path, script and CLI verb the docs name exists (scripts/check-docs.sh)"
scripts/check-docs.sh

step "build ($build, warnings are errors)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXECGATE_WERROR=ON >/dev/null
cmake --build "$build" -j2

# The Debian package and the two systemd hosts' images are built at the lowest priority
# from here on, in the time the steps below leave (the fuzzers and the VMs each keep one
# core busy; a guest that sleeps frees its core); their output is shown with the systemd
# host suites.
pkglog=$(mktemp)
rm -f dist/execgate_*_amd64.deb
pkg_pid=
if [ "${EXECGATE_SKIP_VM:-0}" != 1 ]; then
  (PACKAGE_JOBS=1 nice -n 19 scripts/package.sh && nice -n 19 scripts/host-image.sh --release bookworm &&
    nice -n 19 scripts/host-image.sh --release trixie) >"$pkglog" 2>&1 &
  pkg_pid=$!
  trap 'kill "$pkg_pid" 2>/dev/null || :' EXIT
fi

step "unit tests"
ctest --test-dir "$build" --output-on-failure -j2

step "CI runner hooks against the runners' contracts, with a fake execgate (tests/runners/runner_hooks_test.sh)"
tests/runners/runner_hooks_test.sh | grep -v '^ok '

step "the fleet's etcd as docs/fleet.md sets it up: 3 members, TLS, RBAC, the fleet verbs (tests/fleet/etcd_cluster_walkthrough.sh)"
EXECGATE_CLI=$build/execgate tests/fleet/etcd_cluster_walkthrough.sh | tail -2

step "benchmarks on this host (they print ratios; none fails on one)"
# the fleet bench at a small scale (docs/fleet.md "At scale" has the 200-host run)
ROUNDS=2 RSS_HOSTS=1 RSS_TICKETS=1000 BUILD_DIR=$build tests/bench/fleet_bench.sh 20 100 | tail -4
"$build/bench/execgate_ticket_bench" 2>&1 | tail -2
"$build/bench/execgate_audit_bench" 2>&1 | tail -2
"$build/bench/execgate_ticket_book_bench" 2>&1 | tail -1
"$build/bench/execgate_event_path_bench" 2>&1 | tail -1

step "offline build: the CLI without the daemon (EXECGATE_DAEMON=OFF: no clang, bpftool, libbpf or BTF)"
offline=${build}-offline
cmake --preset offline -B "$offline" >/dev/null   # CMakePresets.json: the README's workstation build
cmake --build "$offline" --target execgate -j2
! grep -qE '^(BPF_CLANG|BPFTOOL|LIBBPF_[A-Z_]+)[:=]' "$offline/CMakeCache.txt" || { echo "the offline build looked for the BPF toolchain" >&2; exit 1; }
scratch=$(mktemp -d)
"$offline/execgate" keygen -o "$scratch/ops" >/dev/null
"$offline/execgate" issue --key "$scratch/ops.key" --binary /bin/true --host '*' --ttl 1h -o "$scratch/t.ticket" >/dev/null
"$offline/execgate" verify --pub "$scratch/ops.pub" "$scratch/t.ticket" >/dev/null
rm -rf "$scratch"
echo "offline build: keygen, issue and verify work without the daemon's toolchain"

step "fuzz (${FUZZ_SECONDS:-20} s per parser, ASan+UBSan)"
scripts/fuzz.sh

if [ "${EXECGATE_SKIP_VM:-0}" = 1 ]; then
  rm -f "$pkglog"
  echo "EXECGATE_SKIP_VM=1: the real-kernel suites did NOT run"
  exit 0
fi
step "real-kernel suites in the VM"
read -r -a kernels <<<"${EXECGATE_KERNELS:-bookworm}"
newest=()
[ -n "${EXECGATE_KERNELS:-}" ] || newest=("trixie:exec,bypass,tamper,launcher,lifecycle,audit,no_lsm"
  "backports:exec,bypass,tamper,launcher,lifecycle,clock,upgrade")
for k in "${kernels[@]}" "${newest[@]}"; do scripts/fetch-kernel.sh "${k%%:*}" >/dev/null; done
# Two lanes of VMs (a TCG vCPU each, one per core), longest suites first.
BUILD_DIR=$build EXECGATE_VM_LANES=${EXECGATE_VM_LANES:-2} tests/e2e/run-vm-suites.sh "${kernels[@]}" "${newest[@]}"

step "the package on systemd hosts: scripts/package.sh, then tests/host/systemd_host_test.sh on Debian 12 and Debian 13 (systemd as PID 1), side by side"
wait "$pkg_pid" || { cat "$pkglog"; echo "test: scripts/package.sh or scripts/host-image.sh failed" >&2; exit 1; }
trap - EXIT
cat "$pkglog"
rm -f "$pkglog"
hostlogs=$(mktemp -d)
for r in bookworm trixie; do
  EXECGATE_VM_NOLOCK=1 tests/host/systemd_host_test.sh --release "$r" >"$hostlogs/$r.log" 2>&1 &
  echo $! >"$hostlogs/$r.pid"
done
host_failed=0
for r in bookworm trixie; do
  wait "$(cat "$hostlogs/$r.pid")" || host_failed=1
  cat "$hostlogs/$r.log"
done
rm -rf "$hostlogs"
[ "$host_failed" = 0 ] || { echo "test: the systemd host suite failed (above)" >&2; exit 1; }

step "VM benchmark: exec path cost, as installed and with 10,000 tickets and 200,000 baseline entries (tests/bench/vm_exec_cost.sh)"
BUILD_DIR=$build MAPS=10000:200000 ROUNDS=4 tests/bench/vm_exec_cost.sh "${kernels[0]}"

step "VM benchmark: the whole cost beside fapolicyd (tests/bench/peer_bench.sh, 2 rounds on bookworm; docs/cost.md has the 11-round runs)"
BUILD_DIR=$build ROUNDS=${PEER_ROUNDS:-2} STATS_REPS=1 tests/bench/peer_bench.sh bookworm

step "VM benchmark: a compile-heavy job, gated and outside the scope (tests/bench/job_build_bench.sh, 2 rounds of 60 files on bookworm; docs/ci.md \"Cost\" has 200)"
BUILD_DIR=$build ROUNDS=${JOB_ROUNDS:-2} FILES=${JOB_FILES:-60} tests/bench/job_build_bench.sh bookworm

step "done"
