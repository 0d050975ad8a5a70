// A compiled program: functions, classes, constants and globals, owned by the
// state that loaded it. Built by the compiler, run by the VM.
#pragma once

#include "../support/Arena.h"
#include "../support/Vector.h"
#include "Object.h"
#include "Opcodes.h"

namespace ks {

// The most parameters a function may take (the compiler refuses more, the
// verifier too): it bounds the work of comparing signatures.
constexpr u32 kMaxFunctionParams = 250;

// An exception handler: a throw at a pc in [start, end) jumps to target
// with the exception in register reg.
struct Handler {
    u32 start;
    u32 end;
    u32 target;
    u16 reg;
};

struct RtClass;

// The program's type table: the static types of parameters, returns, fields,
// globals, constants and of what NewArray, NewMap and ArrayLiteral make, so
// that the verifier can prove the sort of every reference (docs/internals.md,
// "Verifier"). Entries name their parts by index, always smaller than their
// own (no type contains itself); the compiler interns them, so two equal
// types have one index.
enum class TypeSort : u8 {
    Void = 0,     // Only as a function type's result.
    Int,
    Bool,
    String,
    Bytes,
    Class,        // a: the class id.
    Array,        // a: the element type.
    Map,          // a: the key type, b: the value type.
    Func,         // a: the result type; b: the first of param_count in Program::type_params.
    Count,
};

struct TypeEntry {
    TypeSort sort;
    u8 unused;
    u16 param_count;
    u32 a;
    u32 b;
};

struct Function {
    const char* name;          // Qualified: "Point.sum", "fib", "<main>".
    Insn* code;
    u32 code_size;
    u32* lines;                // Source line of each instruction.
    Handler* handlers;
    u32 handler_count;
    u16 param_count;           // Including the receiver of a method.
    u16 register_count;
    u16* ref_registers;        // Registers holding references, ascending: scanned by the GC.
    u16 ref_register_count;
    u16 ref_param_count;       // The first ones are parameters; the others are cleared on entry.
    u8 return_kind;            // ValueKind.
    u32* param_types;          // Type index of each parameter (the receiver's is its class).
    u32 return_type;           // Type index of the result (a Void type for none).
    u32 line;
    RtClass* owner;
    u32 diagnostic_line;       // Transcript mode: line of a compile error, reported at first call.
    bool diagnostic_reported;
    bool builtin;              // From the prelude (hidden in listings).
};

struct RtClass {
    const char* name;
    u32 id;
    RtClass* super;
    u32 depth;                 // 0 for Object.
    u32 field_count;
    u8* field_kinds;           // ValueKind per field.
    u32* field_types;          // Type index per field.
    const char** field_names;
    u64* field_defaults;       // Initial field values (null objects for references).
    u32* vtable;               // Function index per method slot.
    u32 vtable_size;
    InstanceObj* null_instance;
    i32 to_string_slot;        // Slot of `String toString()`, or -1.
    i32 message_field;         // Exceptions: slot of the message field, or -1.
};

// The prelude's classes (core/lib/prelude/*.k), in the order it declares
// them, which gives their ids: the VM raises built-in exceptions and the
// host layer checks host objects by these ids. core/lib/Registry.cpp
// checks this list against the prelude at compile time.
#define KS_BUILTIN_CLASSES(X) \
    X(Object) X(Exception) X(AssertionException) X(ZeroDividedException) X(OutOfBoundsException) \
    X(NullReferenceException) X(StackOverflowException) X(OutOfMemoryException) \
    X(BudgetExceededException) X(RuntimeScriptException) X(TypeCastException) \
    X(OutputStream) X(Device) X(Timer) X(Proc) X(Regs) X(Kprobe) X(Kretprobe) X(Packet) X(Netfilter) \
    X(BoxInt) X(BoxBoolean)

#define KS_BUILTIN_CLASS_ID(name) Class##name,
enum BuiltinClass : u32 {
    KS_BUILTIN_CLASSES(KS_BUILTIN_CLASS_ID)
    BuiltinClassCount,
};
#undef KS_BUILTIN_CLASS_ID

struct Program {
    // Everything below that the compiler built (functions, code, classes,
    // names, tables) lives in this arena and goes with it. Heap objects
    // (null values, string constants) belong to the heap.
    BlockArena arena;
    Function** functions;
    u32 function_count;
    RtClass** classes;
    u32 class_count;
    u64* constants;
    u8* constant_kinds;
    u32* constant_types;       // Type index per constant.
    u32 constant_count;
    u64* globals;
    u8* global_kinds;
    u32* global_types;         // Type index per global.
    const char** global_names;
    u32 global_count;
    u32 main_function;
    TypeEntry* types;
    u32 type_count;
    u32* type_params;          // Function types' parameter types, one run per function type.
    u32 type_param_count;
    // Null values of the non-class reference types.
    u64 null_string;
    u64 null_array;
    u64 null_map;
    u64 null_bytes;
    u64 null_func;

    // What an array remembers of its element type [t] (a type index) and
    // what `as` compares: one code per sort for int, boolean, String and
    // Bytes, the class id for a class, and the index itself for arrays,
    // maps and functions (the compiler interns types, so one index per
    // type; two entries a hostile file made equal only compare unequal).
    // The verifier types those the same way, so equal codes are safe.
    static constexpr u32 kTypeCodeClass = 0x80000000u;
    u32 type_code(u32 t) const
    {
        const TypeEntry& e = types[t];
        switch (e.sort) {
        case TypeSort::Int:
        case TypeSort::Bool:
        case TypeSort::String:
        case TypeSort::Bytes: return 0xfffffff0u + (u32)e.sort;
        case TypeSort::Class: return kTypeCodeClass | e.a;
        default: return t;
        }
    }
    static constexpr u32 kStringTypeCode = 0xfffffff0u + (u32)TypeSort::String;

    // The value a slot of type [t] starts with: 0, or the null value of its
    // sort (NewMap's missing value). [t] is a verified type index.
    u64 default_value(u32 t) const
    {
        const TypeEntry& e = types[t];
        switch (e.sort) {
        case TypeSort::String: return null_string;
        case TypeSort::Bytes: return null_bytes;
        case TypeSort::Array: return null_array;
        case TypeSort::Map: return null_map;
        case TypeSort::Func: return null_func;
        case TypeSort::Class: return from_obj(classes[e.a]->null_instance);
        default: return 0;
        }
    }
};

}
