// A compiled program: functions, classes, constants and globals, owned by the
// state that loaded it. Built by the compiler, run by the VM.
#pragma once

#include "../support/Arena.h"
#include "../support/Vector.h"
#include "Object.h"
#include "Opcodes.h"

namespace ks {

// An exception handler: a throw at a pc in [start, end) jumps to target
// with the exception in register reg.
struct Handler {
    u32 start;
    u32 end;
    u32 target;
    u16 reg;
};

struct RtClass;

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
    u32 constant_count;
    u64* globals;
    u8* global_kinds;
    const char** global_names;
    u32 global_count;
    u32 main_function;
    // Null values of the non-class reference types.
    u64 null_string;
    u64 null_array;
    u64 null_map;
    u64 null_bytes;
    u64 null_func;
};

}
