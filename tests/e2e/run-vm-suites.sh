#!/usr/bin/env bash
# Runs the real-kernel suites in the VM: tests/e2e/run-vm-suites.sh [KERNEL[:SUITE,...] ...]
# (default: bookworm and trixie; EXECGATE_SUITES="gate tamper lifecycle clock upgrade audit no_lsm"
# picks the suites for kernels named without a list, e.g. "backports:gate,tamper" runs
# those two there). One boot per suite and kernel. Prints each suite's cases and a total
# "N passed, M failed"; exits non-zero when anything failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/host_lib.sh
. "$here/host_lib.sh" "$@"

total_pass=0
total_fail=0
run_suite() { # KERNEL SUITE [vm-run options...]
  local kernel=$1 suite=$2
  shift 2
  echo "=== $suite on $kernel"
  local log
  log=$(mktemp)
  BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$kernel" --timeout 900 "$@" \
    --add "$here" --add "$build/tests/eg-probe" -- sh "$here/$suite" "$build/tests/eg-probe" | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "FAIL $suite on $kernel: no summary (vm-run exit $rc)"
    total_fail=$((total_fail + 1))
    return
  fi
  total_pass=$((total_pass + ${line%% passed*}))
  local f=${line#*, }
  total_fail=$((total_fail + ${f%% failed*}))
  [ "$rc" = 0 ] || [ "${f%% failed*}" != 0 ] || { echo "FAIL $suite on $kernel: exit $rc"; total_fail=$((total_fail + 1)); }
}

read -r -a default_suites <<<"${EXECGATE_SUITES:-gate tamper lifecycle clock upgrade audit no_lsm}"
for spec in "${kernels[@]}"; do
  k=${spec%%:*}
  suites=("${default_suites[@]}")
  [ "$k" = "$spec" ] || IFS=, read -r -a suites <<<"${spec#*:}"
  for s in "${suites[@]}"; do
    case $s in
      no_lsm) run_suite "$k" no_lsm_suite.sh --append-cmdline "lsm=capability,yama" ;;
      gate) # an NVMe disk, for the io_uring passthrough case
        nvme_img=$(mktemp)
        truncate -s 1M "$nvme_img"
        EXECGATE_VM_QEMU_ARGS="${EXECGATE_VM_QEMU_ARGS:-} -drive file=$nvme_img,format=raw,if=none,id=egnvme -device nvme,serial=execgate,drive=egnvme" \
          run_suite "$k" gate_suite.sh
        rm -f "$nvme_img" ;;
      tamper) # a test suite as a workload under the default posture: the daemon's unit tests
        run_suite "$k" tamper_suite.sh --add "$build/tests/execgate_daemon_tests" ;;
      upgrade) # the daemon built with fault points
        run_suite "$k" upgrade_suite.sh --add "$build/tests/execgated-faults" ;;
      *) run_suite "$k" "${s}_suite.sh" ;;
    esac
  done
done
echo "e2e: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
