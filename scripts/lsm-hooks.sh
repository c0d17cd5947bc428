#!/usr/bin/env bash
# lsm-hooks.sh [--protos] [--matrix] [--out DIR] [KERNEL ...]
#
# Lists the LSM hooks a BPF-LSM program can attach to, per kernel, from the kernel image
# itself. KERNEL: a name scripts/fetch-kernel.sh knows (bookworm, trixie, backports; default
# all three; fetched and cached there) or a path to a bzImage/vmlinuz. See docs/lsm-hooks.md.
#
# How: the compressed vmlinux inside the bzImage is found by its magic (xz, zstd, gzip, lz4,
# bzip2, lzma, lzo), decompressed to an ELF vmlinux, its BTF dumped with `bpftool btf dump
# file VMLINUX format raw`. The hooks are the members of the kernel's own BTF ID set
# bpf_lsm_hooks (section .BTF_ids): what bpf_lsm_verify_prog accepts. Not every BTF FUNC named
# bpf_lsm_* is a hook (bpf_lsm_verify_prog, bpf_lsm_init, ... are functions of the BPF LSM).
#
# Output on stdout, per kernel: "# NAME VERSION: N hooks" and one hook per line, sorted; with
#   --protos   "HOOK FLAGS RET (ARGS)" with the prototype from BTF; FLAGS: d = in the set
#              bpf_lsm_disabled_hooks (the verifier refuses to attach), s = sleepable,
#              v = returns void (a program can observe, not refuse), - = none
#   --matrix   instead of the lists: one line per hook of any kernel, "HOOK" then ✓ or — per
#              kernel (tab-separated, with a header line)
#   --out DIR  also write DIR/lsm-hooks-NAME.txt (names) and DIR/lsm-protos-NAME.txt
# Needs bpftool, objcopy (binutils), od, awk and the decompressor of each image.
# Exit status: 0 ok, 1 a kernel could not be fetched or read, 2 usage error.
set -euo pipefail

prog=lsm-hooks
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "$prog: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--protos] [--matrix] [--out DIR] [KERNEL ...]" >&2; exit 2; }

protos=0
matrix=0
out=
kernels=()
while [ $# -gt 0 ]; do
  case "$1" in
    --protos) protos=1 ;;
    --matrix) matrix=1 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    --out=*) out=${1#*=} ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "$prog: unknown option '$1'" >&2; usage ;;
    *) kernels+=("$1") ;;
  esac
  shift
