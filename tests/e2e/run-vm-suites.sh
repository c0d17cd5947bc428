#!/usr/bin/env bash
# Runs the real-kernel suites in the VM: tests/e2e/run-vm-suites.sh [KERNEL[:SUITE,...] ...]
# (default: bookworm and trixie; EXECGATE_SUITES="exec bypass tamper launcher lifecycle clock
# upgrade audit observability no_lsm" picks the suites for kernels named without a list, e.g.
# "backports:exec,bypass" runs those two there). EXECGATE_CASES='ptrace_*,loader_*'
# (comma- or space-separated names or shell patterns) runs only those cases, with each
# suite's setup and the cases they need (tests/e2e/lib.sh, "cases"); a suite with none of
# them is not booted, and a pattern that matches no case of the suites run is an error.
# docs/vm.md "The real-kernel suites". One boot per suite and kernel. EXECGATE_VM_LANES=N
# (default 1) runs N VMs at once (each a single-threaded TCG vCPU: one lane per host core),
# longest suites first, each taking the next suite when it is done; a suite's output is then
# printed whole when it ends. Prints each suite's cases and a total "N passed, M failed";
# exits non-zero when anything failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/host_lib.sh
. "$here/host_lib.sh" "$@"

lanes=${EXECGATE_VM_LANES:-1}
[[ "$lanes" =~ ^[1-9][0-9]*$ ]] || { echo "$(basename "$0"): EXECGATE_VM_LANES must be a positive integer, got '$lanes'" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/results" # a line per suite: PASSED FAILED

run_suite() { # KERNEL SUITE [vm-run options...]
  local kernel=$1 suite=$2
  shift 2
  local log=$work/$kernel.$suite.log started=$SECONDS rc
  : >"$log" # before the VM starts: the one-lane tail below follows it from its first byte
  {
    echo "=== $suite on $kernel"
    # the VM's command: EXECGATE_CASES set for the suite (vm-run passes no environment)
    BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$kernel" --timeout 900 "$@" \
      --add "$here" --add "$build/tests/eg-probe" -- \
      sh -c 'export EXECGATE_CASES="$1"; shift; exec sh "$@"' sh "${EXECGATE_CASES:-}" \
      "$here/$suite" "$build/tests/eg-probe" 2>&1
  } >"$log" 2>&1 &
  local vm=$!
  # one lane: the output as it comes; several: each suite's whole when it ends
  [ "$lanes" = 1 ] && tail -n +1 --pid="$vm" -f "$log"
  wait "$vm"
  rc=$?
  local line passed=0 failed=1
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  {
    [ "$lanes" = 1 ] || cat "$log"
    echo "--- $suite on $kernel: $((SECONDS - started)) s"
    if [ -z "$line" ]; then
      echo "FAIL $suite on $kernel: no summary (vm-run exit $rc)"
    else
      passed=${line%% passed*}
      failed=${line#*, }
      failed=${failed%% failed*}
      [ "$rc" = 0 ] || [ "$failed" != 0 ] || { echo "FAIL $suite on $kernel: exit $rc"; failed=1; }
    fi
  } >"$log.end"
  (
    flock 9
    cat "$log.end"
    echo "$passed $failed" >>"$work/results"
  ) 9>"$work/print.lock"
  rm -f "$log" "$log.end"
}

# EXECGATE_CASES on the host: which suites have a selected case (lib.sh names a case by
# a line `case_NAME() {` and matches the patterns the same way)
cases_spec=${EXECGATE_CASES:-}
read -r -a case_patterns <<<"${cases_spec//,/ }"
declare -A pattern_used=()
selects() { # selects SUITE: EXECGATE_CASES is empty or matches a case of SUITE
  [ ${#case_patterns[@]} -gt 0 ] || return 0
  local c p found=1
  for c in $(sed -n 's/^case_\([A-Za-z0-9_]*\)() *{.*/\1/p' "$here/${1}_suite.sh" 2>/dev/null); do
    for p in "${case_patterns[@]}"; do
      # shellcheck disable=SC2053 # p is a pattern
      if [[ $c == $p ]]; then pattern_used[$p]=1; found=0; fi
    done
  done
  return $found
}

read -r -a default_suites <<<"${EXECGATE_SUITES:-exec bypass tamper launcher lifecycle clock upgrade audit observability no_lsm}"
plan=() # KERNEL:SUITE, in order
for spec in "${kernels[@]}"; do
  k=${spec%%:*}
  suites=("${default_suites[@]}")
  [ "$k" = "$spec" ] || IFS=, read -r -a suites <<<"${spec#*:}"
  for s in "${suites[@]}"; do
    [ -f "$here/${s}_suite.sh" ] || { echo "$(basename "$0"): no suite $s (tests/e2e/${s}_suite.sh)" >&2; exit 2; }
    if selects "$s"; then plan+=("$k:$s"); else echo "--- $s on $k: not run (EXECGATE_CASES selects none of its cases)"; fi
  done
done
for p in "${case_patterns[@]}"; do
  [ -n "${pattern_used[$p]:-}" ] || { echo "$(basename "$0"): EXECGATE_CASES: '$p' matches no case of the suites to run" >&2; exit 2; }
done

# Longest first (seconds per suite on 6.1, measured; 6.12's verifier makes each start
# slower), so that lanes end together.
declare -A weight=([clock]=180 [lifecycle]=150 [tamper]=120 [audit]=90 [bypass]=80 [upgrade]=70
  [exec]=50 [observability]=40 [launcher]=30 [no_lsm]=5)
mapfile -t plan < <(for ks in "${plan[@]}"; do
  k=${ks%%:*} s=${ks#*:} w=${weight[$s]:-60}
  [ "$k" != trixie ] || w=$((w * 2))
  echo "$w $ks"
done | sort -s -k1,1nr | cut -d' ' -f2)

run_planned() { # KERNEL:SUITE
  local k=${1%%:*} s=${1#*:}
  case $s in
    no_lsm) run_suite "$k" no_lsm_suite.sh --append-cmdline "lsm=capability,yama" ;;
    bypass) # an NVMe disk, for the io_uring passthrough case
      local nvme_img
      nvme_img=$(mktemp)
      truncate -s 1M "$nvme_img"
      EXECGATE_VM_QEMU_ARGS="${EXECGATE_VM_QEMU_ARGS:-} -drive file=$nvme_img,format=raw,if=none,id=egnvme -device nvme,serial=execgate,drive=egnvme" \
        run_suite "$k" bypass_suite.sh
      rm -f "$nvme_img" ;;
    tamper) # a test suite as a workload under the default posture: the daemon's unit tests
      run_suite "$k" tamper_suite.sh --add "$build/tests/execgate_daemon_tests" ;;
    upgrade) # the daemon built with fault points
      run_suite "$k" upgrade_suite.sh --add "$build/tests/execgated-faults" ;;
    exec) # etcd for the fleet case (etcdctl: its health check); tcc for the job builds case
      run_suite "$k" exec_suite.sh --add /usr/bin/etcd --add /usr/bin/etcdctl "${toolchain_adds[@]}" ;;
    *) run_suite "$k" "${s}_suite.sh" ;;
  esac
}

if [ "$lanes" = 1 ]; then
  for ks in "${plan[@]}"; do run_planned "$ks"; done
else
  # Lanes take the next suite of the plan under a lock; the VMs of the lanes must not
  # wait for each other's vm.lock (scripts/vm/boot.sh).
  export EXECGATE_VM_NOLOCK=1
  echo 0 >"$work/next"
  lane() {
    local i
    while :; do
      i=$( (flock 9; read -r n <"$work/next"; echo $((n + 1)) >"$work/next"; echo "$n") 9>"$work/next.lock")
      [ "$i" -lt ${#plan[@]} ] || return 0
      run_planned "${plan[$i]}"
    done
  }
  pids=()
  for ((l = 0; l < lanes; l++)); do lane & pids+=($!); done
  wait "${pids[@]}"
fi
total_pass=0
total_fail=0
while read -r p f; do
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
done <"$work/results"
echo "e2e: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
