// Temporary: replaced by tools/gen-reserved-names.py's output.
#pragma once
namespace ks {
static const char* const kReservedDeviceNames[] = { "uinput", "uhid", "fuse", "null", "zero", "random", "urandom", "kmsg", "mem", "tty", "console", "ptmx" };
}
