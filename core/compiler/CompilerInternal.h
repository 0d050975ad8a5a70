// Internal to the compiler (core/compiler/*.cpp): the Compiler class and the
// symbols its parts share. The parts: Compiler.cpp (driver, errors, entry
// point, transcript mode), Declarations.cpp (classes, functions,
// signatures, vtables, runtime classes); the checker, which reports every
// error and annotates the tree (Checker.cpp: expressions; CheckCalls.cpp:
// calls, member access, new; CheckStatements.cpp: statements, scopes and
// locals); the emitter, which compiles the checked tree and has no error
// paths (Expressions.cpp, Calls.cpp, Statements.cpp); Emit.cpp (constants,
// registers, jumps, function assembly); Peephole.cpp (the merges as code is
// emitted, jump threading). Not included outside core/compiler/.
#pragma once

#include "Compiler.h"

#include "../support/NameIndex.h"
#include "../support/StringBuilder.h"
#include "../support/WorkMeter.h"
#include "../lib/Registry.h"
#include "../vm/Natives.h"
#include "Lexer.h"
#include "Parser.h"

namespace ks::compiler {

struct Operand {
    Type* type;
    u16 reg;
    bool temp;
};

// A local in the checker's scopes (FunctionState::locals).
struct Local {
    const char* name;
    Type* type;
    u32 number;         // In declaration order within the function: the emitter's key for its register.
    u32 depth;
    bool is_const;
    u32 shadowed;       // With an index of locals: index + 1 of the local this one hides (0: none).
};

// A local in the emitter's scopes (FunctionState::live): its register is
// freed when its scope closes.
struct LiveLocal {
    u16 reg;
    u32 depth;
};

// A loop or switch the checker is inside: `break` needs one, and a loop
// that only a reachable `break` leaves falls through.
struct CheckLoop {
    u32 breaks;         // Reachable breaks out of it.
    bool is_switch;
};

// What an expression resolved to (Expr::res), set by the checker, read by
// the emitter; Expr::symbol holds the index that goes with it.
enum Res : u8 {
    ResNone,
    ResNothing,            // Emits nothing: a bare class name, AllowImplicitGlobalVariable, super() of Object.
    ResLocal,              // symbol: local number.
    ResField,              // symbol: field slot (of `this` for a name, of the object for a member).
    ResGlobal,             // symbol: global index (also class constants and `global.x`).
    ResGlobalMember,       // Assignment to `global.x`; symbol: global index.
    ResDeclareGlobal,      // Assignment that declares a global; symbol: its index.
    ResElement,            // An array element (or, assigned, any container's element).
    ResBuiltinConstant,    // symbol: index in builtin_constants().
    ResScriptArgv,
    ResFunctionValue,      // symbol: function index.
    ResNative,             // `s.length`, `m[k]`: a native on the receiver; symbol: native index.
    ResCallFunction,       // symbol: function index; no receiver (or, for new, the new object).
    ResCallMethodOfThis,   // Virtual call on `this`; symbol: function index.
    ResCallMethod,         // Virtual call on the receiver; symbol: function index.
    ResCallSuper,          // Direct call on `this`; symbol: function index.
    ResCallValue,          // A call of the callee's function value.
    ResCallField,          // A call of the function value in the receiver's field; symbol: slot.
    ResCallNative,         // symbol: native index; no receiver.
    ResCallNativeOn,       // symbol: native index; on the receiver.
    ResAccessorGet,        // On the receiver; symbol: field slot.
    ResAccessorSet,
    ResAccessorGetOfThis,  // On `this`.
    ResAccessorSetOfThis,
    ResAssert,
    ResPrint,              // System.p.
    ResValueOf,            // String.valueOf.
    ResFormat,             // String.format.
    ResIsNull,
    ResToString,
    ResTypeIdOf,           // getTypeId() of a class instance (asked of the VM).
    ResTypeIdStatic,       // getTypeId() of a built-in type (known now).
    ResSplice,
};

// Flags in Expr::conv.
enum Conv : u8 {
    ConvHasError = 1,      // A field initializer the checker found an error in (the constructor raises there).
};



struct GlobalSym {
    const char* name;
    Type* type;
    u32 index;
    bool is_const;
    bool declared;   // Its declaration has been compiled (main runs in order).
};

struct LoopContext {
    Vector<u32>* breaks;
    Vector<u32>* continues;
    u32 try_depth;      // Number of enclosing try statements at the loop.
    bool is_switch;     // A switch: `break` leaves it, `continue` goes to the loop around it (continues is null).
};

// Whether [e] is an integer literal within [lo, hi] (fits an immediate operand).
inline bool small_int(Expr* e, i64 lo = -32768, i64 hi = 32767)
{
    return e->kind == ExprKind::Int && e->int_value >= lo && e->int_value <= hi;
}

// The binary operator of compound assignment [t] (`+=` -> `+`), or
// Tok::Assign for plain `=`.
inline Tok compound_base(Tok t)
{
    switch (t) {
    case Tok::PlusAssign: return Tok::Plus;
    case Tok::MinusAssign: return Tok::Minus;
    case Tok::StarAssign: return Tok::Star;
    case Tok::SlashAssign: return Tok::Slash;
    case Tok::PercentAssign: return Tok::Percent;
    case Tok::AmpAssign: return Tok::Amp;
    case Tok::PipeAssign: return Tok::Pipe;
    case Tok::CaretAssign: return Tok::Caret;
    case Tok::ShlAssign: return Tok::Shl;
    case Tok::ShrAssign: return Tok::Shr;
    default: return Tok::Assign;
    }
}

// Whether evaluating [e] may assign a variable: only assignments, ++/-- and
// block expressions can (a call cannot reach its caller's variables). Looks
// at most 32 nodes deep into the tree; past that it answers yes.
inline bool may_assign(const Expr* e, u32* steps)
{
    if (!e)
        return false;
    if (*steps == 0)
        return true;
    (*steps)--;
    if (e->kind == ExprKind::Assign || e->kind == ExprKind::IncDec || e->kind == ExprKind::BlockExpr)
        return true;
    if (may_assign(e->a, steps) || may_assign(e->b, steps) || may_assign(e->c, steps))
        return true;
    for (u32 i = 0; i < e->arg_count; i++)
        if (may_assign(e->args[i], steps))
            return true;
    return false;
}

// may_assign() with a fresh bound on the depth searched.
inline bool may_assign(const Expr* e)
{
    u32 steps = 32;
    return may_assign(e, &steps);
}

// Whether [e] is the literal `true`.
inline bool is_constant_true(Expr* e) { return e && e->kind == ExprKind::Bool && e->int_value; }

// The literal int value of a case label (`3`, `-3`), for duplicate checks.
inline bool case_int_literal(Expr* e, i64* out)
{
    if (e->kind == ExprKind::Int) {
        *out = e->int_value;
        return true;
    }
    if (e->kind == ExprKind::Unary && e->op == Tok::Minus && e->a && e->a->kind == ExprKind::Int) {
        *out = (i64)((u64)0 - (u64)e->a->int_value);
        return true;
    }
    return false;
}

// Whether case labels [a] and [b] are the same literal (int or String).
inline bool same_case_literal(Expr* a, Expr* b)
{
    i64 x, y;
    if (case_int_literal(a, &x) && case_int_literal(b, &y))
        return x == y;
    return a->kind == ExprKind::String && b->kind == ExprKind::String && a->name_length == b->name_length
        && mem_compare(a->name, b->name, a->name_length) == 0;
}

// Pairs [from, to) of code inside a try statement's range that its handler
// must not cover (the copies of finally blocks run on the way out).
struct CutList {
    Vector<u32> pairs;
};

struct TryContext {
    Block* finally_block;
    u32 start;
    CutList* cuts;
};

// FunctionState's vectors, for what is done to each (X(name)).
#define KS_STATE_VECTORS(X) \
    X(code) X(lines) X(handlers) X(reg_is_ref) X(free_int) X(free_ref) X(locals) X(check_loops) X(local_regs) \
        X(live) X(loops) X(trys)

struct FunctionState {
    FuncSym* sym;
    ClassSym* cls;          // Class of `this`, or null.
    Type* return_type;
    bool is_main;
    bool is_ctor;
    Vector<Insn> code;
    Vector<u32> lines;
    Vector<Handler> handlers;
    Vector<u8> reg_is_ref;
    Vector<u16> free_int;
    Vector<u16> free_ref;
    Vector<Local> locals;         // The checker's scopes.
    Vector<CheckLoop> check_loops;
    Vector<u16> local_regs;       // The emitter's: register by local number.
    Vector<LiveLocal> live;       // The emitter's scopes.
    Vector<LoopContext> loops;
    Vector<TryContext> trys;
    NameIndex* local_index;   // Name -> innermost local; made once a function has many locals.
    u32 label_high;           // The highest position here() handed out: a jump may land there.
    u32 scope_depth;          // The checker's.
    u32 emit_depth;           // The emitter's.
    u32 local_count;          // Locals numbered so far.
    u32 unreachable;          // The checker is inside code that cannot run (its breaks do not count).
    u32 register_count;
    bool too_many_registers;
    u32 diagnostic_line;      // Transcript mode: line of the first error in this function.
};

constexpr u32 kMaxRegisters = 60000;
constexpr u32 kMaxParams = kMaxFunctionParams;
// Up to this many fields, methods, vtable entries or locals a scan is as fast
// as a hash index; past it a class or function gets one.
constexpr u32 kIndexFrom = 12;
constexpr u32 kNoLocal = 0xffffffffu;
// Compile work between calls of the poll hook, unless the options say.
constexpr u32 kPollInterval = 1u << 16;
// Bound on the statements and expressions compiled, per byte of source (plus
// a floor): each is compiled once, except that a finally block is compiled
// again at every jump out of its try statement, and nested copies multiply.
// A program past this is refused rather than compiled for minutes.
constexpr u64 kNodesPerSourceByte = 8;
constexpr u64 kNodesFloor = 1u << 20;

class Compiler {
public:
    Compiler(Memory* memory, Heap* heap, Arena* arena, Diagnostics* diagnostics, const CompileOptions& options)
        : m_memory(memory), m_heap(heap), m_arena(arena), m_diag(diagnostics), m_options(options),
          m_types(arena, memory), m_classes(memory), m_functions(memory), m_globals(memory),
          m_function_index(memory, options.hash_seed), m_global_index(memory, options.hash_seed),
          m_constants(memory), m_constant_kinds(memory), m_constant_types(memory), m_program_types(memory, &m_types),
          m_runtime_functions(memory),
          m_class_index(memory, options.hash_seed), m_constant_index(memory, options.hash_seed),
          m_string_index(memory, options.hash_seed), m_class_order(memory), m_body_arena(memory), m_statement_arena(memory),
          m_class_constants(memory), m_qualified(memory)
    {
        m_types.set_seed(options.hash_seed);
        m_meter.init(&Compiler::interval_hook, this, options.poll_interval ? options.poll_interval : kPollInterval);
    }
    ~Compiler();

