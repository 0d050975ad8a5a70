#!/bin/bash
# Checks the DKMS configuration: registers this tree as kscript/0.1, builds
# the module for each given kernel (default: all with headers) through DKMS,
# and removes it again. Needs root and the dkms package.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/dkms.conf")
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
    echo "dkms: built kscript/$version for $k"
  else
    echo "dkms: build FAILED for $k"; status=1
  fi
done
dkms remove "kscript/$version" --all >/dev/null
rm -rf "$src"
exit $status
