#!/usr/bin/env bash
# The whole cost of the gate, beside fapolicyd (docs/cost.md):
#   tests/bench/peer_bench.sh [kernel...]      (default: bookworm trixie; names or paths as
#                                               scripts/vm-run.sh --kernel takes them)
# One VM boot per kernel (TCG, 2 vCPUs) runs, interleaved over ROUNDS rounds (odd rounds
# A E B C D, even rounds B C D A E, so host noise hits all alike):
#   A  no gate (execgated --uninstall done)
#   B  execgate loaded, the bench process outside the scope
#   C  execgate loaded, the bench process in a child cgroup of the scope (/gated/bench)
#   D  as C, with execgated SIGSTOPped around the run (the event thread's share: C - D)
#   E  Debian's fapolicyd enforcing, the bench binaries in its trust database, execgate
#      uninstalled (rules: see FAPO lines and docs/cost.md)
# and tests/bench/peer_loop.c's loops in each: exec of a ticketed static (busybox) and
# dynamic (coreutils true) binary, pread and pwrite of 4 KiB, open read-only and for write,
# mmap of a file without and with PROT_EXEC, mprotect adding and removing PROT_EXEC, fork
# + exit. Prints per kernel the median [min-max] ns per op over rounds and its ratio to A;
# per-program bpf_stats per op (STATS_REPS runs of B and C after the rounds, with
# bpf_stats on: they are off during the rounds, which they would slow);
# execgated's CPU per 1000 gated execs, its event thread's, ring-buffer wakeups and VmRSS;
# fapolicyd's CPU and VmRSS.
# Fails only on a broken run: the gate not denying an unticketed exec in the scope, exec
# records missing from the audit log (or ring-buffer drops), fapolicyd not running or not
# denying an untrusted binary, an op failing. Never on a ratio. E that cannot run (no
# fapolicyd on the host) is reported, not a failure.
# Env: BUILD_DIR; PEER_LOOP (default $BUILD_DIR/bench/peer_loop); ROUNDS (11); N_EXEC (200
# static execs and forks per run), N_DYN (40 dynamic execs), N_SYS (2000 of each other op);
# STATS_REPS (3 bpf_stats runs each of B and C after the rounds, their median printed);
# PEER_UID (1000: the bench runs as this uid); PEER_PIN (1: everything on vCPU 0);
# PEER_FAPOLICYD (/usr/sbin/fapolicyd; empty: E is left out);
# PEER_BENCH_KEEP (a directory: the raw VM output is kept there as peer-KERNEL.log);
# PEER_BENCH_REPLAY (such a directory: its logs are parsed again, no VM is booted).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/host_lib.sh
. "$here/../e2e/host_lib.sh" "$@"
rounds=${ROUNDS:-11}
n_exec=${N_EXEC:-200}
n_dyn=${N_DYN:-40}
n_sys=${N_SYS:-2000}
buid=${PEER_UID:-1000}
pin=${PEER_PIN:-1}
stats_reps=${STATS_REPS:-3}
loop=${PEER_LOOP:-$build/bench/peer_loop}
[ -x "$loop" ] || { echo "peer_bench: $loop missing: build first (cmake --build, target peer_loop) or set PEER_LOOP" >&2; exit 1; }
loop=$(readlink -f "$loop")
[ "$rounds" -ge 1 ] 2>/dev/null || { echo "peer_bench: ROUNDS must be a positive number" >&2; exit 1; }

stage=$(mktemp -d)
log=
trap 'rm -rf "$stage" "$log"' EXIT
# the dynamic binary: coreutils' true (its libraries come along with --add)
dyn=$(readlink -f /usr/bin/true)
ldd "$dyn" >/dev/null 2>&1 || { echo "peer_bench: $dyn is not dynamically linked" >&2; exit 1; }
cp "$dyn" "$stage/dyntrue" || exit 1
adds=(--add "$repo/tests/e2e" --add "$here" --add "$loop" --add "$stage")
# fapolicyd: the binaries (their libraries come along), the package's /etc/fapolicyd, its
# sample rules and magic file, and libmagic's database
fapo_note=
fapo=${PEER_FAPOLICYD-/usr/sbin/fapolicyd}
if [ -n "$fapo" ] && [ -x "$fapo" ] && [ -x "${fapo%/*}/fapolicyd-cli" ] && [ -d /etc/fapolicyd ]; then
  adds+=(--add "$fapo" --add "${fapo%/*}/fapolicyd-cli" --add /etc/fapolicyd --add /usr/share/fapolicyd)
  # fapolicyd loads /usr/share/fapolicyd/fapolicyd-magic.mgc:/usr/share/misc/magic.mgc
  [ -e /usr/share/misc/magic.mgc ] && adds+=(--add /usr/share/misc/magic.mgc)
