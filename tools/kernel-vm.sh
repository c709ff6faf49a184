#!/usr/bin/env bash
# Runs one command as root inside a small virtual machine that boots Debian's
# own kernel, for the kernel features this machine's kernel is built without
# (fs-verity: the test kernel here has `# CONFIG_FS_VERITY is not set`).
#
#   tools/kernel-vm.sh [--cache DIR] [--timeout SECONDS] -- COMMAND [ARG...]
#
# The guest sees this machine's whole file system, read-only over 9p, under a
# tmpfs overlay: the command finds the build, the Swift runtime and every
# tool where they are here, and whatever it writes vanishes with the guest.
# Nothing of the host is written but the cache folder (default
# .build/kernel-vm: Debian's kernel package, extracted, and the initramfs).
#
# Needs qemu-system-x86, busybox-static and kmod (tools/deps.sh test installs
# them) and apt-get to download linux-image-amd64's kernel package. Runs under
# software emulation (about 10 s to boot): on this kind of machine /dev/kvm
# opens, but a KVM guest never gets past its BIOS. KERNEL_VM_ACCEL=kvm tries.
#
# Prints the guest's console; exits with the command's own status, 124 when
# the guest ran longer than the timeout (default 600 s), 125 when the guest
# could not be booted or the command never ran.
set -euo pipefail

cache=.build/kernel-vm
timeout=600
while [ $# -gt 0 ]; do
    case "$1" in
        --cache) cache=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: tools/kernel-vm.sh [--cache DIR] [--timeout SECONDS] -- COMMAND [ARG...]" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "kernel-vm: no command given" >&2; exit 2; }
fail() { echo "kernel-vm: $*" >&2; exit 125; }

[ "$(uname -m)" = x86_64 ] || fail "only x86_64 hosts are supported (this is $(uname -m))"
for tool in qemu-system-x86_64 depmod modprobe dpkg-deb apt-get; do
    command -v "$tool" >/dev/null || fail "$tool not found (sudo tools/deps.sh test installs it)"
done
busybox=/bin/busybox
[ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 || fail "$busybox is missing or not static (install busybox-static)"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Debian's current kernel package: the one linux-image-amd64 depends on.
package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$package" ] || fail "apt-cache names no kernel package for linux-image-amd64 (run apt-get update)"
release=${package#linux-image-}
kernel_root=$cache/$package
if [ ! -f "$kernel_root/boot/vmlinuz-$release" ]; then
    echo "kernel-vm: downloading $package" >&2
    rm -rf "$kernel_root" "$cache"/*.deb
    (cd "$cache" && apt-get download -q "$package" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
        fail "apt-get download $package failed"
    dpkg-deb -x "$cache/${package}"_*.deb "$kernel_root"
    rm -f "$cache"/*.deb
    depmod -b "$kernel_root" "$release"
fi
grep -q '^CONFIG_FS_VERITY=y' "$kernel_root/boot/config-$release" || fail "$package is built without fs-verity"

# The initramfs: busybox, the modules for a 9p root and an overlay on it (and
# those the command needs: loop devices, ext4), in load order, and /init.
modules=$(for m in virtio_pci 9pnet_virtio 9p overlay loop ext4; do
    modprobe -d "$kernel_root" -S "$release" --show-depends "$m"; done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
initramfs=$cache/initramfs
rm -rf "$initramfs" && mkdir -p "$initramfs"/{bin,modules,proc,sys,dev,lower,upper,newroot}
cp "$busybox" "$initramfs/bin/busybox"
n=0
for m in $modules; do n=$((n + 1)); cp "$m" "$initramfs/modules/$(printf %02d $n)-$(basename "$m")"; done
{
    printf '#!/bin/busybox sh\n'
    cat <<'INIT'
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /modules/*.ko; do insmod "$m" 2>/dev/null || echo "kernel-vm: could not load $m (ignored)"; done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower; then
    echo "kernel-vm-status: 125"; poweroff -f
fi
mount -t tmpfs -o size=1g,mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
if ! mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot; then
    echo "kernel-vm-status: 125"; poweroff -f
fi
for d in proc sys dev; do mount --move /$d /newroot/$d; done
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot/dev/shm && mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
cp /command /newroot/run/kernel-vm-command
echo "kernel-vm: running as root on $(uname -r)"
chroot /newroot /bin/bash /run/kernel-vm-command
echo "kernel-vm-status: $?"
poweroff -f
INIT
} > "$initramfs/init"
chmod 755 "$initramfs/init"
{   # the command, run by the host's bash inside the guest, in this folder
    printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root\n'
    printf 'cd %q || exit 125\n' "$(pwd)"
    printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$initramfs/command"
(cd "$initramfs" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$cache/initramfs.gz"

accel=${KERNEL_VM_ACCEL:-tcg}
console=$cache/console.log
status=0
timeout --kill-after=10 "$timeout" qemu-system-x86_64 \
    -machine q35,accel=$accel -cpu max -smp 2 -m 2048 \
    -kernel "$kernel_root/boot/vmlinuz-$release" -initrd "$cache/initramfs.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -nographic -no-reboot -nic none -serial mon:stdio < /dev/null | tee "$console" || status=$?
[ "$status" -eq 124 ] && { echo "kernel-vm: the guest ran longer than ${timeout}s" >&2; exit 124; }
result=$(tr -d '\r' < "$console" | sed -n 's/^kernel-vm-status: \([0-9]*\)$/\1/p' | tail -1)
[ -n "$result" ] || fail "the guest ended without running the command (accel=$accel; console in $console)"
exit "$result"
