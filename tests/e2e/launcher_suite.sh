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
  mkdir -p $W/out /mnt/l1 /mnt/l2 /mnt/l3 /mnt/w1 /mnt/w2 /mnt/old
  execgate keygen -o $W/ops >/dev/null
  {
    echo 'name = "launcher"'
    policy_head
    printf '[audit]\npath = "%s"\n' "$AUDIT"
  } >$W/p.toml
  mkdir -p $CG
  $PROBE fork wait-file $W/go join $CG mount-tmpfs /mnt/old >$W/out/old.out 2>&1 &
  sleep 0.2
  start_daemon $W/p.toml || abort "cannot start the daemon"
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
