#!/bin/bash
# Checks the DKMS configuration: registers this tree as kscript/VERSION
# (dkms.conf's PACKAGE_VERSION, which must be include/kscript.h's KS_VERSION), builds
# the module for each given kernel (default: all with headers) through DKMS,
# and removes it again. Needs root and the dkms package.
# KS_COMPILER=n (passed on by dkms.conf): the module without the compiler,
# checked to be that build (its message for refused source is in it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/dkms.conf")
ks_version=$(sed -n 's/^#define KS_VERSION "\(.*\)"/\1/p' "$root/include/kscript.h")
if [ "$version" != "$ks_version" ]; then
  echo "dkms.conf's PACKAGE_VERSION ($version) is not KS_VERSION ($ks_version) of include/kscript.h" >&2
  exit 1
fi
src=/usr/src/kscript-$version
kvers=("$@")
if [ ${#kvers[@]} = 0 ]; then
  for d in /lib/modules/*/build; do kvers+=("$(basename "$(dirname "$d")")"); done
fi
dkms remove "kscript/$version" --all >/dev/null 2>&1 || true
rm -rf "$src"
mkdir -p "$src"
cp -r "$root/dkms.conf" "$root/core" "$root/slab" "$root/include" "$root/kernel" "$root/platform" "$src/"
rm -f "$src"/kernel/*.o "$src"/kernel/*.ko "$src"/kernel/kscript_cxx.cpp
dkms add "kscript/$version"
status=0
for k in "${kvers[@]}"; do
  if dkms build "kscript/$version" -k "$k" >/dev/null; then
    if [ "${KS_COMPILER:-y}" = n ]; then
      ko=$(find "/var/lib/dkms/kscript/$version/$k" -name 'kscript.ko*' | head -n 1)
      # DKMS compresses the module as the kernel's own are (6.12: .xz).
      plain=$(mktemp)
      case "$ko" in
        *.xz) xz -dc "$ko" > "$plain" ;;
        *.zst) zstd -qdc "$ko" > "$plain" ;;
        *.gz) gzip -dc "$ko" > "$plain" ;;
        ?*) cp "$ko" "$plain" ;;
      esac
      found=0
      grep -q "built without the compiler" "$plain" && found=1
      rm -f "$plain"
      if [ -z "$ko" ] || [ $found = 0 ]; then
        echo "dkms: $k: the module built is not the one without the compiler"; status=1; continue
      fi
    fi
    echo "dkms: built kscript/$version${KS_COMPILER:+ (KS_COMPILER=$KS_COMPILER)} for $k"
  else
    echo "dkms: build FAILED for $k"; status=1
  fi
done
dkms remove "kscript/$version" --all >/dev/null
rm -rf "$src"
exit $status
