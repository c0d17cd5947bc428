#!/usr/bin/env bash
# usermode-helpers.sh [--debs DIR] [KERNEL ...]
#
# Lists, per kernel, every place where the kernel starts a userspace program on the host's
# behalf (usermode helpers and the init program): the functions that call
# call_usermodehelper, call_usermodehelper_setup, call_usermodehelper_exec or kernel_execve,
# and the callers of run_init_process / try_to_run_init_process. KERNEL: a name
# scripts/fetch-kernel.sh knows (bookworm, trixie, backports; default all three; fetched and
# cached there) or a path to a bzImage/vmlinuz. See docs/usermode-helpers.md.
#
# How: the compressed vmlinux inside the bzImage is found by its magic and decompressed to an
# ELF vmlinux (as scripts/lsm-hooks.sh does). Debian strips it and ships a placeholder
# System.map, so the symbols come from the kernel's own kallsyms tables in .rodata (every
# exported symbol's address is checked against __ksymtab); a real System.map next to the
# vmlinuz is used instead when there is one. The executable sections (but .altinstr_*) are
# disassembled with `objdump -d`, every direct `call`/`jmp`/`jcc` whose target is one of those
# functions is kept, and its address is mapped to the text symbol that contains it.
# Modules: with --debs DIR (a directory holding the kernel's packages as `apt-get download`
# leaves them: linux-image-KVER_*.deb, and linux-modules-KVER_*.deb where the image is split),
# or when /lib/modules/KVER exists on this machine, every .ko(.xz/.zst/.gz) that names one of
# those functions is disassembled with its relocations (`objdump -dr`); otherwise modules are
# not scanned and the header says so.
#
# Output on stdout, per kernel: a Markdown heading, a summary line and a table with one row
# per calling function: where it is (vmlinux or the module), what it calls, the program it
# runs and how that is configured (from a table of known callers in this script; an unknown
# caller is listed as "unknown: review"), and how execgate holds it ("held by": "mark + name"
# when the program's path is one of userspace/daemon/protected_set.cpp kernel_helper_paths(),
# "mark + setting closed" when its path is set by a sysctl, sysfs or cgroupfs file, "mark"
# otherwise; docs/usermode-helpers.md).
# Needs objdump and readelf (binutils), python3, od, awk, dpkg-deb (for --debs) and the
# decompressor of each image. No network; temporary files are removed on exit.
# Exit status: 0 ok, 1 a kernel could not be fetched or read, 2 usage error.
set -euo pipefail

prog=usermode-helpers
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "$prog: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--debs DIR] [KERNEL ...]" >&2; exit 2; }

debs=
kernels=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) [ $# -ge 2 ] || usage; debs=$2; shift ;;
    --debs=*) debs=${1#*=} ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "$prog: unknown option '$1'" >&2; usage ;;
    *) kernels+=("$1") ;;
  esac
  shift
