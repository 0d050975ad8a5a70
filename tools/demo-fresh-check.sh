#!/bin/bash
# Checks tools/demo.sh's kernel step as a fresh Debian 12 machine reaches
# it: no kernel under /lib/modules yet, so the step must go on to install
# one (tools/kernel-setup.sh) and then boot it, instead of stopping at the
# first look for a kernel (it once did, silently, under set -e -o pipefail).
# Cheap: the modules folder is an empty temporary one, and the install and
# the guest are stand-ins that make a kernel folder and a guest console log.
# Also checks that a setup that installs nothing ends in a message and
# exit 1, not in silence. Prints "demo-fresh: ok" or what went wrong.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/modules" "$tmp/out"
cat >"$tmp/setup" <<STUB
#!/bin/bash
echo setup-ran >>"$tmp/calls"
mkdir -p "$tmp/modules/6.1.0-99-amd64/build"
STUB
cat >"$tmp/setup-nothing" <<STUB
#!/bin/bash
echo setup-ran >>"$tmp/calls"
STUB
cat >"$tmp/guest" <<'STUB'
#!/bin/bash
mkdir -p "$KS_KERNEL_OUT/$1"
printf 'KTEST BEGIN demo\n[    1.000000] kernel noise\nguest says hello on %s via %s\nKTEST PASS demo\n' "$1" "$KS_GUEST_ENTRY" \
  >"$KS_KERNEL_OUT/$1/console.log"
STUB
chmod +x "$tmp/setup" "$tmp/setup-nothing" "$tmp/guest"
fail() { echo "demo-fresh: FAILED: $*"; exit 1; }

output=$(KS_DEMO_STEPS=kernel KS_MODULES_DIR="$tmp/modules" KS_KERNEL_SETUP="$tmp/setup" KS_KERNEL_TEST="$tmp/guest" \
  KS_DEMO_OUT="$tmp/out" "$root/tools/demo.sh" 2>&1)
rc=$?
[ $rc = 0 ] || fail "demo.sh exited $rc on a machine without kernels: $output"
grep -q '^setup-ran$' "$tmp/calls" 2>/dev/null || fail "demo.sh did not run the kernel setup: $output"
echo "$output" | grep -q '^guest says hello on 6.1.0-99-amd64 via demo.sh$' || fail "no guest output: $output"
echo "$output" | grep -q 'kernel noise' && fail "the guest's kernel messages were not filtered: $output"

rm -rf "$tmp/modules"/* "$tmp/calls"
output=$(KS_DEMO_STEPS=kernel KS_MODULES_DIR="$tmp/modules" KS_KERNEL_SETUP="$tmp/setup-nothing" \
  KS_KERNEL_TEST="$tmp/guest" KS_DEMO_OUT="$tmp/out" "$root/tools/demo.sh" 2>&1)
rc=$?
[ $rc = 1 ] || fail "demo.sh exited $rc when the setup installed no kernel: $output"
echo "$output" | grep -q 'still no 6.1 kernel' || fail "no message when the setup installed no kernel: $output"
echo "demo-fresh: ok"
