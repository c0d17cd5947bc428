#!/bin/sh
# execgate vm-run init (PID 1). Console (ttyS0) carries kernel noise and the exit marker;
# CMD's output goes to ttyS1, which the host streams to its stdout.
# Source: scripts/vm/init.sh, copied as it is into the cached base initramfs (initramfs.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C TERM=dumb EXECGATE_VM=1
export EXECGATE_BPF_OBJECT=/usr/local/lib/execgate/execgate.bpf.o
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
chmod 0755 /     # rootfs (tmpfs) starts out 1777
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# tmpfs on /tmp and /run, keeping whatever the initramfs put there (--add /tmp/x).
for d in /tmp /run; do
  mkdir -p /.mnt$d
  case $d in /tmp) m=1777 ;; *) m=0755 ;; esac
  mount -t tmpfs -o mode=$m tmpfs /.mnt$d
  cp -a $d/. /.mnt$d/ 2>/dev/null
  mount --move /.mnt$d $d
done
rm -rf /.mnt
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t securityfs securityfs /sys/kernel/security
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >/etc/machine-id
echo >>/etc/machine-id
chmod 0444 /etc/machine-id
hostname execgate-vm
ip link set lo up 2>/dev/null
stty -F /dev/ttyS1 raw -echo 2>/dev/null
cd /root || :     # PID 1 must not exit; /root is in the base archive
. /etc/vm-run/cmd
printf '\nEXECGATE_VM_READY\n'
("$@") </dev/null >/dev/ttyS1 2>&1
rc=$?
# tcsetattr(TCSADRAIN): wait until CMD's output has left the UART before powering off.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
printf '\nEXECGATE_VM_EXIT=%d\n' "$rc"
sync
poweroff -f
