#!/bin/bash
# The systemd host suite, inside the Debian 12 or 13 system of scripts/host-image.sh (as
# /payload/run; tests/host/systemd_host_test.sh puts it there with the two packages). Runs as
# root from vm-payload.service once the system is up; exits 100 to be rebooted and run again.
# Its progress and its counts survive the reboot in /var/lib/egtest.
#   boot 1: install the package, enforce with a ci.slice scope, a job in ci.slice denied from
#           its first exec, a ticketed one runs; the default posture against a package build
#           and a sandboxed service; reboot
#   boot 2: denied from boot (the jobs are enabled units), boot-to-enforcing time; upgrade to
#           the newer package during an exec loop in ci.slice: nothing unticketed ran; stop:
#           still enforced; purge: pins and state gone, the gate with them; installed
#           again on the kept log; the generator's drop-in on ci.slice; a policy execgated
#           cannot parse put in place (its [scope] intact); reboot
#   boot 3: broken daemon at boot: execgated failed, so ci.slice and the units in it did not
#           start (dependency), a unit outside it ran; the policy restored and execgated
#           restarted: the ci.slice units start, gated
# Ends with "N passed, M failed".
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C
export DEBIAN_FRONTEND=noninteractive
P=/payload
S=/var/lib/egtest
mkdir -p $S
PASS=$(cat $S/pass 2>/dev/null || echo 0)
FAIL=$(cat $S/fail 2>/dev/null || echo 0)
AUDIT=/var/log/execgate/audit.jsonl
PINS=/sys/fs/bpf/execgate
POLL_TRIES=100
# the counts survive the reboots
on_count() { echo "$PASS" >$S/pass; echo "$FAIL" >$S/fail; }
# pass, fail, check, contains, poll, audit_mark, audit_after, audit_since: the real-kernel
# suites' own (tests/e2e/checks.sh, copied beside this file by systemd_host_test.sh)
# shellcheck source=tests/e2e/checks.sh
. "$(dirname "$0")/checks.sh"
summary() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; }
no_audit_after() { ! audit_after "$@"; }
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" | head -1; }
unit_prop() { systemctl show -P "$2" "$1"; }
# journal_has PRIORITY TEXT: execgated's journal has a message with TEXT at that priority
journal_has() { journalctl -u execgated -o json --no-pager | grep -F "\"PRIORITY\":\"$1\"" | grep -F -- "$2" >/dev/null; }
# job_denied UNIT: the unit's main process never ran: exec failed (status 203/EXEC, EPERM)
job_denied() { [ "$(unit_prop "$1" ExecMainStatus)" = 203 ] && [ "$(unit_prop "$1" Result)" = exit-code ]; }
# reload_applied: systemctl reload, then execgated's journal has one more 'policy reloaded'
reload_applied() {
  local n
  n=$(journalctl -u execgated --no-pager | grep -c 'policy reloaded')
  systemctl reload execgated &&
    poll sh -c "[ \$(journalctl -u execgated --no-pager | grep -c 'policy reloaded') -gt $n ]"
}
job_ran() { [ "$(unit_prop "$1" ExecMainStatus)" = 0 ] && [ "$(unit_prop "$1" Result)" = success ]; }
job_runs_now() { systemctl start "$1" 2>/dev/null; job_ran "$1"; }
job_runs_soon() { POLL_TRIES=150 poll job_runs_now "$1"; }
phase=$(cat $S/phase 2>/dev/null || echo 1)
echo "=== boot $phase ($(uname -r), systemd $(systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p'))"

write_policy() { # MODE [SCOPE_LINE]: SCOPE_LINE is one more line of [scope]
  cat >/etc/execgate/policy.toml <<EOT
name = "ci-runner"
mode = "$1"
[scope]
cgroups = ["/ci.slice"]
${2:-}
[baseline]
trust = "none"
paths = ["/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/bin", "/sbin", "/lib", "/lib64"]
[[issuer]]
name = "ops"
pubkey = "/etc/execgate/ops.pub"
max_ttl = "30d"
[audit]
path = "$AUDIT"
signing_key = "/etc/execgate/audit.key"
EOT
}

