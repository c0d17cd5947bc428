#!/usr/bin/env bash
# host-image.sh [--release bookworm|trixie] [--refresh]
#
# Builds, once, a Debian system for the VM (--release: bookworm, Debian 12, systemd 252, the
# default; trixie, Debian 13, systemd 257, which sets services up in systemd-executor):
# systemd as PID 1, Debian's cloud
# kernel with its own initramfs, the runtime libraries the execgate package depends on, and a
# toolchain (build-essential, debhelper) for the workload tests. Made with debootstrap from
# the Debian mirror this machine's apt uses. Prints the directory that holds it:
#   rootfs.img   ext4 root filesystem (label egroot), used read-only through overlays
#   vmlinuz, initrd.img, version   the image's own kernel and initramfs
#
# Cached under ${EXECGATE_CACHE:-~/.cache/execgate}/host-image/<key>/, keyed on the release, this script
# and the files it copies into the image (the package list is in this script): any change
# builds a new one. scripts/host-vm.sh boots it (docs/vm.md, "A systemd host").
# Exit status: 0 ok (directory on stdout), 1 build failed, 2 usage.
set -euo pipefail
prog=host-image
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "$prog: $*" >&2; exit 1; }

refresh=0
SUITE=bookworm
while [ $# -gt 0 ]; do
  case "$1" in
    --refresh) refresh=1; shift ;;
    --release)
      [ $# -ge 2 ] || { echo "$prog: --release needs a value (bookworm or trixie)" >&2; exit 2; }
      SUITE=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$prog: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$SUITE" in
  bookworm) TOML_LIB=libtomlplusplus3 CURL_LIB=libcurl4 ;;
  trixie) TOML_LIB=libtomlplusplus3t64 CURL_LIB=libcurl4t64 ;;   # the 64-bit time_t transition renamed them
  *) echo "$prog: --release must be bookworm or trixie, got '$SUITE'" >&2; exit 2 ;;
esac
# The system: systemd and udev, Debian's cloud kernel (initramfs-tools builds its initrd in
# the image), what `apt install ./execgate_*.deb` needs offline (the package's Depends), and a
# toolchain for the workload a gated CI runner would run (a package build).
PACKAGES=(
  systemd systemd-sysv udev dbus kmod procps iproute2 util-linux
  linux-image-cloud-amd64 initramfs-tools
  libbpf1 libsodium23 "$TOML_LIB" "$CURL_LIB" libstdc++6 libgcc-s1 zlib1g
  build-essential debhelper fakeroot
)
GUEST_FILES=("$here/host-vm/vm-payload" "$here/host-vm/vm-payload.service")

for t in debootstrap mkfs.ext4 sha256sum flock; do
  command -v "$t" >/dev/null || die "required tool '$t' not found (run scripts/install-deps.sh)"
done
[ "$(id -u)" = 0 ] || die "debootstrap needs root"

cache=${EXECGATE_CACHE:-${HOME:-/root}/.cache/execgate}
key=$( (echo "$SUITE"; cat "${BASH_SOURCE[0]}" "${GUEST_FILES[@]}") | sha256sum | cut -c1-16)
dir=$cache/host-image/$key
ready() { [ -s "$dir/rootfs.img" ] && [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.img" ]; }
if [ "$refresh" = 0 ] && ready; then echo "$dir"; exit 0; fi

mkdir -p "$cache/host-image"
exec 9>"$cache/host-image/.lock"
flock 9
if [ "$refresh" = 0 ] && ready; then echo "$dir"; exit 0; fi

# shellcheck source=scripts/lib/apt-mirror.sh
. "$here/lib/apt-mirror.sh"
mirror=$(apt_mirror_url)
work=$(mktemp -d "$cache/host-image/.build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
echo "$prog: debootstrap $SUITE from $mirror (a few minutes)" >&2
include=$(IFS=,; echo "${PACKAGES[*]}")
if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -30 "$work/debootstrap.log" >&2
  die "debootstrap failed (log above)"
fi

# --- the system's configuration -----------------------------------------------------------
echo execgate-host >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost execgate-host\n::1\tlocalhost\n' >"$root/etc/hosts"
echo 'LABEL=egroot / ext4 defaults 0 1' >"$root/etc/fstab"
: >"$root/etc/machine-id"   # systemd makes one at first boot
# No network in the VM: apt must not try to fetch anything (local .debs only).
: >"$root/etc/apt/sources.list"
chroot "$root" useradd --uid 1000 --create-home --shell /bin/sh execgate-test
# The test payload runner: a oneshot unit after multi-user.target (scripts/host-vm/).
install -m 0755 "$here/host-vm/vm-payload" "$root/usr/local/sbin/vm-payload"
install -m 0644 "$here/host-vm/vm-payload.service" "$root/etc/systemd/system/vm-payload.service"
chroot "$root" systemctl enable vm-payload.service >/dev/null 2>&1
# Serial lines carry the harness's markers (ttyS0) and the payload's output (ttyS1): no
# gettys there. Timers that would wake up mid-test are off.
for u in serial-getty@ttyS0.service serial-getty@ttyS1.service getty@tty1.service \
         apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
chroot "$root" apt-get clean

# --- kernel and image ----------------------------------------------------------------------
kver=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)
[ -n "$kver" ] || die "no kernel in the image's /boot"
[ -s "$root/boot/initrd.img-$kver" ] || die "no initramfs for $kver in the image's /boot"
mkdir -p "$work/out"
cp "$root/boot/vmlinuz-$kver" "$work/out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/out/initrd.img"
echo "$kver" >"$work/out/version"
# Room for the package, its state and a package build on top of the system.
size_mb=$(( $(du -sm "$root" | cut -f1) + 1536 ))
mkfs.ext4 -q -L egroot -d "$root" "$work/out/rootfs.img" "${size_mb}M" >&2 || die "mkfs.ext4 -d failed"
rm -rf "$dir"
mv "$work/out" "$dir"
# Images of older keys go when unused for a week.
find "$cache/host-image" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name '.*' -atime +7 -exec rm -rf {} + 2>/dev/null || :
echo "$prog: $dir (kernel $kver, ${size_mb} MB)" >&2
echo "$dir"
