#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# ${FUZZ_SECONDS:-20} seconds from its committed seed corpus (copied, so the committed
# corpus is not modified):
#   ticket_parse     tests/fuzz/corpus          envelopes, ticket and revocation bodies
#   policy           tests/fuzz/corpus-policy   the policy file
#   audit_line       tests/fuzz/corpus-audit    one stored audit line
#   control_request  tests/fuzz/corpus-control  one control-socket request
#   etcd_response    tests/fuzz/corpus-etcd     etcd's gateway answers and watch stream
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout, broken invariant);
# the reproducer is left in build-fuzz/fuzz/artifacts/.
#
#   scripts/fuzz.sh                          # every target, 20 s each
#   FUZZ_SECONDS=600 FUZZ_TARGETS=policy scripts/fuzz.sh
#   scripts/fuzz.sh policy build-fuzz/fuzz/artifacts/crash-...   # replay one input
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_BUILD_JOBS:-2}
read -r -a targets <<<"${FUZZ_TARGETS:-ticket_parse policy audit_line control_request etcd_response}"

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

CC=clang CXX=clang++ cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXECGATE_DAEMON=OFF \
  -DEXECGATE_BUILD_FUZZ=ON -DEXECGATE_BUILD_TESTS=OFF -DEXECGATE_BUILD_BENCH=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("execgate_${t}_fuzz"); done
cmake --build "$build" -j"$jobs" --target "${build_targets[@]}"
for t in "${targets[@]}"; do
  [ -x "$build/fuzz/execgate_${t}_fuzz" ] || { echo "fuzz.sh: execgate_${t}_fuzz did not build" >&2; exit 1; }
done

artifacts=$build/fuzz/artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ $# -gt 0 ]; then
  t=$1
  shift
  exec "$build/fuzz/execgate_${t}_fuzz" "$@"
fi

corpus_of() {
  case $1 in
    ticket_parse) echo "$root/tests/fuzz/corpus" ;;
    *) echo "$root/tests/fuzz/corpus-${1%%_*}" ;;
  esac
}
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp "$(corpus_of "$t")"/* "$work"/
  dict=()
  [ "$t" != ticket_parse ] || dict=(-dict="$root/tests/fuzz/ticket.dict")
  echo "fuzz.sh: running execgate_${t}_fuzz for ${seconds}s"
  if ! "$build/fuzz/execgate_${t}_fuzz" "$work" "${dict[@]}" \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 2>"$work.log"; then
    tail -40 "$work.log" >&2
    rm -rf "$work" "$work.log"
    echo "fuzz.sh: execgate_${t}_fuzz found a problem (reproducer in $artifacts/)" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$work.log" || true
  rm -rf "$work" "$work.log"
  echo "fuzz.sh: execgate_${t}_fuzz ran ${seconds}s with no findings"
done
