# shellcheck shell=bash
# Host side of the VM scripts (run-vm-suites.sh, tests/bench/vm_exec_cost.sh), sourced with
# the script's arguments: sets repo, build (BUILD_DIR, else repo/build) and kernels (the
# arguments; default bookworm trixie), and stops when a binary the VM needs is not built.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(bookworm trixie)
for f in "$build/execgate" "$build/execgated" "$build/tests/eg-probe"; do
  [ -x "$f" ] || { echo "$(basename "$0"): $f missing: build first (scripts/test.sh)" >&2; exit 1; }
done

# The toolchain the exec suite's job builds case and tests/bench/job_build_bench.sh compile
# and link with in the VM, as vm-run.sh --add options: tcc (compiler and linker in one
# binary), its runtime, and what a program that includes <stdio.h> needs of libc's
# development files.
# shellcheck disable=SC2034 # used by the scripts that source this file
toolchain_adds=()
for f in /usr/bin/tcc /usr/lib/x86_64-linux-gnu/tcc /usr/lib/x86_64-linux-gnu/crt1.o /usr/lib/x86_64-linux-gnu/crti.o \
  /usr/lib/x86_64-linux-gnu/crtn.o /usr/lib/x86_64-linux-gnu/libc.so /usr/lib/x86_64-linux-gnu/libc_nonshared.a \
  /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
  /usr/include/stdio.h /usr/include/features.h /usr/include/features-time64.h /usr/include/stdc-predef.h \
  /usr/include/x86_64-linux-gnu/bits /usr/include/x86_64-linux-gnu/gnu /usr/include/x86_64-linux-gnu/sys; do
  toolchain_adds+=(--add "$f")
done