done
[ ${#kernels[@]} -gt 0 ] || kernels=(bookworm trixie backports)
for t in objdump readelf python3 od awk; do
  command -v "$t" >/dev/null || die "required tool '$t' not found (scripts/install-deps.sh installs binutils)"
done
[ -z "$debs" ] || [ -d "$debs" ] || die "--debs $debs: not a directory"
[ -z "$debs" ] || command -v dpkg-deb >/dev/null || die "required tool 'dpkg-deb' not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/usermode-helpers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The functions whose callers are listed. kernel_execve: every program the kernel starts goes
# through it (the usermode-helper machinery and the init program). The second set is followed
# one level up: its members are thin wrappers whose own callers say what runs.
TARGETS=call_usermodehelper,call_usermodehelper_setup,call_usermodehelper_exec,kernel_execve
WRAPPERS=run_init_process,try_to_run_init_process,fork_usermode_driver

# The helper paths execgated protects by name: the string literals of kernel_helper_paths()
# (program paths, and the settings whose current value it adds).
protected=$tmp/protected
awk '/kernel_helper_paths\(\) *\{/ { on = 1 } !on { next } /^}/ { exit }
     { while (match($0, /"[^"]*"/)) { print substr($0, RSTART + 1, RLENGTH - 2); $0 = substr($0, RSTART + RLENGTH) } }' \
  "$here/../userspace/daemon/protected_set.cpp" >"$protected" 2>/dev/null || true
[ -s "$protected" ] || echo "$prog: userspace/daemon/protected_set.cpp not found: the 'held by' column assumes no protected name" >&2

# shellcheck source=scripts/lib/extract-vmlinux.sh
. "$here/lib/extract-vmlinux.sh"

cat >"$tmp/umh.py" <<'PY'
import bisect, re, struct, sys

def die(m):
    sys.stderr.write('usermode-helpers: %s\n' % m)
    sys.exit(1)

# kallsyms VMLINUX: "ADDR TYPE NAME" lines (System.map format) from the kernel's kallsyms tables.
# Layouts differ by version (6.1: offsets before num_syms, base-relative with absolute per-cpu;
# 6.12: offsets after the token index; 7.x: offsets relative to their own entry), so the tables
# are found by their shape and the address encoding is the one that reproduces __ksymtab.
def kallsyms(path):
    f = open(path, 'rb').read()
    if f[:4] != b'\x7fELF' or f[4] != 2: die('%s: not a 64-bit ELF' % path)
    shoff = struct.unpack_from('<Q', f, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', f, 0x3a)
    raw = [struct.unpack_from('<IIQQQQ', f, shoff + i * shentsize) for i in range(shnum)]
    stro = raw[shstrndx][4]
    secs = {}
    for (nm, typ, flags, addr, off, size) in raw:
        secs[f[stro + nm:f.index(b'\0', stro + nm)].decode()] = (addr, off, size, typ)
    loaded = [s for s in secs.values() if s[3] != 8 and s[0]]
    def f2v(o):
        for (a, off, size, typ) in loaded:
            if off <= o < off + size: return a + o - off
        return None
    def v2f(v):
        for (a, off, size, typ) in loaded:
            if a <= v < a + size: return off + v - a
        return None
    if '.rodata' not in secs: die('no .rodata')
    ro_a, ro_o, ro_s, _ = secs['.rodata']
    u32 = lambda o: struct.unpack_from('<I', f, o)[0]
    s32 = lambda o: struct.unpack_from('<i', f, o)[0]
    u64 = lambda o: struct.unpack_from('<Q', f, o)[0]
    al = lambda x, a: (x + a - 1) // a * a
    M64 = 2**64 - 1
    # kallsyms_token_table (256 NUL-terminated tokens; digits are their own tokens at 0x30-0x39)
    # followed by kallsyms_token_index (256 u16 offsets into it).
    digits = b''.join(bytes([c]) + b'\0' for c in b'0123456789')
    tt = ti = None
    p = ro_o
    while tt is None:
        p = f.find(digits, p + 1, ro_o + ro_s)
        if p < 0: die('no kallsyms_token_table')
        q = p
        for _ in range(0x30): q = f.rindex(b'\0', 0, q - 1) + 1
        offs = []; r = q
        for _ in range(256):
            offs.append(r - q); r = f.index(b'\0', r) + 1
        for a in (2, 4, 8):
            if list(struct.unpack_from('<256H', f, al(r, a))) == offs:
                tt, ti = q, al(r, a); break
    tokens = []; r = tt
    for _ in range(256):
        e = f.index(b'\0', r); tokens.append(f[r:e].decode('latin-1')); r = e + 1
    def entry(o):
        n = f[o]; o += 1
        if n & 0x80: n = (n & 0x7f) | (f[o] << 7); o += 1
        if n == 0: return None, o
        return ''.join(tokens[b] for b in f[o:o + n]), o + n
    # kallsyms_markers: u32 offsets of every 256th name, from 0, in plausible steps; the longest
    # such run in .rodata before the token table.
    best = None
    o0 = al(ro_o, 4)
    vals = struct.unpack_from('<%dI' % ((tt - o0) // 4), f, o0)
    i = 0
    while i < len(vals):
        if vals[i] == 0:
            j = i + 1
            while j < len(vals) and 256 * 2 <= vals[j] - vals[j - 1] <= 256 * 128: j += 1
            if j - i > 16 and (best is None or j - i > best[1]): best = (o0 + 4 * i, j - i)
            i = j if j > i + 1 else i + 1
        else:
            i += 1
    if best is None: die('no kallsyms_markers')
    mk, nmk = best
    marks = [u32(mk + 4 * k) for k in range(nmk)]
    # kallsyms_names: 256 entries decoded from it end at marker 1; kallsyms_num_syms before it.
    names = None
    for s in range(mk - marks[-1] - 1, max(ro_o, mk - marks[-1] - 256 * 512), -1):
        o = s; ok = True
        for _ in range(256):
            if o >= mk: ok = False; break
            nm, o = entry(o)
            if nm is None: ok = False; break
        if not ok or o != s + marks[1]: continue
        for back in (4, 8):
            n = u32(s - back)
            if (n + 255) // 256 == nmk: names, ns_off, num = s, s - back, n; break
        if names is not None: break
    if names is None: die('no kallsyms_names')
    syms = []; o = names
    for _ in range(num):
        nm, o = entry(o)
        if nm is None: die('bad kallsyms_names entry')
        syms.append(nm)
    if o > mk: die('kallsyms_names runs into kallsyms_markers')
    # __ksymtab (and __ksymtab_gpl): PREL32 entries {value, name[, namespace]}.
    exported = {}
    ks = secs.get('__ksymtab_strings')
    for sec in ('__ksymtab', '__ksymtab_gpl'):
        if sec not in secs or ks is None: continue
        a, so, sz, _ = secs[sec]
        for stride in (12, 8):
            got = {}
            for e in range(so, so + sz - stride + 1, stride):
                va = a + e - so
                nv = (va + 4 + s32(e + 4)) & M64; no = v2f(nv)
                if no is None or not (ks[0] <= nv < ks[0] + ks[2]): got = None; break
                got[f[no:f.index(b'\0', no)].decode('latin-1')] = (va + s32(e)) & M64
            if got: exported.update(got); break
    index = {}
    for k, nm in enumerate(syms): index.setdefault(nm[1:], []).append(k)
    check = [n for n in sorted(exported) if n in index]
    if len(check) < 50: die('too few exported symbols to check the addresses against')
    # kallsyms_offsets: after the token index, or before kallsyms_relative_base + num_syms.
    cands = []
    for start in sorted({al(ti + 512, 4), al(ti + 512, 8)}):
        cands.append((start, [al(start + 4 * num, 8)]))
    for rb in (ns_off - 8, ns_off - 16):
        cands.append((rb - 4 * num, [rb])); cands.append((rb - 4 * num - 4, [rb]))
    def addrs(start, rbo, mode):
        rb = u64(rbo) if rbo is not None else 0
        base = f2v(start)
        out = []
        for k, v in enumerate(struct.unpack_from('<%di' % num, f, start)):
            if mode == 'pcrel': out.append((base + 4 * k + v) & M64)
            elif mode == 'abspcpu': out.append(v if v >= 0 else (rb - 1 - v) & M64)
            else: out.append((rb + (v & 0xffffffff)) & M64)
        return out
    for start, rbs in cands:
        if start < 0 or f2v(start) is None: continue
        for mode in ('pcrel', 'abspcpu', 'rel'):
            for rbo in ([None] if mode == 'pcrel' else rbs):
                if rbo is not None and u64(rbo) >> 32 != 0xffffffff: continue
                ad = addrs(start, rbo, mode)
                if all(any(ad[k] == exported[n] for k in index[n]) for n in check):
                    for a, nm in sorted(zip(ad, syms)):
                        sys.stdout.write('%016x %s %s\n' % (a, nm[0], nm[1:]))
                    sys.stderr.write('usermode-helpers: kallsyms: %d symbols, %d exported ones checked\n' % (num, len(check)))
                    return
    die('kallsyms_offsets not found (no layout reproduces __ksymtab)')

# sites MAP TARGETS WRAPPERS < objdump -d: "FUNCTION TARGET" per direct call/jump to a target
# (and to a wrapper), FUNCTION the text symbol containing the site.
def sites(smap, targets, wrappers):
    text = []; want = {}
    names = set(targets.split(',')) | set(wrappers.split(','))
    for l in open(smap):
        p = l.split()
        if len(p) < 3 or p[1] not in 'tTwW': continue
        a = int(p[0], 16)
        text.append((a, p[2]))
        if p[2] in names: want[a] = p[2]
    if not want: die('none of %s in the symbols' % ','.join(sorted(names)))
    text.sort()
    starts = [a for a, _ in text]
    rx = re.compile(r'^\s*([0-9a-f]+):\s+(call|j[a-z]+)\s+(?:0x)?([0-9a-f]+)\b')
    for l in sys.stdin:
        m = rx.match(l)
        if not m: continue
        t = int(m.group(3), 16)
        if t not in want: continue
        i = bisect.bisect_right(starts, int(m.group(1), 16)) - 1
        print(text[i][1] if i >= 0 else '?', want[t])

# render LABEL SUMMARY PROTECTED < "WHERE FUNCTION TARGET" lines: the Markdown table.
KIND_SETTING = ('sysctl', 'sysfs', 'cgroupfs')
# (function name pattern, runs, configured by, program path, setting file, kind)
KNOWN = [
    (r'call_usermodehelper|call_usermodehelper_exec_async|call_usermodehelper_exec_work',
     'usermode-helper machinery (runs what its callers set up)', '—', '', '', 'machinery'),
    (r'__request_module|call_modprobe', 'modprobe (module autoload)',
     '`kernel.modprobe` sysctl (default `/sbin/modprobe`)', '/sbin/modprobe', '/proc/sys/kernel/modprobe', 'sysctl'),
    (r'call_sbin_request_key|call_usermodehelper_keys',
     '`/sbin/request-key` (key upcall; runs what `/etc/request-key.conf` and `request-key.d` name: cifs.upcall, nfsidmap, key.dns_resolver, ...)',
     'fixed path', '/sbin/request-key', '', 'fixed'),
    (r'do_coredump|vfs_coredump|coredump_pipe|umh_pipe_setup', 'core dump pipe program',
     '`kernel.core_pattern` sysctl (`\\|PROGRAM ...`)', '', '/proc/sys/kernel/core_pattern', 'sysctl'),
    (r'poweroff_work_func|orderly_poweroff|__orderly_poweroff|run_cmd',
     'orderly poweroff (thermal, hardware protection, ...)',
     '`kernel.poweroff_cmd` sysctl (default `/sbin/poweroff`)', '/sbin/poweroff', '/proc/sys/kernel/poweroff_cmd', 'sysctl'),
    (r'reboot_work_func|orderly_reboot|__orderly_reboot', '`/sbin/reboot` (orderly reboot)',
     'fixed path (`reboot_cmd`)', '/sbin/reboot', '', 'fixed'),
    (r'cgroup1?_release_agent', 'cgroup v1 release agent',
     '`release_agent` file of a v1 hierarchy (cgroupfs) or its `release_agent=` mount option (a legacy `cpuset` filesystem mount presets `/sbin/cpuset_release_agent`: 6.1, or CONFIG_CPUSETS_V1)', '', 'release_agent', 'cgroupfs'),
    (r'tomoyo_load_policy', '`/sbin/tomoyo-init` (TOMOYO policy loader, when `/sbin/init` is exec\'d)',
     'kernel command line (`TOMOYO_loader=`, `TOMOYO_trigger=`)', '/sbin/tomoyo-init', '', 'cmdline'),
    (r'kobject_uevent_env|init_uevent_argv', 'uevent helper',
     '`/sys/kernel/uevent_helper`, `kernel.hotplug` sysctl', '/sbin/hotplug', '/sys/kernel/uevent_helper', 'sysfs'),
    (r'run_init_process|try_to_run_init_process|kernel_init', 'init (PID 1)',
     'kernel command line (`rdinit=`, `init=`), then `/sbin/init`, `/etc/init`, `/bin/init`, `/bin/sh`',
     '/sbin/init', '', 'boot'),
    (r'fork_usermode_driver|umd_.*', 'usermode driver (a program embedded in a module)', 'the module', '', '', 'fixed'),
    (r'mce_do_trigger|mce_work_trigger', 'machine-check trigger',
     '`/sys/devices/system/machinecheck/machinecheck*/trigger` (sysfs)', '', 'trigger', 'sysfs'),
    (r'br_stp_call_user', '`/sbin/bridge-stp` (user-space STP of a bridge in the initial network namespace)',
     'fixed path', '/sbin/bridge-stp', '', 'fixed'),
    (r'nfsd4_umh_cltrack_upcall', '`/sbin/nfsdcltrack` (NFSv4 server client tracking, legacy)',
     '`nfsd.cltrack_prog` module parameter (sysfs)', '/sbin/nfsdcltrack', '/sys/module/nfsd/parameters/cltrack_prog', 'sysfs'),
    (r'nfsd4_cb_layout_fail', '`/sbin/nfsd-recall-failed` (pNFS layout recall failed)',
     'fixed path', '/sbin/nfsd-recall-failed', '', 'fixed'),
    (r'nfs_cache_upcall', '`/sbin/nfs_cache_getent` (NFS client cache upcall)',
     '`nfs.cache_getent` module parameter (sysfs)', '/sbin/nfs_cache_getent', '/sys/module/nfs/parameters/cache_getent', 'sysfs'),
    (r'drbd_khelper|conn_khelper', 'DRBD helper (default `/sbin/drbdadm`)',
     '`drbd.usermode_helper` module parameter (sysfs)', '/sbin/drbdadm', '/sys/module/drbd/parameters/usermode_helper', 'sysfs'),
    (r'ocfs2_leave_group', '`/sbin/ocfs2_hb_ctl` (OCFS2 heartbeat)',
     '`fs.ocfs2.nm.hb_ctl_path` sysctl', '/sbin/ocfs2_hb_ctl', '', 'sysctl'),
    (r'wf_critical_overtemp', '`/sbin/critical_overtemp` (PowerMac windfarm)', 'fixed path', '/sbin/critical_overtemp', '', 'fixed'),
]

def render(label, summary, protected):
    prot = set(l.strip() for l in open(protected)) if protected else set()
    rows = {}
    for l in sys.stdin:
        p = l.split()
        if len(p) != 3: continue
        rows.setdefault((p[0], p[1]), set()).add(p[2])
    print('## %s\n\n%s\n' % (label, summary))
    print('| function | in | calls | runs | configured by | held by |')
    print('| --- | --- | --- | --- | --- | --- |')
    def order(k): return (k[0] != 'vmlinux', k[0], k[1])
    for where, fn in sorted(rows, key=order):
        base = re.sub(r'(\.(isra|constprop|part|cold|llvm)(\.\d+)?)+$', '', fn)
        hit = None
        for pat, runs, conf, path, setting, kind in KNOWN:
            if re.fullmatch(pat, base): hit = (runs, conf, path, setting, kind); break
        if hit is None:
            runs, conf, held = 'unknown: review', '?', 'mark (review)'
        else:
            runs, conf, path, setting, kind = hit
            if kind == 'machinery': held = 'as its callers'
            elif kind == 'boot': held = 'none: runs at boot, before the gate is loaded'
            elif (path and path in prot) or (setting and setting in prot): held = 'mark + name (protected path)'
            elif kind in KIND_SETTING: held = 'mark + setting closed'
            else: held = 'mark'
        calls = ', '.join('`%s`' % t for t in sorted(rows[(where, fn)]))
        print('| `%s` | %s | %s | %s | %s | %s |' % (fn, where, calls, runs, conf, held))
    print()

if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'kallsyms': kallsyms(sys.argv[2])
    elif cmd == 'sites': sites(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'render': render(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else '')
    else: die('unknown command ' + cmd)
PY

# code_sections VMLINUX: -j options for the executable, non-writable sections but the
# alternative-instruction ones (whose calls are relative to where they are patched in).
code_sections() {
  readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] //p' |
    awk '$2 == "PROGBITS" && $7 ~ /X/ && $7 !~ /W/ && $1 !~ /^\.altinstr/ { printf "-j\n%s\n", $1 }'
}

# module_sites KVER OUT: "MODULE FUNCTION TARGET" lines for the modules of KVER, from --debs or
# /lib/modules/KVER; prints the number of modules scanned, or nothing when there are none.
module_sites() {
  local kver=$1 out=$2 mdir="" d ko m n=0 re
  : >"$out"
  if [ -n "$debs" ]; then
    local found=0
    mkdir -p "$tmp/x"
    for d in "$debs"/linux-image-"$kver"_*.deb "$debs"/linux-modules-"$kver"_*.deb; do
      [ -f "$d" ] || continue
      dpkg-deb --fsys-tarfile "$d" | tar -x -C "$tmp/x" --wildcards '*.ko' '*.ko.*' 2>/dev/null || true
      found=1
    done
    [ "$found" = 1 ] && mdir=$tmp/x
  fi
  if [ -z "$mdir" ]; then
    for d in "/lib/modules/$kver" "/usr/lib/modules/$kver"; do
      [ -d "$d/kernel" ] && { mdir=$d; break; }
    done
  fi
  [ -n "$mdir" ] || return 0
  re="(${TARGETS//,/|}|${WRAPPERS//,/|})"
  while IFS= read -r -d '' ko; do
    m=${ko##*/}
    m=${m%%.ko*}
    case "$ko" in
      *.ko.xz) xz -dcq "$ko" ;;
      *.ko.zst) zstd -dcq "$ko" ;;
      *.ko.gz) gzip -dcq "$ko" ;;
      *) cat "$ko" ;;
    esac >"$tmp/m.ko" 2>/dev/null || { echo "$prog: cannot decompress $ko" >&2; continue; }
    n=$((n + 1))
    LC_ALL=C grep -qaE "$re" "$tmp/m.ko" || continue
    objdump -dr --no-show-raw-insn "$tmp/m.ko" |
      awk -v mod="$m.ko" -v re="^${re}[-+]" '
        /^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/^<|>:$/, "", fn) }
        /R_X86_64_/ && $3 ~ re { t = $3; sub(/[-+].*/, "", t); print mod, fn, t }' >>"$out"
  done < <(find "$mdir" \( -name '*.ko' -o -name '*.ko.*' \) -print0 2>/dev/null | sort -z)
  rm -rf "$tmp/x" "$tmp/m.ko"
  echo "$n"
}

for k in "${kernels[@]}"; do
  case "$k" in
    */*) vmlinuz=$k; label=$k ;;
    *) vmlinuz=$("$here/fetch-kernel.sh" "$k") || die "could not get kernel '$k' (scripts/fetch-kernel.sh $k failed)"
       label=$k ;;
  esac
  [ -r "$vmlinuz" ] || die "$vmlinuz not readable"
  kdir=$(dirname "$vmlinuz")
  version=$(cat "$kdir/version" 2>/dev/null || echo '?') # fetch-kernel.sh cache
  package=$(cat "$kdir/package" 2>/dev/null || echo '')
  extract_vmlinux "$vmlinuz" "$tmp/vmlinux" ||
    die "$label: no compressed ELF vmlinux found in $vmlinuz (decompressor missing? Debian's 6.1 needs lz4)"
  if [ -s "$kdir/System.map" ] && ! grep -q 'The real System.map' "$kdir/System.map"; then
    cp "$kdir/System.map" "$tmp/map"; symsrc="System.map"
  else
    python3 "$tmp/umh.py" kallsyms "$tmp/vmlinux" >"$tmp/map" || die "$label: cannot read the kernel's kallsyms"
    symsrc="kallsyms"
  fi
  mapfile -t secs < <(code_sections "$tmp/vmlinux")
  objdump -d --no-show-raw-insn "${secs[@]}" "$tmp/vmlinux" |
    python3 "$tmp/umh.py" sites "$tmp/map" "$TARGETS" "$WRAPPERS" | sed 's/^/vmlinux /' >"$tmp/sites" ||
    die "$label: cannot disassemble the kernel"
  mods=""
  if [ "$version" != '?' ]; then mods=$(module_sites "$version" "$tmp/msites"); fi
  if [ -n "$mods" ]; then
    cat "$tmp/msites" >>"$tmp/sites"
    modnote="$mods modules scanned"
  else
    modnote="modules not scanned (no --debs package or /lib/modules/$version)"
  fi
  nsites=$(wc -l <"$tmp/sites")
  nfun=$(awk '{ print $1, $2 }' "$tmp/sites" | sort -u | wc -l)
  summary="Kernel $version${package:+ (\`$package\`)}: $nfun functions, $nsites call sites; symbols from $symsrc; $modnote."
  python3 "$tmp/umh.py" render "$label" "$summary" "$protected" <"$tmp/sites"
  rm -f "$tmp/vmlinux" "$tmp/map" "$tmp/sites" "$tmp/msites"
done
