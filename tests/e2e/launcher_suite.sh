#!/bin/sh
# Launchers and the privilege posture (docs/gate.md "Privilege posture", "Launchers"). Runs
# INSIDE the VM as root: launcher_suite.sh PROBE
# A task forked outside the scope and moved into it before its exec (systemd setting up a
# service's namespaces, mounts and credentials in the service's cgroup) still runs its
# launcher's code: the posture does not judge it until it execs. The workload can never be
# one: its forks, its orphans, and tasks older than the scopes are judged. The probe runs
# each operation in a forked child without an exec (eg-probe fork / join / orphan).
# Each case: lib.sh, "cases" (EXECGATE_CASES picks some). Ends with "N passed, M failed".
E2E=$(cd "$(dirname "$0")" && pwd)
PROBE=$1
# shellcheck source=tests/e2e/lib.sh
. "$E2E/lib.sh"
CG=/sys/fs/cgroup/gated

always setup

# keys, the default posture's policy, a task older than the scopes (forked before the
# daemon starts, waiting for $W/go to join the scope and mount), the daemon
case_setup() {
  # (its output in a directory of its own: $W is an ancestor of the state directory, closed
  # to writes from the scope)
  mkdir -p $W/out /mnt/l1 /mnt/l2 /mnt/l3 /mnt/l4 /mnt/l5 /mnt/l6 /mnt/l7 /mnt/l8 /mnt/l9 /mnt/w1 /mnt/w2 /mnt/w3 /mnt/w4 /mnt/old
  execgate keygen -o $W/ops >/dev/null
  # a launcher program (as systemd-executor is by default): a copy of the probe, ticketed
  mkdir -p /opt/lp && cp "$PROBE" /opt/lp/executor && chmod 755 /opt/lp/executor
  {
    echo 'name = "launcher"'
    policy_head | sed '/^cgroups = /a launchers = ["/opt/lp/executor"]'
    printf '[audit]\npath = "%s"\n' "$AUDIT"
  } >$W/p.toml
  mkdir -p $CG
  $PROBE fork wait-file $W/go join $CG mount-tmpfs /mnt/old >$W/out/old.out 2>&1 &
  sleep 0.2
  start_daemon $W/p.toml || abort "cannot start the daemon"
  ticket lp /opt/lp/executor --ttl 1h || abort "cannot ticket the launcher program"
}

no_denial_in_case() { ! audit_after "$CASE_MARK" '"verdict":"deny"'; }

# unmounts whatever a case mounted (from outside the scope)
cleanup_mounts() { for d in "$@"; do umount "$d" 2>/dev/null; done; }

case_launcher_mounts() {
  out=$($PROBE fork join $CG mount-tmpfs /mnt/l1 2>&1)
  check "a launcher (forked outside, moved in, no exec yet) mounts in the scope" contains "$out" "MOUNT_OK"
  check "  ... nothing refused" no_denial_in_case
  cleanup_mounts /mnt/l1
}

case_launcher_child_mounts() {
  out=$($PROBE fork join $CG fork mount-tmpfs /mnt/l2 2>&1)
  check "a launcher's own child (forked in the scope before any exec) mounts" contains "$out" "MOUNT_OK"
  cleanup_mounts /mnt/l2
}

case_launcher_userns() {
  out=$($PROBE fork join $CG unshare-user 2>&1)
  check "a launcher creates a user namespace" contains "$out" "UNSHARE_OK"
}

case_launcher_cgroup_write() {
  out=$($PROBE fork join $CG open-write $CG/cgroup.procs 2>&1)
  check "a launcher opens its cgroup's cgroup.procs for writing" contains "$out" "OPEN_OK"
  check "  ... nothing refused" no_denial_in_case
}

case_workload_fork_cgroup_write() {
  outside_then_inside "a workload's fork opens the scope's cgroup.procs for writing" OPEN scope_escape cgroup_write fork open-write $CG/cgroup.procs
}

case_launcher_mknod() {
  out=$($PROBE fork join $CG mknod-blk $W/out/l-blk 2>&1)
  check "a launcher makes a device node (systemd's PrivateDevices=)" contains "$out" "MKNOD_OK"
  rm -f $W/out/l-blk
}

case_workload_fork_mknod() {
  control "a workload's fork makes a block device node" MKNOD fork mknod-blk $W/out/w-blk
  rm -f $W/out/w-blk
  # CAP_MKNOD is outside the default posture: the capability check refuses it first
  refused "a workload's fork makes a block device node" MKNOD privilege capable fork mknod-blk $W/out/w-blk
  rm -f $W/out/w-blk
}

