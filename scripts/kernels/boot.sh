#!/bin/bash
# Boot an unpacked Debian kernel under qemu and run one command in it.
#   scripts/kernels/boot.sh TREE LOG -- COMMAND...
# TREE is `dpkg-deb -x linux-image-*.deb TREE` (boot/vmlinuz-VER, lib/modules/VER).
# The guest sees the host's / read-only over 9p under a tmpfs overlay (writes stay in guest
# RAM; /tmp is a fresh tmpfs), with proc, sys, dev, tracefs, debugfs, securityfs, bpffs and
# cgroup2 mounted, the loopback interface up (no other network) and TREE's modules at
# /lib/modules/VER (so modprobe works there).
# COMMAND runs as root in the current directory; its stdout and stderr go to LOG, the
# kernel console to LOG.console.
# Env: KSIGHT_QEMU_MEM (1536, MiB), KSIGHT_QEMU_SMP (2), KSIGHT_QEMU_TIMEOUT (600, s),
#      KSIGHT_QEMU_APPEND (more kernel command line), KSIGHT_QEMU_ACCEL
#      (tcg,thread=single). TCG always: the host's /dev/kvm cannot run these kernels.
#      One host thread for all vCPUs: with multi-threaded TCG, 5.10 guests sometimes
#      livelocked while the kernel live-patched a static key (a vCPU kept running the int3
#      of a patch already finished: soft lockups at syscall_exit_to_user_mode, seen in 2
#      of about 8 runs); with one thread, none in 12, and no slower on this 2-vCPU host.
# Exit: COMMAND's status; 124 on timeout; 125 when the guest reported no status.
set -euo pipefail
[ $# -ge 4 ] && [ "$3" = "--" ] || { echo "usage: boot.sh TREE LOG -- COMMAND..." >&2; exit 2; }
tree=$(readlink -f "$1")
log=$(readlink -f "$2")
shift 3
kernel=$(ls "$tree"/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$kernel" ] || { echo "boot.sh: no boot/vmlinuz-* in $tree" >&2; exit 2; }
ver=${kernel##*/vmlinuz-}
mods=$tree/lib/modules/$ver

# modules.dep is made by the package's postinst, which dpkg-deb -x does not run
[ -f "$mods/modules.dep" ] || depmod -b "$tree" "$ver"

# The initrd: static busybox, the modules that reach the root (virtio, 9p, overlay) and
# /init. Cached beside the tree, keyed by this script's content.
key=$(cat "$0" /bin/busybox | md5sum | cut -c1-12)
initrd=$tree/ksight-initrd-$key.cpio.gz
build_initrd() {
	local d ko name
	d=$(mktemp -d)
	mkdir -p "$d"/{bin,mod,proc,sys,dev,lower,upper,root}
	file -bL /bin/busybox | grep -q 'statically linked' ||
		{ echo "boot.sh: /bin/busybox is not static (install busybox-static)" >&2; exit 2; }
	cp /bin/busybox "$d/bin/busybox"
	: > "$d/mod/order"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$tree" -S "$ver" --show-depends "$m" ||
			{ echo "boot.sh: $ver has no module $m" >&2; exit 2; }
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
		name=${ko##*/}
		case $ko in
		*.xz) name=${name%.xz}; xz -dc "$ko" > "$d/mod/$name" ;;
		*.gz) name=${name%.gz}; gzip -dc "$ko" > "$d/mod/$name" ;;
		*) cp "$ko" "$d/mod/$name" ;;
		esac
		echo "$name" >> "$d/mod/order"
	done
	cat > "$d/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
say() { echo "guest: $*" > /dev/ttyS0; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mod/order); do insmod /mod/$m || say "insmod $m failed"; done
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose host /lower ||
	say "9p mount of the host failed"
mount -t tmpfs -o mode=755 upper /upper
mkdir -p /upper/data /upper/work
R=/root
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work root $R ||
	say "overlay mount failed"
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t tmpfs -o mode=755 run $R/run
mount -t tmpfs -o mode=1777 tmp $R/tmp
mount -t securityfs securityfs $R/sys/kernel/security 2>/dev/null
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mkdir -p $R/run/ksight
mount -t 9p -o trans=virtio,version=9p2000.L run $R/run/ksight || say "9p mount of run failed"
. $R/run/ksight/env
mkdir -p $R/lib/modules/$KVER
mount --bind $R$KMODS $R/lib/modules/$KVER
ip link set lo up || say "no loopback"
ulimit -l unlimited
chroot $R /bin/sh /run/ksight/cmd.sh < /dev/null > /dev/ttyS1 2>&1
echo $? > $R/run/ksight/rc
sync
poweroff -f
EOF
	chmod +x "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$d"
}
if [ ! -f "$initrd" ]; then
	rm -f "$tree"/ksight-initrd-*.cpio.gz
	build_initrd
fi

run=$(mktemp -d /tmp/ksight-guest.XXXXXX)
trap 'rm -rf "$run"' EXIT
printf 'KVER=%q\nKMODS=%q\n' "$ver" "$mods" > "$run/env"
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root'
	echo 'export LANG=C.UTF-8 TERM=dumb'
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	echo
} > "$run/cmd.sh"
: > "$log"
accel=${KSIGHT_QEMU_ACCEL:-tcg,thread=single}
append="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init mitigations=off"
set +e
timeout -k 5 "${KSIGHT_QEMU_TIMEOUT:-600}" qemu-system-x86_64 -accel "$accel" -cpu max \
	-m "${KSIGHT_QEMU_MEM:-1536}" -smp "${KSIGHT_QEMU_SMP:-2}" \
	-nographic -no-reboot -monitor none -nic none -bios /usr/share/qemu/qboot.rom \
	-kernel "$kernel" -initrd "$initrd" -append "$append ${KSIGHT_QEMU_APPEND:-}" \
	-serial "file:$log.console" -serial "file:$log" \
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$run",mount_tag=run,security_model=none < /dev/null > "$log.qemu" 2>&1
qrc=$?
set -e
if [ -s "$run/rc" ]; then
	exit "$(cat "$run/rc")"
fi
[ $qrc -eq 124 ] && exit 124
exit 125
