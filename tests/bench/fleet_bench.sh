#!/usr/bin/env bash
# The fleet at scale: tests/bench/fleet_bench.sh [HOSTS] [TICKETS] (default 200 and 1000).
# HOSTS hosts against one etcd on 127.0.0.1: each the real execgate-sync, its own process,
# feeding a daemon whose kernel is the gate facade's fake (all in build/bench/
# execgate_fleet_bench, tests/bench/fleet_bench.cpp). Publishes TICKETS tickets, revokes one
# ROUNDS (5) times, and prints the time until every host's signed ack names each revocation
# (p50, p99, max), the CPU it took, and the agents' RSS with TICKETS and with RSS_TICKETS
# (10000) tickets (RSS_HOSTS, 4, of them). Targets (docs/fleet.md "At scale"): revocation p99
# < 1 s, an agent < 20 MB. Exit 1 only when a host does not converge or keeps the ticket.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
hosts=${1:-200}
tickets=${2:-1000}
for bin in "$build/bench/execgate_fleet_bench" "$build/execgate-sync"; do
  [ -x "$bin" ] || { echo "fleet_bench: $bin is missing: build first (README "Build and test")" >&2; exit 2; }
done
command -v etcd >/dev/null || { echo "fleet_bench: etcd is not installed (scripts/install-deps.sh)" >&2; exit 2; }
# two sockets per host to etcd and the daemons' control sockets: more than 1024 descriptors
ulimit -n "$(ulimit -Hn)"
# the daemons' state directories and etcd's data on tmpfs: the bench measures the fleet's
# path, not this disk's fsync
if [ -d /dev/shm ]; then export TMPDIR=/dev/shm; fi
exec "$build/bench/execgate_fleet_bench" --sync "$build/execgate-sync" --hosts "$hosts" --tickets "$tickets" \
  --rounds "${ROUNDS:-5}" --rss-hosts "${RSS_HOSTS:-4}" --rss-tickets "${RSS_TICKETS:-10000}" --timeout "${TIMEOUT:-600}"
