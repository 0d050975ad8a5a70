// What every built-in library (core/lib/*Lib.cpp) shares: the casts from a
// value to its object, the budget charges, results, and the conventions of a
// library's native list.
//
// A library is one file pair, as Wren keeps its core library beside the VM:
// XLib.cpp implements the natives, XLib.h lists them with an X-macro
// (`KS_X_NATIVES(NATIVE)`, one `NATIVE(owner, name, signature, function)`
// per native). Registry.cpp expands every list into the one native table
// whose indexes the bytecode holds, so the order of the lists (and within
// them) is part of the bytecode format: it is hashed into the engine
// fingerprint (vm/Bytecode.cpp), and a change makes old bytecode files
// refuse to load instead of calling the wrong native.
//
// Natives check their arguments (indexes, null receivers) and raise a
// script exception for anything invalid. Except those that call a script
// function (Vm::call_nested(): sort with a comparator), none of them runs
// script code or collects garbage, so intermediate objects need no rooting.
#pragma once

#include "../vm/Natives.h"
#include "../vm/Vm.h"

// Declares the function of one native (the expansion of a library's list).
#define KS_DECLARE_NATIVE(owner, name, signature, fn) bool fn(Vm& vm, u64* args, u64* result);

namespace ks::lib {

inline StringObj* str(u64 v) { return reinterpret_cast<StringObj*>(as_obj(v)); }
inline ArrayObj* arr(u64 v) { return reinterpret_cast<ArrayObj*>(as_obj(v)); }
inline MapObj* map(u64 v) { return reinterpret_cast<MapObj*>(as_obj(v)); }
inline BytesObj* bytes(u64 v) { return reinterpret_cast<BytesObj*>(as_obj(v)); }

// Whether [v] is the null value of its type.
inline bool is_null(u64 v) { return as_obj(v)->flags & ObjNull; }

// A new string of [n] bytes at [s] into [*out]; false (OutOfMemoryException
// pending) when it cannot be allocated.
inline bool ret_string(Vm& vm, const char* s, usize n, u64* out)
{
    StringObj* r = vm.new_string(s, n);
    if (!r)
        return false;
    *out = from_obj(r);
    return true;
}

// The text [sb] built as a new string into [*out]; false with
// OutOfMemoryException pending when the builder ran out of memory on the
// way (its text is then incomplete: never returned) or the string cannot
// be allocated. Every native that builds a string returns it through here.
inline bool ret_built(Vm& vm, const StringBuilder& sb, u64* out)
{
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return ret_string(vm, sb.data(), sb.size(), out);
}

// Budget for work a native is about to do or has just done, checked (see
// Vm::charge_checked(): false means stop, the exception is pending). Bytes
// read or moved at memcmp/memmove speed cost one unit per 16, as allocation
// does; bytes looked at one by one (UTF-8 walks, parsing, case mapping,
// hashing, substring search) one unit per 4, about a VM instruction's time.
inline bool pay_scan(Vm& vm, u64 bytes) { return vm.charge_checked(bytes >> 4); }
inline bool pay_bytewise(Vm& vm, u64 bytes) { return vm.charge_checked(bytes >> 2); }

// Equality as `==` sees it for values of [kind]: identity, and for strings
// equal bytes (not charged: callers charge what they compare).
inline bool value_equal(u64 a, u64 b, u8 kind)
{
    if (a == b)
        return true;
    if (kind != KindRef)
        return false;
    ObjHeader* x = as_obj(a);
    ObjHeader* y = as_obj(b);
    if (x->kind != ObjKind::String || y->kind != ObjKind::String)
        return false;
    StringObj* s = str(a);
    StringObj* t = str(b);
    return s->byte_length == t->byte_length && mem_compare(s->bytes, t->bytes, s->byte_length) == 0;
}

// Null containers are frozen: modifying one raises NullReferenceException.
inline bool check_mutable(Vm& vm, u64 v)
{
    if (is_null(v))
        return vm.raise(ClassNullReferenceException, "modification of a null value");
    return true;
}

// For slice() and friends: a negative index counts from the end; indexes
// out of range clamp to [0, n].
inline i64 clamp_index(i64 i, i64 n)
{
    if (i < 0)
        i = i + n < 0 ? 0 : i + n;
    return i > n ? n : i;
}

// Order of two strings by code point (which is the order of their UTF-8
// bytes): negative, zero or positive. Charged as a scan of the bytes
// compared; false when the budget ran out.
inline bool compare_strings(Vm& vm, StringObj* a, StringObj* b, int* out)
{
    u32 n = min(a->byte_length, b->byte_length);
    if (!pay_scan(vm, n))
        return false;
    int c = mem_compare(a->bytes, b->bytes, n);
    if (c == 0)
        c = a->byte_length < b->byte_length ? -1 : a->byte_length > b->byte_length ? 1 : 0;
    *out = c;
    return true;
}

// The display text of [value] (of [kind]) as a new string: what
// `"" + value` gives.
inline bool ret_display(Vm& vm, u64 value, u8 kind, u64* r)
{
    StringBuilder sb(&vm.memory());
    if (!vm.format_value(sb, value, kind, 0))
        return false;
    return ret_string(vm, sb.data(), sb.size(), r);
}

}
