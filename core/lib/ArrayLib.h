// The Array library: methods of arrays (T[] and Array<T>).
#pragma once

#include "Library.h"

// The Array natives, in table order (see Library.h).
#define KS_ARRAY_NATIVES(NATIVE) \
    NATIVE("Array", "size", "i", a_size) \
    NATIVE("Array", "getSize", "i", a_size) \
    NATIVE("Array", "length", "i", a_size) \
    NATIVE("Array", "get", "Ei", a_get) \
    NATIVE("Array", "set", "viE", a_set) \
    NATIVE("Array", "add", "vE", a_push) \
    NATIVE("Array", "push", "vE", a_push) \
    NATIVE("Array", "insert", "viE", a_insert) \
    NATIVE("Array", "pop", "E", a_pop) \
    NATIVE("Array", "removeAt", "Ei", a_remove_at) \
    NATIVE("Array", "clear", "v", a_clear) \
    NATIVE("Array", "concat", "RR", a_concat) \
    NATIVE("Array", "slice", "Ri", a_slice1) \
    NATIVE("Array", "slice", "Rii", a_slice2) \
    NATIVE("Array", "splice", "Rii", a_splice) \
    NATIVE("Array", "indexOf", "iE", a_index_of) \
    NATIVE("Array", "join", "ss", a_join) \
    NATIVE("Array", "toString", "s", a_to_string) \
    NATIVE("Array", "reverse", "v", a_reverse) \
    NATIVE("Array", "getlength", "i", a_size) \
    NATIVE("Array", "getLength", "i", a_size) \
    NATIVE("Array", "contains", "bE", a_contains) \
    NATIVE("Array", "splice", "Ri", a_splice1) \
    NATIVE("Array", "sort", "v", a_sort) \
    NATIVE("Array", "sort", "vF", a_sort_with) \
    NATIVE("Array", "__splice", "RiiR", a_splice_insert)

namespace ks::lib {
KS_ARRAY_NATIVES(KS_DECLARE_NATIVE)
}
