// The String library: methods of String values and the String.* functions.
#pragma once

#include "Library.h"

// The String natives, in table order (see Library.h).
#define KS_STRING_NATIVES(NATIVE) \
    NATIVE("String", "length", "i", s_length) \
    NATIVE("String", "size", "i", s_length) \
    NATIVE("String", "get", "si", s_char_at) \
    NATIVE("String", "charAt", "si", s_char_at) \
    NATIVE("String", "charCodeAt", "ii", s_char_code_at) \
    NATIVE("String", "indexOf", "is", s_index_of) \
    NATIVE("String", "indexOf", "isi", s_index_of_from) \
    NATIVE("String", "lastIndexOf", "is", s_last_index_of) \
    NATIVE("String", "substring", "si", s_substring1) \
    NATIVE("String", "substring", "sii", s_substring2) \
    NATIVE("String", "substr", "si", s_substr1) \
    NATIVE("String", "substr", "sii", s_substr2) \
    NATIVE("String", "slice", "si", s_slice1) \
    NATIVE("String", "slice", "sii", s_slice2) \
    NATIVE("String", "concat", "ss", s_concat) \
    NATIVE("String", "replace", "sss", s_replace) \
    NATIVE("String", "split", "Ss", s_split) \
    NATIVE("String", "startsWith", "bs", s_starts_with) \
    NATIVE("String", "endsWith", "bs", s_ends_with) \
    NATIVE("String", "contains", "bs", s_contains) \
    NATIVE("String", "toUpperCase", "s", s_upper) \
    NATIVE("String", "toLowerCase", "s", s_lower) \
    NATIVE("String", "trim", "s", s_trim) \
    NATIVE("String", "toString", "s", s_to_string) \
    NATIVE("String", "equals", "bs", s_equals) \
    NATIVE("String", "toInt", "i", s_to_int) \
    NATIVE("String", "toBoolean", "b", s_to_boolean) \
    NATIVE("String.", "fromCharCode", "si", s_from_char_code) \
    NATIVE("String", "compareTo", "is", s_compare_to) \
    NATIVE("String", "localeCompare", "is", s_compare_to) \
    NATIVE("String", "isEmpty", "b", s_is_empty) \
    NATIVE("String", "repeat", "si", s_repeat) \
    NATIVE("String", "getlength", "i", s_length) \
    NATIVE("String", "getLength", "i", s_length) \
    NATIVE("String", "split", "S", s_split0) \
    NATIVE("String", "replaceAll", "sss", s_replace) \
    NATIVE("String.", "__format", "ssIS", s_format)

namespace ks::lib {
KS_STRING_NATIVES(KS_DECLARE_NATIVE)
}
