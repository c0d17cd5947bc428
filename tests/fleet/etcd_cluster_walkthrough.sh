#!/usr/bin/env bash
# docs/fleet.md "From zero to a confirmed revocation", run on loopback: a CA and certificates
# (openssl, Ed25519), a 3-member etcd with TLS on both sides, RBAC and auth as the doc sets
# them up, then the checks: who may write where, no client certificate no connection, one
# member down and back, and the execgate fleet verbs through it all (enroll, approve,
# publish, revoke, status). No execgated here: nothing acknowledges, so --wait-revision must
# end in exit 3 (the ack is tested in the VM, exec suite case fleet).
#   EXECGATE_CLI        the execgate binary (default: build-dev/execgate of this repository)
#   EXECGATE_WALK_PORT  first of the six ports used on 127.0.0.1 (default 62379: above the
#                       kernel's usual ephemeral range, where a member's port, free while it is
#                       stopped, can be taken by a peer's dial to it connecting to itself)
# Prints `ok NAME` / `FAIL NAME: why`; exits 1 on any failure. Needs etcd, etcdctl (3.4) and
# openssl (3.0).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cli=${EXECGATE_CLI:-$here/../../build-dev/execgate}
base=${EXECGATE_WALK_PORT:-62379}
prefix=/execgate
A=3d1219c7c4c5404aaa1f6d2a48adfda4  # host A's machine id
B=0123456789abcdef0123456789abcdef  # host B's

die() { echo "FAIL $1" >&2; exit 1; }
for tool in etcd etcdctl openssl curl; do command -v "$tool" >/dev/null || die "setup: $tool is not installed"; done
[ -x "$cli" ] || die "setup: $cli is not executable (build the execgate target, or set EXECGATE_CLI)"
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")

# member i (1..3): client port base+2(i-1), peer port base+2(i-1)+1
client_port() { echo $((base + 2 * ($1 - 1))); }
peer_port() { echo $((base + 2 * ($1 - 1) + 1)); }
for i in 1 2 3; do
  for p in "$(client_port "$i")" "$(peer_port "$i")"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "setup: 127.0.0.1:$p is in use: set EXECGATE_WALK_PORT to a free range of six ports"
    fi
  done
done
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range || { eph_lo=0; eph_hi=0; }
if [ $((base + 5)) -ge "$eph_lo" ] && [ "$base" -le "$eph_hi" ]; then
  echo "warning: ports $base-$((base + 5)) overlap the ephemeral range $eph_lo-$eph_hi: the member restart may fail (set EXECGATE_WALK_PORT)" >&2
fi
endpoints=https://127.0.0.1:$(client_port 1),https://127.0.0.1:$(client_port 2),https://127.0.0.1:$(client_port 3)
cluster=etcd-1=https://127.0.0.1:$(peer_port 1),etcd-2=https://127.0.0.1:$(peer_port 2),etcd-3=https://127.0.0.1:$(peer_port 3)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/execgate-walk.XXXXXX")
declare -A pid=()
cleanup() {
  local rc=$?
  for i in "${!pid[@]}"; do kill -9 "${pid[$i]}" 2>/dev/null || true; done  # throwaway data
  for i in "${!pid[@]}"; do wait "${pid[$i]}" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] && [ -d "$tmp" ]; then
    for log in "$tmp"/etcd-*.log; do [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 5 "$log"; }; done >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The trap does not run on SIGKILL: a guard reads a pipe only this shell holds open, and at
# its end (this shell gone, however) kills what $tmp/pids lists and removes $tmp.
exec {guard}> >(read -r _ || true; [ -f "$tmp/pids" ] && xargs -r kill -9 <"$tmp/pids" 2>/dev/null; rm -rf "$tmp")
note_pids() { printf '%s\n' "${pid[@]}" >"$tmp/pids"; }

failures=0
ok() { echo "ok $1"; }
fail() { echo "FAIL $1${2:+: $2}"; failures=$((failures + 1)); }
# expect NAME CMD...: the command succeeds
expect() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; fi
}
# expect_refused NAME TEXT CMD...: the command fails and its output contains TEXT
expect_refused() {
  local name=$1 text=$2 out; shift 2
  if out=$("$@" 2>&1); then fail "$name" "succeeded: $out"
  elif [[ $out == *"$text"* ]]; then ok "$name"
  else fail "$name" "failed without '$text': $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; fi
}
# expect_exit NAME RC TEXT CMD...: the command exits RC and its output contains TEXT
expect_exit() {
  local name=$1 want=$2 text=$3 rc=0 out; shift 3
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" -eq "$want" ] && [[ $out == *"$text"* ]]; then ok "$name"
  else fail "$name" "exit $rc (want $want, '$text'): $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; fi
}

