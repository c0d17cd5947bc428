#!/bin/sh
# Runs INSIDE a VM booted WITHOUT bpf in lsm=: the daemon must refuse to start, say why
# and how to fix it, and exit 1 (cases: lib.sh). Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"

always setup

case_setup() {
  mkdir -p $W
  execgate keygen -o $W/ops >/dev/null
  cat >$W/p.toml <<EOT
[scope]
host = true
[[issuer]]
name = "ops"
pubkey = "$W/ops.pub"
[audit]
path = "$AUDIT"
EOT
}

case_refuses_to_start() {
  out=$(execgated --config $W/p.toml --state-dir $W/state 2>&1); rc=$?
  echo "  execgated said: $out"
  check "no BPF-LSM: execgated exits 1" [ "$rc" = 1 ]
  check "  ... and says BPF-LSM is not active" contains "$out" "BPF-LSM is not active"
  check "  ... and how to enable it (lsm=...,bpf)" contains "$out" "lsm="
  check "  ... and nothing was pinned" [ ! -e /sys/fs/bpf/execgate/eg_tickets ]
}

run_cases
