// The Bytes library: a growable byte buffer, and the Bytes.* functions.
#include "BytesLib.h"

namespace ks::lib {

bool b_new(Vm& vm, u64* a, u64* r)
{
    i64 n = (i64)a[0];
    if (n < 0)
        return vm.raise(ClassOutOfBoundsException, "negative Bytes size");
    if (n > 0x3fffffff)
        return vm.raise_out_of_memory();
    BytesObj* b = vm.heap().new_bytes((u32)n);
    if (!b)
        return vm.raise_out_of_memory();
    *r = from_obj(b);
    return true;
}

bool b_from_string(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    BytesObj* b = vm.heap().new_bytes(s->byte_length);
    if (!b)
        return vm.raise_out_of_memory();
    if (s->byte_length)
        mem_copy(b->data, s->bytes, s->byte_length);
    *r = from_obj(b);
    return true;
}

bool b_size(Vm&, u64* a, u64* r) { *r = bytes(a[0])->size; return true; }

bool b_get(Vm& vm, u64* a, u64* r)
{
    BytesObj* b = bytes(a[0]);
    if (a[1] >= b->size)
        return vm.raise_index("Bytes index out of bounds", (i64)a[1], (i64)b->size);
    *r = b->data[a[1]];
    return true;
}

bool b_set(Vm& vm, u64* a, u64*)
{
    BytesObj* b = bytes(a[0]);
    if (a[1] >= b->size)
        return vm.raise_index("Bytes index out of bounds", (i64)a[1], (i64)b->size);
    b->data[a[1]] = (u8)a[2];
    return true;
}

bool b_push(Vm& vm, u64* a, u64*)
{
    BytesObj* b = bytes(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    if (b->size >= 0x3fffffff || !vm.heap().bytes_reserve(b, b->size + 1))
        return vm.raise_out_of_memory();
    b->data[b->size++] = (u8)a[1];
    return true;
}

bool b_to_string(Vm& vm, u64* a, u64* r)
{
    BytesObj* b = bytes(a[0]);
    return ret_string(vm, reinterpret_cast<const char*>(b->data), b->size, r);
}

// The copy is charged: it allocates nothing once the buffer is large
// enough (a loop of clear() and append() would copy megabytes for free).
static bool append_raw(Vm& vm, u64 target, const void* data, usize n)
{
    BytesObj* b = bytes(target);
    if (!check_mutable(vm, target))
        return false;
    if (!pay_scan(vm, n))
        return false;
    // The source may be the target's own contents (b.appendBytes(b)), which
    // growing the target frees: then copy from where they went.
    const u8* from = static_cast<const u8*>(data);
    bool own = n && from >= b->data && from < b->data + b->size;
    usize offset = own ? (usize)(from - b->data) : 0;
    if (n > 0x3fffffff - (usize)b->size || !vm.heap().bytes_reserve(b, b->size + (u32)n))
        return vm.raise_out_of_memory();
    if (own)
        from = b->data + offset;
    if (n)
        mem_copy(b->data + b->size, from, n);
    b->size += (u32)n;
    return true;
}

bool b_append(Vm& vm, u64* a, u64*)
{
    StringObj* s = str(a[1]);
    return append_raw(vm, a[0], s->bytes, s->byte_length);
}

bool b_append_bytes(Vm& vm, u64* a, u64*)
{
    BytesObj* other = bytes(a[1]);
    return append_raw(vm, a[0], other->data, other->size);
}

bool b_clear(Vm&, u64* a, u64*)
{
    bytes(a[0])->size = 0;
    return true;
}

}
