// The Bytes library: a growable byte buffer, and the Bytes.* functions.
#pragma once

#include "Library.h"

// The Bytes natives, in table order (see Library.h).
#define KS_BYTES_NATIVES(NATIVE) \
    NATIVE("Bytes.", "new", "yi", b_new) \
    NATIVE("Bytes.", "fromString", "ys", b_from_string) \
    NATIVE("Bytes", "size", "i", b_size) \
    NATIVE("Bytes", "length", "i", b_size) \
    NATIVE("Bytes", "get", "ii", b_get) \
    NATIVE("Bytes", "set", "vii", b_set) \
    NATIVE("Bytes", "push", "vi", b_push) \
    NATIVE("Bytes", "add", "vi", b_push) \
    NATIVE("Bytes", "clear", "v", b_clear) \
    NATIVE("Bytes", "append", "vs", b_append) \
    NATIVE("Bytes", "appendBytes", "vy", b_append_bytes) \
    NATIVE("Bytes", "toString", "s", b_to_string)

namespace ks::lib {
KS_BYTES_NATIVES(KS_DECLARE_NATIVE)
}
