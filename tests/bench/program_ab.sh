#!/usr/bin/env bash
# An A/B of the gate's programs in one boot: tests/bench/program_ab.sh OLD_BUILD_DIR [KERNEL ...]
# (default kernel: bookworm). OLD_BUILD_DIR is a build of the revision to compare with
# (e.g. git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build && cmake
# --build /tmp/old/build); the new one is BUILD_DIR (default build/). In one VM boot per
# kernel, ROUNDS (6) rounds each install the old gate and the new one in turn (the order
# alternates) and time a loop of 200 static execs of a ticketed binary from the scope
# with bpf_stats. Prints, per program, its time per exec for each (median over rounds) and
# the median of the per-round ratios new / old: programs the change did not touch show
# what the host's noise does to a ratio (docs/cost.md "What could cut it").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=${1:?usage: program_ab.sh OLD_BUILD_DIR [KERNEL ...]}
shift
old=$(cd "$old" && pwd)
# shellcheck source=tests/e2e/host_lib.sh
. "$here/../e2e/host_lib.sh" "${@:-bookworm}"
rounds=${ROUNDS:-6}
rc=0
for k in "${kernels[@]}"; do
  log=$(mktemp)
  BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$k" --timeout 1800 --add "$repo/tests/e2e" --add "$here" \
    --add "$old/execgated" --add "$old/execgate" --add "$build/execgated" --add "$build/execgate" --add "$build/bench/peer_loop" -- \
    sh "$here/program_ab_guest.sh" "$old" "$build" "$build/bench/peer_loop" "$rounds" >"$log" 2>&1
  vrc=$?
  if ! awk -v k="$k" -v rounds="$rounds" '
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == "AB" && $4 == "op" { execs[$3, $2] = $7 }
    $1 == "AB" && $4 == "prog" { if (!($6 in seen)) { seen[$6] = 1; names[++np] = $6 } t[$3, $2, $6] = $10 }
    /^BROKEN/ { print "program_ab " k ": " $0; bad = 1 }
    END {
      if (bad || !np) exit 1
      printf "=== program A/B on %s: %d rounds, 200 static execs from the scope per build and round (ns per exec)\n", k, rounds
      printf "  %-26s %10s %10s %10s   %s\n", "program", "old", "new", "new/old", "per round"
      for (p = 1; p <= np; p++) {
        name = names[p]; per = ""
        for (r = 1; r <= rounds; r++) {
          o[r] = t["old", r, name] / execs["old", r]; n[r] = t["new", r, name] / execs["new", r]
          q[r] = o[r] > 0 ? n[r] / o[r] : 0; per = per sprintf(" %.2f", q[r])
          so[r] += o[r]; sn[r] += n[r]
        }
        printf "  %-26s %10.0f %10.0f %10.2f  %s\n", name, median(o, rounds), median(n, rounds), median(q, rounds), per
      }
      per = ""
      for (r = 1; r <= rounds; r++) { q[r] = sn[r] / so[r]; per = per sprintf(" %.2f", q[r]) }
      printf "  %-26s %10.0f %10.0f %10.2f  %s\n", "all programs", median(so, rounds), median(sn, rounds), median(q, rounds), per
    }' "$log"; then
    echo "program_ab: $k failed (vm-run exit $vrc); its output:"
    tail -20 "$log"
    rc=1
  fi
  rm -f "$log"
done
exit $rc
