// The one registry of the built-in library: which libraries exist (the
// names scripts write: String, Array, Map, Bytes, System, Linux), their
// natives (one table, vm/Natives.h), the prelude (the library classes
// written in kscript, core/lib/prelude/*.k) with the class ids the VM
// relies on, and the named constants. The compiler asks here instead of
// spelling library names itself; adding a built-in means adding it to its
// library's file and list (core/lib/XLib.h/.cpp) or to a prelude source.
#pragma once

#include "../support/Types.h"

namespace ks {

struct Library {
    const char* name;             // What scripts write: "String", "Linux".
    const char* method_owner;     // Owner of its natives on a value (the value is argument 0), or nullptr.
    const char* function_owner;   // Owner of its functions (`Linux.pid()`, `String.fromCharCode(65)`), or nullptr.
};

// Every library, in native-table order.
const Library* libraries(u32* count);
// The library called [name], or nullptr.
const Library* find_library(const char* name);

// The prelude's source (NUL-terminated) and its length.
const char* prelude_source(usize* length);
// The name of the prelude's class of id [id] (static storage), or nullptr.
const char* prelude_class_name(u32 id);

// Named integer constants every script sees (kernel names, so that a
// kernel developer knows them): resolved by the compiler like globals that
// cannot change.
struct BuiltinConstant {
    const char* name;
    long long value;
};
const BuiltinConstant* builtin_constants(u32* count);

}