boot1() {
  local deb m
  deb=$(echo $P/release/execgate_*_amd64.deb)
  echo "--- install $deb"
  check "apt install ./${deb##*/}" apt-get install -y -q "$deb" </dev/null
  check "execgated enabled by the package" [ "$(systemctl is-enabled execgated)" = enabled ]
  check "execgated active (Type=notify: ready)" [ "$(systemctl is-active execgated)" = active ]
  check "installed policy is monitor mode" grep -q '^mode = "monitor"' /etc/execgate/policy.toml
  check "status answers: attached, monitor" sh -c 'execgate --json status | grep -q "\"attached\":true" && execgate --json status | grep -q "\"mode\":\"monitor\""'
  check "the pins are there" [ -d $PINS ]

  echo "--- the default posture under a real workload (monitor: recorded, not refused)"
  posture_workload

  echo "--- enforce with a ci.slice scope"
  execgate keygen -o /etc/execgate/ops >/dev/null
  execgate keygen -o /etc/execgate/audit >/dev/null
  write_policy enforce
  check "policy check" execgate policy check /etc/execgate/policy.toml
  mkdir -p /opt/job
  cp /usr/bin/true /opt/job/unticketed
  cp /usr/bin/true /opt/job/ticketed
  chmod 755 /opt/job/*
  execgate issue --key /etc/execgate/ops.key --binary /opt/job/ticketed --this-host --ttl 30d -o /etc/execgate/job.ticket >/dev/null
  check "systemctl reload applies it" systemctl reload execgated
  check "status: enforce" poll sh -c 'execgate --json status | grep -q "\"mode\":\"enforce\""'
  check "submit the job's ticket" execgate submit /etc/execgate/job.ticket

  echo "--- journald priorities; a bad policy at reload is refused, the old one kept"
  cp /etc/execgate/policy.toml $S/good.toml
  echo 'mode = "sometimes"' >>/etc/execgate/policy.toml
  systemctl reload execgated
  check "  ... the refusal logged at err (3)" poll journal_has 3 'reload refused'
  check "  ... still enforcing" sh -c 'execgate --json status | grep -q "\"mode\":\"enforce\""'
  cp $S/good.toml /etc/execgate/policy.toml
  check "  ... the earlier reload logged at notice (5)" journal_has 5 'policy reloaded'
  check "  ... the ready line at info (6)" journal_has 6 'ready ('

  cat >/etc/systemd/system/egjob-denied.service <<'EOT'
[Unit]
Description=a ci.slice job running an unticketed binary
[Service]
Type=oneshot
Slice=ci.slice
ExecStart=/opt/job/unticketed
[Install]
WantedBy=multi-user.target
EOT
  sed -e 's/an unticketed binary/a ticketed binary/' -e 's#/opt/job/unticketed#/opt/job/ticketed#' \
    /etc/systemd/system/egjob-denied.service >/etc/systemd/system/egjob-ticketed.service
  systemctl daemon-reload
  systemctl enable egjob-denied.service egjob-ticketed.service 2>/dev/null
  m=$(audit_mark)
  systemctl start egjob-denied.service 2>/dev/null
  check "a ci.slice service running an unticketed binary: denied at its first exec (203/EXEC)" job_denied egjob-denied.service
  check "  ... audited deny no_ticket for /opt/job/unticketed" audit_since "$m" '"verdict":"deny"' '"reason":"no_ticket"' '/opt/job/unticketed'
  systemctl start egjob-ticketed.service
  check "a ci.slice service running a ticketed binary runs" job_ran egjob-ticketed.service
  check "  ... audited allow ticket" audit_since "$m" '"verdict":"allow"' '/opt/job/ticketed'
  echo "--- the posture in enforce mode: systemd's setup of a sandboxed service passes, its workload is judged"
  m=$(audit_mark)
  rm -f /var/lib/private/egsandboxed/ran
  check "a sandboxed service in ci.slice still starts (its launcher's mounts and capabilities pass)" systemctl start egsandboxed.service
  check "  ... and did its work" [ -s /var/lib/private/egsandboxed/ran ]
  sleep 1
  check "  ... with nothing refused" no_audit_after "$m" '"verdict":"deny"'
  [ ! -x /usr/lib/systemd/systemd-executor ] || executor_launcher
  cat >/etc/systemd/system/egmount.service <<'EOT'
[Unit]
Description=a sandboxed service in ci.slice whose workload tries to mount
[Service]
Type=oneshot
Slice=ci.slice
PrivateTmp=yes
ExecStart=/bin/mount -t tmpfs none /mnt
EOT
  systemctl daemon-reload
  m=$(audit_mark)
  check "its workload's mount is refused (the service fails)" sh -c '! systemctl start egmount.service 2>/dev/null'
  check "  ... audited deny privilege" audit_since "$m" '"verdict":"deny"' '"reason":"privilege"' '"comm":"mount"'
  audit_mark >$S/mark1
  echo 2 >$S/phase
  echo "--- reboot"
  exit 100
}

# systemd 255 and later (Debian 13) set a service up in systemd-executor, a program exec'd
# in the service's cgroup: the policy's default launcher programs name it, and without them
# the same service cannot start (docs/gate.md "Launcher programs").
executor_launcher() {
  local m
  echo "--- systemd-executor sets the service up: the policy's launcher program"
  write_policy enforce 'launchers = []'
  check "  ... a policy without launcher programs applied" reload_applied
  m=$(audit_mark)
  check "with launchers = [], the sandboxed service cannot start (its setup in systemd-executor is judged as workload)" \
    sh -c '! systemctl start egsandboxed.service 2>/dev/null'
  check "  ... audited deny privilege" audit_since "$m" '"verdict":"deny"' '"reason":"privilege"'
  tail -n +$((m + 1)) $AUDIT | grep -F '"verdict":"deny"' | head -2 | sed 's/^/  /'
  cp $S/good.toml /etc/execgate/policy.toml
  check "  ... the policy with the default launcher programs applied again" reload_applied
  m=$(audit_mark)
  check "the default launchers again: the sandboxed service starts" systemctl start egsandboxed.service
  check "  ... with nothing refused" sh -c "sleep 1; ! tail -n +$((m + 1)) $AUDIT | grep -qF '\"verdict\":\"deny\"'"
}

# The default posture (docs/gate.md "Privilege posture") while the policy is in monitor
# mode: everything runs, and no decision but exec ones may be recorded for the workloads
# (a posture refusal would be a non-exec monitor_deny).
posture_workload() {
  local m b
  m=$(audit_mark)
  b=/home/execgate-test/hello
  mkdir -p $b/debian
  cat >$b/hello.c <<'EOT'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
EOT
  printf 'all: hello\nhello: hello.c\n\t$(CC) $(CFLAGS) -o $@ $<\ncheck: hello\n\t./hello\ninstall: hello\n\tinstall -D hello $(DESTDIR)/usr/bin/hello\n' >$b/Makefile
  printf 'Source: hello\nSection: misc\nPriority: optional\nMaintainer: t <t@example.org>\nBuild-Depends: debhelper-compat (= 13)\nStandards-Version: 4.6.2\n\nPackage: hello\nArchitecture: any\nDepends: ${shlibs:Depends}, ${misc:Depends}\nDescription: hello\n hello\n' >$b/debian/control
  printf 'hello (1.0) unstable; urgency=low\n\n  * t\n\n -- t <t@example.org>  Thu, 01 Jan 2026 00:00:00 +0000\n' >$b/debian/changelog
  printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' >$b/debian/rules
  chmod 755 $b/debian/rules
  chown -R execgate-test: /home/execgate-test
  check "a package build (dpkg-buildpackage, uid 1000) in ci.slice succeeds" \
    systemd-run --quiet --wait --pipe --slice=ci.slice --uid=execgate-test -p WorkingDirectory=$b \
      dpkg-buildpackage -b -us -uc
  check "  ... its package installs" apt-get install -y -q /home/execgate-test/hello_1.0_*.deb
  cat >/etc/systemd/system/egsandboxed.service <<'EOT'
[Unit]
Description=a sandboxed service in ci.slice (systemd sets up its namespaces in the scope)
[Service]
Type=oneshot
Slice=ci.slice
DynamicUser=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
PrivateDevices=yes
StateDirectory=egsandboxed
ExecStart=/bin/sh -c 'echo ok >/var/lib/egsandboxed/ran && echo x >/tmp/x && cat /tmp/x && hello'
EOT
  systemctl daemon-reload
  check "a sandboxed service (DynamicUser, PrivateTmp, ProtectSystem) in ci.slice runs" systemctl start egsandboxed.service
  check "  ... and did its work" [ -s /var/lib/private/egsandboxed/ran ]
  sleep 1
  if audit_after "$m" '"verdict":"monitor_deny"' '"event":"access"'; then
    fail "the default posture would refuse nothing of the package build and the service" \
      "$(tail -n +$((m + 1)) $AUDIT | grep -F '"verdict":"monitor_deny"' | grep -F '"event":"access"' | head -5)"
  else
    pass "the default posture would refuse nothing of the package build and the service"
  fi
}

boot2() {
  local m1 ready started pid0 n0 n1 loop0
  m1=$(cat $S/mark1)
  ready=$(unit_prop execgated ActiveEnterTimestampMonotonic)
  echo "boot-to-enforcing: $(awk -v u="$ready" 'BEGIN { printf "%.1f", u / 1e6 }') s from the kernel's start to execgated's READY (TCG)"
  check "execgated ready after boot (Type=notify)" [ "${ready:-0}" -gt 0 ]
  check "status after reboot: attached, enforce" sh -c 'execgate --json status | grep -q "\"attached\":true" && execgate --json status | grep -q "\"mode\":\"enforce\""'
  started=$(unit_prop egjob-denied.service InactiveExitTimestampMonotonic)
  check "the ci.slice jobs started after the gate was ready" [ "${started:-0}" -gt "$ready" ]
  check "from boot: the unticketed job was denied at its first exec" job_denied egjob-denied.service
  check "  ... audited deny no_ticket" audit_since "$m1" '"verdict":"deny"' '"reason":"no_ticket"' '/opt/job/unticketed'
  check "from boot: the ticketed job ran (its ticket restored from the state)" job_ran egjob-ticketed.service

  echo "--- metrics: the node_exporter textfile (docs/metrics.md)"
  local prom=/run/execgate/metrics.prom
  # rewritten every 15 s: the boot's denial is in it by the next write
  for _ in $(seq 40); do grep -q 'verdict="deny",reason="no_ticket"' $prom 2>/dev/null && break; sleep 0.5; done
  check "the metrics file ends with # EOF" [ "$(tail -n 1 $prom 2>/dev/null)" = "# EOF" ]
  check "  ... mode enforce" grep -qx 'execgate_mode{mode="enforce"} 1' $prom
  check "  ... the boot's denial counted" grep -q '^execgate_decisions_total{event="exec",verdict="deny",reason="no_ticket"} [1-9]' $prom
  check "  ... one ticket installed" grep -qx 'execgate_tickets_installed 1' $prom
  check "  ... audit lag histogram" grep -q '^execgate_audit_lag_seconds_bucket{le="+Inf"} [1-9]' $prom

  echo "--- upgrade during an exec loop in ci.slice"
  rm -f $S/stop $S/ran $S/tfail $S/count
  systemd-run --quiet --unit=egloop --slice=ci.slice /bin/sh -c \
    'n=0; while [ ! -e /var/lib/egtest/stop ]; do /opt/job/unticketed 2>/dev/null && echo x >>/var/lib/egtest/ran; /opt/job/ticketed || echo x >>/var/lib/egtest/tfail; n=$((n + 1)); echo $n >/var/lib/egtest/count; done'
  poll test -s $S/count
  sleep 2
  n0=$(cat $S/count)
  pid0=$(unit_prop execgated MainPID)
  loop0=$(unit_prop egloop.service InvocationID)
  deb=$(echo $P/upgrade/execgate_*_amd64.deb)
  check "apt install ./${deb##*/} (upgrade)" apt-get install -y -q "$deb" </dev/null
  check "  ... the newer version is installed" [ "$(dpkg-query -W -f '${Version}' execgate)" = "$(dpkg-deb -f "$deb" Version)" ]
  check "  ... execgated was restarted and is ready" sh -c "[ \"\$(systemctl show -P MainPID execgated)\" != $pid0 ] && systemctl is-active -q execgated"
  check "  ... the restart did not reach ci.slice: the loop is the same invocation, still running" \
    sh -c "[ \"\$(systemctl show -P InvocationID egloop.service)\" = $loop0 ] && systemctl is-active -q egloop.service"
  sleep 2
  touch $S/stop
  poll sh -c '! systemctl is-active -q egloop'
  n1=$(cat $S/count)
  echo "  exec loop: $((n1 - n0)) rounds during and after the upgrade, $n1 in all"
  check "  ... the loop ran through the upgrade" [ "$n1" -gt "$n0" ]
  check "  ... no unticketed exec ran, at any moment" [ ! -s $S/ran ]
  check "  ... no ticketed exec failed" [ ! -s $S/tfail ]

  echo "--- systemctl stop: still enforced"
  systemctl stop execgated
  check "execgated stopped" sh -c '! systemctl is-active -q execgated'
  check "  ... the pins stay" [ -d $PINS ]
  check "  ... ci.slice stays active (nothing in it stopped)" systemctl is-active -q ci.slice
  systemctl start egjob-denied.service 2>/dev/null
  check "  ... the unticketed job is still denied" job_denied egjob-denied.service
  systemctl start egjob-ticketed.service
  check "  ... the ticketed one still runs" job_ran egjob-ticketed.service

  echo "--- purge"
  check "apt-get purge execgate (non-interactive)" apt-get purge -y -q execgate </dev/null
  check "  ... the pins are gone" [ ! -e $PINS ]
  check "  ... the state is gone" [ ! -e /var/lib/execgate ]
  check "  ... the audit log stays" [ -s $AUDIT ]
  # The kernel frees an unpinned link after an RCU grace period and a deferred
  # work item, so the gate goes away shortly after the pins do, not at once.
  check "  ... and the gate with them: the unticketed job runs" job_runs_soon egjob-denied.service
  check "  ... it leaves the state-reset marker beside the log" [ -s /var/log/execgate/state-reset ]

  echo "--- install again after the purge (the kept log names the old state key)"
  local deb m
  m=$(wc -l <$AUDIT)
  deb=$(echo $P/release/execgate_*_amd64.deb)
  check "apt install ./${deb##*/} again" apt-get install -y -q "$deb" </dev/null
  check "  ... execgated starts with a new state directory" [ "$(systemctl is-active execgated)" = active ]
  check "  ... the purge is recorded (state_reset) and the marker removed" \
    sh -c "tail -n +$((m + 1)) $AUDIT | grep -q '\"event\":\"state_reset\"' && [ ! -e /var/log/execgate/state-reset ]"
  check "  ... daemon_start names the new state key" audit_after "$m" '"event":"daemon_start"' '"state_key":"'

  echo "--- fail-closed from boot: the generator (docs/service.md \"Fail-closed from boot\")"
  local gen=/run/systemd/generator/ci.slice.d/50-execgate.conf
  check "execgate-generator wrote the ci.slice drop-in (the installed policy's scope)" [ -s $gen ]
  check "  ... ci.slice requires execgate-ready.service and starts after it" \
    sh -c 'systemctl show -P Requires ci.slice | grep -qw execgate-ready.service && systemctl show -P After ci.slice | grep -qw execgate-ready.service'
  check "  ... execgate-ready.service is active (execgated was)" systemctl is-active -q execgate-ready.service
  echo "--- a policy execgated cannot parse, then reboot"
  write_policy enforce
  cp /etc/execgate/policy.toml $S/good.toml
  echo 'this line is not TOML' >>/etc/execgate/policy.toml
  check "the broken policy is refused (execgate policy check)" sh -c '! execgate policy check /etc/execgate/policy.toml 2>/dev/null'
  rm -rf /run/systemd/generator/ci.slice.d
  systemctl daemon-reload
  check "  ... the generator still reads its [scope] (daemon-reload wrote the drop-in again)" [ -s $gen ]
  rm -f $S/gated-ran $S/free-ran $S/scope-ran
  cat >/etc/systemd/system/egboot-gated.service <<'EOT'
