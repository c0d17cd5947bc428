#!/bin/sh
# The demo's steps (POSIX sh), run by scripts/demo.sh on a BPF-LSM host or inside the VM.
# Uses its own pin dir, socket and state so it never touches a real installation.
set -u
D=${DEMO_DIR:-/tmp/execgate-demo}
SOCK=/run/execgate-demo.sock
PINS=/sys/fs/bpf/execgate-demo
EG="execgate --socket $SOCK"
rm -rf "$D"; mkdir -p "$D"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; rc=$?; [ $rc = 0 ] || printf '(exit %s)\n' "$rc"; return 0; }

say "1. keys for an operator (ops) and for the audit log"
run execgate keygen -o $D/ops
execgate keygen -o $D/audit >/dev/null
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
cat >$D/policy.toml <<EOT
name = "demo"
mode = "enforce"
[scope]
cgroups = ["/execgate-demo"]
[baseline]
trust = "root-owned"
[[issuer]]
name = "ops"
pubkey = "$D/ops.pub"
max_ttl = "1d"
[audit]
path = "$D/audit/audit.jsonl"
signing_key = "$D/audit.key"
EOT
say "2. the policy: everything in cgroup /execgate-demo is gated; root-owned system binaries are baseline"
run cat $D/policy.toml
run execgate policy check $D/policy.toml

say "3. start the daemon: it loads the BPF-LSM programs and pins them"
execgated --config $D/policy.toml --state-dir $D/state --socket $SOCK --pin-dir $PINS >$D/daemon.log 2>&1 &
DPID=$!
i=0; while ! $EG status >/dev/null 2>&1; do sleep 0.2; i=$((i+1)); [ $i -lt 100 ] || { cat $D/daemon.log; exit 1; }; done
run $EG status
touch $D/audit/audit.jsonl
( execgate audit tail -f -n 0 $D/audit/audit.jsonl 2>/dev/null | while IFS= read -r l; do printf '   \033[36m[kernel/daemon] %s\033[0m\n' "$l"; done ) &
TAIL=$!
sleep 1

say "4. a binary nobody authorized (owned by a non-root user, so not baseline)"
mkdir -p $D/bin
printf '#!/bin/sh\necho "hello from a ticketed program"\n' >$D/bin/hello
chmod 755 $D/bin/hello; chown 1000:1000 $D/bin/hello
run $EG run -- $D/bin/hello
sleep 1

say "5. the operator issues a ticket for exactly this file, for this host, for 1 hour"
run execgate issue --key $D/ops.key --binary $D/bin/hello --ttl 1h --this-host --purpose demo -o $D/hello.ticket
run execgate verify --pub $D/ops.pub $D/hello.ticket
run $EG submit $D/hello.ticket
sleep 1

say "6. now it runs"
run $EG run -- $D/bin/hello
sleep 1

say "7. the ticketed file cannot be changed, not even by root"
run sh -c "echo 'echo pwned' >> $D/bin/hello"
sleep 1

say "8. a copy with the same bytes is a different file: no ticket"
cp $D/bin/hello $D/bin/hello-copy; chown 1000:1000 $D/bin/hello-copy
run $EG run -- $D/bin/hello-copy
sleep 1

say "9. revoke the ticket: denied again at once"
id=$(execgate --json inspect $D/hello.ticket | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
run execgate revoke --key $D/ops.key $id --reason "demo over" -o $D/hello.revocation
run $EG submit $D/hello.revocation
run $EG run -- $D/bin/hello
sleep 1

say "10. counters and the audit log's integrity"
run $EG status
kill $DPID; wait $DPID 2>/dev/null
kill $TAIL 2>/dev/null
run execgate audit verify $D/audit/audit.jsonl --pub $D/audit.pub

say "11. clean up: detach the demo gate"
run execgated --uninstall --pin-dir $PINS
rmdir "$cgroot/execgate-demo" 2>/dev/null
exit 0