# ---- a. the CA and the certificates (docs/fleet.md, step 1) ----
pki=$tmp/pki
mkdir -m 0700 "$pki"
cd "$pki"
umask 077
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }; }
for ca in ca peer-ca; do
  openssl genpkey -algorithm ed25519 -out $ca.key
  openssl req -x509 -new -key $ca.key -subj "/CN=execgate etcd $ca" -days 3650 -out $ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
done
key() { # key NAME SUBJECT: NAME.key (0600) and NAME.csr
  openssl genpkey -algorithm ed25519 -out "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
}
sign() { # sign CA NAME EKU [SAN]: NAME.pem from NAME.csr, 825 days
  openssl x509 -req -in "$2.csr" -CA "$1.pem" -CAkey "$1.key" -CAcreateserial -days 825 -out "$2.pem" \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$3"
               if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4"; fi)
}
for i in 1 2 3; do
  key etcd-$i /CN=etcd-$i
  quiet sign ca etcd-$i serverAuth,clientAuth DNS:etcd-$i,IP:127.0.0.1
  key etcd-$i-peer /CN=etcd-$i
  quiet sign peer-ca etcd-$i-peer serverAuth,clientAuth DNS:etcd-$i,IP:127.0.0.1
done
key root /CN=root
quiet sign ca root clientAuth
# no CN: etcd's gateway answers HTTP 400 to a certificate with one; the user is the password's
for name in execgate-publisher host-$A host-$B; do
  key "$name" "/O=execgate/OU=$name"
  quiet sign ca "$name" clientAuth
  openssl rand -base64 32 >"$name.password"
