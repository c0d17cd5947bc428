#!/usr/bin/env bash
# A compile-heavy job, gated and not (issue 24, docs/ci.md "Cost"):
#   tests/bench/job_build_bench.sh [kernel...]     (default: bookworm trixie)
# One VM boot per kernel (TCG) runs, interleaved over ROUNDS rounds (odd rounds G then U,
# even rounds U then G, so host noise hits both alike), the same build of FILES C files
# with tcc (compiled one by one, linked, the program run):
#   G  inside a job (`execgate run --job`), tcc allowed by a job-bound builder ticket, each
#      object and the program the job's outputs
#   U  outside the scope, the gate loaded (what every other task on the host pays)
# Prints per kernel the median [min-max] wall seconds of each and the ratio G / U (target
# <= 1.05; under TCG a few percent are within noise), execgated's CPU per build (the audit
# records of the build's execs: under TCG the guest's vCPUs share one host thread, so the
# daemon's CPU is the build's wall time too), then one build of each with bpf_stats
# on: the time of every gate program the build crossed, per program and in all, as a share
# of the build's wall time (the cost that reproduces). Fails only on a broken run: the
# program not built or not running, or the gate not denying a downloaded binary in the job.
# Env: BUILD_DIR; ROUNDS (5); FILES (200).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/host_lib.sh
. "$here/../e2e/host_lib.sh" "$@"
rounds=${ROUNDS:-5}
files=${FILES:-200}

rc=0
for k in "${kernels[@]}"; do
  log=$(mktemp)
  BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$k" --timeout 2400 \
    --add "$repo/tests/e2e" --add "$here" --add "$build/tests/eg-probe" \
    "${toolchain_adds[@]}" -- \
    sh "$here/job_build_guest.sh" "$build/tests/eg-probe" "$rounds" "$files" >"$log" 2>&1
  vrc=$?
  if ! awk -v k="$k" -v files="$files" '
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function span(a, n,   i, lo, hi) {
      lo = hi = a[1]
      for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
      return sprintf("[%.2f-%.2f]", lo, hi)
    }
    /^kernel / { head = $0 }
    /^round / { if ($3 == "G") { g[++ng] = $5; gd[ng] = $7; gr[ng] = $9 } else { u[++nu] = $5; ud[nu] = $7; ur[nu] = $9 } }
    /^stats / { stats[++ns] = $0 }
    /^BROKEN/ { print; broken = 1 }
    END {
      if (!ng || !nu) { print "job_build_bench " k ": no round ran"; exit 1 }
      printf "=== compile-heavy job on %s (%s; %d C files compiled one by one with tcc, linked, run; %d rounds)\n", k, head, files, ng
      mg = median(g, ng); mu = median(u, nu)
      printf "  G inside a job:          %.2f s %s\n", mg, span(g, ng)
      printf "  U outside the scope:     %.2f s %s\n", mu, span(u, nu)
      printf "  wall ratio G / U: %.3f (target <= 1.05; the rounds spread as shown)\n", mg / mu
      printf "  execgated CPU per build: G %d ms (%d audit records), U %d ms (%d records), medians\n", median(gd, ng), median(gr, ng), median(ud, nu), median(ur, nu)
      for (i = 1; i <= ns; i++) { s = stats[i]; sub(/^stats /, "", s); print "  " s }
      exit broken
    }' "$log"; then
    echo "--- raw VM output:"; cat "$log"; rc=1
  elif [ "$vrc" != 0 ]; then
    echo "job_build_bench $k: VM exit $vrc"; tail -20 "$log"; rc=1
  fi
  rm -f "$log"
done
exit $rc
