#!/usr/bin/env bash
# The idle daemon's cost, thread by thread: tests/bench/idle_cost.sh [KERNEL ...] (default
# bookworm). One boot per kernel: execgated with the suites' policy and nothing to judge,
# SECONDS (20) measured after 5 s. Prints each thread's CPU per second and wakeups
# (voluntary switches) per second, and the sum (docs/cost.md "In the daemon").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/host_lib.sh
. "$here/../e2e/host_lib.sh" "${@:-bookworm}"
secs=${SECONDS_IDLE:-20}
rc=0
for k in "${kernels[@]}"; do
  log=$(mktemp)
  BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$k" --timeout 900 --add "$repo/tests/e2e" --add "$here" -- \
    sh "$here/idle_cost_guest.sh" "$secs" >"$log" 2>&1
  vrc=$?
  if ! awk -v k="$k" '
    /^BROKEN/ { print "idle_cost " k ": " $0; bad = 1 }
    $1 == "IDLE" { n++; cpu = $3 / 1e6 / $5; wk = $4 / $5; c += cpu; w += wk
      line[n] = sprintf("  %-12s %7.2f ms CPU/s %6.1f wakeups/s", $2, cpu, wk) }
    END {
      if (bad || !n) exit 1
      printf "=== idle execgated on %s (per thread)\n", k
      for (i = 1; i <= n; i++) print line[i]
      printf "  %-12s %7.2f ms CPU/s %6.1f wakeups/s\n", "all", c, w
    }' "$log"; then
    echo "idle_cost: $k failed (vm-run exit $vrc); its output:"
    tail -20 "$log"
    rc=1
  fi
  rm -f "$log"
done
exit $rc
