// The Linux library: kernel information, reads of kernel memory, and the
// host-object requests of the prelude's Device, Proc, Timer, Kprobe,
// Kretprobe and Netfilter classes.
#include "LinuxLib.h"

#include "../../include/kscript_platform.h"

namespace ks::lib {

bool linux_printk(Vm& vm, u64* a, u64*)
{
    StringObj* s = str(a[0]);
    if (vm.hooks().write) {
        StringBuilder sb(&vm.memory());
        sb.append(s->bytes, s->byte_length);
        sb.append("\n");
        if (sb.has_failed())
            return vm.raise_out_of_memory();
        vm.hooks().write(vm.hooks().context, 1, sb.data(), sb.size());
    }
    return true;
}

static i64 host_info(Vm& vm, int what)
{
    return vm.hooks().info ? vm.hooks().info(vm.hooks().context, what) : 0;
}

bool linux_jiffies(Vm& vm, u64*, u64* r) { *r = (u64)host_info(vm, InfoJiffies); return true; }
bool linux_pid(Vm& vm, u64*, u64* r) { *r = (u64)host_info(vm, InfoPid); return true; }
bool linux_uid(Vm& vm, u64*, u64* r) { *r = (u64)host_info(vm, InfoUid); return true; }
// Device, Proc and Timer ask the host-object layer (core/api/Host.cpp) for
// their kernel objects: the layer checks the object's class, the name and
// the numbers, records the object and tells the host. A refusal raises
// RuntimeScriptException saying what and why. Only the prelude's classes
// can call these natives (the compiler refuses `Linux.__*` elsewhere).
static bool host_request(Vm& vm, HostRequestArgs& args, const char* what)
{
    const VmHooks& h = vm.hooks();
    const char* reason = "not supported by this host";
    i64 rc = h.request ? h.request(h.context, args, &reason) : -38;
    if (rc == 0)
        return true;
    StringBuilder sb(&vm.memory());
    sb.append("cannot create ");
    sb.append(what);
    // The name as the script gave it, control and non-ASCII bytes escaped:
    // the message may end up in a log.
    static const char hex[] = "0123456789abcdef";
    for (usize i = 0; i < args.name_length; i++) {
        u8 c = (u8)args.name[i];
        if (c >= 0x20 && c < 0x7f) {
            sb.append_char((char)c);
        } else {
            char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
            sb.append(esc, 4);
        }
    }
    sb.append(": ");
    sb.append(reason);
    sb.append(" (error ");
    sb.append_int(rc);
    sb.append(")");
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return vm.raise(ClassRuntimeScriptException, sb.data());
}

// Linux.__deviceCreate(Device, String name, int mode), as Device's constructor calls it.
bool linux_device_create(Vm& vm, u64* a, u64*)
{
    StringObj* name = str(a[1]);
    HostRequestArgs args { HostDeviceCreate, a[0], name->bytes, name->byte_length, (i64)a[2], false, 0, 0 };
    return host_request(vm, args, "device /dev/");
}

// Linux.__procCreate(Proc, String name, boolean writable).
bool linux_proc_create(Vm& vm, u64* a, u64*)
{
    StringObj* name = str(a[1]);
    HostRequestArgs args { HostProcCreate, a[0], name->bytes, name->byte_length, 0, a[2] != 0, 0, 0 };
    return host_request(vm, args, "/proc/kscript/");
}

// Linux.__timerCreate(Timer, int interval_ms, boolean periodic).
bool linux_timer_create(Vm& vm, u64* a, u64*)
{
    HostRequestArgs args { HostTimerCreate, a[0], "", 0, (i64)a[1], a[2] != 0, 0, 0 };
    return host_request(vm, args, "timer");
}

// Linux.__timerStop(Timer).
bool linux_timer_stop(Vm& vm, u64* a, u64*)
{
    HostRequestArgs args { HostTimerStop, a[0], "", 0, 0, false, 0, 0 };
    return host_request(vm, args, "timer");
}

// Linux.__probeCreate(Kprobe or Kretprobe, String symbol, boolean kretprobe).
bool linux_probe_create(Vm& vm, u64* a, u64*)
{
    StringObj* symbol = str(a[1]);
    HostRequestArgs args { HostProbeCreate, a[0], symbol->bytes, symbol->byte_length, 0, a[2] != 0, 0, 0 };
    return host_request(vm, args, a[2] ? "kretprobe on " : "kprobe on ");
}

// Linux.__netfilterCreate(Netfilter, int family, int hook point, int priority).
bool linux_netfilter_create(Vm& vm, u64* a, u64*)
{
    HostRequestArgs args { HostNetfilterCreate, a[0], "", 0, (i64)a[1], false, (i64)a[2], (i64)a[3] };
    return host_request(vm, args, "netfilter hook");
}

// The most bytes one readKernel(), readKernelString() or Packet.bytes()
// copies: enough for any structure or header, small enough for a hook.
static constexpr i64 kMaxHostRead = 4096;

// Copies [n] bytes through the host's read hook into a new Bytes (or, for
// strings, up to [n] bytes before a NUL into a String). Failures raise:
// OutOfBoundsException for a bad count or a range outside the packet,
// RuntimeScriptException with the host's reason otherwise.
static bool host_read(Vm& vm, int what, u64 packet, i64 where, i64 n, u64* r, const char* name)
{
    if (n < 0 || n > kMaxHostRead) {
        StringBuilder sb(&vm.memory());
        sb.append(name);
        sb.append(": count ");
        sb.append_int(n);
        sb.append(" is not 0 to 4096");
        return sb.has_failed() ? vm.raise_out_of_memory() : vm.raise(ClassOutOfBoundsException, sb.data());
    }
    if (!vm.charge_checked(16 + ((u64)n >> 4)))
        return false;
    // Read straight into the result (a Bytes, or a scratch buffer for a
    // String): no large native stack in a hook. A string's buffer has room
    // for the NUL the host writes after it.
    i64 room = what == ReadKernelString ? n + 1 : n;
    BytesObj* b = vm.heap().new_bytes((u32)room);
    if (!b)
        return vm.raise_out_of_memory();
    const char* reason = "not supported by this host";
    const VmHooks& h = vm.hooks();
    // An empty Bytes has no buffer: the host still checks the address (or
    // offset) with zero bytes to copy, into somewhere valid.
    u8 none = 0;
    void* out = b->data ? static_cast<void*>(b->data) : &none;
    i64 got = h.read ? h.read(h.context, what, packet, (u64)where, out, (usize)room, &reason) : -38;
    if (got < 0 || got > n) {
        StringBuilder sb(&vm.memory());
        sb.append(name);
        sb.append(": ");
        sb.append(reason);
        sb.append(" (error ");
        sb.append_int(got);
        sb.append(")");
        if (sb.has_failed())
            return vm.raise_out_of_memory();
        return vm.raise(what == ReadPacket && got == -34 ? ClassOutOfBoundsException : ClassRuntimeScriptException,
            sb.data());
    }
    if (what == ReadKernelString)
        return ret_string(vm, reinterpret_cast<const char*>(b->data), (usize)got, r);
    b->size = (u32)got;
    *r = from_obj(b);
    return true;
}

// Linux.readKernel(int address, int n): n bytes of kernel memory, copied
// without faulting (an unmapped or user address raises).
bool linux_read_kernel(Vm& vm, u64* a, u64* r)
{
    return host_read(vm, ReadKernel, 0, (i64)a[0], (i64)a[1], r, "Linux.readKernel");
}

// Linux.readKernelString(int address, int max): the NUL-terminated string
// at [address], at most [max] bytes of it.
bool linux_read_kernel_string(Vm& vm, u64* a, u64* r)
{
    return host_read(vm, ReadKernelString, 0, (i64)a[0], (i64)a[1], r, "Linux.readKernelString");
}

// Linux.__packetBytes(Packet, int offset, int n), as Packet.bytes() calls it.
bool linux_packet_bytes(Vm& vm, u64* a, u64* r)
{
    if ((i64)a[1] < 0)
        return vm.raise(ClassOutOfBoundsException, "Packet.bytes: negative offset");
    return host_read(vm, ReadPacket, a[0], (i64)a[1], (i64)a[2], r, "Packet.bytes");
}

// The host's clock when it keeps one (the CLI's simulated timers), else the
// platform's monotonic clock.
bool linux_ktime(Vm& vm, u64*, u64* r)
{
    i64 host = host_info(vm, InfoKtimeNs);
    *r = host > 0 ? (u64)host : ksp_clock_ns();
    return true;
}
bool linux_random(Vm&, u64*, u64* r) { *r = ksp_random_u64() & (u64)KS_INT_MAX; return true; }

bool linux_comm(Vm& vm, u64*, u64* r)
{
    char name[32];
    usize n = vm.hooks().comm ? vm.hooks().comm(vm.hooks().context, name) : 0;
    if (n > 16)
        n = 16;
    return ret_string(vm, name, n, r);
}

}
