#!/bin/bash
# Installs what the kernel tests and the kernel demo need (Debian 12, root):
# QEMU, busybox, cpio, dkms, an i386 cross compiler (a 32-bit test helper),
# and Debian's 6.1 and 6.12 kernels with headers.
set -euo pipefail
need=0
command -v qemu-system-x86_64 >/dev/null || need=1
[ -x /bin/busybox ] || need=1
command -v cpio >/dev/null || need=1
command -v dkms >/dev/null || need=1
command -v xz >/dev/null || need=1   # dkms-check.sh reads compressed modules
command -v i686-linux-gnu-gcc >/dev/null || need=1   # the 32-bit test helper (KS_IOC_LIST's compat path)
ls /boot/vmlinuz-6.1.* >/dev/null 2>&1 || need=1
ls /boot/vmlinuz-6.12.* >/dev/null 2>&1 || need=1
ls -d /lib/modules/6.1.*/build >/dev/null 2>&1 || need=1
ls -d /lib/modules/6.12.*/build >/dev/null 2>&1 || need=1
[ $need = 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "kernel tests need (as root): apt-get install qemu-system-x86 busybox-static cpio crossbuild-essential-i386 linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq qemu-system-x86 busybox-static cpio g++ make dkms xz-utils crossbuild-essential-i386 \
  linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64 >/dev/null
