// The VM's view of the built-in methods implemented in C++: one table
// (built by core/lib/Registry.cpp from the libraries in core/lib/) serves
// the checker, which types calls from the signature strings, the VM, which
// calls the functions by index, the verifier and the bytecode fingerprint.
#pragma once

#include "../support/Types.h"

namespace ks {

class Vm;

// Returns false when it raised an exception (already set in the VM).
// [args][0] is the receiver for methods.
using NativeFn = bool (*)(Vm& vm, u64* args, u64* result);

// Signature characters: first the result, then each parameter.
//   v void, i int, b boolean, s String, y Bytes, o an instance of any class,
//   E element (array element, map value), K map key, R the receiver's type,
//   S String[], I int[], k K[] (map keys), e E[] (map values),
//   F Func[int, E, E] (a comparator of the receiver's elements).
struct NativeInfo {
    const char* owner;       // "String", "Array", "Map", "Bytes", or a namespace: "System", "Linux", "String."
    const char* name;
    const char* signature;
    NativeFn fn;
};

const NativeInfo* native_table(u32* count);

// Finds a native by owner, name and parameter count; returns its index or -1.
i32 find_native(const char* owner, const char* name, u32 param_count);

}
