#!/usr/bin/env bash
# Self-test of the real-kernel harness (scripts/vm-run.sh) on each test kernel.
#
#   tests/e2e/vm_selftest.sh                # bookworm and trixie
#   VM_SELFTEST_KERNELS=trixie tests/e2e/vm_selftest.sh
#   VM_SELFTEST_FULL=1 tests/e2e/vm_selftest.sh   # also the timeout case (slow: waits it out)
#
# Prints PASS/FAIL per case and "N passed, M failed"; exits 1 when anything failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vmrun=$here/../../scripts/vm-run.sh
kernels=${VM_SELFTEST_KERNELS:-bookworm trixie}
passed=0
failed=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'; failed=$((failed + 1)); }
check() { # NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $(printf %q "$2")"$'\n'"actual:   $(printf %q "$3")"; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
payload=$work/payload.txt
printf 'payload line 1\npayload: it'"'"'s $HOME\n' >"$payload"
mkdir -p "$work/dir/sub"
echo nested >"$work/dir/sub/file"
ln -s sub/file "$work/dir/link"

# The dynamically linked host binaries: GNU stat (busybox has only its own applet) and bash.
host_stat=$(command -v stat)
host_bash=$(command -v bash)

for k in $kernels; do
  echo "== kernel $k"

  # 1. exit status propagation
  out=$("$vmrun" --kernel "$k" -- sh -c 'exit 7' 2>"$work/err"); rc=$?
  check "$k: exit status 7 propagates" 7 "$rc"
  [ "$rc" = 7 ] || cat "$work/err"

  # 2. argument boundaries (spaces, quotes, empty, newline, globs, $) and stdout+stderr merge
  out=$("$vmrun" --kernel "$k" -- printf '%s|' 'a b' c 2>"$work/err"); rc=$?
  check "$k: argument boundaries (printf '%s|' 'a b' c)" "0:a b|c|" "$rc:$out"
  out=$("$vmrun" --kernel "$k" -- printf '<%s>' "it's" '' '$HOME' '*' 'x
y' '\n' 2>"$work/err"); rc=$?
  check "$k: tricky arguments arrive verbatim" "0:<it's><><\$HOME><*><x
y><\\n>" "$rc:$out"

  # 3. environment: --add file/dir/dynamic binaries, machine-id, cgroup2, bpffs, lsm, BTF
  out=$("$vmrun" --kernel "$k" --add "$payload" --add "$work/dir" --add "$host_stat" --add "$host_bash" -- sh -c '
    echo "payload=$(cat '"$payload"' | head -n1)"
    echo "nested=$(cat '"$work"'/dir/sub/file) link=$(readlink '"$work"'/dir/link)"
    echo "stat=$('"$host_stat"' --version | head -n1)"
    echo "bash=$('"$host_bash"' -c "echo \$BASH_VERSION" | cut -c1-2)"
    echo "machineid=$(cat /etc/machine-id)"
    echo "cgroup=$(stat -f -c %T /sys/fs/cgroup)"
    echo "bpffs=$(stat -f -c %T /sys/fs/bpf)"
    echo "lsm=$(cat /sys/kernel/security/lsm)"
    echo "btf=$(test -r /sys/kernel/btf/vmlinux && echo yes || echo no)"
    echo "uid=$(id -u)"
    echo "to-stderr" >&2
  ' 2>"$work/err"); rc=$?
  get() { printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n1; }
  check "$k: environment run exits 0" 0 "$rc"
  [ "$rc" = 0 ] || cat "$work/err"
  check "$k: --add file at its absolute path" "payload line 1" "$(get payload)"
  check "$k: --add directory recursively (symlinks kept)" "nested link=sub/file" "$(get nested)"
  case "$(get stat)" in *"GNU coreutils"*) pass "$k: --add dynamically linked $host_stat runs (libs resolved)" ;;
    *) fail "$k: --add dynamically linked $host_stat runs" "$(get stat)"; cat "$work/err" ;; esac
  check "$k: --add $host_bash runs" "5." "$(get bash)"
  if [[ "$(get machineid)" =~ ^[0-9a-f]{32}$ ]]; then pass "$k: /etc/machine-id is 32 hex"
  else fail "$k: /etc/machine-id is 32 hex" "$(get machineid)"; fi
  check "$k: cgroup2 mounted at /sys/fs/cgroup" cgroup2fs "$(get cgroup)"
  check "$k: bpffs mounted at /sys/fs/bpf" bpf_fs "$(get bpffs)"
  case ",$(get lsm)," in *,bpf,*) pass "$k: bpf in /sys/kernel/security/lsm ($(get lsm))" ;;
    *) fail "$k: bpf in /sys/kernel/security/lsm" "$(get lsm)" ;; esac
  check "$k: /sys/kernel/btf/vmlinux present" yes "$(get btf)"
  check "$k: CMD runs as root" 0 "$(get uid)"
  case "$out" in *to-stderr*) pass "$k: CMD's stderr reaches stdout" ;;
    *) fail "$k: CMD's stderr reaches stdout" "$out" ;; esac
  case "$rc:$out" in [!0]*|*EXECGATE_VM_*|*$'\r'*) fail "$k: no marker / carriage returns in output" "$out" ;;
    *) pass "$k: no marker / carriage returns in output" ;; esac
done

first=${kernels%% *}
# 4. a VM that cannot start its init is reported as a harness failure (125), not as CMD's status
EXECGATE_VM_BOOT_RETRIES=0 "$vmrun" --kernel "$first" --timeout 120 --append-cmdline rdinit=/no/such/init -- true >/dev/null 2>"$work/err"; rc=$?
if [ "$rc" = 125 ] && grep -q 'failed to boot' "$work/err"; then pass "$first: boot failure -> exit 125 with message"
else fail "$first: boot failure -> exit 125 with message" "rc=$rc $(tail -n 3 "$work/err")"; fi

# 5. usage error
"$vmrun" --no-such-option -- true >/dev/null 2>&1; rc=$?
check "usage error -> exit 125" 125 "$rc"

if [ "${VM_SELFTEST_FULL:-0}" = 1 ]; then
  "$vmrun" --kernel "$first" --timeout 40 -- sleep 1000 >/dev/null 2>"$work/err"; rc=$?
  if [ "$rc" = 124 ] && grep -q 'timeout' "$work/err"; then pass "$first: --timeout -> exit 124"
  else fail "$first: --timeout -> exit 124" "rc=$rc $(tail -n 3 "$work/err")"; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