done
[ ${#kernels[@]} -gt 0 ] || kernels=(bookworm trixie backports)
for t in bpftool objcopy od awk; do
  command -v "$t" >/dev/null || die "required tool '$t' not found (scripts/install-deps.sh installs it)"
done
[ -z "$out" ] || mkdir -p "$out" || die "cannot create $out"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lsm-hooks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=scripts/lib/extract-vmlinux.sh
. "$here/lib/extract-vmlinux.sh"

# hooks RAW BTFIDS: "HOOK FLAGS RET (ARGS)" per hook. RAW: bpftool's raw BTF dump; BTFIDS: the
# .BTF_ids section as one u32 per line. A BTF ID set is a count followed by that many ascending
# type ids; the largest set made only of bpf_lsm_* functions is bpf_lsm_hooks, the one holding
# bpf_lsm_vm_enough_memory the disabled set (6.12, and stable backports such as 6.1.1xx), the one
# holding bpf_lsm_bprm_check_security the sleepable set.
hooks() {
  awk '
    function tname(id,   k, t) {
      if (id == 0) return "void"
      k = kind[id]
      if (k == "PTR") { t = tname(ref[id]); return t (t ~ /\*$/ ? "*" : " *") }
      if (k == "CONST" && kind[ref[id]] == "PTR") return tname(ref[id]) " const"
      if (k == "CONST" || k == "VOLATILE" || k == "RESTRICT") return tolower(k) " " tname(ref[id])
      if (k == "TYPE_TAG") return tname(ref[id])
      if (k == "STRUCT" || k == "UNION" || k == "ENUM" || k == "ENUM64") return (k == "ENUM64" ? "enum" : tolower(k)) " " name[id]
      if (k == "FWD") return fwd[id] " " name[id]
      if (k == "FUNC_PROTO") return "fnptr"
      if (k == "ARRAY") return "array"
      return name[id]
    }
    FNR == NR {
      if (match($0, /^\[[0-9]+\] /)) {
        cur = substr($1, 2, length($1) - 2); kind[cur] = $2
        n = ""; if (match($0, /\047[^\047]*\047/)) n = substr($0, RSTART + 1, RLENGTH - 2)
        name[cur] = n
        for (i = 4; i <= NF; i++) {
          if ($i ~ /^type_id=/) ref[cur] = substr($i, 9)
          if ($i ~ /^ret_type_id=/) ref[cur] = substr($i, 13)
          if ($i ~ /^fwd_kind=/) fwd[cur] = substr($i, 10)
        }
        if ($2 == "FUNC" && n ~ /^bpf_lsm_/) lsm[cur] = substr(n, 9)
        nparam[cur] = 0
      } else if ($2 ~ /^type_id=/ && kind[cur] == "FUNC_PROTO") {
        p = $1; gsub(/\047/, "", p)
        np = ++nparam[cur]; pname[cur, np] = p; ptype[cur, np] = substr($2, 9)
      }
      next
    }
    { v[++nv] = $1 }
    END {
      best = 0
      for (i = 1; i <= nv; i++) {
        c = v[i]
        if (c < 1 || c > 4096 || i + c > nv) continue
        ok = 1
        for (j = 1; j <= c && ok; j++) {
          id = v[i + j]
          if (!(id in lsm) || (j > 1 && id <= v[i + j - 1])) ok = 0
        }
        if (!ok) continue
        isdis = issleep = 0
        for (j = 1; j <= c; j++) {
          if (lsm[v[i + j]] == "vm_enough_memory") isdis = 1
          if (lsm[v[i + j]] == "bprm_check_security") issleep = 1
        }
        if (c > best) { best = c; at = i }
        set_at[++ns] = i; set_dis[ns] = isdis; set_sleep[ns] = issleep
      }
      if (best == 0) { print "lsm-hooks: no bpf_lsm_hooks set in .BTF_ids" > "/dev/stderr"; exit 1 }
      for (s = 1; s <= ns; s++) {
        if (set_at[s] == at) continue
        for (j = 1; j <= v[set_at[s]]; j++) {
          id = v[set_at[s] + j]
          if (set_dis[s]) dis[id] = 1
          if (set_sleep[s]) slp[id] = 1
        }
      }
      for (j = 1; j <= best; j++) {
        id = v[at + j]; fp = ref[id]
        flags = (dis[id] ? "d" : "") (slp[id] ? "s" : "") (ref[fp] == 0 ? "v" : "")
        args = ""
        for (k = 1; k <= nparam[fp]; k++) {
          t = tname(ptype[fp, k])
          args = args (k > 1 ? ", " : "") t (t ~ /\*$/ ? "" : " ") pname[fp, k]
        }
        if (nparam[fp] == 0) args = "void"
        print lsm[id], (flags == "" ? "-" : flags), tname(ref[fp]), "(" args ")"
      }
    }' "$1" "$2" | LC_ALL=C sort
}

declare -A have=()
names=()
for k in "${kernels[@]}"; do
  case "$k" in
    */*) vmlinuz=$k; label=${k##*/} ;;
    *) vmlinuz=$("$here/fetch-kernel.sh" "$k") || die "could not get kernel '$k' (scripts/fetch-kernel.sh $k failed)"
       label=$k ;;
  esac
  version=$(cat "$(dirname "$vmlinuz")/version" 2>/dev/null || echo '?') # fetch-kernel.sh cache
  [ -r "$vmlinuz" ] || die "$vmlinuz not readable"
  extract_vmlinux "$vmlinuz" "$tmp/vmlinux" ||
    die "$label: no compressed ELF vmlinux found in $vmlinuz (decompressor missing? Debian's 6.1 needs lz4)"
  bpftool btf dump file "$tmp/vmlinux" format raw >"$tmp/raw" || die "$label: bpftool cannot read the BTF of $vmlinuz"
  objcopy -O binary --only-section=.BTF_ids "$tmp/vmlinux" "$tmp/ids" || die "$label: no .BTF_ids section"
  od -An -v -tu4 "$tmp/ids" | tr -s ' ' '\n' | sed '/^$/d' >"$tmp/ids.txt"
  hooks "$tmp/raw" "$tmp/ids.txt" >"$tmp/protos-$label" || die "$label: could not list the hooks"
  awk '{ print $1 }' "$tmp/protos-$label" >"$tmp/hooks-$label"
  n=$(wc -l <"$tmp/hooks-$label")
  if [ -n "$out" ]; then
    cp "$tmp/hooks-$label" "$out/lsm-hooks-$label.txt"
    cp "$tmp/protos-$label" "$out/lsm-protos-$label.txt"
  fi
  names+=("$label")
  have[$label]="$tmp/hooks-$label"
  if [ "$matrix" = 0 ]; then
    echo "# $label $version: $n hooks"
    if [ "$protos" = 1 ]; then cat "$tmp/protos-$label"; else cat "$tmp/hooks-$label"; fi
  fi
  rm -f "$tmp/vmlinux" "$tmp/raw"
done

if [ "$matrix" = 1 ]; then
  files=()
  for l in "${names[@]}"; do files+=("${have[$l]}"); done
  { printf 'hook'; printf '\t%s' "${names[@]}"; printf '\n'
    LC_ALL=C sort -u "${files[@]}" | while read -r h; do
      printf '%s' "$h"
      for f in "${files[@]}"; do
        if grep -qxF "$h" "$f"; then printf '\t✓'; else printf '\t—'; fi
      done
      printf '\n'
    done; }
fi