    bool compile(const char* source, usize length, Program* out);

private:
    bool compile_all(const char* source, usize length);
    // --- errors and memory
    void error(u32 line, u32 column, const char* format, const char* s1 = nullptr, const char* s2 = nullptr,
        i64 n = 0, const char* s3 = nullptr);
    // "did you mean" and signatures in errors (Compiler.cpp).
    enum SuggestFrom : u8 { SuggestValues = 1, SuggestFunctions = 2, SuggestFields = 4, SuggestMethods = 8 };
    const char* did_you_mean(const char* name, u8 from, ClassSym* cls);
    void undefined_error(const Expr* e, const char* format, const char* name, u8 from, ClassSym* cls = nullptr);
    void member_error(const Expr* e, const char* format, const char* cls_name, const char* name, u8 from,
        ClassSym* cls);
    void signature_text(FuncSym* f, char* out, usize size);
    void argument_error(const Expr* e, Type* given, Type* expected, FuncSym* f, u32 index);
    void arity_error(const Expr* e, const char* format, const char* name, u32 argc, FuncSym* const* candidates,
        u32 count);
    void error_at(const Expr* e, const char* format, const char* s1 = nullptr, const char* s2 = nullptr)
    {
        error(e->line, e->column, format, s1, s2);
    }
    void type_error(const Expr* e, const char* format, Type* a, Type* b = nullptr);
    void no_method_error(const Expr* e, Type* t, const char* name, u32 argc);
    void operator_error(const Expr* e, Tok op, Type* a, Type* b);
    void oom() { m_diag->set_out_of_memory(); m_failed = true; }
    // Counts [units] of compile work, calling the poll hook when one is due;
    // false (and the compile stops) when the hook said stop or the program
    // needs too much work. Cheap when no call is due.
    bool tick(u32 units = 1)
    {
        if (KS_LIKELY(m_meter.charge(units)))
            return true;
        stop_work();
        return false;
    }
    // tick() for one statement or expression compiled, which also counts
    // toward the bound of kNodesPerSourceByte.
    bool tick_node()
    {
        m_nodes++;
        return tick();
    }
    static bool interval_hook(void* self);
    void stop_work();
    NameIndex* new_index();
    void free_index(NameIndex*& index);
    template<typename T>
    T* arena_array(u32 n)
    {
        if (!n)
            return nullptr;
        T* p = static_cast<T*>(m_arena->alloc(sizeof(T) * n));
        if (!p)
            oom();
        else
            mem_set(static_cast<void*>(p), 0, sizeof(T) * n);
        return p;
    }
    const char* persist(const char* s);   // Copy that outlives compilation.
    // The contents of [v] copied into the program arena; [v] is emptied
    // and keeps its room (for release_state() to recycle).
    template<typename T>
    T* copy_out(Vector<T>& v, u32* n)
    {
        *n = v.size();
        T* copy = static_cast<T*>(m_out->arena.copy(v.data(), sizeof(T) * v.size()));
        if (!copy && v.size()) {
            oom();
            *n = 0;
        }
        v.clear();
        return copy;
    }
    // copy_out(), and [v]'s memory is freed.
    template<typename T>
    T* keep(Vector<T>& v, u32* n)
    {
        T* copy = copy_out(v, n);
        v.release();
        return copy;
    }

