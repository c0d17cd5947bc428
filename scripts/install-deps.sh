#!/usr/bin/env bash
# Installs every Debian package execgate needs to build, test and run its VM tests.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates
  clang llvm libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libsodium-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  qemu-system-x86 busybox-static cpio kmod e2fsprogs xz-utils zstd lz4 shellcheck
  debhelper lintian   # scripts/package.sh
  debootstrap qemu-utils   # scripts/host-image.sh, scripts/host-vm.sh: the systemd host suite
  fapolicyd   # tests/bench/peer_bench.sh runs it in the VM beside execgate
  libcurl4-openssl-dev   # userspace/fleet: the etcd client (v3 JSON gateway)
  etcd-server etcd-client   # tests/support/etcd_server.cpp: the etcd client's tests start their own etcd
  tcc   # tests/e2e: the toolchain the exec suite's job builds case compiles and links with in the VM
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or install them) and retry" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
# fapolicyd is only copied into the test VM. It must never run on this host: the package
# enables and starts its service, and Debian's rules deny every exec. Masked first (a
# mask the admin made survives the package's own unmask).
if [[ " ${missing[*]} " == *" fapolicyd "* ]] && [ -d /etc/systemd/system ] && [ ! -e /etc/systemd/system/fapolicyd.service ]; then
  ln -s /dev/null /etc/systemd/system/fapolicyd.service
fi
# etcd-server enables and starts etcd on 127.0.0.1:2379 and 2380; the tests start their own
# etcd on free ports, and none must run as a service on this host: masked first, the same way.
if [[ " ${missing[*]} " == *" etcd-server "* ]] && [ -d /etc/systemd/system ] && [ ! -e /etc/systemd/system/etcd.service ]; then
  ln -s /dev/null /etc/systemd/system/etcd.service
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
