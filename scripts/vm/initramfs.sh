# shellcheck shell=bash disable=SC2154 # globals of vm-run.sh, listed below
# Part of scripts/vm-run.sh (sourced): the base initramfs, built once and cached. busybox with a
# link per applet, the VM's /bin/sh and its libraries, /init (scripts/vm/init.sh, copied as it
# is), static /etc files and /dev/console, in one gzipped newc archive under $cache/initramfs.
#
# Uses from vm-run.sh: prog, here, cache, tmp, fail; from payload.sh: add_libs (same ROOT logic
# as the per-run part). Sets: busybox, vm_shell (pick_busybox_and_shell), base (base_initramfs).

# Applets come from a busybox (static by default). /bin/sh is the host's dash when present:
# Debian's busybox-static is built with "prefer applets"/"standalone shell", so its ash would run
# applets without any execve() and ignore PATH, which defeats an exec gate's tests.
pick_busybox_and_shell() {
  local b
  busybox=${EXECGATE_VM_BUSYBOX:-}
  if [ -z "$busybox" ]; then
    for b in /usr/bin/busybox /bin/busybox; do
      [ -x "$b" ] && { busybox=$b; break; }
    done
    [ -n "$busybox" ] || fail "busybox not found (install busybox-static)"
    if ldd "$busybox" >/dev/null 2>&1; then
      fail "$busybox is dynamically linked; install busybox-static (or set EXECGATE_VM_BUSYBOX)"
    fi
  fi
  [ -x "$busybox" ] || fail "busybox $busybox is not executable"
  busybox=$(readlink -f "$busybox")
  vm_shell=${EXECGATE_VM_SHELL:-/bin/dash}
  if [ "$vm_shell" != busybox ]; then
    [ -x "$vm_shell" ] || { [ -n "${EXECGATE_VM_SHELL:-}" ] && fail "EXECGATE_VM_SHELL=$vm_shell is not executable"; vm_shell=busybox; }
    [ "$vm_shell" = busybox ] || vm_shell=$(readlink -f "$vm_shell")
  fi
}

# base_initramfs: sets base to the cached archive, building it first when it is missing.
# Keyed by busybox, the shell (and its libraries) and the files that write the archive (this
# one, init.sh, payload.sh for add_libs): any change rebuilds it.
base_initramfs() {
  local inputs=("$busybox" "$here/vm/initramfs.sh" "$here/vm/init.sh" "$here/vm/payload.sh") l key
  if [ "$vm_shell" != busybox ]; then
    inputs+=("$vm_shell")
    while IFS= read -r l; do inputs+=("$l"); done < <(LC_ALL=C ldd "$vm_shell" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
  fi
  if ldd "$busybox" >/dev/null 2>&1; then
    while IFS= read -r l; do inputs+=("$l"); done < <(LC_ALL=C ldd "$busybox" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
  fi
  key=$(sha256sum "${inputs[@]}" | sed 's/ .*//' | sha256sum | cut -c1-16)
  base=$cache/initramfs/base-$key.cpio.gz
  if [ ! -s "$base" ]; then
    build_base || fail "building the base initramfs failed"
  fi
}

# A newc cpio entry with no data (directories and device nodes without needing mknod/root).
newc_entry() { # NAME MODE(octal) NLINK RDEVMAJOR RDEVMINOR INO
  local name=$1 ns=$(( ${#1} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$6" "$((8#$2))" 0 0 "$3" 0 0 0 0 "$4" "$5" "$ns" 0
  printf '%s\0' "$name"
  local pad=$(( (4 - (110 + ns) % 4) % 4 ))
  [ "$pad" -gt 0 ] && printf '%*s' "$pad" '' | tr ' ' '\0'
  return 0
}

build_base() {
  local s=$tmp/base d
  mkdir -p "$s"
  for d in bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin usr/local/lib/execgate \
           lib lib64 usr/lib etc/execgate proc sys dev tmp run root mnt \
           var/lib var/log var/tmp; do
    mkdir -p "$s/$d"
  done
  chmod 1777 "$s/tmp" "$s/var/tmp"
  chmod 0700 "$s/root"
  cp "$busybox" "$s/bin/busybox"
  chmod 0755 "$s/bin/busybox"
  add_libs "$busybox" "$s"
  # Every applet in /bin, and also at its canonical place (e.g. /usr/bin/env for shebangs).
  local a name
  while read -r a; do
    name=${a##*/}
    [ "$name" = busybox ] && continue
    [ -e "$s/bin/$name" ] || ln -s busybox "$s/bin/$name"
    case "$a" in
      bin/*|"") ;;
      *) [ -e "$s/$a" ] || [ -L "$s/$a" ] || { mkdir -p "$s/${a%/*}"; ln -s /bin/busybox "$s/$a"; } ;;
    esac
  done < <("$busybox" --list-full)
  if [ "$vm_shell" != busybox ]; then
    cp "$vm_shell" "$s/bin/${vm_shell##*/}"
    chmod 0755 "$s/bin/${vm_shell##*/}"
    add_libs "$vm_shell" "$s"
    rm -f "$s/bin/sh"
    ln -s "${vm_shell##*/}" "$s/bin/sh"
  fi
  cp "$here/vm/init.sh" "$s/init" || return 1
  chmod 0755 "$s/init"
  printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nexecgate-test:x:1000:1000:execgate test user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$s/etc/passwd"
  printf 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nexecgate-test:x:1000:\nnogroup:x:65534:\n' >"$s/etc/group"
  printf 'root::0:0:99999:7:::\n' >"$s/etc/shadow"
  chmod 0600 "$s/etc/shadow"
  echo execgate-vm >"$s/etc/hostname"
  printf '127.0.0.1\tlocalhost execgate-vm\n::1\tlocalhost\n' >"$s/etc/hosts"
  : >"$s/etc/fstab"
  ln -s /proc/self/mounts "$s/etc/mtab"
  {
    (cd "$s" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) || return 1
    # /dev/console must exist before init runs (devtmpfs is mounted by init itself).
    newc_entry dev 040755 2 0 0 900001
    newc_entry dev/console 020600 1 5 1 900002
    newc_entry TRAILER!!! 0 1 0 0 0
  } | gzip -9 >"$tmp/base.cpio.gz" || return 1
  mv -f "$tmp/base.cpio.gz" "$base"
  # Drop bases of other busybox/harness versions that have not been used for a day.
  find "$cache/initramfs" -maxdepth 1 -name 'base-*.cpio.gz' ! -name "${base##*/}" -atime +1 -delete 2>/dev/null
  return 0
}