    // --- declarations
    bool parse(const char* source, usize length, bool prelude, SyntaxTree* out);
    Block* parse_body(FuncDecl* d);
    void compile_body(FunctionState* fs, FuncSym* sym, FuncDecl* d);
    void declare_classes(SyntaxTree& program, bool prelude);
    void resolve_class(ClassSym* cls);
    void declare_functions(SyntaxTree& program, bool prelude);
    void declare_method(ClassSym* cls, FuncDecl* decl, bool prelude);
    void declare_static(ClassSym* cls, FuncDecl* decl, bool prelude);
    void declare_class_constants();
    void init_class_constants();
    const char* qualified(const char* cls, const char* name);
    ClassSym* static_scope();
    FuncSym* static_function(ClassSym* cls, const char* name, u32 argc, bool* other_count = nullptr);
    GlobalSym* class_constant(ClassSym* cls, const char* name);
    ClassSym* class_receiver(Expr* e);
    void build_vtables();
    FuncSym* new_func_sym(FuncDecl* decl, const char* name, ClassSym* owner, bool prelude);
    bool resolve_signature(FuncSym* f);
    Type* resolve_type(TypeRef* ref, bool allow_void = false);
    ClassSym* find_class(const char* name);
    FuncSym* find_function(const char* name, u32 argc);
    bool function_name_exists(const char* name);
    FuncSym* find_method(ClassSym* cls, const char* name, u32 argc);
    FuncSym* find_own_method(ClassSym* cls, const char* name, u32 argc);
    FieldSym* find_field(ClassSym* cls, const char* name);
    void add_field(ClassSym* cls, const FieldSym& field);
    void number_classes();
    void build_vtable(ClassSym* c);
    ClassSym* common_superclass(ClassSym* a, ClassSym* b);
    GlobalSym* find_global(const char* name);
    bool is_subclass(ClassSym* sub, ClassSym* super);
    bool assignable(Type* to, Type* from);
    bool build_runtime_classes();