case_launcher_after_exec() {
  out=$($PROBE fork join $CG exec "$PROBE" mount-tmpfs /mnt/l3 2>&1)
  check "bypass: a launcher's mount after its exec (it is the workload now)" contains "$out" "MOUNT_ERRNO=EPERM"
  check "  ... audited privilege (mount, access)" audit_has '"event":"access"' '"reason":"privilege"' '"hook":"mount"'
  cleanup_mounts /mnt/l3
}

# launcher programs ([scope] launchers; systemd 255's systemd-executor): a launcher that
# PID 1 forked (here: an orphan, reparented to init before it joins the scope) and that
# execs one stays a launcher until its next exec; the workload cannot become one by
# running it, nor can `execgate run`'s child, whose command a job may name
case_launcher_program_mounts() {
  out=$($PROBE orphan join $CG exec /opt/lp/executor mount-tmpfs /mnt/l4 2>&1)
  check "a launcher (a child of PID 1) that execs a launcher program mounts after that exec" contains "$out" "MOUNT_OK"
  check "  ... nothing refused" no_denial_in_case
  out=$($PROBE orphan join $CG exec /opt/lp/executor fork mount-tmpfs /mnt/l5 2>&1)
  check "  ... and so does the launcher program's own child" contains "$out" "MOUNT_OK"
  cleanup_mounts /mnt/l4 /mnt/l5
}

case_launcher_program_then_exec() {
  out=$($PROBE orphan join $CG exec /opt/lp/executor exec "$PROBE" mount-tmpfs /mnt/l6 2>&1)
  check "bypass: a mount after the launcher program's exec of the service (it is the workload now)" contains "$out" "MOUNT_ERRNO=EPERM"
  check "  ... audited privilege (mount, access)" audit_has '"event":"access"' '"reason":"privilege"' '"hook":"mount"'
  out=$($PROBE orphan join $CG exec /opt/lp/executor exec /opt/lp/executor mount-tmpfs /mnt/l7 2>&1)
  check "bypass: a launcher program run again by its own exec (workload after the first)" contains "$out" "MOUNT_ERRNO=EPERM"
  cleanup_mounts /mnt/l6 /mnt/l7
}

case_launcher_program_not_pid1_child() {
  out=$($PROBE fork join $CG exec /opt/lp/executor mount-tmpfs /mnt/l8 2>&1)
  check "bypass: a launcher whose parent is not PID 1 runs the launcher program, which mounts" contains "$out" "MOUNT_ERRNO=EPERM"
  check "  ... audited privilege (mount, access)" audit_has '"event":"access"' '"reason":"privilege"' '"hook":"mount"'
  out=$(gated /opt/lp/executor mount-tmpfs /mnt/l9 2>&1)
  check "bypass: \`execgate run -- LAUNCHER-PROGRAM\` mounts (its child is not PID 1's)" contains "$out" "MOUNT_ERRNO=EPERM"
  cleanup_mounts /mnt/l8 /mnt/l9
}

case_workload_runs_launcher_program() {
  outside_then_inside "the workload execs the launcher program, which mounts" MOUNT privilege mount exec /opt/lp/executor mount-tmpfs /mnt/w3
  cleanup_mounts /mnt/w3
  outside_then_inside "a workload's fork execs the launcher program, which mounts" MOUNT privilege mount fork exec /opt/lp/executor mount-tmpfs /mnt/w4
  cleanup_mounts /mnt/w4
  refused "rewrite the launcher program (protected like a helper, ticketed or not)" OPEN gate_tamper helper_write open-write /opt/lp/executor
}

case_workload_fork() {
  outside_then_inside "a workload's fork mounts without an exec" MOUNT privilege mount fork mount-tmpfs /mnt/w1
  cleanup_mounts /mnt/w1
}

case_workload_orphan() {
  outside_then_inside "a workload's orphan (reparented to init) mounts" MOUNT privilege mount orphan mount-tmpfs /mnt/w2
  cleanup_mounts /mnt/w2
}

case_workload_fork_userns() {
  outside_then_inside "a workload's fork creates a user namespace" UNSHARE privilege userns_create fork unshare-user
}

case_older_than_scopes() {
  touch $W/go
  poll grep -q MOUNT_ $W/out/old.out
  out=$(cat $W/out/old.out)
  check "bypass: a task older than the scopes, moved in, mounts without an exec" contains "$out" "MOUNT_ERRNO=EPERM"
  check "  ... audited privilege (mount, access)" audit_has '"event":"access"' '"reason":"privilege"' '"hook":"mount"'
  cleanup_mounts /mnt/old
}

run_cases
