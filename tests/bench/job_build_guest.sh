#!/bin/sh
# Inside the VM (see job_build_bench.sh): job_build_guest.sh PROBE ROUNDS FILES
# The daemon runs as in production (signed audit log); tcc is copied to /opt/toolchain
# (outside the baseline: only its ticket lets it run in the scope) and allowed in job
# "bench" by a job-bound builder ticket. Each round builds FILES C files inside the job (G)
# and outside the scope (U), in alternating order, timed from /proc/uptime. Then one build
# of each with bpf_stats on, the programs' time read around it.
PROBE=$1
ROUNDS=${2:-5}
FILES=${3:-200}
PROBE_DIR=$(dirname "$PROBE")
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

broken() { echo "BROKEN $*" >&2; stop_daemon; exit 1; }
mkdir -p $W /opt/toolchain /bench/src
execgate keygen -o $W/ops >/dev/null
execgate keygen -o $W/audit >/dev/null
{ policy_head; printf '[audit]\npath = "%s"\nsigning_key = "%s"\n' "$AUDIT" "$W/audit.key"; } >$W/p.toml
start_daemon $W/p.toml || exit 1
cp /usr/bin/tcc /opt/toolchain/tcc && chmod 755 /opt/toolchain/tcc
execgate job start bench >/dev/null || broken "cannot start the job"
issue_ops builder /opt/toolchain/tcc --ttl 2h --job bench --builder && execgate submit $W/builder.ticket >/dev/null ||
  broken "cannot ticket the builder"

i=1
: >/bench/src/decls.h
while [ $i -le "$FILES" ]; do
  printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += (i ^ %d) %% 7; return s; }\n' $i $i >/bench/src/f$i.c
  printf 'int f%d(int x);\n' $i >>/bench/src/decls.h
  i=$((i + 1))
done
{
  echo '#include <stdio.h>'
  echo '#include "decls.h"'
  echo 'int main(void) { long s = 0;'
  i=1
  while [ $i -le "$FILES" ]; do echo "  s += f$i(100);"; i=$((i + 1)); done
  echo '  printf("built %ld\n", s); return 0; }'
} >/bench/src/main.c
cat >/bench/build.sh <<'EOT'
# build.sh DIR: every source compiled alone, the objects linked, the program run
cd "$1" || exit 1
rm -rf obj app && mkdir obj || exit 1
for f in /bench/src/*.c; do
  b=${f##*/}
  /opt/toolchain/tcc -c "$f" -o "obj/${b%.c}.o" || exit 1
done
/opt/toolchain/tcc -o app obj/*.o || exit 1
./app
EOT
mkdir -p /bench/g /bench/u
uptime_cs() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
run_g() { execgate run --job bench -- sh /bench/build.sh /bench/g; }
run_u() { sh /bench/build.sh /bench/u; }
# execgated's CPU time so far (utime + stime, in clock ticks of 10 ms) and the audit log's
# length in records: what the daemon spends on a build besides the programs
daemon_ticks() { awk '{ print $14 + $15 }' /proc/$DPID/stat; }
records() { wc -l <"$AUDIT"; }
timed() { # timed g|u: one build: its wall seconds, execgated's CPU ms, audit records
  d0=$(daemon_ticks) n0=$(records) t0=$(uptime_cs)
  out=$("run_$1" 2>&1) || broken "round build $1 failed: $out"
  t1=$(uptime_cs) d1=$(daemon_ticks)
  case "$out" in *built*) ;; *) broken "build $1 printed: $out" ;; esac
  sleep 1 # the records of the build's last events
  echo "$(( (t1 - t0) / 100 )).$(printf '%02d' $(( (t1 - t0) % 100 ))) daemon_ms $(( (d1 - d0) * 10 )) records $(( $(records) - n0 ))"
}
echo "kernel $(uname -r) vcpus $(grep -c ^processor /proc/cpuinfo)"
# the gate holds: a binary downloaded into the job does not run there
cp /bin/busybox /bench/g/downloaded
out=$(execgate run --job bench -- $PROBE exec /bench/g/downloaded 2>&1)
case "$out" in *EXEC_ERRNO=EPERM*) ;; *) broken "a downloaded binary ran in the job: $out" ;; esac
r=1
while [ $r -le "$ROUNDS" ]; do
  order="G U"
  [ $((r % 2)) = 0 ] && order="U G"
  for c in $order; do
    s=$(timed "$(echo $c | tr GU gu)") || exit 1
    echo "round $r $c wall $s"
  done
  r=$((r + 1))
done
# bpf_stats around one build of each: every program's run_time_ns and run_cnt
snapshot() {
  for l in /sys/fs/bpf/execgate/link_eg_*; do
    echo "${l##*/link_eg_} $($PROBE prog-stats "$l" | sed -n 's/.*run_cnt=\([0-9]*\) run_time_ns=\([0-9]*\).*/\1 \2/p')"
  done
}
echo 1 >/proc/sys/kernel/bpf_stats_enabled
for c in G U; do
  snapshot >/tmp/s0
  t0=$(uptime_cs)
  "run_$(echo $c | tr GU gu)" >/dev/null 2>&1 || broken "stats build $c failed"
  t1=$(uptime_cs)
  snapshot >/tmp/s1
  awk -v c=$c -v wall_cs=$((t1 - t0)) '
    NR == FNR { runs[$1] = $2; ns[$1] = $3; next }
    { d = $3 - ns[$1]; n = $2 - runs[$1]; if (n > 0) { tot += d; line = line sprintf(" %s %.1fms/%d", $1, d / 1e6, n) } }
    END { printf "stats %s: programs %.1f ms in all, %.2f%% of the build'"'"'s %.2f s wall;%s\n", c, tot / 1e6, tot / (wall_cs * 1e5), wall_cs / 100, line }' /tmp/s0 /tmp/s1
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled
stop_daemon