    // --- functions
    bool begin_function(FunctionState* fs, FuncSym* sym, ClassSym* cls);
    bool finish_function(FunctionState* fs, const char* name, u32 line, Function** out);
    void release_state(FunctionState* fs);
    void compile_main(SyntaxTree& program);
    void check_field_initializers(FunctionState* main);
    FieldSym* initialized_field(ClassSym* cls, FieldDecl* fd);
    void check_own_field_initializers(ClassSym* cls, ClassDecl* cd);
    void sort_by_line(u32* list, u32 n);
    u32 through_first_error(const u32* list, u32 n);
    void report_on_first_call(u32 diag_before, u32 line);
    bool main_item(Stmt* s, bool has_error);
    void report_item(u32 line, const u32* early, u32 early_count, u32 diag_before, bool has_error, u32 code_start);
    bool raise_compile_error(Stmt* s);
    void compile_function(FuncSym* f);
    void compile_undefined(FunctionState* fs, FuncSym* sym);
    void compile_bodies();
    void mark_unused_builtins();

    // --- registers and code (Emit.cpp); the checker's locals (CheckStatements.cpp)
    u16 alloc_reg(bool ref);
    u16 alloc_for(Type* t) { return alloc_reg(is_reference(t)); }
    void free_reg(u16 reg);
    void release(Operand& op)
    {
        if (op.temp) {
            free_reg(op.reg);
            op.temp = false;
        }
    }
    Local* find_local(const char* name);
    Local* find_indexed_local(const char* name);
    Local* declare_local(const char* name, Type* type, u32 line, u32 column, bool is_const);
    bool index_local(u32 i);
    void unindex_local(u32 i);
    void pop_local();
    u16 emit_local(u32 number, Type* type);
    // The register of the local numbered [number] (see emit_local()).
    u16 local_reg(u32 number) const { return m_fs->local_regs[number]; }
    // Opens a scope of the emitter's locals.
    void begin_scope() { m_fs->emit_depth++; }
    void end_scope();
    // The position of the next instruction, which the caller may make a
    // jump target: remembered, so that no peephole merges across it.
    u32 here() const
    {
        u32 n = m_fs->code.size();
        if (n > m_fs->label_high)
            m_fs->label_high = n;
        return n;
    }
    u32 emit(Op op, u32 a = 0, u32 b = 0, u32 c = 0, u8 x = 0);
    bool fuse_global_increment(u32 reg, u32 global);
    u32 emit_imm(Op op, u32 a, i32 imm, u8 x = 0);
    void emit_args(const u16* regs, u32 count);
    u32 emit_jump(Op op, u16 a = 0) { return emit_imm(op, a, 0); }
    void patch_jump(u32 at);
    void patch_jump_to(u32 at, u32 target);
    void emit_loop(u32 target);
    u32 add_constant(u64 value, u8 kind, Type* type);
    u32 type_index(Type* t);
    bool main_only(const char* name);
    void check_top_level_name(Stmt* s);
    i32 int_constant_operand(Expr* e);
    void move_code_before(u32 at, u32 mid);
    Operand assigned_value(Expr* value, Type* t);
    Operand void_operand() { return Operand { m_types.void_type(), 0, false }; }
    u32 string_constant(const char* s, usize n);
    void load_int(u16 reg, i64 value);
    void load_null(u16 reg, Type* type);
    u64 null_value(Type* type);
    void emit_move(u16 to, u16 from)
    {
        if (to != from)
            emit(Op::Move, to, from);
    }

