# shellcheck shell=bash disable=SC2154 # globals of vm-run.sh, listed below
# Part of scripts/vm-run.sh (sourced): the per-run initramfs part. CMD, the execgate build
# output, the kernel's config and modules, --add paths and the shared libraries of every ELF
# among them, staged under $run and appended to the cached base (initramfs.sh).
#
# Uses from vm-run.sh: prog, repo, run, adds, vmlinuz, base, fail.

declare -A seen_lib=()   # ROOT+library path -> 1 once copied (add_libs)

# One shell word: ARG single-quoted, so any byte except NUL survives `. /etc/vm-run/cmd`.
squote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

is_elf() { [ -f "$1" ] && [ "$(LC_ALL=C head -c 4 "$1" 2>/dev/null | tr -d '\0')" = $'\177ELF' ]; }

# copy_file SRC DEST_ABS [ROOT]: regular file content (symlinks dereferenced), mode kept.
copy_file() {
  local root=${3:-$run}
  mkdir -p "$root$(dirname "$2")" && cp -L --preserve=mode,timestamps "$1" "$root$2"
}

# Shared libraries of an ELF (as ldd resolves them on the host), copied to the same paths.
add_libs() { # FILE [ROOT]
  local f=$1 root=${2:-$run} line lib
  is_elf "$f" || return 0
  local out
  out=$(LC_ALL=C ldd "$f" 2>/dev/null) || return 0
  while IFS= read -r line; do
    case "$line" in
      *"=> not found"*) echo "$prog: warning: $f needs ${line%% =>*} (not found on the host)" | tr -d '\t' >&2; continue ;;
      *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
      *"=>"*) continue ;;     # linux-vdso.so.1 => (...) and friends
      *[[:space:]]/*) lib=${line#"${line%%/*}"}; lib=${lib%% (*} ;;   # the dynamic loader
      *) continue ;;
    esac
    [ -n "$lib" ] && [ -z "${seen_lib[$root$lib]:-}" ] || continue
    seen_lib[$root$lib]=1
    [ -e "$root$lib" ] || copy_file "$lib" "$lib" "$root" || fail "copying library $lib (needed by $f) failed"
  done <<<"$out"
}

# build_payload CMD [ARGS...]: stages the per-run tree under $run.
build_payload() {
  local a b m p abs f d rel build_dir kdir
  mkdir -p "$run/etc/vm-run"

  # Command line: one POSIX-sh 'set --' with every argument single-quoted (exact boundaries).
  {
    printf 'set --'
    for a in "$@"; do printf ' '; squote "$a"; done
    printf '\n'
  } >"$run/etc/vm-run/cmd"

  # execgate build output
  build_dir=${BUILD_DIR:-$repo/build}
  for b in execgate execgated execgate-sync; do
    if [ -f "$build_dir/$b" ]; then
      copy_file "$build_dir/$b" "/usr/local/bin/$b" || fail "copying $build_dir/$b failed"
      chmod 0755 "$run/usr/local/bin/$b"
      add_libs "$build_dir/$b"
    fi
  done
  if [ -f "$build_dir/execgate.bpf.o" ]; then
    copy_file "$build_dir/execgate.bpf.o" /usr/local/lib/execgate/execgate.bpf.o || fail "copying execgate.bpf.o failed"
    copy_file "$build_dir/execgate.bpf.o" /usr/local/bin/execgate.bpf.o || fail "copying execgate.bpf.o failed"
    chmod 0644 "$run/usr/local/lib/execgate/execgate.bpf.o" "$run/usr/local/bin/execgate.bpf.o"
  fi

  # The kernel's config at /boot/config-RELEASE, as a Debian host has it (execgated reads
  # CONFIG_HZ there for its exec clock); fetched kernels keep it beside the image.
  # Its modules the suites load (fetch-kernel.sh's MODULES) go to /lib/modules/RELEASE/extra.
  kdir=$(dirname "$vmlinuz")
  if [ -f "$kdir/config" ] && [ -f "$kdir/version" ]; then
    copy_file "$kdir/config" "/boot/config-$(cat "$kdir/version")" || fail "copying the kernel config failed"
    for m in "$kdir"/modules/*.ko; do
      [ -f "$m" ] || continue
      copy_file "$m" "/lib/modules/$(cat "$kdir/version")/extra/${m##*/}" || fail "copying module $m failed"
    done
  fi

  # --add paths
  for p in "${adds[@]}"; do
    [ -e "$p" ] || fail "--add $p: no such file or directory"
    case "$p" in /*) abs=$p ;; *) abs=$PWD/$p ;; esac
    abs=$(realpath -s -m "$abs")
    [ "$abs" != / ] || fail "--add /: refusing to copy the whole host"
    if [ -d "$p" ]; then
      # Directories are copied as they are (symlinks inside stay symlinks); a symlink given on
      # the command line is followed. Merges with what is already there (several --add).
      mkdir -p "$run$abs" && chmod --reference="$p" "$run$abs" && cp -a "$p/." "$run$abs/" ||
        fail "copying directory $p failed"
      while IFS= read -r -d '' f; do add_libs "$f"; done < <(find "$run$abs" -type f -print0)
    else
      copy_file "$p" "$abs" || fail "copying $p failed"
      add_libs "$p"
    fi
  done

  # Directory modes: the VM's standard directories keep their usual modes (the per-run archive
  # would otherwise re-chmod them); other directories get the host directory's mode when it
  # exists (e.g. 0700 from mktemp -d), else 0755.
  while IFS= read -r -d '' d; do
    rel=${d#"$run"}
    case "$rel" in
      /tmp|/var/tmp) chmod 1777 "$d" ;;
      /root) chmod 0700 "$d" ;;
      /bin|/sbin|/lib|/lib64|/etc|/etc/vm-run|/etc/execgate|/var|/var/lib|/var/log|/run|/mnt|/usr|/usr/bin|/usr/sbin|/usr/lib|/usr/local|/usr/local/*)
        chmod 0755 "$d" ;;
      *) if [ -d "$rel" ]; then chmod --reference="$rel" "$d"; else chmod 0755 "$d"; fi ;;
    esac
  done < <(find "$run" -mindepth 1 -type d -print0)
}

# pack_initrd OUT: the cached base, then the per-run archive at a 4-byte aligned offset.
pack_initrd() {
  local compress pad
  # The per-run part is left uncompressed by default: gunzip under TCG costs more than it saves.
  case "${EXECGATE_VM_COMPRESS:-none}" in
    none) compress="cat" ;;
    gzip) compress="gzip -1" ;;
    *) fail "EXECGATE_VM_COMPRESS must be none or gzip" ;;
  esac
  {
    cat "$base" || fail "cannot read $base"
    # An uncompressed archive may follow only at a 4-byte aligned offset (zeros are skipped).
    pad=$(( (4 - $(stat -c %s "$base") % 4) % 4 ))
    [ "$pad" = 0 ] || head -c "$pad" /dev/zero
    (cd "$run" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) | $compress
  } >"$1" || fail "building the initramfs failed"
}
