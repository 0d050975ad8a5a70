// Bytecode files: writing a compiled program out and reading it back.
//
// The file is a 32-byte header and a payload of tables in a fixed order,
// every integer little-endian (docs/internals.md, "Bytecode files"). The
// reader trusts nothing: each read is bounded by what is left of the
// payload, each count is checked against the bytes it needs before
// anything is allocated, each index against its table. Values that are
// references (constants, field defaults, globals) are written by what they
// are (a string, the null value of a sort, a function) and rebuilt as
// permanent objects. The code itself is the verifier's to check.
#include "Bytecode.h"

#include "../lib/Registry.h"
#include "Natives.h"
#include "Opcodes.h"

namespace ks {

// Classes with at most this many fields are read through small buffers
// (and may share their superclass's field tables); until then their null
// instance starts from these zeros.
constexpr u32 kSmallFields = 4;
static const u64 kZeroFields[kSmallFields] = {};

namespace {

// CRC-32 (IEEE 802.3, reflected), tables built at compile time: constant
// arrays, not a constructor. Eight tables ("slicing by 8"): entries[k][b]
// is the CRC of byte b followed by k zero bytes, so that eight bytes are
// folded in at once instead of one (a byte at a time, the CRC of a 300 KB
// bytecode file was a sixth of loading it).
struct CrcTables {
    u32 entries[8][256];
    constexpr CrcTables()
        : entries()
    {
        for (u32 i = 0; i < 256; i++) {
            u32 c = i;
            for (u32 k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            entries[0][i] = c;
        }
        for (u32 i = 0; i < 256; i++)
            for (u32 k = 1; k < 8; k++)
                entries[k][i] = entries[0][entries[k - 1][i] & 0xff] ^ (entries[k - 1][i] >> 8);
    }
};
constexpr CrcTables kCrc;

u32 crc32(const u8* data, usize length)
{
    u32 c = 0xffffffffu;
    usize i = 0;
    for (; i + 8 <= length; i += 8) {
        // The eight bytes, the first four xored with the CRC so far (byte
        // by byte: no assumption about the machine's byte order).
        u32 lo = c ^ ((u32)data[i] | (u32)data[i + 1] << 8 | (u32)data[i + 2] << 16 | (u32)data[i + 3] << 24);
        c = kCrc.entries[7][lo & 0xff] ^ kCrc.entries[6][(lo >> 8) & 0xff] ^ kCrc.entries[5][(lo >> 16) & 0xff]
            ^ kCrc.entries[4][lo >> 24] ^ kCrc.entries[3][data[i + 4]] ^ kCrc.entries[2][data[i + 5]]
            ^ kCrc.entries[1][data[i + 6]] ^ kCrc.entries[0][data[i + 7]];
    }
    for (; i < length; i++)
        c = kCrc.entries[0][(c ^ data[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

// FNV-1a over a string and its terminating zero.
u32 fnv_string(u32 h, const char* s)
{
    do {
        h = (h ^ (u8)*s) * 16777619u;
    } while (*s++);
    return h;
}

// How a value is written: its tag, then its data.
enum ValueTag : u8 {
    TagInt = 0,        // i64
    TagBool = 1,       // u8 0 or 1
    TagString = 2,     // u32 length, bytes
    TagNull = 3,       // u8 NullSort (+ u32 class id for an instance)
    TagFunction = 4,   // u32 function index
};

enum NullSort : u8 {
    NullString = 0,
    NullArray = 1,
    NullMap = 2,
    NullBytes = 3,
    NullFunc = 4,
    NullInstance = 5,
};

constexpr u32 kNone = ~0u;

// Appends little-endian integers and tagged values to a StringBuilder.
struct Writer {
    StringBuilder& out;
    bool unwritable = false;   // A value the format has no tag for.

    void u8_(u8 v) { out.append_char((char)v); }
    void u16_(u16 v)
    {
        u8_((u8)v);
        u8_((u8)(v >> 8));
    }
    void u32_(u32 v)
    {
        u16_((u16)v);
        u16_((u16)(v >> 16));
    }
    void u64_(u64 v)
    {
        u32_((u32)v);
        u32_((u32)(v >> 32));
    }
    void str(const char* s)
    {
        usize n = s ? str_length(s) : 0;
        u32_((u32)n);
        out.append(s ? s : "", n);
    }
    void value(u64 v, u8 kind)
    {
        if (kind == KindInt) {
            u8_(TagInt);
            u64_(v);
            return;
        }
        if (kind == KindBool) {
            u8_(TagBool);
            u8_(v ? 1 : 0);
            return;
        }
        ObjHeader* o = as_obj(v);
        if (!o) {
            unwritable = true;
            return;
        }
        if (o->flags & ObjNull) {
            u8_(TagNull);
            switch (o->kind) {
            case ObjKind::String: u8_(NullString); break;
            case ObjKind::Array: u8_(NullArray); break;
            case ObjKind::Map: u8_(NullMap); break;
            case ObjKind::Bytes: u8_(NullBytes); break;
            case ObjKind::Func: u8_(NullFunc); break;
            case ObjKind::Instance:
                u8_(NullInstance);
                u32_(o->aux);
                break;
            default: unwritable = true; break;
            }
            return;
        }
        if (o->kind == ObjKind::String) {
            StringObj* s = reinterpret_cast<StringObj*>(o);
            u8_(TagString);
            u32_(s->byte_length);
            out.append(s->bytes, s->byte_length);
        } else if (o->kind == ObjKind::Func) {
            u8_(TagFunction);
            u32_(o->aux);
        } else {
            unwritable = true;
        }
    }
};

// Reads the payload: every read bounded, the first failure sticks.
struct Reader {
    const u8* p;
    usize left;
    const char* error = nullptr;

    bool bad(const char* why)
    {
        if (!error)
            error = why;
        return false;
    }
    bool take(usize n, const u8** at)
    {
        if (error || n > left)
            return bad("the file is truncated");
        *at = p;
        p += n;
        left -= n;
        return true;
    }
    u64 le(usize n)
    {
        const u8* at;
        if (!take(n, &at))
            return 0;
        u64 v = 0;
        for (usize i = n; i-- > 0;)
            v = v << 8 | at[i];
        return v;
    }
    u8 u8_() { return (u8)le(1); }
    u16 u16_() { return (u16)le(2); }
    u32 u32_() { return (u32)le(4); }
    u64 u64_() { return le(8); }
    // A count of elements of at least [min_size] bytes each: no more than
    // the rest of the file could hold, so that a forged count cannot make
    // the reader allocate more than the file's size over [min_size].
    u32 count(u32 min_size, u32 limit)
    {
        u32 n = u32_();
        if (!error && (n > limit || (u64)n * min_size > left))
            bad("a table is longer than the file");
        return error ? 0 : n;
    }
};

// Reading state: the program being built and where its pieces go.
struct Loader {
    Memory* memory;
    Heap* heap;
    Program* p;
    Reader r;
    bool oom = false;

    void* alloc(usize size, bool zero = true)
    {
        // An empty table needs no memory, only a pointer that is not null
        // (an empty script must stay as small loaded as compiled).
        static u64 empty;
        if (!size)
            return &empty;
        void* m = zero ? p->arena.alloc_zeroed(size) : p->arena.alloc(size);
        if (!m) {
            oom = true;
            r.bad("out of memory");
        }
        return m;
    }
    // A name: u32 length and its bytes, kept with a terminating zero; or
    // [same] when it is that name (an inherited field's, shared with the
    // superclass as the compiler's program would not bother to).
    const char* name(const char* same = nullptr)
    {
        u32 n = r.count(1, 1u << 16);
        const u8* at;
        if (!r.take(n, &at))
            return nullptr;
        if (same && str_length(same) == n && mem_compare(same, at, n) == 0)
            return same;
        char* s = static_cast<char*>(alloc(n + 1, false));
        if (!s)
            return nullptr;
        mem_copy(s, at, n);
        s[n] = 0;
        return s;
    }
    // A tagged value, which must be of [kind] (for constants: whatever its
    // tag says, stored in [kind_out]).
    bool value(u64* out, u8 want_kind, u8* kind_out)
    {
        u8 tag = r.u8_();
        if (r.error)
            return false;
        u8 kind;
        switch (tag) {
        case TagInt:
            kind = KindInt;
            *out = r.u64_();
            break;
        case TagBool: {
            kind = KindBool;
            u8 b = r.u8_();
            if (b > 1)
                return r.bad("a boolean value is neither 0 nor 1");
            *out = b;
            break;
        }
        case TagString: {
            kind = KindRef;
            u32 n = r.count(1, 0x7fffffff);
            const u8* at;
            if (!r.take(n, &at))
                return false;
            StringObj* s = heap->new_string(reinterpret_cast<const char*>(at), n);
            if (!s) {
                oom = true;
                return r.bad("out of memory");
            }
            *out = from_obj(s);
            break;
        }
        case TagNull: {
            kind = KindRef;
            u8 sort = r.u8_();
            switch (sort) {
            case NullString: *out = p->null_string; break;
            case NullArray: *out = p->null_array; break;
            case NullMap: *out = p->null_map; break;
            case NullBytes: *out = p->null_bytes; break;
            case NullFunc: *out = p->null_func; break;
            case NullInstance: {
                u32 c = r.u32_();
                if (!r.error && c >= p->class_count)
                    return r.bad("a null value of a class that does not exist");
                *out = r.error ? 0 : from_obj(p->classes[c]->null_instance);
                break;
            }
            default: return r.bad("an unknown null value");
            }
            break;
        }
        case TagFunction: {
            kind = KindRef;
            u32 f = r.u32_();
            if (!r.error && f >= p->function_count)
                return r.bad("a function value of a function that does not exist");
            FuncObj* fo = heap->new_func(f);
            if (!fo) {
                oom = true;
                return r.bad("out of memory");
            }
            *out = from_obj(fo);
            break;
        }
        default: return r.bad("an unknown value tag");
        }
        if (r.error)
            return false;
        if (kind_out)
            *kind_out = kind;
        else if ((kind == KindRef) != (want_kind == KindRef))
            return r.bad("a value's kind differs from its slot's");
        return true;
    }

    // The null values of the built-in reference types, as the compiler
    // makes them: permanent, empty, frozen.
    bool nulls()
    {
        if (!heap->make_null_values(p)) {
            oom = true;
            return r.bad("out of memory");
        }
        return true;
    }

    // Classes in two passes: their shapes (so that every null instance
    // exists), then fields and vtables, whose defaults may be null
    // instances of classes later in the table.
    bool classes()
    {
        p->classes = static_cast<RtClass**>(alloc(sizeof(RtClass*) * p->class_count));
        if (!p->classes)
            return false;
        for (u32 i = 0; i < p->class_count; i++) {
            RtClass* c = static_cast<RtClass*>(alloc(sizeof(RtClass)));
            if (!c)
                return false;
            p->classes[i] = c;
            c->id = i;
            // A built-in class's name points at the registry's, as the
            // compiler's does (the boxes are named int and boolean).
            c->name = name(i == ClassBoxInt ? "int" : i == ClassBoxBoolean ? "boolean" : prelude_class_name(i));
            u32 super = r.u32_();
            c->depth = r.u32_();
            c->field_count = r.count(10, 1u << 20);
            c->vtable_size = r.count(4, 1u << 20);
            if (r.error)
                return false;
            if (super != kNone && super >= p->class_count)
                return r.bad("a superclass that does not exist");
            c->super = super == kNone ? nullptr : reinterpret_cast<RtClass*>((uptr)super + 1);
            if (c->field_count && c->field_count <= kSmallFields) {
                // Tables read (and perhaps shared) below; the null instance
                // starts from zeros.
                c->field_defaults = const_cast<u64*>(kZeroFields);
            } else if (c->field_count) {
                c->field_kinds = static_cast<u8*>(alloc(c->field_count));
                c->field_types = static_cast<u32*>(alloc(sizeof(u32) * c->field_count));
                c->field_names = static_cast<const char**>(alloc(sizeof(char*) * c->field_count));
                c->field_defaults = static_cast<u64*>(alloc(sizeof(u64) * c->field_count));
                if (!c->field_kinds || !c->field_types || !c->field_names || !c->field_defaults)
                    return false;
            }
            c->null_instance = heap->new_instance(c);
            if (!c->null_instance) {
                oom = true;
                return r.bad("out of memory");
            }
            c->null_instance->header.flags |= ObjNull | ObjPermanent;
        }
        // Superclass indexes (stored shifted by one) become pointers.
        for (u32 i = 0; i < p->class_count; i++) {
            RtClass* c = p->classes[i];
            if (c->super)
                c->super = p->classes[(uptr)c->super - 1];
        }
        for (u32 i = 0; i < p->class_count; i++) {
            RtClass* c = p->classes[i];
            const RtClass* sup = c->super;
            bool small = c->field_count && c->field_count <= kSmallFields;
            // A class with few fields is read into these first: when they
            // equal its superclass's (the built-in exceptions), it shares the
            // superclass's tables, as the compiler made them.
            u8 kinds[kSmallFields];
            u32 types[kSmallFields];
            const char* names[kSmallFields];
            u64 defaults[kSmallFields];
            u8* kind_out = small ? kinds : c->field_kinds;
            u32* type_out = small ? types : c->field_types;
            const char** name_out = small ? names : c->field_names;
            u64* default_out = small ? defaults : c->field_defaults;
            bool same = small && sup && sup->id < i && sup->field_count == c->field_count;
            for (u32 f = 0; f < c->field_count; f++) {
                kind_out[f] = r.u8_();
                if (!r.error && kind_out[f] > KindRef)
                    return r.bad("a field's kind is not int, boolean or reference");
                type_out[f] = r.u32_();
                name_out[f] = name(sup && sup->id < i && f < sup->field_count ? sup->field_names[f] : nullptr);
                if (!value(&default_out[f], kind_out[f], nullptr))
                    return false;
                c->null_instance->fields[f] = default_out[f];
                same = same && kind_out[f] == sup->field_kinds[f] && type_out[f] == sup->field_types[f]
                    && name_out[f] == sup->field_names[f] && default_out[f] == sup->field_defaults[f];
            }
            if (small && same) {
                c->field_kinds = sup->field_kinds;
                c->field_types = sup->field_types;
                c->field_names = sup->field_names;
                c->field_defaults = sup->field_defaults;
            } else if (small) {
                c->field_kinds = static_cast<u8*>(alloc(c->field_count));
                c->field_types = static_cast<u32*>(alloc(sizeof(u32) * c->field_count));
                c->field_names = static_cast<const char**>(alloc(sizeof(char*) * c->field_count));
                c->field_defaults = static_cast<u64*>(alloc(sizeof(u64) * c->field_count));
                if (!c->field_kinds || !c->field_types || !c->field_names || !c->field_defaults)
                    return false;
                mem_copy(c->field_kinds, kinds, c->field_count);
                mem_copy(c->field_types, types, sizeof(u32) * c->field_count);
                mem_copy(static_cast<void*>(c->field_names), names, sizeof(char*) * c->field_count);
                mem_copy(c->field_defaults, defaults, sizeof(u64) * c->field_count);
            }
            if (c->vtable_size) {
                c->vtable = static_cast<u32*>(alloc(sizeof(u32) * c->vtable_size));
                if (!c->vtable)
                    return false;
                for (u32 m = 0; m < c->vtable_size; m++)
                    c->vtable[m] = r.u32_();
            }
            c->to_string_slot = (i32)r.u32_();
            c->message_field = (i32)r.u32_();
            if (r.error)
                return false;
        }
        return true;
    }

    bool function(u32 index)
    {
        Function* f = static_cast<Function*>(alloc(sizeof(Function)));
        if (!f)
            return false;
        p->functions[index] = f;
        f->name = name();
        f->line = r.u32_();
        f->param_count = r.u16_();
        f->register_count = r.u16_();
        f->return_kind = r.u8_();
        f->return_type = r.u32_();
        if (!r.error && (u64)f->param_count * 4 > r.left)
            return r.bad("a table is longer than the file");
        f->param_types = f->param_count ? static_cast<u32*>(alloc(sizeof(u32) * f->param_count)) : nullptr;
        if (f->param_count && !f->param_types)
            return false;
        for (u32 k = 0; k < f->param_count; k++)
            f->param_types[k] = r.u32_();
        u8 flags = r.u8_();
        u32 owner = r.u32_();
        f->diagnostic_line = r.u32_();
        if (r.error)
            return false;
        if (flags > 1)
            return r.bad("unknown function flags");
        f->builtin = flags & 1;
        if (owner != kNone && owner >= p->class_count)
            return r.bad("a method of a class that does not exist");
        f->owner = owner == kNone ? nullptr : p->classes[owner];
        f->code_size = r.count(12, 1u << 20);
        if (r.error)
            return false;
        f->code = static_cast<Insn*>(alloc(sizeof(Insn) * f->code_size, false));
        f->lines = static_cast<u32*>(alloc(sizeof(u32) * f->code_size, false));
        if (!f->code || !f->lines)
            return false;
        for (u32 pc = 0; pc < f->code_size; pc++) {
            Insn& in = f->code[pc];
            in.op = (Op)r.u8_();
            in.x = r.u8_();
            in.a = r.u16_();
            in.b = r.u16_();
            in.c = r.u16_();
        }
        for (u32 pc = 0; pc < f->code_size; pc++)
            f->lines[pc] = r.u32_();
        f->handler_count = r.count(14, 1u << 20);
        if (r.error)
            return false;
        if (f->handler_count) {
            f->handlers = static_cast<Handler*>(alloc(sizeof(Handler) * f->handler_count));
            if (!f->handlers)
                return false;
        }
        for (u32 i = 0; i < f->handler_count; i++) {
            Handler& h = f->handlers[i];
            h.start = r.u32_();
            h.end = r.u32_();
            h.target = r.u32_();
            h.reg = r.u16_();
        }
        f->ref_register_count = r.u16_();
        f->ref_param_count = r.u16_();
        if (!r.error && (u64)f->ref_register_count * 2 > r.left)
            return r.bad("a table is longer than the file");
        if (r.error)
            return false;
        if (f->ref_register_count) {
            f->ref_registers = static_cast<u16*>(alloc(sizeof(u16) * f->ref_register_count));
            if (!f->ref_registers)
                return false;
        }
        for (u32 i = 0; i < f->ref_register_count; i++)
            f->ref_registers[i] = r.u16_();
        return !r.error;
    }

    // The type table: sort, two parts and a parameter count per entry,
    // then the function types' parameters (indexes are the verifier's to
    // check).
    bool types()
    {
        p->type_count = r.count(11, 1u << 20);
        if (r.error)
            return false;
        p->types = static_cast<TypeEntry*>(alloc(sizeof(TypeEntry) * p->type_count));
        if (!p->types)
            return false;
        for (u32 i = 0; i < p->type_count; i++) {
            TypeEntry& t = p->types[i];
            u8 sort = r.u8_();
            if (!r.error && sort >= (u8)TypeSort::Count)
                return r.bad("an unknown type sort");
            t.sort = (TypeSort)sort;
            t.a = r.u32_();
            t.b = r.u32_();
            t.param_count = r.u16_();
        }
        p->type_param_count = r.count(4, 1u << 24);
        if (r.error)
            return false;
        p->type_params = static_cast<u32*>(alloc(sizeof(u32) * p->type_param_count));
        if (!p->type_params)
            return false;
        for (u32 i = 0; i < p->type_param_count; i++)
            p->type_params[i] = r.u32_();
        return !r.error;
    }

    bool program()
    {
        p->class_count = r.count(18, 1u << 20);
        p->function_count = r.count(40, 1u << 20);
        p->constant_count = r.count(2, 1u << 24);
        p->global_count = r.count(6, 1u << 20);
        p->main_function = r.u32_();
        if (r.error || !nulls() || !types())
            return false;
        // Functions are read last, but function values need their count.
        p->functions = static_cast<Function**>(alloc(sizeof(Function*) * p->function_count));
        if (!p->functions || !classes())
            return false;
        p->constants = static_cast<u64*>(alloc(sizeof(u64) * p->constant_count));
        p->constant_kinds = static_cast<u8*>(alloc(p->constant_count));
        p->constant_types = static_cast<u32*>(alloc(sizeof(u32) * p->constant_count));
        if (!p->constants || !p->constant_kinds || !p->constant_types)
            return false;
        for (u32 i = 0; i < p->constant_count; i++) {
            if (!value(&p->constants[i], 0, &p->constant_kinds[i]))
                return false;
            p->constant_types[i] = r.u32_();
        }
        if (p->global_count) {
            p->globals = static_cast<u64*>(alloc(sizeof(u64) * p->global_count));
            p->global_kinds = static_cast<u8*>(alloc(p->global_count));
            p->global_types = static_cast<u32*>(alloc(sizeof(u32) * p->global_count));
            p->global_names = static_cast<const char**>(alloc(sizeof(char*) * p->global_count));
            if (!p->globals || !p->global_kinds || !p->global_types || !p->global_names)
                return false;
        }
        for (u32 i = 0; i < p->global_count; i++) {
            p->global_kinds[i] = r.u8_();
            if (!r.error && p->global_kinds[i] > KindRef)
                return r.bad("a global's kind is not int, boolean or reference");
            p->global_types[i] = r.u32_();
            p->global_names[i] = name();
            if (!value(&p->globals[i], p->global_kinds[i], nullptr))
                return false;
        }
        for (u32 i = 0; i < p->function_count; i++)
            if (!function(i))
                return false;
        if (!r.error && r.left)
            return r.bad("bytes after the last table");
        return !r.error;
    }
};

u32 read_le32(const u8* at) { return (u32)at[0] | (u32)at[1] << 8 | (u32)at[2] << 16 | (u32)at[3] << 24; }

void put_le32(StringBuilder& out, usize at, u32 v)
{
    char* d = const_cast<char*>(out.data());
    for (u32 i = 0; i < 4; i++)
        d[at + i] = (char)(v >> (8 * i));
}

}

u32 bytecode_checksum(const u8* data, usize length) { return crc32(data, length); }

bool is_bytecode(const void* data, usize length)
{
    return length >= 4 && mem_compare(data, kBytecodeMagic, 4) == 0;
}

u32 engine_fingerprint()
{
    u32 h = 2166136261u;
    for (u32 op = 0; op < (u32)Op::Count; op++) {
        h = fnv_string(h, opcode_name((Op)op));
        h = fnv_string(h, opcode_format((Op)op));
    }
    u32 count;
    const NativeInfo* natives = native_table(&count);
    for (u32 i = 0; i < count; i++) {
        h = fnv_string(h, natives[i].owner);
        h = fnv_string(h, natives[i].name);
        h = fnv_string(h, natives[i].signature);
    }
    return h;
}

bool write_bytecode(const Program& p, StringBuilder& out)
{
    usize start = out.size();
    Writer w { out };
    // The header; payload size and checksum are filled in at the end.
    out.append(reinterpret_cast<const char*>(kBytecodeMagic), 4);
    w.u16_(kBytecodeFormat);
    w.u16_((u16)kBytecodeHeaderSize);
    w.u32_(kEngineVersion);
    w.u32_(engine_fingerprint());
    w.u64_(0);
    w.u32_(0);
    w.u32_(0);
    w.u32_(p.class_count);
    w.u32_(p.function_count);
    w.u32_(p.constant_count);
    w.u32_(p.global_count);
    w.u32_(p.main_function);
    w.u32_(p.type_count);
    for (u32 i = 0; i < p.type_count; i++) {
        const TypeEntry& t = p.types[i];
        w.u8_((u8)t.sort);
        w.u32_(t.a);
        w.u32_(t.b);
        w.u16_(t.param_count);
    }
    w.u32_(p.type_param_count);
    for (u32 i = 0; i < p.type_param_count; i++)
        w.u32_(p.type_params[i]);
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        w.str(c->name);
        w.u32_(c->super ? c->super->id : kNone);
        w.u32_(c->depth);
        w.u32_(c->field_count);
        w.u32_(c->vtable_size);
    }
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        for (u32 f = 0; f < c->field_count; f++) {
            w.u8_(c->field_kinds[f]);
            w.u32_(c->field_types[f]);
            w.str(c->field_names ? c->field_names[f] : "");
            w.value(c->field_defaults[f], c->field_kinds[f]);
        }
        for (u32 m = 0; m < c->vtable_size; m++)
            w.u32_(c->vtable[m]);
        w.u32_((u32)c->to_string_slot);
        w.u32_((u32)c->message_field);
    }
    for (u32 i = 0; i < p.constant_count; i++) {
        w.value(p.constants[i], p.constant_kinds[i]);
        w.u32_(p.constant_types[i]);
    }
    for (u32 i = 0; i < p.global_count; i++) {
        w.u8_(p.global_kinds[i]);
        w.u32_(p.global_types[i]);
        w.str(p.global_names ? p.global_names[i] : "");
        w.value(p.globals[i], p.global_kinds[i]);
    }
    for (u32 i = 0; i < p.function_count; i++) {
        const Function* f = p.functions[i];
        w.str(f->name);
        w.u32_(f->line);
        w.u16_(f->param_count);
        w.u16_(f->register_count);
        w.u8_(f->return_kind);
        w.u32_(f->return_type);
        for (u32 k = 0; k < f->param_count; k++)
            w.u32_(f->param_types[k]);
        w.u8_(f->builtin ? 1 : 0);
        w.u32_(f->owner ? f->owner->id : kNone);
        w.u32_(f->diagnostic_line);
        w.u32_(f->code_size);
        for (u32 pc = 0; pc < f->code_size; pc++) {
            const Insn& in = f->code[pc];
            w.u8_((u8)in.op);
            w.u8_(in.x);
            w.u16_(in.a);
            w.u16_(in.b);
            w.u16_(in.c);
        }
        for (u32 pc = 0; pc < f->code_size; pc++)
            w.u32_(f->lines[pc]);
        w.u32_(f->handler_count);
        for (u32 h = 0; h < f->handler_count; h++) {
            w.u32_(f->handlers[h].start);
            w.u32_(f->handlers[h].end);
            w.u32_(f->handlers[h].target);
            w.u16_(f->handlers[h].reg);
        }
        w.u16_(f->ref_register_count);
        w.u16_(f->ref_param_count);
        for (u32 r = 0; r < f->ref_register_count; r++)
            w.u16_(f->ref_registers[r]);
    }
    // A value without a tag (no compiled program has one), or memory ran out.
    if (w.unwritable || out.has_failed())
        return false;
    usize payload = out.size() - start - kBytecodeHeaderSize;
    put_le32(out, start + 16, (u32)payload);
    put_le32(out, start + 20, (u32)((u64)payload >> 32));
    put_le32(out, start + 24, crc32(reinterpret_cast<const u8*>(out.data()) + start + kBytecodeHeaderSize, payload));
    return true;
}

bool read_bytecode(Memory* memory, Heap* heap, const u8* data, usize length, Program* out, const char** error,
    bool* out_of_memory)
{
    mem_set(out, 0, sizeof(*out));
    out->arena.init(memory);
    *out_of_memory = false;
    *error = nullptr;
    if (length < kBytecodeHeaderSize || !is_bytecode(data, length)) {
        *error = is_bytecode(data, length) ? "the file is truncated" : "not a bytecode file";
        return false;
    }
    u16 format = (u16)(data[4] | data[5] << 8);
    u16 header = (u16)(data[6] | data[7] << 8);
    if (format != kBytecodeFormat || header != kBytecodeHeaderSize) {
        *error = "a bytecode format this engine does not read";
        return false;
    }
    if (read_le32(data + 8) != kEngineVersion || read_le32(data + 12) != engine_fingerprint()) {
        *error = "bytecode of another engine version (its opcodes or natives differ): compile it again";
        return false;
    }
    u64 payload = (u64)read_le32(data + 16) | (u64)read_le32(data + 20) << 32;
    if (payload != length - kBytecodeHeaderSize) {
        *error = payload > length - kBytecodeHeaderSize ? "the file is truncated" : "bytes after the payload";
        return false;
    }
    if (read_le32(data + 28) != 0) {
        *error = "a reserved header field is not 0";
        return false;
    }
    if (crc32(data + kBytecodeHeaderSize, (usize)payload) != read_le32(data + 24)) {
        *error = "bad checksum: the file is damaged";
        return false;
    }
    Loader loader { memory, heap, out, Reader { data + kBytecodeHeaderSize, (usize)payload } };
    heap->set_permanent_arena(&out->arena);
    bool ok = loader.program();
    heap->set_permanent_arena(nullptr);
    if (!ok) {
        *error = loader.r.error ? loader.r.error : "out of memory";
        *out_of_memory = loader.oom;
    }
    return ok;
}

}