    // --- the checker (Checker.cpp, CheckCalls.cpp, CheckStatements.cpp)
    Type* typed(Expr* e, Type* t);
    // The static type the checker gave [e].
    Type* type_of(const Expr* e) { return m_types.by_id(e->type_id); }
    Type* check(Expr* e, Type* expected = nullptr);
    void check_into(Expr* e, Type* dest_type, const char* context, FuncSym* func = nullptr, u32 index = 0);
    Type* check_coerce(Type* t, Type* to, Expr* at);
    Type* check_name(Expr* e);
    Type* check_unary(Expr* e);
    bool check_compare(Expr* e, Type* ta, Type* tb);
    Type* check_binary(Expr* e);
    Type* check_logical(Expr* e);
    void check_condition(Expr* cond);
    void check_assigned(Expr* value, Type* t);
    Type* check_declare_global(Expr* e, Expr* target, Expr* value, bool implicit);
    void check_compound_value(Expr* e, Tok base, Type* t);
    Type* check_assign(Expr* e);
    Type* check_incdec(Expr* e);
    void incdec_as_assign(const Expr* e, Expr* one, Expr* assign);
    Expr* assigned_expr(Expr* e, Expr* synthetic);
    Type* check_conditional(Expr* e, Type* expected);
    bool check_type_test(Expr* e, Type** a, Type** t);
    Type* check_instanceof(Expr* e);
    Type* check_as(Expr* e);
    Type* check_to(Expr* e);
    Type* check_defined(Expr* e);
    bool defined_signature(Expr* e);
    void report_implicit_global(Expr* target, Type* t);
    void method_error(Expr* e, ClassSym* cls, const char* name);
    Type* check_block_expr(Expr* e, Type* expected);
    Type* check_member(Expr* e);
    Type* check_index(Expr* e);
    void check_args(Expr* call, Type** params, u32 count, FuncSym* func);
    Type* check_call_function(Expr* e, FuncSym* f);
    Type* check_call_native(Expr* e, i32 native, Type* receiver_type);
    const char* native_params(i32 native, Type* receiver_type, Type** params);
    Type* check_call_value(Expr* e, Type* ft);
    Type* check_call(Expr* e);
    Type* check_method_call(Expr* e);
    bool check_accessor(Expr* e, ClassSym* cls, const char* name, Type** out);
    Type* check_new(Expr* e);
    Type* check_new_array(Expr* e);
    Type* check_array_literal(Expr* e, Type* expected);
    Type* check_format(Expr* e);
    bool check_statement(Stmt* s);
    void begin_check_scope();
    void end_check_scope();
    bool check_block(Block* b);
    bool check_block_statements(Block* b);
    void check_unreachable(Stmt* s);
    u32 check_loop_body(Stmt* body, bool is_switch);
    void check_jump(Stmt* s, bool is_break);
    void check_return(Stmt* s);
    void check_var(Stmt* s, bool top_level);
    void check_foreach(Stmt* s);
    bool check_switch(Stmt* s);
    bool check_try(Stmt* s);
    bool names_only_a_class(const char* name);
    void report_inferred(Stmt* s, Type* t);
    Type* inferred_type(Stmt* s, Type* t);

