#!/bin/sh
# Inside the VM (see program_ab.sh): program_ab_guest.sh OLD_DIR NEW_DIR LOOP ROUNDS
# One boot, two builds of execgated, each with its own keys, state directory and audit log
# (their formats may differ): each round installs OLD's gate and NEW's in turn (odd rounds
# OLD first, even rounds NEW first), each time from nothing (--uninstall), and runs LOOP's
# static exec loop from the scope with bpf_stats on. Prints, per round and build,
#   AB ROUND old|new op|prog ...   (peer_loop --stats, tagged)
OLD=$1 NEW=$2 LOOP=$3 ROUNDS=${4:-6}
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
# use BUILD: its execgate and execgated, and its own directory (W, AUDIT for lib.sh)
use() {
  if [ "$1" = old ]; then DIR=$OLD; else DIR=$NEW; fi
  W=/tmp/ab-$1
  AUDIT=$W/audit/audit.jsonl
  EXECGATED=$DIR/execgated
  PATH=$DIR:$ORIG_PATH
  export PATH
}
ORIG_PATH=$PATH
mkdir -p /opt/bench /tmp/peer /sys/fs/cgroup/gated/bench
cp /bin/busybox /opt/bench/true
head -c 4096 /dev/urandom >/tmp/peer/data
head -c 4096 /dev/zero >/tmp/peer/scratch
for b in old new; do
  use $b
  mkdir -p $W/audit
  execgate keygen -o $W/ops >/dev/null
  { policy_head; printf '[audit]\npath = "%s"\n' "$AUDIT"; } >$W/p.toml
  "$EXECGATED" --uninstall >/dev/null 2>&1
  start_daemon $W/p.toml || { echo "BROKEN execgated of $DIR did not start"; exit 1; }
  ticket static /opt/bench/true --ttl 3h || { echo "BROKEN $b: cannot ticket the bench binary"; exit 1; }
  stop_daemon
done
ARGS="--uid 0 --n-exec 200 --n-dyn 10 --n-sys 100 --static /opt/bench/true --dynamic /opt/bench/true"
ARGS="$ARGS --data /tmp/peer/data --scratch /tmp/peer/scratch --xfile /opt/bench/true --deny /opt/bench/true"
echo 1 >/proc/sys/kernel/bpf_stats_enabled
r=1
while [ $r -le "$ROUNDS" ]; do
  if [ $((r % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for b in $order; do
    use $b
    "$EXECGATED" --uninstall >/dev/null 2>&1
    start_daemon $W/p.toml || { echo "BROKEN execgated of $DIR did not start"; exit 1; }
    # shellcheck disable=SC2086
    "$LOOP" bench --stats /sys/fs/bpf/execgate --cgroup /gated/bench $ARGS exec_static | sed "s/^/AB $r $b /"
    stop_daemon
  done
  r=$((r + 1))
done
