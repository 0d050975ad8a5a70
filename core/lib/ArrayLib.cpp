// The Array library: methods of arrays (T[] and Array<T>).
#include "ArrayLib.h"

namespace ks::lib {

bool a_size(Vm&, u64* a, u64* r) { *r = arr(a[0])->size; return true; }

bool a_get(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise_index("array index out of bounds", (i64)a[1], x->size);
    *r = x->items[a[1]];
    return true;
}

bool a_set(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise_index("array index out of bounds", (i64)a[1], x->size);
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
        return vm.raise_index("insert position out of bounds", (i64)a[1], x->size);
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
        return vm.raise_index("array index out of bounds", (i64)a[1], x->size);
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
    ArrayObj* out = vm.heap().new_array(n, model->header.elem_kind, 0, model->elem_type);
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

// The elements splice(start, count) removes from an array of [n]: [*b]
// is start clamped as slice clamps it, [*count] is count cut to what is
// there (a negative count removes nothing).
static void splice_range(i64 n, i64 start, i64 count, i64* b, i64* c)
{
    *b = clamp_index(start, n);
    *c = count < 0 ? 0 : count > n - *b ? n - *b : count;
}

// splice(start, count): removes count elements at start, returns them.
// The copy out is allocation; moving the tail down is charged, before the
// array is touched.
bool a_splice(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    i64 n = x->size, b, count;
    splice_range(n, (i64)a[1], (i64)a[2], &b, &count);
    if (!pay_scan(vm, (u64)(n - b - count) * sizeof(u64)))
        return false;
    if (!make_array_from(vm, x, x->items + b, (u32)count, r))
        return false;
    mem_move(x->items + b, x->items + b + count, (usize)(n - b - count) * sizeof(u64));
    x->size -= (u32)count;
    return true;
}

// splice(start, count, items...) as the compiler calls it:
// Array.__splice(start, count, items): removes as splice(start, count)
// does, then inserts the items where the removed elements were (JavaScript's
// rule). Everything that can fail (the removed elements' array, the room
// for the items) happens before the array changes.
bool a_splice_insert(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    ArrayObj* items = arr(a[3]);
    if (!check_mutable(vm, a[0]))
        return false;
    i64 n = x->size, b, count;
    splice_range(n, (i64)a[1], (i64)a[2], &b, &count);
    u64 size = (u64)(n - count) + items->size;
    if (size > 0x3fffffff)
        return vm.raise_out_of_memory();
    if (!pay_scan(vm, ((u64)(n - b - count) + items->size) * sizeof(u64)))
        return false;
    if (!make_array_from(vm, x, x->items + b, (u32)count, r))
        return false;
    if (!vm.heap().array_reserve(x, (u32)size))
        return vm.raise_out_of_memory();
    mem_move(x->items + b + items->size, x->items + b + count, (usize)(n - b - count) * sizeof(u64));
    mem_copy(x->items + b, items->items, items->size * sizeof(u64));
    x->size = (u32)size;
    return true;
}

// splice(start): removes everything from [start] (negative: from the end).
bool a_splice1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], arr(a[0])->size };
    return a_splice(vm, args, r);
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
    return ret_built(vm, sb, r);
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

bool a_contains(Vm& vm, u64* a, u64* r)
{
    u64 at;
    if (!a_index_of(vm, a, &at))
        return false;
    *r = (i64)at >= 0;
    return true;
}

// ---------------------------------------------------------------- Sorting

// Whether [x] sorts before or with [y] (ints as numbers, strings by code
// point), into [*out]; false when the budget ran out.
static bool natural_le(Vm& vm, u8 kind, u64 x, u64 y, bool* out)
{
    if (kind != KindRef) {
        *out = (i64)x <= (i64)y;
        return true;
    }
    int c;
    if (!compare_strings(vm, str(x), str(y), &c))
        return false;
    *out = c <= 0;
    return true;
}