[Unit]
Description=a ci.slice service enabled at boot
[Service]
Type=oneshot
RemainAfterExit=yes
Slice=ci.slice
ExecStart=/bin/sh -c 'echo ran >/var/lib/egtest/gated-ran'
[Install]
WantedBy=multi-user.target
EOT
  sed -e 's/a ci.slice service/a system.slice service/' -e '/^Slice=/d' -e 's/gated-ran/free-ran/' \
    /etc/systemd/system/egboot-gated.service >/etc/systemd/system/egboot-free.service
  systemctl daemon-reload
  systemctl enable egboot-gated.service egboot-free.service 2>/dev/null
  echo 3 >$S/phase
  echo "--- reboot"
  exit 100
}

# Broken daemon at boot: execgated could not parse its policy, so nothing is gated; the
# generator's drop-in keeps ci.slice, and every unit in it, from starting.
boot3() {
  local out
  echo "--- execgated failed at boot"
  check "execgated is not active (it could not parse its policy)" sh -c '! systemctl is-active -q execgated'
  check "  ... its journal says why, at err (3), this boot" sh -c "journalctl -b -u execgated -o json --no-pager | grep -F '\"PRIORITY\":\"3\"' | grep -F 'execgated: policy: /etc/execgate/policy.toml' >/dev/null"
  check "  ... the gate is not installed (no pins this boot)" [ ! -e $PINS ]
  check "execgate-ready.service failed" [ "$(unit_prop execgate-ready.service ActiveState)" = failed ]
  check "ci.slice did not start" sh -c '! systemctl is-active -q ci.slice'
  check "the enabled ci.slice service did not run at boot" [ ! -e $S/gated-ran ]
  check "  ... it never started (no process)" [ "$(unit_prop egboot-gated.service ExecMainStartTimestampMonotonic)" = 0 ]
  check "  ... its start failed on a dependency" sh -c 'journalctl -b --no-pager -u egboot-gated.service | grep -q "Dependency failed"'
  check "  ... nor did the other enabled ci.slice job" [ "$(unit_prop egjob-denied.service ExecMainStartTimestampMonotonic)" = 0 ]
  check "the enabled service outside ci.slice ran at boot" sh -c "[ -s $S/free-ran ] && systemctl is-active -q egboot-free.service"
  out=$(systemctl start egboot-gated.service 2>&1)
  check "starting the ci.slice service now fails with a dependency error" \
    sh -c '[ ! -e /var/lib/egtest/gated-ran ] && printf "%s" "$1" | grep -q "dependency job.*failed"' _ "$out"
  check "a transient scope in ci.slice does not start either" \
    sh -c "! systemd-run --quiet --scope --slice=ci.slice touch $S/scope-ran 2>/dev/null && [ ! -e $S/scope-ran ]"

  echo "--- the policy restored, execgated restarted"
  cp $S/good.toml /etc/execgate/policy.toml
  systemctl reset-failed execgated.service
  check "execgated starts (ready)" systemctl restart execgated.service
  check "  ... enforcing" sh -c 'execgate --json status | grep -q "\"attached\":true" && execgate --json status | grep -q "\"mode\":\"enforce\""'
  check "the ci.slice service starts now" systemctl start egboot-gated.service
  check "  ... and ran" [ -s $S/gated-ran ]
  check "  ... execgate-ready.service active" systemctl is-active -q execgate-ready.service
  local m
  m=$(audit_mark)
  systemctl start egjob-denied.service 2>/dev/null
  check "  ... gated: the unticketed ci.slice job is denied at its first exec (203/EXEC)" job_denied egjob-denied.service
  check "  ... audited deny no_ticket" audit_since "$m" '"verdict":"deny"' '"reason":"no_ticket"' '/opt/job/unticketed'

  echo "--- why not Requires=execgated.service on the slice (docs/service.md)"
  local inv req
  mkdir -p /run/systemd/system/egreq.slice.d
  printf '[Unit]\nRequires=execgated.service\nAfter=execgated.service\n' >/run/systemd/system/egreq.slice.d/requires.conf
  systemctl daemon-reload
  systemd-run --quiet --unit=egreq-job --slice=egreq.slice sleep 600
  systemd-run --quiet --unit=egready-job --slice=ci.slice sleep 600
  inv=$(unit_prop egready-job.service InvocationID)
  req=$(unit_prop egreq-job.service InvocationID)
  systemctl restart execgated.service
  check "with Requires=, execgated's restart stops (or restarts) the slice's units" \
    sh -c "! systemctl is-active -q egreq-job.service || [ \"\$(systemctl show -P InvocationID egreq-job.service)\" != $req ]"
  check "with the generator's drop-in, the ci.slice unit runs on (same invocation)" \
    sh -c "systemctl is-active -q egready-job.service && [ \"\$(systemctl show -P InvocationID egready-job.service)\" = $inv ]"
  systemctl stop egready-job.service egreq-job.service 2>/dev/null
  rm -rf /run/systemd/system/egreq.slice.d
  systemctl daemon-reload
}

case $phase in
  1) boot1 ;;
  2) boot2 ;;
  3) boot3 ;;
  *) echo "unknown phase $phase"; exit 1 ;;
esac
summary