done
# only to show the gateway's refusal: the publisher's name as a CN
key cn-publisher /CN=execgate-publisher
quiet sign ca cn-publisher clientAuth
chmod 0644 ./*.pem
cd "$tmp"
ok "certificates: 2 CAs, 3 members (server and peer), root, publisher, 2 hosts"

# ---- b. three members ----
start_member() { # start_member I: etcd-I in the background (flags as in the doc)
  local i=$1
  etcd --name etcd-"$i" --data-dir "$tmp/etcd-$i" \
    --listen-peer-urls https://127.0.0.1:"$(peer_port "$i")" \
    --initial-advertise-peer-urls https://127.0.0.1:"$(peer_port "$i")" \
    --listen-client-urls https://127.0.0.1:"$(client_port "$i")" \
    --advertise-client-urls https://127.0.0.1:"$(client_port "$i")" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token execgate \
    --cert-file "$pki/etcd-$i.pem" --key-file "$pki/etcd-$i.key" \
    --trusted-ca-file "$pki/ca.pem" --client-cert-auth \
    --peer-cert-file "$pki/etcd-$i-peer.pem" --peer-key-file "$pki/etcd-$i-peer.key" \
    --peer-trusted-ca-file "$pki/peer-ca.pem" --peer-client-cert-auth \
    >>"$tmp/etcd-$i.log" 2>&1 {guard}>&- &
  pid[$i]=$!
  note_pids
}
# etcd-I as Debian's etcd.service starts it: ETCD_* from /etc/default/etcd (here $tmp/default-etcd-I)
write_default() {
  local i=$1
  cat >"$tmp/default-etcd-$i" <<EOF
ETCD_NAME=etcd-$i
ETCD_DATA_DIR=$tmp/etcd-$i
ETCD_LISTEN_PEER_URLS=https://127.0.0.1:$(peer_port "$i")
ETCD_INITIAL_ADVERTISE_PEER_URLS=https://127.0.0.1:$(peer_port "$i")
ETCD_LISTEN_CLIENT_URLS=https://127.0.0.1:$(client_port "$i")
ETCD_ADVERTISE_CLIENT_URLS=https://127.0.0.1:$(client_port "$i")
ETCD_INITIAL_CLUSTER=$cluster
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN=execgate
ETCD_CERT_FILE=$pki/etcd-$i.pem
ETCD_KEY_FILE=$pki/etcd-$i.key
ETCD_TRUSTED_CA_FILE=$pki/ca.pem
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CERT_FILE=$pki/etcd-$i-peer.pem
ETCD_PEER_KEY_FILE=$pki/etcd-$i-peer.key
ETCD_PEER_TRUSTED_CA_FILE=$pki/peer-ca.pem
ETCD_PEER_CLIENT_CERT_AUTH=true
EOF
}
start_member_from_default() {
  local i=$1
  # shellcheck source=/dev/null
  (set -a && . "$tmp/default-etcd-$i" && exec etcd) >>"$tmp/etcd-$i.log" 2>&1 {guard}>&- &
  pid[$i]=$!
  note_pids
}
kill_member() { # kill_member I: SIGKILL, as a crash or a power cut
  kill -9 "${pid[$1]}" && wait "${pid[$1]}" 2>/dev/null || true
  unset "pid[$1]"
  note_pids
}

# etcdctl as WHO, on EP (default: all three): its client certificate, and its password when it
# has one (root has none: its user is its certificate's CN, which etcdctl's gRPC carries)
ctl() {
  local who=$1; shift
  local auth=()
  [ -f "$pki/$who.password" ] && auth=(--user "$who" --password "$(cat "$pki/$who.password")")
  etcdctl --endpoints "${EP:-$endpoints}" --cacert "$pki/ca.pem" --cert "$pki/$who.pem" --key "$pki/$who.key" \
    "${auth[@]}" --dial-timeout "${DT:-2s}" --command-timeout "${CT:-5s}" "$@"
}
wait_healthy() { # wait_healthy ENDPOINTS: every one answers, 20 s at most
  local deadline=$((SECONDS + 20))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if EP=$1 DT=1s CT=2s ctl root endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

for i in 1 2 3; do start_member "$i"; done
wait_healthy "$endpoints" || die "cluster: the 3 members did not become healthy in 20 s"
members=$(ctl root member list | wc -l)
[ "$members" -eq 3 ] && ok "cluster: 3 members healthy" || fail "cluster: 3 members healthy" "member list has $members"

# ---- c. RBAC: root and the publisher, auth on, then each host as it joins ----
ctl root user add root --no-password >/dev/null
ctl root user grant-role root root >/dev/null
ctl root role add execgate-publisher >/dev/null
ctl root role grant-permission execgate-publisher --prefix=true readwrite $prefix/tickets/ >/dev/null
ctl root role grant-permission execgate-publisher --prefix=true readwrite $prefix/revocations/ >/dev/null
ctl root role grant-permission execgate-publisher --prefix=true read $prefix/hosts/ >/dev/null
ctl root role grant-permission execgate-publisher --prefix=true readwrite $prefix/approvals/ >/dev/null
ctl root user add execgate-publisher --interactive=false <"$pki/execgate-publisher.password" >/dev/null
ctl root user grant-role execgate-publisher execgate-publisher >/dev/null
ctl root auth enable >/dev/null
add_host() { # add_host ID: the host's role and user, and the publisher's grants on its subtree
  local id=$1
  ctl root role add "host-$id" >/dev/null
  ctl root role grant-permission "host-$id" --prefix=true read $prefix/tickets/ >/dev/null
  ctl root role grant-permission "host-$id" --prefix=true read $prefix/revocations/ >/dev/null
  ctl root role grant-permission "host-$id" --prefix=true readwrite "$prefix/hosts/$id/" >/dev/null
  ctl root user add "host-$id" --interactive=false <"$pki/host-$id.password" >/dev/null
  ctl root user grant-role "host-$id" "host-$id" >/dev/null
  ctl root role grant-permission execgate-publisher --prefix=true write "$prefix/hosts/$id/tickets/" >/dev/null
}
add_host $A
add_host $B
ok "rbac: root, execgate-publisher; auth enabled; then host-A, host-B"

# ---- who may write where ----
denied="permission denied"
expect "publisher puts tickets/" ctl execgate-publisher put $prefix/tickets/probe x
expect "publisher puts revocations/" ctl execgate-publisher put $prefix/revocations/probe x
expect "publisher puts approvals/A" ctl execgate-publisher put "$prefix/approvals/$A" x
expect "publisher puts hosts/A/tickets/" ctl execgate-publisher put "$prefix/hosts/$A/tickets/probe" x
expect "publisher reads hosts/" ctl execgate-publisher get --prefix $prefix/hosts/
expect_refused "publisher cannot put hosts/A/pub" "$denied" ctl execgate-publisher put "$prefix/hosts/$A/pub" x
expect_refused "publisher cannot put hosts/A/ack" "$denied" ctl execgate-publisher put "$prefix/hosts/$A/ack" x
expect_refused "publisher cannot put outside the prefix" "$denied" ctl execgate-publisher put /other x
expect_refused "host A cannot put tickets/" "$denied" ctl host-$A put $prefix/tickets/probe2 x
expect_refused "host A cannot put revocations/" "$denied" ctl host-$A put $prefix/revocations/probe2 x
expect "host A puts hosts/A/pub" ctl host-$A put "$prefix/hosts/$A/pub" x
expect "host A puts hosts/A/ack" ctl host-$A put "$prefix/hosts/$A/ack" x
expect_refused "host A cannot put approvals/A" "$denied" ctl host-$A put "$prefix/approvals/$A" x
expect_refused "host A cannot delete approvals/A" "$denied" ctl host-$A del "$prefix/approvals/$A"
expect_refused "host A cannot put hosts/B/pub" "$denied" ctl host-$A put "$prefix/hosts/$B/pub" x
expect_refused "host A cannot put hosts/B/ack" "$denied" ctl host-$A put "$prefix/hosts/$B/ack" x
expect_refused "host A cannot read hosts/B/" "$denied" ctl host-$A get --prefix "$prefix/hosts/$B/"
expect_refused "host A cannot read all of hosts/" "$denied" ctl host-$A get --prefix "$prefix/hosts/"
expect "host A reads tickets/" ctl host-$A get --prefix $prefix/tickets/
expect "host A reads revocations/" ctl host-$A get --prefix $prefix/revocations/
expect "host A reads hosts/A/tickets/" ctl host-$A get --prefix "$prefix/hosts/$A/tickets/"
# etcd 3.4's RBAC: write includes delete (no create-only, no delete-denying permission)
expect "limit: write includes delete (publisher deletes revocations/probe)" ctl execgate-publisher del $prefix/revocations/probe
expect "limit: write includes delete (host A deletes hosts/A/pub)" ctl host-$A del "$prefix/hosts/$A/pub"
overwrite_checkpoint() {
  ctl host-$A put "$prefix/hosts/$A/checkpoints/1" first && ctl host-$A put "$prefix/hosts/$A/checkpoints/1" second
}
expect "limit: no create-only permission (host A overwrites hosts/A/checkpoints/1)" overwrite_checkpoint
ctl root del --prefix $prefix/ >/dev/null
expect_refused "host A cannot administer (user list)" "$denied" ctl host-$A user list
expect_refused "a wrong password is refused" "authentication failed" \
  etcdctl --endpoints "$endpoints" --cacert "$pki/ca.pem" --cert "$pki/host-$A.pem" --key "$pki/host-$A.key" \
  --user host-$A --password wrong get x
# a certificate with a CN and no password: etcdctl's gRPC takes the user from the CN, etcd's
# JSON gateway (execgate's transport) answers HTTP 400 to it, with or without a password
expect "a CN certificate without password: etcdctl (gRPC) is the CN's user" ctl cn-publisher put $prefix/tickets/probe x

# no client certificate, or one of another CA: no TLS connection at all (--client-cert-auth)
https_get() { # https_get [CURL-OPTION...]: etcd-1's /version
  curl -sS --max-time 5 --cacert "$pki/ca.pem" "$@" "https://127.0.0.1:$(client_port 1)/version"
}
expect "with a client certificate: HTTPS answers" https_get --cert "$pki/host-$A.pem" --key "$pki/host-$A.key"
expect_refused "no client certificate: HTTPS refused" "curl: (" https_get
expect_refused "a peer certificate (the peer CA) is no client certificate" "curl: (" \
  https_get --cert "$pki/etcd-1-peer.pem" --key "$pki/etcd-1-peer.key"

# ---- the execgate CLI (steps d and e) ----
eg() { "$cli" "$@"; }
mkdir -m 0700 "$tmp/ops" "$tmp/hostA" "$tmp/hostB"
eg keygen -o "$tmp/ops/ops" >/dev/null
eg keygen -o "$tmp/hostA/audit" >/dev/null
eg keygen -o "$tmp/hostB/audit" >/dev/null
echo $A >"$tmp/hostA/machine-id"
echo $B >"$tmp/hostB/machine-id"
fleet_table() { # fleet_table USER: [fleet] with USER's credentials
  cat <<EOF
[fleet]
endpoints = ["https://127.0.0.1:$(client_port 1)", "https://127.0.0.1:$(client_port 2)", "https://127.0.0.1:$(client_port 3)"]
prefix = "$prefix"
max_silence = "2m"
user = "$1"
password_file = "$pki/$1.password"
ca = "$pki/ca.pem"
cert = "$pki/$1.pem"
key = "$pki/$1.key"
EOF
}
# host A's policy: its [audit] signing key, the operator's issuer, the [fleet]
cat >"$tmp/hostA/policy.toml" <<EOF
name = "fleet-walkthrough"
[scope]
host = true
[[issuer]]
name = "ops"
pubkey = "$tmp/ops/ops.pub"
max_ttl = "8h"
allow_any_host = true
[audit]
signing_key = "$tmp/hostA/audit.key"
[control]
group = "execgate-sync"
$(fleet_table host-$A)
EOF
# the operator's: the same issuer, the publisher's credentials
cat >"$tmp/ops/ops.toml" <<EOF
name = "fleet-ops"
[scope]
host = true
[[issuer]]
name = "ops"
pubkey = "$tmp/ops/ops.pub"
allow_any_host = true
$(fleet_table execgate-publisher)
EOF
expect "host A's policy checks" eg policy check "$tmp/hostA/policy.toml"
expect "the operator's policy checks" eg policy check "$tmp/ops/ops.toml"

# d. host A enrolls with its policy; host B with the connection options alone
out=$(eg fleet enroll --config "$tmp/hostA/policy.toml" --machine-id "$tmp/hostA/machine-id" 2>&1) &&
  ok "host A: execgate fleet enroll" || fail "host A: execgate fleet enroll" "$out"
kid_a=$(printf '%s\n' "$out" | sed -n 's/^key id //p')
expect "host B: execgate fleet enroll with --endpoints --ca --cert --cert-key --user --password-file --prefix" \
  eg fleet enroll --endpoints "$endpoints" --prefix $prefix --ca "$pki/ca.pem" \
  --cert "$pki/host-$B.pem" --cert-key "$pki/host-$B.key" --user host-$B --password-file "$pki/host-$B.password" \
  --audit-pub "$tmp/hostB/audit.pub" --machine-id "$tmp/hostB/machine-id"
expect_exit "a CN certificate on the gateway: HTTP 400, even with a password (exit 3)" 3 "HTTP 400): CommonName of client" \
  eg fleet enroll --endpoints "$endpoints" --prefix $prefix --ca "$pki/ca.pem" \
  --cert "$pki/cn-publisher.pem" --cert-key "$pki/cn-publisher.key" \
  --user host-$B --password-file "$pki/host-$B.password" \
  --audit-pub "$tmp/hostB/audit.pub" --machine-id "$tmp/hostB/machine-id"
expect_exit "the CLI with a certificate and no password: no user (exit 3)" 3 "user name is empty" \
  eg fleet enroll --endpoints "$endpoints" --prefix $prefix --ca "$pki/ca.pem" \
  --cert "$pki/host-$B.pem" --cert-key "$pki/host-$B.key" \
  --audit-pub "$tmp/hostB/audit.pub" --machine-id "$tmp/hostB/machine-id"
expect_exit "the CLI without a client certificate: no connection (exit 1)" 1 "unavailable" \
  eg fleet enroll --endpoints "https://127.0.0.1:$(client_port 1)" --prefix $prefix --ca "$pki/ca.pem" \
  --user host-$B --password-file "$pki/host-$B.password" \
  --audit-pub "$tmp/hostB/audit.pub" --machine-id "$tmp/hostB/machine-id"
expect_exit "host A cannot enroll as host B (exit 3)" 3 "$denied" \
  eg fleet enroll --config "$tmp/hostA/policy.toml" --machine-id "$tmp/hostB/machine-id"

# e. the operator
ops=(--config "$tmp/ops/ops.toml")
expect_exit "approve with a wrong --expect-key-id (exit 3)" 3 "not the expected" \
  eg fleet approve $A "${ops[@]}" --key "$tmp/ops/ops.key" --expect-key-id 0000000000000000
expect "approve host A --expect-key-id $kid_a" eg fleet approve $A "${ops[@]}" --key "$tmp/ops/ops.key" --expect-key-id "$kid_a"
printf '#!/bin/sh\necho deploy\n' >"$tmp/ops/deploy"
chmod 0755 "$tmp/ops/deploy"
eg issue --key "$tmp/ops/ops.key" --binary "$tmp/ops/deploy" --host '*' --ttl 8h --purpose walkthrough \
  -o "$tmp/ops/t.json" >/dev/null
tid=$(eg --json inspect "$tmp/ops/t.json" | sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' | head -1)
out=$(eg fleet publish "${ops[@]}" "$tmp/ops/t.json" 2>&1) &&
  [[ $out == *"ticket $tid -> $prefix/tickets/$tid at revision "* ]] &&
  ok "fleet publish t.json -> tickets/<id>" || fail "fleet publish t.json -> tickets/<id>" "$out"
expect "fleet publish --host A t.json -> hosts/A/tickets/<id>" eg fleet publish "${ops[@]}" --host $A "$tmp/ops/t.json"
expect_exit "fleet publish with host A's credentials (exit 3)" 3 "$denied" \
  eg fleet publish --config "$tmp/hostA/policy.toml" "$tmp/ops/t.json"
eg revoke --key "$tmp/ops/ops.key" --reason walkthrough -o "$tmp/ops/r.json" "$tid" >/dev/null
out=$(eg fleet publish "${ops[@]}" "$tmp/ops/r.json" 2>&1) || true
rev=$(printf '%s\n' "$out" | sed -n 's/.* at revision \([0-9]*\)$/\1/p')
[[ $out == *"revocation "*" -> $prefix/revocations/"* && -n $rev ]] &&
  ok "fleet publish r.json -> revocations/<id> at revision $rev" || fail "fleet publish r.json" "$out"
expect "host A's credentials read the revocation" ctl host-$A get --prefix $prefix/revocations/
out=$(eg fleet status "${ops[@]}" 2>&1) || true
line_a=$(printf '%s\n' "$out" | grep "^$A ") || true
line_b=$(printf '%s\n' "$out" | grep "^$B ") || true
[[ $line_a =~ ^$A\ +$kid_a\ +yes\ .*\[no\ ack\]$ ]] && ok "fleet status: host A approved, no ack" ||
  fail "fleet status: host A approved, no ack" "$out"
[[ $line_b =~ ^$B\ +[0-9a-f]+\ +NO\ .*\[not\ approved\]$ ]] && ok "fleet status: host B enrolled, not approved" ||
  fail "fleet status: host B enrolled, not approved" "$out"
rc=0
out=$(eg fleet status "${ops[@]}" --wait-revision "$rev" --timeout 1s 2>&1 >/dev/null) || rc=$?
[ $rc -eq 3 ] && ok "fleet status --wait-revision $rev --timeout 1s: exit 3 (no ack without execgated)" ||
  fail "fleet status --wait-revision $rev --timeout 1s: exit 3" "exit $rc: $out"
[[ $out == *"host $A: no ack"* && $out != *"host $B"* ]] &&
  ok "  ... names host A (no ack), not host B (not approved)" || fail "  ... names host A, not B" "$out"

# ---- one member down: 2 of 3 still commit; it rejoins ----
kill_member 3
expect "etcd-3 killed: a write commits with 2 of 3" ctl execgate-publisher put $prefix/tickets/while-down x
expect "  ... fleet status with etcd-3 first in --endpoints (failover)" eg fleet status "${ops[@]}" \
  --endpoints "https://127.0.0.1:$(client_port 3),https://127.0.0.1:$(client_port 1)"
health=$(CT=1s ctl root endpoint health 2>&1 || true)
[ "$(grep -c 'is healthy' <<<"$health")" -eq 2 ] && ok "  ... endpoint health: 2 of 3 healthy" ||
  fail "  ... endpoint health: 2 of 3 healthy" "$health"
write_default 3
start_member_from_default 3
if wait_healthy "https://127.0.0.1:$(client_port 3)"; then
  ok "etcd-3 rejoins (started as Debian's unit does, from its /etc/default/etcd)"
  caught_up() {
    EP=https://127.0.0.1:$(client_port 3) DT=1s CT=1s ctl root get --consistency=s $prefix/tickets/while-down |
      grep -q '^x$'
  }
  for _ in $(seq 25); do caught_up 2>/dev/null && break; sleep 0.2; done
  expect "  ... and has the write made while it was down (a serializable read of etcd-3 alone)" caught_up
  expect "  ... all 3 healthy" ctl root endpoint health --cluster
else
  fail "etcd-3 rejoins" "not healthy in 20 s: $(tail -n 1 "$tmp/etcd-3.log")"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
