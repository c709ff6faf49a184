#!/usr/bin/env bash
# Runs one command as root inside a small virtual machine that boots one of
# Debian's own kernels: the kernels fanfilter's users run (Debian 11's 5.10,
# Debian 12's 6.1, Debian 13's 6.12), and the kernel features this machine's
# kernel is built without (fs-verity: `# CONFIG_FS_VERITY is not set` here).
#
#   tools/kernel-vm.sh [--kernel SUITE] [--needs CONFIG_X] [--cache DIR] [--timeout SECONDS] -- COMMAND [ARG...]
#
# --kernel names a Debian suite whose linux-image-amd64 to boot: bullseye,
# bookworm or trixie; without it, the kernel of this machine's own apt
# sources. A suite's package lists and kernel are downloaded with apt-get
# into the cache folder, with a sources list and list and cache folders of
# their own: the machine's apt configuration is untouched. --needs fails
# (status 125) when the kernel's config lacks CONFIG_X=y.
#
# The guest sees this machine's whole file system, read-only over 9p, under a
# tmpfs overlay: the command finds the build, the Swift runtime and every
# tool where they are here, and whatever it writes vanishes with the guest.
# Nothing of the host is written but the cache folder (default
# .build/kernel-vm: the kernel packages, extracted, and the initramfs).
#
# Needs qemu-system-x86, busybox-static, kmod and xz-utils (tools/deps.sh
# test installs them) and apt-get. Runs under software emulation (about 10 s
# to boot): on this kind of machine /dev/kvm opens, but a KVM guest never
# gets past its BIOS. KERNEL_VM_ACCEL=kvm tries.
#
# Prints the guest's console; exits with the command's own status, 124 when
# the guest ran longer than the timeout (default 600 s), 125 when the guest
# could not be booted or the command never ran.
set -euo pipefail

cache=.build/kernel-vm
timeout=600
suite=
needs=
while [ $# -gt 0 ]; do
    case "$1" in
        --kernel) suite=$2; shift 2 ;;
        --needs) needs=$2; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: tools/kernel-vm.sh [--kernel bullseye|bookworm|trixie] [--needs CONFIG_X] [--cache DIR] [--timeout SECONDS] -- COMMAND [ARG...]" >&2; exit 2 ;;
    esac
done
case "$suite" in
    ""|bullseye|bookworm|trixie) ;;
    *) echo "kernel-vm: unknown kernel '$suite' (expected bullseye, bookworm or trixie: Debian 11, 12, 13)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "kernel-vm: no command given" >&2; exit 2; }
fail() { echo "kernel-vm: $*" >&2; exit 125; }

[ "$(uname -m)" = x86_64 ] || fail "only x86_64 hosts are supported (this is $(uname -m))"
for tool in qemu-system-x86_64 depmod modprobe dpkg-deb apt-get xz; do
    command -v "$tool" >/dev/null || fail "$tool not found (sudo tools/deps.sh test installs it)"
done
busybox=/bin/busybox
[ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 || fail "$busybox is missing or not static (install busybox-static)"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The kernel package linux-image-amd64 depends on: in this machine's apt
# sources, or in the suite's, read with apt options of this script's own.
apt_options=()
if [ -n "$suite" ]; then
    apt_dir=$cache/apt-$suite
    mkdir -p "$apt_dir"/lists/partial "$apt_dir"/archives/partial
    printf 'deb http://deb.debian.org/debian %s main\n' "$suite" > "$apt_dir/sources.list"
    apt_options=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
                 -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir" -o Dir::Cache::archives="$apt_dir/archives"
                 -o Dir::State::Status=/dev/null -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1)
    if [ ! -s "$apt_dir/lists/deb.debian.org_debian_dists_${suite}_InRelease" ]; then
        echo "kernel-vm: reading Debian $suite's package lists" >&2
        apt-get "${apt_options[@]}" -q update > "$apt_dir/update.log" 2>&1 || fail "apt-get update for $suite failed (see $apt_dir/update.log)"
    fi
fi
package=$(apt-cache "${apt_options[@]}" depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$package" ] || fail "apt-cache names no kernel package for linux-image-amd64 (run apt-get update)"
release=${package#linux-image-}
kernel_root=$cache/$package
if [ ! -f "$kernel_root/boot/vmlinuz-$release" ]; then
    echo "kernel-vm: downloading $package" >&2
    rm -rf "$kernel_root" "$cache"/*.deb
    (cd "$cache" && apt-get "${apt_options[@]}" download -q "$package" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
        fail "apt-get download $package failed"
    dpkg-deb -x "$cache/${package}"_*.deb "$kernel_root"
    rm -f "$cache"/*.deb
    # Debian 13 keeps the modules under /usr/lib/modules: depmod and modprobe look in lib/modules.
    [ -d "$kernel_root/lib/modules" ] || ln -s usr/lib "$kernel_root/lib"
    depmod -b "$kernel_root" "$release"
fi
echo "kernel-vm: $package" >&2
# The initramfs: busybox, the modules for a 9p root and an overlay on it (and
# those the command needs: loop devices, ext4), in load order, and /init.
modules=$(for m in virtio_pci 9pnet_virtio 9p overlay loop ext4; do
    modprobe -d "$kernel_root" -S "$release" --show-depends "$m"; done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
initramfs=$cache/initramfs
rm -rf "$initramfs" && mkdir -p "$initramfs"/{bin,modules,proc,sys,dev,lower,upper,newroot}
cp "$busybox" "$initramfs/bin/busybox"
n=0
for m in $modules; do
    n=$((n + 1)); name=$initramfs/modules/$(printf %02d $n)-$(basename "$m")
    # busybox's insmod takes plain modules: Debian 13's are compressed.
    case "$m" in
        *.xz) xz -dc "$m" > "${name%.xz}" ;;
        *.zst) zstd -dc "$m" > "${name%.zst}" ;;
        *) cp "$m" "$name" ;;
    esac
done
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
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot/dev/shm && mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
# What a booted machine has and devtmpfs does not: /dev/fd (bash's process
# substitution) and the standard streams' links, and the loopback interface up.
ln -sf /proc/self/fd /newroot/dev/fd
for n in 0:stdin 1:stdout 2:stderr; do ln -sf /proc/self/fd/${n%%:*} /newroot/dev/${n#*:}; done
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up || echo "kernel-vm: the loopback interface could not be brought up"
cp /command /newroot/run/kernel-vm-command
cat > /newroot/run/kernel-vm-init <<'RUN'
echo "kernel-vm: running as root on $(uname -r)"
/bin/bash /run/kernel-vm-command
echo "kernel-vm-status: $?"
/bin/busybox poweroff -f
RUN
# switch_root, not chroot: the command's root is its mount namespace's root,
# as on a booted machine, so it may make user namespaces (the kernel refuses
# them to a chrooted process).
exec switch_root /newroot /bin/busybox sh /run/kernel-vm-init
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