    // --- statements (the emitter: the tree is checked and has no errors)
    bool statement(Stmt* s);            // Returns whether control can fall through.
    bool block(Block* b);
    bool block_statements(Block* b);
    void declare_skipped(Stmt* s, bool top_level);
    void var_statement(Stmt* s, bool top_level);
    bool if_statement(Stmt* s);
    bool while_statement(Stmt* s);
    bool do_statement(Stmt* s);
    bool for_statement(Stmt* s);
    void loop_body(Stmt* body, Vector<u32>* breaks);
    void loop_back_if(Expr* cond, u32 top);
    bool foreach_statement(Stmt* s);
    bool try_statement(Stmt* s);
    bool switch_statement(Stmt* s);
    void return_statement(Stmt* s);
    void jump_out(Stmt* s, bool is_break);
    void emit_finally_blocks(u32 down_to);
    bool add_handlers(Vector<Handler>* handlers, u32 start, u32 end, CutList* cuts, u32 target, u16 reg);
    void condition_jump(Expr* cond, bool jump_if, Vector<u32>* patches);

    // --- expressions (the emitter)
    Operand expr(Expr* e, Type* expected = nullptr, i32 dest = -1);
    void expr_into(Expr* e, u16 dest, Type* dest_type);
    Operand coerce(Operand op, Type* to);
    Operand target_reg(i32 dest, Type* type);
    Operand literal(Expr* e, i32 dest, Type* expected);
    Operand name_expr(Expr* e, i32 dest);
    Operand script_argv(Expr* e, i32 dest);
    Operand member_expr(Expr* e, i32 dest);
    Operand index_expr(Expr* e, i32 dest);
    Operand call_expr(Expr* e, i32 dest);
    Operand call_function(Expr* e, FuncSym* f, Operand* receiver, bool virtual_call, i32 dest);
    Operand call_native(Expr* e, i32 native, Operand* receiver, Type* receiver_type, i32 dest);
    Operand call_value(Expr* e, Operand callee, i32 dest);
    Operand method_call(Expr* e, i32 dest);
    Operand splice_call(Expr* e, Operand obj, i32 dest);
    FieldSym* accessor_field(ClassSym* cls, const char* rest);
    Operand accessor_call(Expr* e, Operand obj, i32 dest);
    Operand new_expr(Expr* e, i32 dest);
    Operand new_array_expr(Expr* e, i32 dest);
    Operand array_literal(Expr* e, Type* expected, i32 dest);
    Operand format_call(Expr* e, i32 dest);
    Operand unary_expr(Expr* e, i32 dest);
    Operand binary_expr(Expr* e, i32 dest);
    Operand logical_expr(Expr* e, i32 dest);
    Operand assign_expr(Expr* e, i32 dest);
    Operand assign_field(Expr* e, Tok base);
    Operand assign_element(Expr* e, Tok base);
    Operand declare_global_by_assignment(Expr* e, Expr* value);
    Operand incdec_expr(Expr* e);
    void compound_value(Expr* e, Tok base, Type* t, u16 old, u16 dest);
    Operand conditional_expr(Expr* e, Type* expected, i32 dest);
    Operand instanceof_expr(Expr* e, i32 dest);
    Operand as_expr(Expr* e, i32 dest);
    bool boxes(Type* to, Type* from);
    Operand box(Operand v, i32 dest);
    Operand unbox(Operand v, Type* t, i32 dest);
    u16 type_operand(Type* t, Expr* e);
    Operand checked_cast(Operand v, Type* t, Expr* e, i32 dest);
    Operand downcast(Operand v, Type* t, i32 dest);
    Operand object_to_scalar(Operand v, Type* t, Expr* e, i32 dest);
    i64 static_type_id(Type* t);
    Operand to_expr(Expr* e, i32 dest);
    Operand block_expr(Expr* e, Type* expected, i32 dest);
    Operand defined_expr(Expr* e, i32 dest);
    Operand to_string(Operand value, Expr* at, i32 dest);
    Operand string_of(Operand value, Expr* at);
    void args_into(Expr* call, Type** params, u32 count, u16* regs, Operand* receiver);
    Operand function_value(FuncSym* f, i32 dest);
    Type* native_type(char code, Type* receiver);
    void compare_equal(Expr* e, Operand& a, Operand& b, u16 dest, bool negate);

