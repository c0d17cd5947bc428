#!/usr/bin/env bash
# VM benchmark of the kernel gate's exec path (issue 5 item 8):
#   tests/bench/vm_exec_cost.sh [bookworm|trixie ...]     (default: both)
# Boots each kernel once (the same VM the e2e suites use: TCG, 2 vCPUs) and runs ROUNDS
# storms of EXECS execs of a ticketed binary in a child cgroup of the scope, with the
# daemon auditing. Prints, per kernel, the median over rounds of
#   - bprm_check program time per exec (bpf_stats run_time_ns / runs): target <= 20 us,
#     and the price of its one boot-clock read, measured apart
#   - all gate programs' time per gated exec (every hook an exec passes through)
#   - the wall-time ratio of a gated to an ungated exec in the same boot
# and whether every exec reached the audit log, and how late (decision to record).
# Absolute TCG times vary with the host and from boot to boot; the median of rounds keeps
# one preempted round from deciding the figure. Env: ROUNDS (10), EXECS (500).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(bookworm trixie)
rounds=${ROUNDS:-10}
execs=${EXECS:-500}
for f in "$build/execgate" "$build/execgated" "$build/tests/eg-probe"; do
  [ -x "$f" ] || { echo "vm_exec_cost: $f missing: build first" >&2; exit 1; }
done

rc=0
for k in "${kernels[@]}"; do
  log=$(mktemp)
  BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$k" --timeout 1200 \
    --add "$repo/tests/e2e" --add "$here" --add "$build/tests/eg-probe" -- \
    sh "$here/exec_cost_guest.sh" "$build/tests/eg-probe" "$rounds" "$execs" >"$log" 2>&1
  vrc=$?
  if ! awk -v k="$k" -v execs="$execs" -v rounds="$rounds" '
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    /^kernel / { head = $0 }
    /^round / { n++; b[n] = $4 / 1000; all[n] = $8 / 1000; ratio[n] = $10 / $12; list = list sprintf(" %.1f", $4 / 1000) }
    /^audit exec records/ { recs = $7; want = $9 }
    /^AUDIT_DELAY/ { delay = $0; sub(/^AUDIT_DELAY /, "", delay) }
    /^CLOCK_COST ns_per_call=/ { clock = substr($2, 13) / 1000 }
    END {
      if (n < rounds) { print "vm_exec_cost " k ": only " n " of " rounds " rounds ran"; exit 1 }
      mb = median(b, n)
      printf "=== exec cost on %s (%s; %d rounds x %d execs)\n", k, head, n, execs
      printf "  bprm_check program time per exec: median %.1f us (rounds:%s); target <= 20 us: %s (%.2f of it)\n", mb, list, mb <= 20 ? "met" : "NOT met", mb / 20
      printf "  of which the one boot-clock read (bpf_ktime_get_boot_ns, measured alone): %.1f us; without it %.1f us\n", clock, mb - clock
      printf "  all gate programs per gated exec: median %.1f us\n", median(all, n)
      printf "  wall time, gated / ungated exec: median ratio %.2f\n", median(ratio, n)
      printf "  audit: %s of %s storm execs recorded; kernel-to-log delay: %s (target: none over 100 ms)\n", recs, want, delay
      exit (recs == want) ? 0 : 1
    }' "$log"; then
    echo "vm_exec_cost: $k failed (vm-run exit $vrc); its output:"
    tail -20 "$log"
    rc=1
  fi
  rm -f "$log"
done
exit $rc