// sort(): ints (and booleans) in increasing order, Strings in code point
// order; stable. A bottom-up merge sort through a buffer of the same size
// (no recursion, n log n comparisons, each charged, strings by the bytes
// compared too). An array of other references raises
// RuntimeScriptException: they have no natural order (use sort(Func)).
bool a_sort(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    u32 n = x->size;
    u8 kind = x->header.elem_kind;
    if (n < 2)
        return true;
    if (!check_mutable(vm, a[0]))
        return false;
    if (kind == KindRef) {
        for (u32 i = 0; i < n; i++)
            if (as_obj(x->items[i])->kind != ObjKind::String)
                return vm.raise(ClassRuntimeScriptException, "sort() orders ints and Strings; give others a comparator");
    }
    u64* buffer = static_cast<u64*>(vm.memory().alloc(sizeof(u64) * n));
    if (!buffer)
        return vm.raise_out_of_memory();
    u64* from = x->items;
    u64* to = buffer;
    bool ok = true;
    for (u32 width = 1; width < n && ok; width *= 2) {
        for (u32 lo = 0; lo < n && ok; lo += 2 * width) {
            u32 mid = min(lo + width, n);
            u32 hi = min(lo + 2 * width, n);
            u32 i = lo, j = mid, k = lo;
            ok = vm.charge_checked(hi - lo);
            while (ok && i < mid && j < hi) {
                bool le;
                if (!natural_le(vm, kind, from[i], from[j], &le)) {
                    ok = false;
                    break;
                }
                to[k++] = le ? from[i++] : from[j++];
            }
            while (i < mid)
                to[k++] = from[i++];
            while (j < hi)
                to[k++] = from[j++];
        }
        if (!ok)
            break;   // [to] is half written: [from] holds the last whole pass.
        u64* t = from;
        from = to;
        to = t;
    }
    // Whole or stopped, the array keeps every element: the last complete
    // pass is in [from].
    if (from != x->items)
        mem_copy(x->items, from, sizeof(u64) * n);
    vm.memory().free(buffer);
    return ok;
}

// sort(comparator): the order the comparator gives (negative: its first
// argument goes first, zero: they are equal, positive: after), stable; a
// bottom-up merge sort, as sort() does, calling the comparator through
// Vm::call_nested() (no recursion of this native's own; the callback's
// nesting is bounded by the VM). The elements are sorted in a copy, held
// by a pinned array while the comparator runs (it may collect), and written
// back once all went well: an exception in the comparator propagates and
// leaves the array as it was, and a comparator that changes the array's
// size makes sort raise RuntimeScriptException instead of losing elements.
// Each comparison costs a unit on top of the comparator's own run.
bool a_sort_with(Vm& vm, u64* a, u64*)
{
    u64 array = a[0];
    u64 comparator = a[1];
    u32 n = arr(array)->size;
    if (n < 2)
        return true;
    if (!check_mutable(vm, array))
        return false;
    if ((u64)n * 2 > 0x3fffffff)
        return vm.raise_out_of_memory();
    ArrayObj* x = arr(array);
    ArrayObj* work = vm.heap().new_array(2 * n, x->header.elem_kind, x->items[0], x->elem_type);
    if (!work)
        return vm.raise_out_of_memory();
    mem_copy(work->items, x->items, sizeof(u64) * n);
    if (!vm.pin(from_obj(work)))
        return vm.raise_out_of_memory();
    u32 from = 0;
    u32 to = n;
    bool ok = true;
    for (u32 width = 1; width < n && ok; width *= 2) {
        for (u32 lo = 0; lo < n && ok; lo += 2 * width) {
            u32 mid = min(lo + width, n);
            u32 hi = min(lo + 2 * width, n);
            u32 i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                u64 args[2] = { work->items[from + i], work->items[from + j] };
                u64 order = 0;
                if (!vm.charge_checked(1) || !vm.call_nested(comparator, args, 2, &order)) {
                    ok = false;
                    break;
                }
                work->items[to + k++] = (i64)order <= 0 ? work->items[from + i++] : work->items[from + j++];
            }
            while (ok && i < mid)
                work->items[to + k++] = work->items[from + i++];
            while (ok && j < hi)
                work->items[to + k++] = work->items[from + j++];
        }
        if (!ok)
            break;
        u32 t = from;
        from = to;
        to = t;
    }
    if (ok && arr(array)->size != n)
        ok = vm.raise(ClassRuntimeScriptException, "sort: the comparator changed the array's size");
    if (ok)
        mem_copy(arr(array)->items, work->items + from, sizeof(u64) * n);
    vm.unpin(from_obj(work));
    return ok;
}

}