    Memory* m_memory;
    Heap* m_heap;
    Arena* m_arena;
    Diagnostics* m_diag;
    CompileOptions m_options;
    const NameSet* m_shared_names { nullptr };
    TypeTable m_types;
    Vector<ClassSym*> m_classes;
    Vector<FuncSym*> m_functions;     // Every function, method and constructor.
    Vector<GlobalSym> m_globals;
    NameIndex m_function_index;       // Free functions (no owner) by name.
    NameIndex m_global_index;
    Vector<u64> m_constants;
    Vector<u8> m_constant_kinds;
    Vector<u32> m_constant_types;     // Index in m_program_types per constant.
    ProgramTypes m_program_types;     // The program's type table (for the verifier).
    Vector<Function*> m_runtime_functions;
    NameIndex m_class_index;
    NameIndex m_constant_index;       // (value, kind) -> constant.
    NameIndex m_string_index;         // String contents -> constant.
    Vector<ClassSym*> m_class_order;  // Superclasses first (see number_classes()).
    WorkMeter m_meter;
    u64 m_nodes { 0 };                // Statements and expressions compiled.
    u64 m_node_limit { kNodesFloor };
    bool m_too_much_work { false };
    bool m_stopped { false };
    bool m_numbered { false };        // The class tree is numbered: is_subclass() is O(1).
    u32 m_resolve_round { 0 };
    SyntaxTree m_prelude {};
    SyntaxTree m_program {};
    // The parsers of the prelude and the script (and the token lists of
    // their first pass, empty after it), kept for the whole compile: the
    // bodies that lazy parsing skipped are lexed and parsed again when
    // compiled (parse_body()), into m_body_arena, reset each time.
    struct Source {
        TokenList tokens;
        Parser* parser;
        explicit Source(Memory* memory) : tokens(memory), parser(nullptr) {}
    };
    Source* m_sources[2] { nullptr, nullptr };
    Arena m_body_arena;
    Arena m_statement_arena;   // The script's top-level statements, freed after <main> is compiled.
    FunctionState* m_fs { nullptr };
    // Empty vectors with room, kept from the functions compiled before: the
    // next function's state starts with them (begin_function(),
    // release_state()), so that a program of a thousand small functions is
    // not twelve thousand allocations and frees of the same few sizes.
    FunctionState m_spare {};
    ClassSym* m_object { nullptr };
    ClassSym* m_exception { nullptr };
    Program* m_out { nullptr };
    u32 m_line { 0 };
    u32 m_expr_depth { 0 };
    bool m_failed { false };
    bool m_in_prelude { false };
    u32 m_check_errors { 0 };           // Errors the checker found so far (per statement: Stmt::has_error).
    bool m_implicit_globals { false };   // AllowImplicitGlobalVariable(true) was compiled.
    // Class constants (`static const T NAME = v` in a class): globals named
    // "Class.NAME", set at the start of <main> in class order.
    struct ClassConstant {
        ClassSym* cls;
        FieldDecl* decl;
        u32 global;
    };
    Vector<ClassConstant> m_class_constants;
    StringBuilder m_qualified;            // qualified()'s "Class.name", reused.
    ClassSym* m_const_class { nullptr };  // The class whose constant's initializer is being compiled.
    u32 m_static_count { 0 };             // Static functions and class constants: none, no lookups.
    u32 m_suggestions { 0 };              // did_you_mean() searches made (bounded per compile).
};

// Jump threading of a finished function's [code] (Peephole.cpp).
void thread_jumps(Vector<Insn>& code);

// The library class whose natives serve values of type [t] (String, Array,
// Map, Bytes), or null for other types.
inline const char* native_owner(Type* t)
{
    switch (t->kind) {
    case TypeKind::String: return "String";
    case TypeKind::Array: return "Array";
    case TypeKind::Map: return "Map";
    case TypeKind::Bytes: return "Bytes";
    default: return nullptr;
    }
}

}   // namespace ks::compiler
