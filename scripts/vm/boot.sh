# shellcheck shell=bash disable=SC2154 # globals of vm-run.sh, listed below
# Part of scripts/vm-run.sh and scripts/host-vm.sh (sourced): makes the run's working
# directory, boots the VM under qemu (TCG) and turns what happened into the script's exit
# status. ttyS0 (kernel console, init's markers) goes to a log file, ttyS1 (CMD's output) to
# our stdout.
#
# Uses from the script: prog, cache, vmlinuz, initrd, timeout_s, mem, smp, extra_cmdline,
# show_console, verbose, t0, t1, fail. Sets tmp (vm_workdir), and qpid and tailpid while
# they run (vm_cleanup kills them).

# diagnose CONSOLE_LOG: the last console lines (stack dumps filtered) and qemu's stderr.
diagnose() {
  echo "$prog: --- last console lines ($vmlinuz) ---" >&2
  # Skip stack-trace/register-dump lines so the reason (panic message, init errors) shows.
  tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
    grep -avE '^[[:space:]]*$|^\[[ 0-9.]+\]  |^\[[ 0-9.]+\] (R[A-Z0-9]{2}|Code|CR2|FS|CS|DR[0-9]):' | tail -n 25 >&2
  if [ -s "$tmp/qemu.err" ]; then
    echo "$prog: --- qemu stderr ---" >&2
    grep -v 'TCG doesn.t support requested feature' "$tmp/qemu.err" | tail -n 20 >&2
  fi
}

# vm_workdir PREFIX: the run's temporary directory ($tmp), removed, with qemu and the
# console follower killed, on every way out (the traps).
vm_workdir() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || fail "mktemp failed"
  qpid=
  tailpid=
  trap vm_cleanup EXIT
  trap 'echo "$prog: interrupted" >&2; exit 130' INT
  trap 'echo "$prog: terminated" >&2; exit 143' TERM HUP
}
# shellcheck disable=SC2317,SC2329 # called by the EXIT trap
vm_cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
  [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
  rm -rf "$tmp"
}

# boot_vm: runs the VM (again when it dies before CMD starts, or when the guest asked for a
# reboot with the EXECGATE_VM_REBOOT marker: the systemd host's payload does) and exits with
# CMD's status, 124 (timeout) or 125. Never returns. With qemu's -no-reboot a guest reboot
# ends qemu; the next boot uses the same disks, so it is the guest's own reboot.
boot_vm() {
  # Serialise VMs on this machine (2 cores, TCG); the timeout only counts once we hold the lock.
  if [ "${EXECGATE_VM_NOLOCK:-0}" != 1 ] && command -v flock >/dev/null; then
    exec 8>"$cache/vm.lock"
    if ! flock -n 8; then
      echo "$prog: waiting for another vm-run on this machine to finish ($cache/vm.lock)" >&2
      flock 8
    fi
  fi

  local console=$tmp/console.log
  local cmdline="console=ttyS0 quiet loglevel=1 panic=-1${extra_cmdline}"
  # Single-threaded TCG by default: with MTTCG (thread=multi) a vCPU can run stale translated
  # code after the kernel live-patches its text (text_poke with int3), which showed up as a rare
  # "Oops: int3" at boot on 6.12; it is no slower here. The guest still has $smp CPUs.
  local tcg_thread=${EXECGATE_VM_TCG_THREAD:-single}
  local boot_retries=${EXECGATE_VM_BOOT_RETRIES:-1}
  [[ "$boot_retries" =~ ^[0-9]+$ ]] || fail "EXECGATE_VM_BOOT_RETRIES must be a number"
  local attempt=0 reboots=0 max_reboots=${EXECGATE_VM_MAX_REBOOTS:-4} start qrc elapsed marker ready
  while :; do
    attempt=$((attempt + 1))
    : >"$console"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # EXECGATE_VM_QEMU_ARGS is word-split on purpose
    timeout -k 5 "$timeout_s" qemu-system-x86_64 \
      -accel "tcg,thread=$tcg_thread" -cpu max -m "$mem" -smp "$smp" \
      -nodefaults -nographic -no-reboot -monitor none \
      -kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline" \
      -serial "file:$console" -serial stdio ${EXECGATE_VM_QEMU_ARGS:-} \
      </dev/null 2>"$tmp/qemu.err" &
    qpid=$!
    if [ "$show_console" = 1 ]; then
      # Follows the console until qemu (its timeout wrapper) exits.
      tail -n +1 -f --pid="$qpid" "$console" | sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r$//' >&2 &
      tailpid=$!
    fi
    wait "$qpid"
    qrc=$?
    qpid=
    if [ -n "$tailpid" ]; then wait "$tailpid" 2>/dev/null; tailpid=; fi
    elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    if [ "$verbose" = 1 ]; then
      awk -v a="$t0" -v b="$t1" -v n="$(stat -c %s "$initrd")" -v e="$elapsed" -v k="$vmlinuz" \
        'BEGIN { printf "vm-run: kernel %s, initramfs %.1f MB prepared in %.2fs, VM ran %ss\n", k, n / 1048576, b - a, e }' >&2
    fi

    marker=$(tr -d '\r' <"$console" | sed -n 's/.*EXECGATE_VM_EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1)
    ready=0
    grep -aq 'EXECGATE_VM_READY' "$console" && ready=1
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
      if [ "$ready" = 1 ]; then
        echo "$prog: timeout: CMD did not finish within ${timeout_s}s; VM killed" >&2
      else
        echo "$prog: timeout: VM did not finish booting within ${timeout_s}s; VM killed" >&2
      fi
      diagnose "$console"
      exit 124
    fi
    [ -n "$marker" ] && exit "$marker"
    if grep -aq 'EXECGATE_VM_REBOOT' "$console"; then
      reboots=$((reboots + 1))
      [ "$reboots" -le "$max_reboots" ] || { echo "$prog: the guest asked for more than $max_reboots reboots" >&2; exit 125; }
      [ "$verbose" = 1 ] && echo "$prog: guest rebooted ($reboots)" >&2
      attempt=0
      continue
    fi
    if [ "$ready" = 1 ]; then
      echo "$prog: VM died while running CMD (kernel panic/oops or init killed) after ${elapsed}s; qemu exit $qrc" >&2
      diagnose "$console"
      exit 125
    fi
    # CMD never started, so nothing has run yet: booting again is safe.
    if [ "$attempt" -le "$boot_retries" ]; then
      echo "$prog: warning: VM failed to boot (attempt $attempt, ${elapsed}s, qemu exit $qrc); retrying" >&2
      diagnose "$console"
      continue
    fi
    echo "$prog: VM failed to boot (no init start marker) after ${elapsed}s, $attempt attempt(s); qemu exit $qrc" >&2
    diagnose "$console"
    exit 125
  done
}
