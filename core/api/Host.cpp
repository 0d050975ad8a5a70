// Host objects: the Devices, Proc files, Timers and hooks (Kprobe,
// Kretprobe, Netfilter) a script makes, and the one way a host calls their
// handlers.
//
// kscript.ko registers these objects for real and the CLI simulates them;
// both go through this file, so the rules live in one place: which class an
// object must be, which names are allowed, how many of each kind a script
// may make, what they cost against the quota, when they may be made, and
// which method the host may call with which arguments.
//
// Type safety at the boundary: a host never names a method. Each handler is
// the vtable slot of the method that the built-in class declares
// (Device.read(OutputStream), ...); a subclass's override keeps that
// signature (the compiler enforces it), so the slot of the object's own
// class holds a function taking exactly the arguments passed here.
#include "StateImpl.h"

#include "ReservedNames.h"

namespace {

constexpr int kEINVAL = 22;
constexpr int kEEXIST = 17;
constexpr int kENOSPC = 28;
constexpr int kENOMEM = 12;
constexpr int kEBUSY = 16;
constexpr int kEFAULT = 14;
constexpr int kERANGE = 34;

// A handler as the built-in class declares it: name and parameter count
// (without the receiver). A null name: the kind has no such handler.
struct HandlerDecl {
    const char* name;
    u32 argc;
};

struct KindInfo {
    u32 builtin_class;          // BuiltinClass the object must be an instance of
    HandlerDecl handlers[HandlerCount];   // by HostHandler; a null name: none
};

const KindInfo kKinds[KS_OBJECT_KINDS] = {
    { ClassDevice, { { "open", 0 }, { "read", 1 }, { "write", 1 }, { "release", 0 }, { nullptr, 0 }, { nullptr, 0 } } },
    { ClassProc, { { nullptr, 0 }, { "read", 1 }, { "write", 1 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 } } },
    { ClassTimer, { { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { "run", 0 }, { nullptr, 0 } } },
    { ClassKprobe, { { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { "hit", 1 } } },
    { ClassKretprobe, { { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { "ret", 1 } } },
    { ClassNetfilter, { { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { nullptr, 0 }, { "hook", 1 } } },
};

bool is_hook(int kind)
{
    return kind == KS_OBJECT_KPROBE || kind == KS_OBJECT_KRETPROBE || kind == KS_OBJECT_NETFILTER;
}

// The fields of Regs and Packet that ks_object_hit() fills in, in the
// order of HostObject::arg_fields.
const char* const kRegsFields[] = { "a0", "a1", "a2", "a3", "a4", "a5", "rv" };
const char* const kPacketFields[] = { "family", "hook", "length", "protocol", "saddr", "daddr", "sport", "dport",
    "saddr6", "daddr6" };

// Slot of field [name] in [k] if its type is of [sort] (int, or Bytes for
// a Packet's addresses), or -1: the host writes these fields, and a class
// from a bytecode file may declare them with any type.
i32 field_slot(const Program& p, RtClass* k, const char* name, TypeSort sort)
{
    for (u32 i = 0; i < k->field_count; i++)
        if (k->field_names[i] && str_equal(k->field_names[i], name))
            return k->field_types[i] < p.type_count && p.types[k->field_types[i]].sort == sort ? (i32)i : -1;
    return -1;
}

// True if a parameter of type [t] takes an instance of built-in class
// [id] (its class, a superclass, or Object).
bool takes_instance_of(const Program& p, u32 t, u32 id)
{
    if (t >= p.type_count || p.types[t].sort != TypeSort::Class)
        return false;
    for (const RtClass* k = p.classes[id]; k; k = k->super)
        if (k->id == p.types[t].a)
            return true;
    return false;
}

// True if [f], handler [which] of an object of [kind], takes what the host
// passes (an OutputStream, a Bytes, a Regs or a Packet) and returns no
// reference (the host reads a write's result as a count, a hook's as a
// verdict). The compiler guarantees it; a bytecode file is checked here.
bool handler_types_fit(const Program& p, const Function* f, int kind, HostHandler which)
{
    if (f->return_kind == KindRef)
        return false;
    if (f->param_count < 2)
        return true;
    u32 t = f->param_types[1];
    switch (which) {
    case HandlerRead: return takes_instance_of(p, t, ClassOutputStream);
    case HandlerWrite: return t < p.type_count && p.types[t].sort == TypeSort::Bytes;
    case HandlerHit: return takes_instance_of(p, t, kind == KS_OBJECT_NETFILTER ? ClassPacket : ClassRegs);
    default: return false;
    }
}

// A kernel symbol a probe may name: letters, digits, '_' and '.'.
bool valid_symbol(const char* name, usize length)
{
    if (length == 0 || length >= KS_SYMBOL_MAX)
        return false;
    for (usize i = 0; i < length; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return true;
}

InstanceObj* instance(u64 v)
{
    ObjHeader* o = as_obj(v);
    return o && o->kind == ObjKind::Instance ? reinterpret_cast<InstanceObj*>(o) : nullptr;
}

// Is [o] an instance of built-in class [id] or of a subclass of it?
bool instance_of(InstanceObj* o, u32 id)
{
    if (!o || (o->header.flags & ObjNull))
        return false;
    for (RtClass* k = o->klass; k; k = k->super)
        if (k->id == id)
            return true;
    return false;
}

// Is [qualified] ("Class.method") a name for [name]?
bool method_name_is(const char* qualified, const char* name)
{
    const char* dot = nullptr;
    for (const char* p = qualified; *p; p++)
        if (*p == '.')
            dot = p;
    return str_equal(dot ? dot + 1 : qualified, name);
}

// The vtable slot of handler [decl] in built-in class [base], or -1. The
// slot is the same in every subclass (vtables extend their superclass's).
i32 handler_slot(ks_state* s, RtClass* base, const HandlerDecl& decl)
{
    if (!decl.name)
        return -1;
    for (u32 i = 0; i < base->vtable_size; i++) {
        Function* f = s->program.functions[base->vtable[i]];
        if (f->owner == base && f->param_count == decl.argc + 1 && method_name_is(f->name, decl.name))
            return (i32)i;
    }
    return -1;
}

// Numbered nodes of kernel drivers (/dev/ttyS0, loop3, sda, nvme0n1 ...):
// a prefix followed by a digit (or, for disks, a letter) is theirs, made
// or not. ReservedNames.h has the fixed names; these names are built at
// run time, so the sources cannot list them.
struct NumberedPrefix {
    const char* prefix;
    bool letter;   // sda, vdb: the prefix is followed by a letter
};
const NumberedPrefix kNumberedPrefixes[] = {
    { "tty", false }, { "ttyS", false }, { "ttyUSB", false }, { "ttyACM", false }, { "ttyAMA", false },
    { "ttyGS", false }, { "hvc", false }, { "vcs", false }, { "vcsa", false }, { "vcsu", false },
    { "loop", false }, { "nbd", false }, { "md", false }, { "dm-", false }, { "ram", false }, { "zram", false },
    { "nvme", false }, { "mmcblk", false }, { "sr", false }, { "sg", false }, { "st", false }, { "nst", false },
    { "pmem", false }, { "dax", false }, { "mtd", false }, { "mtdblock", false }, { "ubi", false },
    { "sd", true }, { "hd", true }, { "vd", true }, { "xvd", true },
    { "hidraw", false }, { "watchdog", false }, { "rtc", false }, { "video", false }, { "media", false },
    { "fb", false }, { "i2c-", false }, { "spidev", false }, { "ptp", false }, { "pps", false },
    { "tpm", false }, { "tpmrm", false }, { "uio", false }, { "ipmi", false }, { "usbmon", false },
    { "cec", false }, { "mei", false }, { "lp", false }, { "parport", false }, { "rfcomm", false },
    { "vhost-vdpa-", false }, { "ndctl", false }, { "gpiochip", false }, { "iio:device", false },
    { "drm_dp_aux", false }, { "aux", false }, { "ttyprintk", false }, { "kfd", false }, { "bsg", false },
};

bool reserved_device_name(const char* name)
{
    for (const char* reserved : kReservedDeviceNames)
        if (str_equal(reserved, name))
            return true;
    for (const NumberedPrefix& p : kNumberedPrefixes) {
        usize n = str_length(p.prefix);
        usize i = 0;
        while (i < n && name[i] == p.prefix[i])
            i++;
        if (i < n)
            continue;
        char c = name[n];
        if ((c >= '0' && c <= '9') || (p.letter && c >= 'a' && c <= 'z'))
            return true;
    }
    return false;
}

// Checks a request against the rules of its kind; 0 or -errno with [reason].
int check_request(ks_state* s, int kind, const HostRequestArgs& a, const char** reason)
{
    if (!instance_of(instance(a.object), kKinds[kind].builtin_class)) {
        *reason = "not an object of the built-in class";
        return -kEINVAL;
    }
    if (s->in_hook) {
        *reason = "nothing can be made in a hook (atomic context)";
        return -kEBUSY;
    }
    // One host object per script object (a constructor calling super()
    // twice would otherwise make two devices or probes of one object).
    for (HostObject* h : s->objects) {
        if (h->value == a.object) {
            *reason = "this object already stands for a host object";
            return -kEEXIST;
        }
    }
    if (is_hook(kind)) {
        if (!s->running_main) {
            *reason = "hooks can be made only while the script loads";
            return -kEBUSY;
        }
        if (kind == KS_OBJECT_NETFILTER) {
            if (a.number != 2 && a.number != 10) {
                *reason = "the family is NFPROTO_IPV4 or NFPROTO_IPV6";
                return -kEINVAL;
            }
            if (a.number2 < 0 || a.number2 > 4) {
                *reason = "the hook point is NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING (0 to 4)";
                return -kEINVAL;
            }
            if (a.number3 < -100000 || a.number3 > 100000) {
                *reason = "the priority is -100000 to 100000";
                return -kEINVAL;
            }
        } else if (!valid_symbol(a.name, a.name_length)) {
            *reason = "not a kernel symbol name (1 to 127 ASCII letters, digits, '_' or '.')";
            return -kEINVAL;
        }
    } else if (kind != KS_OBJECT_TIMER) {
        if (!s->running_main) {
            *reason = "devices and /proc files can be made only while the script loads";
            return -kEBUSY;
        }
        if (!ks_valid_name(a.name, a.name_length)) {
            *reason = "invalid name (1 to 31 ASCII letters, digits, '_', '-' or '.', not starting with '.' or '-')";
            return -kEINVAL;
        }
        if (kind == KS_OBJECT_DEVICE && reserved_device_name(a.name)) {
            *reason = "the name belongs to a kernel driver";
            return -kEEXIST;
        }
        if (kind == KS_OBJECT_PROC && (str_equal(a.name, "scripts") || str_equal(a.name, "slabinfo") || str_equal(a.name, "hooks"))) {
            *reason = "the name belongs to kscript itself";
            return -kEEXIST;
        }
        if (kind == KS_OBJECT_DEVICE && (a.number & ~(i64)0666)) {
            *reason = "a device mode is read and write permission bits (at most 0666)";
            return -kEINVAL;
        }
        for (HostObject* h : s->objects) {
            if (h->pub.kind == kind && str_equal(h->pub.name, a.name)) {
                *reason = "the script already made one of this name";
                return -kEEXIST;
            }
        }
    } else if (a.number < 1 || a.number > 24 * 3600 * 1000LL) {
        *reason = "a timer interval is 1 to 86,400,000 ms";
        return -kEINVAL;
    }
    if (s->object_counts[kind] >= s->config.object_limit[kind]) {
        *reason = "the script has made as many of these as it may (see the object limits)";
        return -kENOSPC;
    }
    return 0;
}

// The function of handler [which] of [h]'s object, taking [argc] arguments
// after the receiver: -1 when the kind has no such handler, -2 when the
// object or the function does not match (the class was checked when the
// object was made and objects never change class; the signature check
// guards the compiler's promise).
i32 handler_function(ks_state* s, HostObject* h, HostHandler which, u32 argc)
{
    i32 slot = h->slots[which];
    if (slot < 0)
        return -1;
    InstanceObj* o = instance(h->value);
    if (!instance_of(o, kKinds[h->pub.kind].builtin_class) || (u32)slot >= o->klass->vtable_size)
        return -2;
    u32 index = o->klass->vtable[slot];
    const Function* f = s->program.functions[index];
    return f->param_count == argc + 1 && handler_types_fit(s->program, f, h->pub.kind, which) ? (i32)index : -2;
}

// Does [f] ever read register [r]? Each register an instruction reads is
// a register letter of its format that is not a write (Opcodes.h's schema,
// the one the verifier reads), an Args word's 'A' among them. For a hook
// handler and its argument: a handler that never reads it (a counter)
// cannot see it, so an event need not fill it in. A verified function:
// valid opcodes.
bool reads_register(const Function* f, u16 r)
{
    for (u32 pc = 0; pc < f->code_size; pc++) {
        const Insn& in = f->code[pc];
        const char* format = opcode_format(in.op);
        for (u32 i = 0; i < 4 && format[i]; i++) {
            char c = format[i];
            if (is_register_letter(c) && !is_register_write(c) && (u64)operand_value(in, format, i) == r)
                return true;
        }
    }
    return false;
}

// A hook's argument: a Regs (probes) or a Packet (netfilter), made once
// and pinned, so that an event allocates nothing; a Packet's address Bytes
// too. The fields are found by name. False when memory is short (what was
// pinned is then undone by unpin_hook_argument()).
bool make_hook_argument(ks_state* s, HostObject* h)
{
    bool packet = h->pub.kind == KS_OBJECT_NETFILTER;
    RtClass* k = s->program.classes[packet ? ClassPacket : ClassRegs];
    InstanceObj* hook = instance(h->value);
    h->budget_field = field_slot(s->program, hook->klass, "budget", TypeSort::Int);
    const char* const* names = packet ? kPacketFields : kRegsFields;
    u32 count = packet ? 10 : 7;
    for (u32 i = 0; i < 10; i++)
        h->arg_fields[i] = i >= count ? -1
            : field_slot(s->program, k, names[i], packet && i >= 8 ? TypeSort::Bytes : TypeSort::Int);
    h->regs_run = packet ? -1 : h->arg_fields[0];
    for (u32 i = 1; i < count && h->regs_run >= 0; i++)
        if (h->arg_fields[i] != h->arg_fields[0] + (i32)i)
            h->regs_run = -1;
    h->default_budget = s->config.hook_budget > 0 ? s->config.hook_budget : 100000;
    if (h->default_budget > s->config.max_hook_budget && s->config.max_hook_budget > 0)
        h->default_budget = s->config.max_hook_budget;
    // Resolved once: the object's class never changes.
    h->hit_function = handler_function(s, h, HandlerHit, 1);
    h->arg_read = h->hit_function >= 0 && reads_register(s->program.functions[h->hit_function], 1);
    InstanceObj* arg = s->heap.new_instance(k);
    if (!arg || !s->vm.pin(from_obj(arg)))
        return false;
    h->arg = from_obj(arg);
    for (u32 i = 0; packet && i < 2; i++) {
        BytesObj* b = s->heap.new_bytes(16);
        if (!b || !s->vm.pin(from_obj(b)))
            return false;
        h->addr6[i] = from_obj(b);
    }
    return true;
}

void unpin_hook_argument(ks_state* s, HostObject* h)
{
    if (h->arg)
        s->vm.unpin(h->arg);
    for (u64 b : h->addr6)
        if (b)
            s->vm.unpin(b);
    h->arg = h->addr6[0] = h->addr6[1] = 0;
}

// Records a new host object, charges it, pins its script object and tells
// the host; on any failure nothing stays behind.
int create_object(ks_state* s, int kind, const HostRequestArgs& a, const char** reason)
{
    int err = check_request(s, kind, a, reason);
    if (err)
        return err;
    HostObject* h = static_cast<HostObject*>(s->memory.alloc_zeroed(sizeof(HostObject)));
    if (!h) {
        *reason = "out of memory";
        return -kENOMEM;
    }
    ks_object& o = h->pub;
    o.kind = kind;
    o.index = s->objects.size();
    o.line = s->vm.current_line();
    if (kind == KS_OBJECT_TIMER) {
        mem_copy(o.name, "timer", 6);
        o.interval_ms = (unsigned long)a.number;
        o.periodic = a.flag;
    } else if (kind == KS_OBJECT_KPROBE || kind == KS_OBJECT_KRETPROBE) {
        mem_copy(o.name, kind == KS_OBJECT_KPROBE ? "kprobe" : "kretprobe", kind == KS_OBJECT_KPROBE ? 7 : 10);
        mem_copy(o.symbol, a.name, a.name_length + 1);
    } else if (kind == KS_OBJECT_NETFILTER) {
        mem_copy(o.name, "netfilter", 10);
        o.family = (int)a.number;
        o.hooknum = (int)a.number2;
        o.priority = (int)a.number3;
    } else {
        mem_copy(o.name, a.name, a.name_length + 1);
        o.writable = kind == KS_OBJECT_DEVICE || a.flag;
        o.mode = kind == KS_OBJECT_DEVICE ? (unsigned)a.number : a.flag ? 0644 : 0444;
    }
    o.after_load = !s->running_main;
    h->value = a.object;
    RtClass* base = s->program.classes[kKinds[kind].builtin_class];
    for (u32 i = 0; i < HandlerCount; i++)
        h->slots[i] = handler_slot(s, base, kKinds[kind].handlers[i]);
    u64 cost = s->config.object_cost[kind];
    if (!s->memory.charge_external((i64)cost)) {
        s->memory.free(h);
        *reason = "out of memory (the object's kernel memory is over the quota)";
        return -kENOMEM;
    }
    if (is_hook(kind) && !make_hook_argument(s, h)) {
        unpin_hook_argument(s, h);
        s->memory.charge_external(-(i64)cost);
        s->memory.free(h);
        *reason = "out of memory";
        return -kENOMEM;
    }
    if (!s->vm.pin(a.object)) {
        unpin_hook_argument(s, h);
        s->memory.charge_external(-(i64)cost);
        s->memory.free(h);
        *reason = "out of memory";
        return -kENOMEM;
    }
    if (!s->objects.try_append(h)) {
        s->vm.unpin(a.object);
        unpin_hook_argument(s, h);
        s->memory.charge_external(-(i64)cost);
        s->memory.free(h);
        *reason = "out of memory";
        return -kENOMEM;
    }
    s->object_counts[kind]++;
    err = s->config.created ? s->config.created(s->config.ctx, &o) : 0;
    if (err) {
        s->objects.pop();
        s->object_counts[kind]--;
        s->vm.unpin(a.object);
        unpin_hook_argument(s, h);
        s->memory.charge_external(-(i64)cost);
        s->memory.free(h);
        *reason = err == -kEEXIST ? "the name is in use" : err == -kENOSPC ? "no room for more of these in the kernel"
                                                                            : "the kernel refused it";
        return err < 0 ? err : -kEINVAL;
    }
    return 0;
}

// The handler [which] of [h]'s object with [argc] arguments after the
// receiver; KS_OK and nothing called when the kind has no such handler.
int invoke(ks_state* s, HostObject* h, HostHandler which, const u64* args, u32 argc, u64* result)
{
    if (!s->vm_ready)
        return KS_ESTATE;
    i32 index = handler_function(s, h, which, argc);
    if (index == -1)
        return KS_OK;
    if (index < 0)
        return KS_ENOENT;
    u64 all[2] = { h->value, argc ? args[0] : 0 };
    u64 r = 0;
    RunStatus status = s->vm.call((u32)index, all, argc + 1, &r);
    if (result)
        *result = r;
    return status == RunStatus::Ok ? KS_OK : KS_EEXCEPTION;
}

HostObject* record(ks_object* o) { return reinterpret_cast<HostObject*>(o); }

// A new OutputStream made by its constructor; pinned (the caller unpins).
int new_output_stream(ks_state* s, u64* out)
{
    RtClass* k = s->program.classes[ClassOutputStream];
    for (u32 f = 0; f < s->program.function_count; f++) {
        Function* fn = s->program.functions[f];
        if (fn->owner != k || fn->param_count != 1 || !method_name_is(fn->name, "<init>")
            || !takes_instance_of(s->program, fn->param_types[0], ClassOutputStream))
            continue;
        InstanceObj* o = s->heap.new_instance(k);
        if (!o || !s->vm.pin(from_obj(o)))
            return KS_ENOMEM;
        u64 self = from_obj(o);
        if (s->vm.call(f, &self, 1, nullptr) != RunStatus::Ok) {
            s->vm.unpin(self);
            return KS_EEXCEPTION;
        }
        *out = self;
        return KS_OK;
    }
    return KS_ENOENT;
}

}   // namespace

i64 host_request(void* context, const HostRequestArgs& a, const char** reason)
{
    ks_state* s = static_cast<ks_state*>(context);
    *reason = "";
    switch (a.request) {
    case HostDeviceCreate: return create_object(s, KS_OBJECT_DEVICE, a, reason);
    case HostProcCreate: return create_object(s, KS_OBJECT_PROC, a, reason);
    case HostTimerCreate: return create_object(s, KS_OBJECT_TIMER, a, reason);
    case HostProbeCreate: return create_object(s, a.flag ? KS_OBJECT_KRETPROBE : KS_OBJECT_KPROBE, a, reason);
    case HostNetfilterCreate: return create_object(s, KS_OBJECT_NETFILTER, a, reason);
    case HostTimerStop:
        for (HostObject* h : s->objects) {
            if (h->pub.kind == KS_OBJECT_TIMER && h->value == a.object && !h->pub.stopped) {
                h->pub.stopped = 1;
                // From a hook the host is not told: cancelling its timer
                // may take locks, which NMI context must not. The flag
                // alone stops the timer at its next tick.
                if (s->config.stopped && !s->in_hook)
                    s->config.stopped(s->config.ctx, &h->pub);
            }
        }
        return 0;
    default:
        *reason = "unknown request";
        return -kEINVAL;
    }
}

void host_objects_free(ks_state* s)
{
    for (HostObject* h : s->objects) {
        s->memory.charge_external(-(i64)s->config.object_cost[h->pub.kind]);
        s->memory.free(h);
    }
    s->objects.release();
}

extern "C" int ks_valid_name(const char* name, unsigned long length)
{
    if (length == 0 || length >= KS_NAME_MAX || name[0] == '.' || name[0] == '-')
        return 0;
    for (unsigned long i = 0; i < length; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
            || c == '.';
        if (!ok)
            return 0;
    }
    return 1;
}

extern "C" unsigned int ks_object_count(const ks_state* s) { return s->objects.size(); }

extern "C" struct ks_object* ks_object_get(ks_state* s, unsigned int index)
{
    return index < s->objects.size() ? &s->objects[index]->pub : nullptr;
}

extern "C" struct ks_object* ks_object_find(ks_state* s, int kind, const char* name)
{
    for (HostObject* h : s->objects)
        if (h->pub.kind == kind && str_equal(h->pub.name, name))
            return &h->pub;
    return nullptr;
}

// Device and Proc: the kinds with open/read/write/release.
bool is_file(int kind) { return kind == KS_OBJECT_DEVICE || kind == KS_OBJECT_PROC; }

extern "C" int ks_object_open(ks_state* s, struct ks_object* o)
{
    if (!is_file(o->kind))
        return KS_ENOENT;
    return invoke(s, record(o), HandlerOpen, nullptr, 0, nullptr);
}

extern "C" int ks_object_release(ks_state* s, struct ks_object* o)
{
    if (!is_file(o->kind))
        return KS_ENOENT;
    return invoke(s, record(o), HandlerRelease, nullptr, 0, nullptr);
}

extern "C" int ks_object_run(ks_state* s, struct ks_object* o)
{
    if (o->kind != KS_OBJECT_TIMER)
        return KS_ENOENT;
    return invoke(s, record(o), HandlerRun, nullptr, 0, nullptr);
}

extern "C" int ks_object_read(ks_state* s, struct ks_object* o, const void** data, unsigned long* length)
{
    *data = nullptr;
    *length = 0;
    HostObject* h = record(o);
    if (!is_file(o->kind) || !s->vm_ready)
        return KS_ENOENT;
    if (h->slots[HandlerRead] < 0)
        return KS_OK;
    u64 out;
    int rc = new_output_stream(s, &out);
    if (rc != KS_OK)
        return rc;
    rc = invoke(s, h, HandlerRead, &out, 1, nullptr);
    if (rc == KS_OK) {
        // The stream's Bytes buffer; a handler may have replaced it (with
        // null, too: an empty Bytes object).
        InstanceObj* stream = instance(out);
        RtClass* k = stream->klass;
        ObjHeader* buffer = nullptr;
        for (u32 i = 0; i < k->field_count; i++)
            if (k->field_names[i] && str_equal(k->field_names[i], "buffer") && k->field_kinds[i] == KindRef)
                buffer = as_obj(stream->fields[i]);
        if (buffer && buffer->kind == ObjKind::Bytes) {
            BytesObj* b = reinterpret_cast<BytesObj*>(buffer);
            *data = b->data;
            *length = b->size;
        }
    }
    s->vm.unpin(out);
    return rc;
}

extern "C" int ks_object_write(ks_state* s, struct ks_object* o, const void* data, unsigned long length,
    long long* consumed)
{
    *consumed = 0;
    if (!is_file(o->kind) || !s->vm_ready)
        return KS_ENOENT;
    if (record(o)->slots[HandlerWrite] < 0) {
        *consumed = (long long)length;
        return KS_OK;
    }
    if (length > 0x3fffffff)
        return KS_ENOMEM;
    BytesObj* b = s->heap.new_bytes((u32)length);
    if (!b)
        return KS_ENOMEM;
    if (length)
        mem_copy(b->data, data, length);
    u64 arg = from_obj(b);
    u64 r = 0;
    int rc = invoke(s, record(o), HandlerWrite, &arg, 1, &r);
    *consumed = (long long)r;
    return rc;
}

extern "C" int ks_charge(ks_state* s, long long bytes)
{
    return s->memory.charge_external(bytes) ? KS_OK : KS_ENOMEM;
}

// Writes [value] into int field [slot] of [o] (a field the host found by
// name; -1: the class has none, nothing written).
static void set_int_field(InstanceObj* o, i32 slot, i64 value)
{
    if (slot >= 0)
        o->fields[slot] = (u64)value;
}

// Fills a hook's Regs or Packet in from [e] (the built-in Regs: seven
// stores, no test). The Packet's address fields
// get the hook's own pinned Bytes back (a handler may have replaced them),
// rewritten in place.
static void fill_hook_argument(HostObject* h, const ks_event* e)
{
    InstanceObj* arg = instance(h->arg);
    const i32* f = h->arg_fields;
    if (h->regs_run >= 0) {
        u64* regs = arg->fields + h->regs_run;
        regs[0] = (u64)e->arg[0];
        regs[1] = (u64)e->arg[1];
        regs[2] = (u64)e->arg[2];
        regs[3] = (u64)e->arg[3];
        regs[4] = (u64)e->arg[4];
        regs[5] = (u64)e->arg[5];
        regs[6] = (u64)e->ret;
        return;
    }
    if (h->pub.kind != KS_OBJECT_NETFILTER) {
        for (u32 i = 0; i < 6; i++)
            set_int_field(arg, f[i], e->arg[i]);
        set_int_field(arg, f[6], e->ret);
        return;
    }
    set_int_field(arg, f[0], e->family);
    set_int_field(arg, f[1], e->hook);
    set_int_field(arg, f[2], e->length);
    set_int_field(arg, f[3], e->protocol);
    set_int_field(arg, f[4], e->saddr);
    set_int_field(arg, f[5], e->daddr);
    set_int_field(arg, f[6], e->sport);
    set_int_field(arg, f[7], e->dport);
    // IPv6 addresses; zeros for IPv4 (the host need not fill them in).
    for (u32 i = 0; i < 2; i++) {
        BytesObj* b = reinterpret_cast<BytesObj*>(as_obj(h->addr6[i]));
        if (f[8 + i] < 0 || b->capacity < 16)
            continue;
        b->size = 16;
        if (e->family == 10)
            mem_copy(b->data, i ? e->daddr6 : e->saddr6, 16);
        else
            mem_set(b->data, 0, 16);
        arg->fields[f[8 + i]] = h->addr6[i];
    }
}

// Hooks run in atomic context: see kscript.h. The state is put in atomic
// mode for the call (no sleeping page allocation, no poll, no collection,
// the hook's own budget) and back afterwards. The whole event is one call
// into the interpreter (Vm::call_hook() is inline), and whether a
// collection fell due comes back with it: each call and return costs an
// event in a kernel built with retpolines, most of all under emulation.
extern "C" int ks_object_hit(ks_state* s, struct ks_object* o, const struct ks_event* e, int* verdict,
    int* collect)
{
    bool packet = o->kind == KS_OBJECT_NETFILTER;
    *verdict = packet ? 1 : 0;
    if (collect)
        *collect = 0;
    if (!is_hook(o->kind) || !s->vm_ready || s->in_hook)
        return KS_ENOENT;
    HostObject* h = record(o);
    i64 budget = h->default_budget;
    if (h->budget_field >= 0) {
        i64 own = (i64)instance(h->value)->fields[h->budget_field];
        if (own > 0)
            budget = own < s->config.max_hook_budget || s->config.max_hook_budget <= 0 ? own
                                                                                      : s->config.max_hook_budget;
    }
    if (h->arg_read)
        fill_hook_argument(h, e);
    s->in_hook = true;
    // (Both are 0 outside a netfilter hook.)
    if (packet) {
        s->current_packet = e->packet;
        s->current_packet_object = h->arg;
    }
    s->memory.set_nowait(true);
    s->vm.set_atomic(true, budget);
    u64 result = 1;
    int rc = KS_OK;
    if (h->hit_function >= 0)
        rc = s->vm.call_hook((u32)h->hit_function, h->value, h->arg, &result) == RunStatus::Ok ? KS_OK
                                                                                               : KS_EEXCEPTION;
    s->vm.set_atomic(false, 0);
    s->memory.set_nowait(false);
    s->in_hook = false;
    if (packet) {
        s->current_packet = 0;
        s->current_packet_object = 0;
        if (rc == KS_OK)
            *verdict = result == 0 ? 0 : 1;
    }
    if (collect)
        *collect = s->vm.collection_due();
    return rc;
}

extern "C" int ks_collect_due(const ks_state* s) { return s->vm_ready && s->vm.collection_due(); }

extern "C" void ks_collect(ks_state* s)
{
    if (s->vm_ready && !s->in_hook)
        s->vm.collect_garbage();
}

// The VM's read hook: kernel memory at any time, the packet only from its
// own hook's handler (a Packet kept past its hook reads nothing).
i64 host_read(void* context, int what, u64 packet, u64 where, void* out, usize n, const char** reason)
{
    ks_state* s = static_cast<ks_state*>(context);
    u64 handle = 0;
    if (what == ReadPacket) {
        if (!s->in_hook || !s->current_packet_object || packet != s->current_packet_object) {
            *reason = "the packet is gone (read it in its hook)";
            return -kEFAULT;
        }
        handle = s->current_packet;
    }
    if (!s->config.read) {
        *reason = "not supported by this host";
        return -38;
    }
    *reason = "";
    long got = s->config.read(s->config.ctx, what, handle, where, out, n, reason);
    if (what == ReadPacket && got == -kERANGE && !**reason)
        *reason = "past the end of the packet";
    return got;
}
