#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs the
# ticket parser fuzzer for ${FUZZ_SECONDS:-60} seconds, starting from the committed seed
# corpus tests/fuzz/corpus (copied, so the committed corpus is not modified).
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout, broken invariant);
# the reproducer is left in build-fuzz/fuzz/artifacts/.
#
#   scripts/fuzz.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   scripts/fuzz.sh build-fuzz/fuzz/artifacts/crash-...   # replay one input
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_BUILD_JOBS:-2}
target=execgate_ticket_parse_fuzz

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

CC=clang CXX=clang++ cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEXECGATE_BUILD_FUZZ=ON -DEXECGATE_BUILD_TESTS=OFF -DEXECGATE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target "$target" -j"$jobs"

bin=$build/fuzz/$target
artifacts=$build/fuzz/artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ $# -gt 0 ]; then
  exec "$bin" "$@"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root"/tests/fuzz/corpus/* "$work"/

echo "fuzz.sh: running $target for ${seconds}s"
"$bin" "$work" \
  -dict="$root/tests/fuzz/ticket.dict" \
  -max_total_time="$seconds" \
  -max_len=8192 \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1
echo "fuzz.sh: $target ran ${seconds}s with no findings"
