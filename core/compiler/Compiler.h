// The compiler: checks types and emits bytecode in one walk over the syntax
// tree, after declarations have been collected (so functions and classes may
// be used before they are defined). Every error is reported with its
// position, and checking continues to find the rest.
#pragma once

#include "../support/NameIndex.h"
#include "../vm/Heap.h"
#include "../vm/Program.h"
#include "Ast.h"
#include "Diagnostics.h"
#include "StaticTypes.h"

namespace ks {

struct FuncSym;

struct FieldSym {
    const char* name;
    Type* type;
    u32 slot;
    FieldDecl* decl;
    ClassSym* owner;
};

struct ClassSym {
    const char* name;
    ClassSym* super;
    ClassDecl* decl;
    Type* type;
    RtClass* rt;
    Vector<FieldSym> fields;      // Inherited ones first.
    Vector<FuncSym*> methods;     // Own methods (declared in or outside the body).
    Vector<FuncSym*> ctors;
    Vector<FuncSym*> vtable;      // Slot -> implementation.
    bool resolved;
    bool builtin;
    bool unused;                  // A built-in class the script cannot reach: no methods are compiled.
    bool vtable_built;
    u32 id;
    u32 line;
    u32 column;
    // Hash indexes of classes with many fields (name -> slot), own methods
    // (name -> index in methods) and vtable entries (name -> slot); null
    // while a scan is as fast (see CompilerInternal.h, kIndexFrom).
    NameIndex* field_index;
    NameIndex* method_index;
    NameIndex* vtable_index;
    // The class tree, numbered once superclasses are final: [pre] is the
    // class's place in a preorder walk and [last] the largest of its
    // subclasses', so `a extends b` (at any depth) is b->pre <= a->pre <=
    // b->last, without walking the chain. [jump] is an ancestor further up
    // (skew-binary jump pointers), so that the common superclass of two
    // classes is found in logarithmic steps in a deep chain.
    ClassSym* first_child;
    ClassSym* next_sibling;
    ClassSym* jump;
    u32 pre;
    u32 last;
    u32 depth;                    // Number of superclasses.
    u32 mark;                     // resolve_class(): on the chain being resolved.
};

struct FuncSym {
    const char* name;
    Type* result;
    Type** params;                // Without the receiver.
    u32 param_count;
    FuncDecl* decl;               // The declaration with the body (null until defined).
    FuncDecl* first_decl;         // Prototype or definition seen first.
    ClassSym* owner;              // Methods and constructors.
    ClassSym* static_class;       // A class's static method (a function named "Class.name", owner null).
    bool is_ctor;
    bool implicit;                // An implicit default constructor.
    bool prelude;
    i32 slot;                     // vtable slot of a method.
    u32 index;                    // Function index in the program.
    Type* func_type;              // Func[...] type, for function values.
};

enum class CompileMode : u8 {
    Normal,       // Any compile error means the program does not run.
    Transcript,   // Errors inside a statement turn it into a raise (see language.md).
};

struct CompileOptions {
    CompileMode mode;
    u32 max_nesting;
    u32 max_function_size;       // Instructions per function.
    // Called about every [poll_interval] units of compile work (a unit is a
    // token, a syntax node, a declaration, a copied field...; 0: a default
    // of 65,536); returning false stops the compile with the error
    // "compilation interrupted". May be null.
    bool (*poll)(void* context) = nullptr;
    void* poll_context = nullptr;
    u32 poll_interval = 0;
    // Seed of the compiler's hash indexes; the host passes a random one so
    // that no script can choose names that collide (0 is fine elsewhere).
    u64 hash_seed = 0;
    // SCRIPT_ARGV: the script's arguments, copied into the program.
    const char* const* script_args = nullptr;
    u32 script_arg_count = 0;
};

// Compiles [source] (with the prelude of built-in classes) into [out].
// Returns false when there were errors (in [diagnostics]) or memory ran out.
bool compile_program(Memory* memory, Heap* heap, const char* source, usize length, const CompileOptions& options,
    Diagnostics* diagnostics, Arena* arena, Program* out);

}
