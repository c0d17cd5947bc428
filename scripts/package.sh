#!/usr/bin/env bash
# Builds the Debian package: dist/execgate_<version>_amd64.deb, then runs lintian on it.
#   scripts/package.sh                  # version from CMakeLists.txt's project()
#   scripts/package.sh --version 0.1.1  # e.g. a rebuilt package for an upgrade test
# The package: execgate (CLI) and execgated in /usr, the systemd unit, tmpfiles.d entries,
# /etc/execgate/policy.toml (monitor mode, a conffile), man pages and bash completion
# (packaging/). Built with debhelper from a copy of the tree as git sees it (tracked and
# untracked files, not ignored ones), so build/ and friends stay out.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

version=$(sed -n 's/^project(execgate VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
while [ $# -gt 0 ]; do
  case $1 in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $version =~ ^[0-9]+(\.[0-9]+)*([~+][0-9A-Za-z.]+)?$ ]] || { echo "package.sh: bad version '$version'" >&2; exit 2; }

for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool missing: scripts/install-deps.sh installs it" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/execgate-$version
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && cp --parents -a "$f" "$src/"
done
cp -a packaging/debian "$src/debian"
cp packaging/execgated.service "$src/debian/execgate.execgated.service"
cp packaging/execgate.tmpfiles "$src/debian/execgate.tmpfiles"
cp packaging/execgate-sync.service "$src/debian/execgate.execgate-sync.service"
cp packaging/execgate.sysusers "$src/debian/execgate.sysusers"
{
  echo "execgate ($version) unstable; urgency=medium"
  echo
  echo "  * Built by scripts/package.sh from $(git rev-parse --short HEAD 2>/dev/null || echo 'a source tree')."
  echo
  echo " -- execgate maintainers <maintainers@execgate.example.org>  $(date -R)"
} >"$src/debian/changelog"

(cd "$src" && DEB_BUILD_OPTIONS="parallel=${PACKAGE_JOBS:-2} nocheck" dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; echo "package.sh: dpkg-buildpackage failed" >&2; exit 1; }

mkdir -p dist
deb=execgate_${version}_amd64.deb
mv "$work/$deb" dist/
echo "package.sh: dist/$deb"
dpkg-deb --info "dist/$deb" | sed -n 's/^ \(Package\|Version\|Depends\):/  \1:/p'

# lintian: clean but for the overrides explained in packaging/debian/execgate.lintian-overrides
lintian --fail-on error,warning --suppress-tags-from-file /dev/null "dist/$deb"
echo "package.sh: lintian clean"
