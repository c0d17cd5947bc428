#!/usr/bin/env bash
# Sourced by scripts/lsm-hooks.sh and scripts/usermode-helpers.sh: the kernel image's ELF.
# extract_vmlinux IMAGE OUT: the first payload that decompresses to an ELF file (the logic of
# the kernel's scripts/extract-vmlinux). Decompressors may complain about the data after the
# payload (x86 appends the relocations); only the ELF header of the output is judged.
extract_vmlinux() {
  local img=$1 o=$2 spec pat cmd off
  for spec in '\xfd\x37\x7a\x58\x5a\x00:xz -dcq' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08:gzip -dcq' \
              '\x02\x21\x4c\x18:lz4 -dcq' '\x42\x5a\x68:bzip2 -dcq' '\x5d\x00\x00\x00:xz -dcq --format=lzma' \
              '\x89\x4c\x5a\x4f:lzop -dcq'; do
    pat=${spec%%:*}
    cmd=${spec#*:}
    command -v "${cmd%% *}" >/dev/null || continue
    while read -r off; do
      # shellcheck disable=SC2086 # cmd is a command with its options
      tail -c +$((off + 1)) "$img" | $cmd >"$o" 2>/dev/null || true
      [ "$(head -c 4 "$o" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && return 0
    done < <(LC_ALL=C grep -obUaP "$pat" "$img" | cut -d: -f1 || true)
  done
  return 1
}