else
  fapo_note="fapolicyd is not installed on this host (scripts/install-deps.sh installs it) or PEER_FAPOLICYD is empty: E could not run"
fi

rc=0
for k in "${kernels[@]}"; do
  log=$(mktemp)
  t0=$(date +%s)
  if [ -n "${PEER_BENCH_REPLAY:-}" ]; then
    cp "$PEER_BENCH_REPLAY/peer-${k##*/}.log" "$log"
    vrc=0
  else
    BUILD_DIR=$build "$repo/scripts/vm-run.sh" --kernel "$k" --timeout 1500 "${adds[@]}" -- \
      sh "$here/peer_bench_guest.sh" "$loop" "$stage" "$rounds" "$n_exec" "$n_dyn" "$n_sys" "$buid" "$pin" "$stats_reps" >"$log" 2>&1
    vrc=$?
  fi
  secs=$(( $(date +%s) - t0 ))
  if [ -n "${PEER_BENCH_KEEP:-}" ] && [ -z "${PEER_BENCH_REPLAY:-}" ]; then
    mkdir -p "$PEER_BENCH_KEEP" && cp "$log" "$PEER_BENCH_KEEP/peer-${k##*/}.log"
  fi
  [ -z "$fapo_note" ] || echo "peer_bench $k: $fapo_note"
  [ -z "${EXECGATE_VM_QEMU_ARGS:-}" ] || echo "peer_bench $k: extra qemu arguments: $EXECGATE_VM_QEMU_ARGS"
  if ! awk -v k="$k" -v rounds="$rounds" -v vrc="$vrc" -v secs="$secs" '
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function us(ns) { return ns >= 100000 ? sprintf("%.0f", ns / 1000) : sprintf("%.2f", ns / 1000) }
    BEGIN { nops = split("exec_static exec_dynamic read write open_ro open_wr mmap mmap_exec mprotect fork", ops, " ")
            ncfg = split("A B C D E", cfgs, " ")
            title["A"] = "A no gate"; title["B"] = "B out of scope"; title["C"] = "C in scope"
            title["D"] = "D C, reader stopped"; title["E"] = "E fapolicyd" }
    /^INFO kernel / { sub(/^INFO /, ""); head = $0 }
    /^INFO rounds / { sub(/^INFO /, ""); sizes = $0 }
    /^INFO / || /^FAPO / || /^AUDIT / { info[++ninfo] = $0 }
    /^BROKEN / { broken[++nbroken] = $0 }
    $1 == "R" && $4 == "op" && $11 == 0 {
      key = $3 SUBSEP $5; i = ++n[key]; v[key, i] = $9; seen[$3] = 1
      if ($2 > maxround) maxround = $2
    }
    $1 == "DAEMON" {
      c = $3; dn[c]++; dexec[c] += $5; dticks[c] += $7; dsched[c] += $9
      if ($10 == "evt_ns") { devt[c] += $11; dcs[c] += $13; dwake[c] += $15; dwall[c] += $17; rss = $19 }
      else { dwall[c] += $11; rss = $13; ddec[c] += $15 }
      if (rss > drss[c]) drss[c] = rss
      if (!(c in drssmin) || rss < drssmin[c]) drssmin[c] = rss
    }
    # bpf_stats runs: per (cfg, op, program) the runs and ns per op of each rep (a program
    # that did not run in a rep counts 0 there); the median over reps
    $1 == "S" && $4 == "op" { sn[$2, $3, $5] = $7; if ($2 > nrep) nrep = $2 }
    $1 == "S" && $4 == "prog" {
      c = $3; o = $5; p = $6
      if (!((c, o, p) in pin)) { pin[c, o, p] = 1; plist[c, o] = plist[c, o] " " p }
      sr[$2, c, o, p] = $8 / sn[$2, c, o]; st[$2, c, o, p] = $10 / sn[$2, c, o]
      if (!(p in pseen)) { pseen[p] = 1; allp[++nallp] = p }
    }
    END {
      for (key in pin) {
        split(key, kk, SUBSEP)
        for (i = 1; i <= nrep; i++) { mx[i] = sr[i, kk[1], kk[2], kk[3]] + 0; my[i] = st[i, kk[1], kk[2], kk[3]] + 0 }
        sruns[key] = median(mx, nrep); sns[key] = median(my, nrep)
      }
      printf "=== peer_bench on %s: %s\n", k, head
      printf "  %s; %d rounds ran (VM run %d s, exit %d)\n", sizes, maxround, secs, vrc
      for (i = 1; i <= ninfo; i++) print "  " info[i]
      if (!maxround) { print "peer_bench " k ": no round ran"; exit 1 }
      printf "\n  ns per op as us: median [min-max] over the rounds\n"
      printf "  %-13s", "op"
      for (c = 1; c <= ncfg; c++) if (cfgs[c] in seen) printf "  %-25s", title[cfgs[c]]
      printf "\n"
      for (o = 1; o <= nops; o++) {
        printf "  %-13s", ops[o]
        for (c = 1; c <= ncfg; c++) {
          cf = cfgs[c]; if (!(cf in seen)) continue
          key = cf SUBSEP ops[o]; m = n[key]
          if (!m) { printf "  %-25s", "-"; continue }
          lo = hi = v[key, 1]
          for (i = 1; i <= m; i++) { a[i] = v[key, i]; if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
          med[cf, ops[o]] = median(a, m)
          printf "  %-25s", sprintf("%s [%s-%s]", us(med[cf, ops[o]]), us(lo), us(hi))
        }
        printf "\n"
      }
      printf "\n  ratio of the medians to A (no gate)\n  %-13s", "op"
      for (c = 2; c <= ncfg; c++) if (cfgs[c] in seen) printf "  %-20s", title[cfgs[c]]
      printf "\n"
      for (o = 1; o <= nops; o++) {
        printf "  %-13s", ops[o]
        for (c = 2; c <= ncfg; c++) {
          cf = cfgs[c]; if (!(cf in seen)) continue
          if (((cf, ops[o]) in med) && med["A", ops[o]] > 0) printf "  %-20s", sprintf("%.2f", med[cf, ops[o]] / med["A", ops[o]])
          else printf "  %-20s", "-"
        }
        printf "\n"
      }
      if (!("E" in seen)) print "  E (fapolicyd) could not run: see the FAPO lines above"
      # bpf_stats pass
      if (nallp) {
        printf "\n  gate programs per op (bpf_stats, median of %d runs each of B and C after the rounds; runs and ns per op)\n", nrep
        for (x = 1; x <= 2; x++) {
          ex = x == 1 ? "exec_static" : "exec_dynamic"
          printf "  %s per exec:\n  %-32s %-22s %-22s\n", ex, "program", "C in scope", "B out of scope"
          tc = tb = 0
          for (j = 1; j <= nallp; j++) {
            p = allp[j]
            if (!(("C", ex, p) in sruns) && !(("B", ex, p) in sruns)) continue
            cc = bb = "-"
            if (("C", ex, p) in sruns) { cc = sprintf("%.2f x, %.0f ns", sruns["C", ex, p], sns["C", ex, p]); tc += sns["C", ex, p] }
            if (("B", ex, p) in sruns) { bb = sprintf("%.2f x, %.0f ns", sruns["B", ex, p], sns["B", ex, p]); tb += sns["B", ex, p] }
            printf "  %-32s %-22s %-22s\n", p, cc, bb
          }
          printf "  %-32s %-22s %-22s\n", "all programs", sprintf("%.0f ns", tc), sprintf("%.0f ns", tb)
        }
        printf "  other ops, programs per op (runs x, ns):\n"
        for (o = 3; o <= nops; o++) {
          for (x = 1; x <= 2; x++) {
            cf = x == 1 ? "C" : "B"; op = ops[o]
            line = ""; t = 0
            np = split(plist[cf, op], pl, " ")
            for (j = 1; j <= np; j++) {
              p = pl[j]; r = sruns[cf, op, p]
              if (r < 0.5) continue   # background (the daemon, the shell), not this op
              t += sns[cf, op, p]
              line = line sprintf(" %s %.2fx %.0f;", p, r, sns[cf, op, p])
            }
            printf "  %-13s %s %5.0f ns:%s\n", op, cf, t, line
          }
        }
      }
      # daemons
      if ("C" in dn) {
        idle = ("B" in dwall) && dwall["B"] > 0 ? dsched["B"] / dwall["B"] : 0   # ns per centisecond
        printf "\n  execgated during C (%d runs, %d gated execs, %.1f s incl. the drain wait): CPU %.0f ms (schedstat; utime+stime %d ticks = %d ms): %.0f ms per 1000 gated execs\n", dn["C"], dexec["C"], dwall["C"] / 100, dsched["C"] / 1e6, dticks["C"], dticks["C"] * 10, dsched["C"] / 1e6 / dexec["C"] * 1000
        printf "    idle rate (B runs, no gated exec): %.2f ms CPU per s; net of it: %.0f ms per 1000 gated execs\n", idle * 100 / 1e6, (dsched["C"] - idle * dwall["C"]) / 1e6 / dexec["C"] * 1000
        printf "    event thread: %.0f ms CPU (%.0f ms per 1000 execs), %d voluntary switches, %d ring-buffer wakeups (bpf_ringbuf_notify) over %.1f s\n", devt["C"] / 1e6, devt["C"] / 1e6 / dexec["C"] * 1000, dcs["C"], dwake["C"], dwall["C"] / 100
        if ("B" in dn) {
          ei = devt["B"] / dwall["B"]
          printf "    B runs for comparison: event thread %.0f ms CPU, %d voluntary switches, %d wakeups over %.1f s; C net of that idle rate: %.0f ms per 1000 execs\n", devt["B"] / 1e6, dcs["B"], dwake["B"], dwall["B"] / 100, (devt["C"] - ei * dwall["C"]) / 1e6 / dexec["C"] * 1000
        }
        printf "    VmRSS %d-%d kB\n", drssmin["C"], drss["C"]
      }
      if ("D" in dn)
        printf "  execgated for D (stopped during the run, then drained): CPU %.0f ms for %d execs: %.0f ms per 1000; event thread %.0f ms, %d switches, %d wakeups\n", dsched["D"] / 1e6, dexec["D"], dsched["D"] / 1e6 / dexec["D"] * 1000, devt["D"] / 1e6, dcs["D"], dwake["D"]
      if ("E" in dn)
        printf "  fapolicyd during E (%d runs over %.1f s; it judges every open as well as the %d execs): CPU %.0f ms (utime+stime %d ms), %.0f ms per 1000 execs all told, %.0f ms per 1000 of its %d decisions; VmRSS %d-%d kB\n", dn["E"], dwall["E"] / 100, dexec["E"], dsched["E"] / 1e6, dticks["E"] * 10, dsched["E"] / 1e6 / dexec["E"] * 1000, ddec["E"] ? dsched["E"] / 1e6 / ddec["E"] * 1000 : 0, ddec["E"], drssmin["E"], drss["E"]
      bad = 0
      for (i = 1; i <= nbroken; i++) { print "  " broken[i]; bad = 1 }
      if (maxround < rounds) { printf "  only %d of %d rounds ran\n", maxround, rounds; bad = 1 }
      if (vrc != 0) { printf "  the VM run exited %d\n", vrc; bad = 1 }
      exit bad
    }' "$log"; then
    echo "peer_bench: $k: broken run (vm-run exit $vrc); the end of its output:"
    grep -v '^R \|^S ' "$log" | tail -25
    rc=1
  fi
  rm -f "$log"
done
exit $rc
