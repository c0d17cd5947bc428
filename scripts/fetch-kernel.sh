#!/usr/bin/env bash
# fetch-kernel.sh [--refresh] [bookworm|trixie|backports]
#
# Downloads Debian's cloud kernel (linux-image-*-cloud-amd64) for the given release once,
# unpacks it into ${EXECGATE_CACHE:-$HOME/.cache/execgate}/kernels/<name>/ and prints the
# path of the vmlinuz. Idempotent: when the kernel is already cached it only prints the path.
#
#   bookworm (default)  the machine's own release, downloaded with the machine's apt setup
#                       (falls back to a private apt configuration if that fails)
#   trixie              fetched through a private apt configuration (own sources file, lists
#                       and cache dirs under the cache); the machine's apt sources are untouched
#   backports           the newest cloud kernel in trixie-backports (7.x), fetched the same way
#                       (suite trixie-backports alone: apt-get download resolves nothing)
#
# Cache layout: kernels/<name>/{vmlinuz,config,System.map,version,package,modules/}
#   modules/: the modules the VM suites load (MODULES below), decompressed
# Exit status: 0 ok (path on stdout), 1 download/unpack failed, 2 usage error.
set -euo pipefail

prog=fetch-kernel
die() { echo "$prog: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--refresh] [bookworm|trixie|backports]" >&2; exit 2; }

refresh=0
name=
while [ $# -gt 0 ]; do
  case "$1" in
    --refresh) refresh=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    bookworm|trixie|backports) [ -z "$name" ] || usage; name=$1 ;;
    *) echo "$prog: unknown kernel or option '$1' (known kernels: bookworm, trixie, backports)" >&2; usage ;;
  esac
  shift
done
name=${name:-bookworm}

cache=${EXECGATE_CACHE:-${HOME:-/root}/.cache/execgate}
kdir=$cache/kernels/$name
MODULES=(binfmt_misc loop) # the bypass suite registers a binfmt_misc handler (a kernel setting); the tamper suite attaches a loop device
cached() {
  [ -s "$kdir/vmlinuz" ] || return 1
  local m
  for m in "${MODULES[@]}"; do [ -s "$kdir/modules/$m.ko" ] || return 1; done
}
if [ "$refresh" = 0 ] && cached; then
  echo "$kdir/vmlinuz"
  exit 0
fi

for t in apt-get apt-cache dpkg-deb flock; do
  command -v "$t" >/dev/null || die "required tool '$t' not found"
done
mkdir -p "$cache/kernels" || die "cannot create cache dir $cache/kernels"

# One fetch per kernel at a time (other sessions may run this concurrently).
exec 9>"$cache/kernels/.$name.lock"
flock 9
if [ "$refresh" = 0 ] && cached; then   # someone else fetched it meanwhile
  echo "$kdir/vmlinuz"
  exit 0
fi

work=$(mktemp -d "$cache/kernels/.fetch-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/lib/apt-mirror.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-mirror.sh"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
apt_opts=()
# Private apt configuration for SUITE: own sources file, lists, caches; nothing system-wide is
# written (Dir::Cache also redirects pkgcache.bin away from /var/cache/apt).
private_apt() {
  local suite=$1 adir=$cache/apt/$1 mirror
  mirror=$(apt_mirror_url)
  mkdir -p "$adir/lists/partial" "$adir/archives/partial" "$adir/cache"
  local signed=
  [ -r "$keyring" ] && signed="[signed-by=$keyring] "
  echo "deb ${signed}$mirror $suite main" >"$adir/sources.list"
  apt_opts=(
    -o "Dir::Etc::sourcelist=$adir/sources.list"
    -o "Dir::Etc::sourceparts=/dev/null"
    -o "Dir::Etc::preferences=/dev/null"
    -o "Dir::Etc::preferencesparts=/dev/null"
    -o "Dir::State::Lists=$adir/lists"
    -o "Dir::Cache=$adir/cache"
    -o "Dir::Cache::archives=$adir/archives"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
  )
  echo "$prog: updating private apt lists for $suite from $mirror" >&2
  if ! apt-get -q "${apt_opts[@]}" update >"$work/apt-update.log" 2>&1; then
    cat "$work/apt-update.log" >&2
    die "apt-get update for $suite from $mirror failed (see above)"
  fi
  # apt-get update returns 0 on some fetch errors; check the list really arrived.
  if ! ls "$adir/lists/"*"_dists_${suite}_"*Packages* >/dev/null 2>&1; then
    cat "$work/apt-update.log" >&2
    die "apt-get update for $suite from $mirror produced no package list (see above)"
  fi
}

# Name of the versioned image package the cloud meta-package depends on.
versioned_pkg() {
  apt-cache "${apt_opts[@]}" depends linux-image-cloud-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-cloud-amd64$/ { print $2; exit }'
}

download() {
  local pkg=$1
  (cd "$work" && apt-get -q "${apt_opts[@]}" download "$pkg") >"$work/apt-download.log" 2>&1
}

# Newer Debian kernels (trixie-backports' 7.x) split the image package: linux-image-KVER is
# empty and depends on linux-binary-KVER (vmlinuz), linux-base-KVER (config, System.map) and
# linux-modules-KVER, all installing under usr/lib/modules/KVER/. Prints those parts of the
# image package $1; nothing for the single-package layout (boot/vmlinuz-KVER).
image_parts() {
  apt-cache "${apt_opts[@]}" depends "$1" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-(binary|base|modules)-[0-9].*-cloud-amd64$/ { print $2 }'
}

pkg=
case "$name" in
  bookworm)
    pkg=$(versioned_pkg || true)
    if [ -z "$pkg" ] || ! download "$pkg"; then
      echo "$prog: the machine's apt could not provide the bookworm cloud kernel; using a private apt configuration" >&2
      private_apt bookworm
      pkg=$(versioned_pkg || true)
      [ -n "$pkg" ] || die "linux-image-cloud-amd64 not found in bookworm lists"
      download "$pkg" || { cat "$work/apt-download.log" >&2; die "apt-get download $pkg failed (see above)"; }
    fi
    ;;
  trixie)
    private_apt trixie
    pkg=$(versioned_pkg || true)
    [ -n "$pkg" ] || die "linux-image-cloud-amd64 (or its versioned dependency) not found in trixie lists"
    download "$pkg" || { cat "$work/apt-download.log" >&2; die "apt-get download $pkg failed (see above)"; }
    ;;
  backports)
    private_apt trixie-backports
    pkg=$(versioned_pkg || true)
    [ -n "$pkg" ] || die "linux-image-cloud-amd64 (or its versioned dependency) not found in trixie-backports lists"
    download "$pkg" || { cat "$work/apt-download.log" >&2; die "apt-get download $pkg failed (see above)"; }
    ;;
