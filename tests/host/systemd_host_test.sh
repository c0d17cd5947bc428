#!/usr/bin/env bash
# tests/host/systemd_host_test.sh [--release bookworm|trixie] [DEB]
#
# The installed agent on a real systemd host: boots the Debian system of scripts/host-image.sh
# (--release: bookworm, Debian 12 with systemd 252, the default; trixie, Debian 13 with
# systemd 257, whose services are set up in systemd-executor, the policy's default launcher
# program) with systemd as PID 1 and Debian's cloud kernel, and runs tests/host/guest.sh
# in it: apt install of the package, enforce with a ci.slice scope, a job denied from its
# first exec, the default posture under a package build and a sandboxed service, a real
# reboot (denied from boot, boot-to-enforcing time), an upgrade to a newer package during an
# exec loop, stop, purge; a third boot with a policy execgated cannot parse: the units of the
# gated ci.slice do not start (execgate-generator's drop-in), the others do.
#
# DEB: the package to test (default: the newest dist/execgate_*_amd64.deb, built first with
# scripts/package.sh when there is none). The upgrade installs the same package repacked with
# a higher version (…+upgrade1): the maintainer scripts and the unit run as in a real
# upgrade, the new daemon takes over the pinned gate.
# Prints the guest's cases and "N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prog=systemd-host-test

release=bookworm
if [ "${1:-}" = --release ]; then
  [ $# -ge 2 ] || { echo "$prog: --release needs a value" >&2; exit 2; }
  release=$2
  shift 2
fi
deb=${1:-}
if [ -z "$deb" ]; then
  deb=$(find "$root/dist" -maxdepth 1 -name 'execgate_*_amd64.deb' 2>/dev/null | sort -V | tail -1)
  [ -n "$deb" ] || { "$root/scripts/package.sh" >&2; deb=$(find "$root/dist" -maxdepth 1 -name 'execgate_*_amd64.deb' | sort -V | tail -1); }
fi
[ -r "$deb" ] || { echo "$prog: no package $deb" >&2; exit 1; }

payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir "$payload/release" "$payload/upgrade"
cp "$deb" "$payload/release/"
# The upgrade: the same package with a higher version.
version=$(dpkg-deb -f "$deb" Version)
newer=${version}+upgrade1
dpkg-deb -R "$deb" "$payload/repack"
sed -i "s/^Version: .*/Version: $newer/" "$payload/repack/DEBIAN/control"
dpkg-deb --root-owner-group -b "$payload/repack" "$payload/upgrade/execgate_${newer}_amd64.deb" >/dev/null
rm -rf "$payload/repack"
dpkg --compare-versions "$newer" gt "$version" || { echo "$prog: $newer is not newer than $version" >&2; exit 1; }
install -m 0755 "$root/tests/host/guest.sh" "$payload/run"
install -m 0644 "$root/tests/e2e/checks.sh" "$payload/checks.sh"

echo "=== systemd host ($release): ${deb##*/}, then execgate_${newer}_amd64.deb"
log=$(mktemp)
rc=0
"$root/scripts/host-vm.sh" --release "$release" --timeout 1200 "$payload" | tee "$log" || rc=$?
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 || true)
rm -f "$log"
[ -n "$line" ] || { echo "$prog: no summary (host-vm exit $rc)"; exit 1; }
[ "$rc" = 0 ] && [ "${line#*, }" = "0 failed" ]
