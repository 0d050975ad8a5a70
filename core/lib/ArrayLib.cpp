// The Array library: methods of arrays (T[] and Array<T>).
#include "ArrayLib.h"

namespace ks::lib {

bool a_size(Vm&, u64* a, u64* r) { *r = arr(a[0])->size; return true; }

bool a_get(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise(ClassOutOfBoundsException, "array index out of bounds");
    *r = x->items[a[1]];
    return true;
}

bool a_set(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise(ClassOutOfBoundsException, "array index out of bounds");
    x->items[a[1]] = a[2];
    return true;
}

bool a_push(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    if (x->size >= 0x3fffffff || !vm.heap().array_reserve(x, x->size + 1))
        return vm.raise_out_of_memory();
    x->items[x->size++] = a[1];
    return true;
}

bool a_insert(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    if (a[1] > x->size)
        return vm.raise(ClassOutOfBoundsException, "insert position out of bounds");
    if (!pay_scan(vm, (u64)(x->size - a[1]) * sizeof(u64)))
        return false;
    if (x->size >= 0x3fffffff || !vm.heap().array_reserve(x, x->size + 1))
        return vm.raise_out_of_memory();
    mem_move(x->items + a[1] + 1, x->items + a[1], (x->size - a[1]) * sizeof(u64));
    x->items[a[1]] = a[2];
    x->size++;
    return true;
}

bool a_pop(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (!x->size)
        return vm.raise(ClassOutOfBoundsException, "pop from an empty array");
    *r = x->items[--x->size];
    return true;
}

bool a_remove_at(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise(ClassOutOfBoundsException, "array index out of bounds");
    if (!pay_scan(vm, (u64)(x->size - a[1]) * sizeof(u64)))
        return false;
    *r = x->items[a[1]];
    mem_move(x->items + a[1], x->items + a[1] + 1, (x->size - a[1] - 1) * sizeof(u64));
    x->size--;
    return true;
}

bool a_clear(Vm&, u64* a, u64*)
{
    arr(a[0])->size = 0;
    return true;
}

// A new array of the same element kind as [model]. The null array is shared
// by all array types, so it cannot serve as a model.
static bool make_array_from(Vm& vm, ArrayObj* model, const u64* items, u32 n, u64* r)
{
    if (model->header.flags & ObjNull)
        return vm.raise(ClassNullReferenceException, "operation on a null array");
    ArrayObj* out = vm.heap().new_array(n, model->header.elem_kind, 0);
    if (!out)
        return vm.raise_out_of_memory();
    if (n)
        mem_copy(out->items, items, n * sizeof(u64));
    *r = from_obj(out);
    return true;
}

bool a_concat(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    ArrayObj* y = arr(a[1]);
    u64 total = (u64)x->size + y->size;
    if (total > 0x3fffffff)
        return vm.raise_out_of_memory();
    if (!make_array_from(vm, x, x->items, x->size, r))
        return false;
    ArrayObj* out = arr(*r);
    if (!vm.heap().array_reserve(out, (u32)total))
        return vm.raise_out_of_memory();
    if (y->size)
        mem_copy(out->items + x->size, y->items, y->size * sizeof(u64));
    out->size = (u32)total;
    return true;
}

bool a_slice2(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    i64 n = x->size;
    i64 b = clamp_index((i64)a[1], n);
    i64 e = clamp_index((i64)a[2], n);
    if (e < b)
        e = b;
    return make_array_from(vm, x, x->items + b, (u32)(e - b), r);
}

bool a_slice1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], arr(a[0])->size };
    return a_slice2(vm, args, r);
}

// splice(start, count): removes count elements at start, returns them.
// The copy out is allocation; moving the tail down is charged, before the
// array is touched.
bool a_splice(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    i64 n = x->size;
    i64 b = clamp_index((i64)a[1], n);
    i64 count = (i64)a[2];
    if (count < 0)
        count = 0;
    if (count > n - b)
        count = n - b;
    if (!pay_scan(vm, (u64)(n - b - count) * sizeof(u64)))
        return false;
    if (!make_array_from(vm, x, x->items + b, (u32)count, r))
        return false;
    mem_move(x->items + b, x->items + b + count, (usize)(n - b - count) * sizeof(u64));
    x->size -= (u32)count;
    return true;
}

// One unit per element looked at; comparing strings of equal length costs
// their bytes as well, charged before each comparison: an array of a
// million references to one long string, searched for an equal-length
// other string, compares n * m bytes, so it must be able to stop midway.
bool a_index_of(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    u64 probe = a[1];
    StringObj* text = x->header.elem_kind == KindRef && as_obj(probe)->kind == ObjKind::String ? str(probe) : nullptr;
    u32 i = 0;
    for (; i < x->size; i++) {
        u64 item = x->items[i];
        if (item == probe)
            break;
        if (!text || as_obj(item)->kind != ObjKind::String || str(item)->byte_length != text->byte_length)
            continue;
        if (!pay_scan(vm, text->byte_length))
            return false;
        if (mem_compare(str(item)->bytes, text->bytes, text->byte_length) == 0)
            break;
    }
    if (!vm.charge_checked(i))
        return false;
    *r = i < x->size ? (u64)i : (u64)-1;
    return true;
}

// One unit per element, checked as it goes (an element may format to
// nothing); the text itself is charged as allocation. Each element is
// written as `+` would append it (strings unquoted, a null String as null).
bool a_join(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    StringObj* sep = str(a[1]);
    StringBuilder sb(&vm.memory());
    for (u32 i = 0; i < x->size; i++) {
        if (!vm.charge_checked(1))
            return false;
        if (i)
            sb.append(sep->bytes, sep->byte_length);
        if (!vm.append_text(sb, x->items[i], x->header.elem_kind))
            return false;
    }
    return ret_string(vm, sb.data(), sb.size(), r);
}

// The display text of the array ("[1, 2]"), as `"" + a` gives it.
bool a_to_string(Vm& vm, u64* a, u64* r) { return ret_display(vm, a[0], KindRef, r); }

bool a_reverse(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (!pay_scan(vm, (u64)x->size * sizeof(u64)))
        return false;
    for (u32 i = 0, j = x->size; i + 1 < j; i++, j--) {
        u64 t = x->items[i];
        x->items[i] = x->items[j - 1];
        x->items[j - 1] = t;
    }
    return true;
}

}