esac

deb=
mapfile -t parts < <(image_parts "$pkg" || true)
for p in "${parts[@]}"; do
  download "$p" || { cat "$work/apt-download.log" >&2; die "apt-get download $p (part of $pkg) failed (see above)"; }
done
for p in "$pkg" "${parts[@]}"; do
  d=$(find "$work" -maxdepth 1 -name "${p}_*.deb" 2>/dev/null | head -n1 || true)
  if [ -z "$d" ] || [ ! -s "$d" ]; then cat "$work/apt-download.log" >&2; die "download of $p produced no .deb"; fi
  [ -n "$deb" ] || deb=$d
  echo "$prog: unpacking $(basename "$d")" >&2
  dpkg-deb -x "$d" "$work/x" || die "dpkg-deb -x $d failed"
done

vmlinuz=$(find "$work/x/boot" "$work/x/usr/lib/modules" -maxdepth 2 \
            \( -path '*/boot/vmlinuz-*' -o -path '*/usr/lib/modules/*/vmlinuz' \) 2>/dev/null | head -n1 || true)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* or usr/lib/modules/*/vmlinuz in $pkg${parts[*]:+ ${parts[*]}}"
case "$vmlinuz" in
  */boot/vmlinuz-*) kver=${vmlinuz##*/vmlinuz-}; kfiles=$work/x/boot; ksuffix=-$kver ;;
  *) kver=${vmlinuz%/vmlinuz}; kver=${kver##*/}; kfiles=$work/x/usr/lib/modules/$kver; ksuffix= ;;
esac
mkdir "$work/out"
cp "$vmlinuz" "$work/out/vmlinuz"
cp "$kfiles/config$ksuffix" "$work/out/config" 2>/dev/null || true
cp "$kfiles/System.map$ksuffix" "$work/out/System.map" 2>/dev/null || true
echo "$kver" >"$work/out/version"
mkdir "$work/out/modules"
for m in "${MODULES[@]}"; do
  f=$(find "$work/x/lib/modules/$kver" "$work/x/usr/lib/modules/$kver" -name "$m.ko*" 2>/dev/null | head -n1 || true)
  [ -n "$f" ] || die "no $m module in $pkg${parts[*]:+ ${parts[*]}}"
  case "$f" in
    *.ko.xz) xz -dc "$f" ;;
    *.ko.zst) zstd -qdc "$f" ;;
    *.ko.gz) gzip -dc "$f" ;;
    *) cat "$f" ;;
  esac >"$work/out/modules/$m.ko" || die "cannot decompress $f"
done
basename "$deb" >"$work/out/package"

rm -rf "$kdir.old"
[ -e "$kdir" ] && mv "$kdir" "$kdir.old"
mv "$work/out" "$kdir"
rm -rf "$kdir.old"
echo "$prog: cached $name kernel $kver" >&2
echo "$kdir/vmlinuz"
