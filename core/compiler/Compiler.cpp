// The compiler. Order of work (see compile()):
//  1. Parse the prelude (built-in classes, in kscript) and the script.
//  2. Declare classes, resolve superclasses, lay out fields, collect methods
//     (from class bodies and `R Class.name(...)` definitions) and build
//     vtables, superclass first.
//  3. Declare top-level functions (overloaded by parameter count).
//  4. Compile the top-level statements into <main>, declaring globals as
//     they come; then every function, method and constructor body.
// Expressions are checked and emitted together: each returns an Operand, the
// register that holds its value and its static type.
//
// Registers have a fixed kind per function: a register that ever holds a
// reference holds only references (the VM clears such registers on entry),
// so the GC can scan exactly the reference registers of every frame.
#include "Compiler.h"

#include "../support/NameIndex.h"
#include "../support/StringBuilder.h"
#include "../support/WorkMeter.h"
#include "../vm/Natives.h"
#include "Lexer.h"
#include "Parser.h"
#include "Prelude.h"

namespace ks {

namespace {

struct Operand {
    Type* type;
    u16 reg;
    bool temp;
};

struct Local {
    const char* name;
    Type* type;
    u16 reg;
    u32 depth;
    bool is_const;
    u32 shadowed;       // With an index of locals: index + 1 of the local this one hides (0: none).
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
    u32 local_count;    // Locals in scope at the loop.
};

// Pairs [from, to) of code inside a try statement's range that its handler
// must not cover (the copies of finally blocks run on the way out).
struct CutList {
    Vector<u32> pairs;
    u32 high;           // No pair starts at or ends after this (drop_code_from() skips the list below it).
};

struct TryContext {
    Block* finally_block;
    u32 start;
    CutList* cuts;
};

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
    Vector<Local> locals;
    Vector<LoopContext> loops;
    Vector<TryContext> trys;
    NameIndex* local_index;   // Name -> innermost local; made once a function has many locals.
    u32 handler_high;         // No handler ends after this or has its target at or past it.
    u32 scope_depth;
    u32 register_count;
    bool too_many_registers;
    u32 diagnostic_line;      // Transcript mode: line of the first error in this function.
};

constexpr u32 kMaxRegisters = 60000;
constexpr u32 kMaxParams = 250;
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
          m_string_index(memory, options.hash_seed), m_class_order(memory)
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
        i64 n = 0);
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
    // The contents of [v] copied into the program arena; [v] is emptied.
    template<typename T>
    T* keep(Vector<T>& v, u32* n)
    {
        *n = v.size();
        T* copy = static_cast<T*>(m_out->arena.copy(v.data(), sizeof(T) * v.size()));
        if (!copy && v.size()) {
            oom();
            *n = 0;
        }
        v.release();
        return copy;
    }

    // --- declarations
    bool parse(const char* source, usize length, bool prelude, SyntaxTree* out);
    void declare_classes(SyntaxTree& program, bool prelude);
    void resolve_class(ClassSym* cls);
    void declare_functions(SyntaxTree& program, bool prelude);
    void declare_method(ClassSym* cls, FuncDecl* decl, bool prelude);
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
    void compile_function(FuncSym* f);
    void compile_bodies();
    void mark_unused_builtins();

    // --- registers, locals, code
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
    void begin_scope() { m_fs->scope_depth++; }
    void end_scope();
    u32 here() const { return m_fs->code.size(); }
    u32 emit(Op op, u32 a = 0, u32 b = 0, u32 c = 0, u8 x = 0);
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
    void drop_code_from(u32 start);
    Operand assigned_value(Expr* value, Type* t);
    u32 string_constant(const char* s, usize n);
    void load_int(u16 reg, i64 value);
    void load_null(u16 reg, Type* type);
    u64 null_value(Type* type);
    void emit_move(u16 to, u16 from)
    {
        if (to != from)
            emit(Op::Move, to, from);
    }

    // --- statements
    bool statement(Stmt* s);            // Returns whether control can fall through.
    bool block(Block* b);
    bool block_statements(Block* b);
    void var_statement(Stmt* s, bool top_level);
    bool if_statement(Stmt* s);
    bool while_statement(Stmt* s);
    bool do_statement(Stmt* s);
    bool for_statement(Stmt* s);
    void loop_body(Stmt* body, Vector<u32>* breaks);
    void loop_back_if(Expr* cond, u32 top);
    bool foreach_statement(Stmt* s);
    bool try_statement(Stmt* s);
    void return_statement(Stmt* s);
    void jump_out(Stmt* s, bool is_break);
    void emit_finally_blocks(u32 down_to);
    bool add_handlers(Vector<Handler>* handlers, u32 start, u32 end, CutList* cuts, u32 target, u16 reg);
    void condition_jump(Expr* cond, bool jump_if, Vector<u32>* patches);

    // --- expressions
    Operand expr(Expr* e, Type* expected = nullptr, i32 dest = -1);
    void expr_into(Expr* e, u16 dest, Type* dest_type, const char* context);
    Operand coerce(Operand op, Type* to, Expr* at, const char* context);
    Operand error_operand();
    Operand target_reg(i32 dest, Type* type);
    Operand literal(Expr* e, i32 dest, Type* expected);
    Operand name_expr(Expr* e, i32 dest);
    Operand member_expr(Expr* e, i32 dest);
    Operand index_expr(Expr* e, i32 dest);
    Operand call_expr(Expr* e, i32 dest);
    Operand call_function(Expr* e, FuncSym* f, Operand* receiver, bool virtual_call, i32 dest);
    Operand call_native(Expr* e, i32 native, Operand* receiver, Type* receiver_type, i32 dest);
    Operand call_value(Expr* e, Operand callee, i32 dest);
    Operand method_call(Expr* e, i32 dest);
    Operand new_expr(Expr* e, i32 dest);
    Operand new_array_expr(Expr* e, i32 dest);
    Operand array_literal(Expr* e, Type* expected, i32 dest);
    Operand unary_expr(Expr* e, i32 dest);
    Operand binary_expr(Expr* e, i32 dest);
    Operand logical_expr(Expr* e, i32 dest);
    Operand assign_expr(Expr* e, i32 dest);
    Operand incdec_expr(Expr* e);
    void compound_value(Expr* e, Tok base, Type* t, u16 old, u16 dest);
    Operand conditional_expr(Expr* e, Type* expected, i32 dest);
    Operand instanceof_expr(Expr* e, i32 dest);
    Operand as_expr(Expr* e, i32 dest);
    Operand to_expr(Expr* e, i32 dest);
    Operand block_expr(Expr* e, Type* expected, i32 dest);
    Operand to_string(Operand value, Expr* at, i32 dest);
    Operand string_of(Operand value, Expr* at);
    void args_into(Expr* call, Type** params, u32 count, u16* regs, Operand* receiver);
    Operand function_value(FuncSym* f, i32 dest);
    Type* native_type(char code, Type* receiver);
    bool compare_equal(Expr* e, Operand& a, Operand& b, u16 dest, bool negate);

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
    FunctionState* m_fs { nullptr };
    ClassSym* m_object { nullptr };
    ClassSym* m_exception { nullptr };
    Program* m_out { nullptr };
    u32 m_line { 0 };
    u32 m_expr_depth { 0 };
    bool m_failed { false };
    bool m_in_prelude { false };
    u32 m_statement_errors { 0 };
};

Compiler::~Compiler()
{
    for (ClassSym* c : m_classes) {
        c->fields.release();
        c->methods.release();
        c->ctors.release();
        c->vtable.release();
        free_index(c->field_index);
        free_index(c->method_index);
        free_index(c->vtable_index);
    }
}

// The work meter's hook (every poll interval of work): refuses a program
// that needs too much work, then asks the host whether to go on.
bool Compiler::interval_hook(void* self)
{
    Compiler* c = static_cast<Compiler*>(self);
    if (c->m_nodes > c->m_node_limit) {
        c->m_too_much_work = true;
        return false;
    }
    return !c->m_options.poll || c->m_options.poll(c->m_options.poll_context);
}

// The compile stops (the poll hook said so, or the work bound was passed):
// one error, kept even past the cap on diagnostics so that the caller sees
// why, and everything unwinds through m_failed. Out of line, as the rare
// path of tick(), which the recursive expr() and statement() call.
KS_NOINLINE void Compiler::stop_work()
{
    if (m_stopped)
        return;
    m_stopped = true;
    m_failed = true;
    u32 line = m_line ? m_line : 1;
    if (m_too_much_work)
        m_diag->error_past_cap(line, 1, "the program needs too much work to compile (finally blocks copied at too many "
                                        "jumps out of their try statements?)");
    else
        m_diag->error_past_cap(line, 1, "compilation interrupted");
}

// A hash index of the compiler's seed, on the heap (null when memory is short).
NameIndex* Compiler::new_index()
{
    void* place = m_memory->alloc(sizeof(NameIndex));
    if (!place) {
        oom();
        return nullptr;
    }
    return new (KsPlace {}, place) NameIndex(m_memory, m_options.hash_seed);
}

void Compiler::free_index(NameIndex*& index)
{
    if (!index)
        return;
    index->~NameIndex();
    m_memory->free(index);
    index = nullptr;
}

void Compiler::error(u32 line, u32 column, const char* format, const char* s1, const char* s2, i64 n)
{
    if (m_stopped)
        return;   // Whatever is still found while unwinding, the reason is the stop.
    m_statement_errors++;
    if (m_fs && !m_fs->diagnostic_line)
        m_fs->diagnostic_line = line ? line : 1;
    m_diag->error(line, column, format, s1, s2, n);
}

KS_NOINLINE void Compiler::type_error(const Expr* e, const char* format, Type* a, Type* b)
{
    if (a->kind == TypeKind::Error || (b && b->kind == TypeKind::Error))
        return;   // Already reported.
    char na[96], nb[96];
    TypeTable::name(a, na, sizeof(na));
    if (b)
        TypeTable::name(b, nb, sizeof(nb));
    error(e->line, e->column, format, na, b ? nb : nullptr);
}

// Error helpers with type names: out of line, so that the buffers for the
// names are not part of the recursive functions' stack frames.
KS_NOINLINE void Compiler::no_method_error(const Expr* e, Type* t, const char* name, u32 argc)
{
    char tn[96];
    TypeTable::name(t, tn, sizeof(tn));
    error(e->line, e->column, "'%s' has no method '%s' taking %d arguments", tn, name, argc);
}

KS_NOINLINE void Compiler::operator_error(const Expr* e, Tok op, Type* a, Type* b)
{
    char sa[96], sb[96], both[200];
    TypeTable::name(a, sa, sizeof(sa));
    TypeTable::name(b, sb, sizeof(sb));
    usize n = 0;
    for (const char* p = sa; *p && n < 90; p++)
        both[n++] = *p;
    for (const char* p = "' and '"; *p; p++)
        both[n++] = *p;
    for (const char* p = sb; *p && n < 190; p++)
        both[n++] = *p;
    both[n] = 0;
    error(e->line, e->column, "operator '%s' cannot be applied to '%s'", token_text(op), both);
}

const char* Compiler::persist(const char* s)
{
    usize n = str_length(s);
    char* p = static_cast<char*>(m_out->arena.alloc(n + 1));
    if (!p) {
        oom();
        return "";
    }
    mem_copy(p, s, n + 1);
    return p;
}

// ---------------------------------------------------------------------------
// Declarations

bool Compiler::parse(const char* source, usize length, bool prelude, SyntaxTree* out)
{
    Vector<Token> tokens(m_memory);
    Lexer lexer(source, length, m_arena, m_diag, &m_meter);
    if (!lexer.tokenize(&tokens)) {
        if (m_meter.stopped())
            stop_work();
        else
            oom();
        return false;
    }
    Parser parser(tokens.data(), tokens.size(), m_arena, m_memory, m_diag, m_options.max_nesting, &m_meter,
        m_options.hash_seed);
    *out = parser.parse_program();
    (void)prelude;
    if (m_meter.stopped()) {
        stop_work();
        return false;
    }
    return !m_diag->out_of_memory();
}

ClassSym* Compiler::find_class(const char* name)
{
    i64 id = m_class_index.find(name, [&](u32 i) { return str_equal(m_classes[i]->name, name); });
    return id >= 0 ? m_classes[(u32)id] : nullptr;
}

Type* Compiler::resolve_type(TypeRef* ref, bool allow_void)
{
    if (!ref)
        return m_types.error();
    Type* t = nullptr;
    const char* n = ref->name;
    if (ref->arg_count) {
        u32 count = ref->arg_count > kMaxParams ? kMaxParams : ref->arg_count;
        // On the arena, not the stack: this function recurses over nested types.
        Type** args = arena_array<Type*>(count);
        if (!args)
            return m_types.error();
        for (u32 i = 0; i < count; i++) {
            args[i] = resolve_type(ref->args[i], str_equal(n, "Func") && i == 0);
            if (args[i]->kind == TypeKind::Error)
                return args[i];
        }
        if (str_equal(n, "Array")) {
            if (count != 1) {
                error(ref->line, ref->column, "Array takes one type argument");
                return m_types.error();
            }
            t = m_types.array_of(args[0]);
        } else if (str_equal(n, "Map")) {
            if (count != 2) {
                error(ref->line, ref->column, "Map takes two type arguments: Map[K, V]");
                return m_types.error();
            }
            if (args[0]->kind != TypeKind::Int && args[0]->kind != TypeKind::String) {
                error(ref->line, ref->column, "Map keys must be int or String");
                return m_types.error();
            }
            t = m_types.map_of(args[0], args[1]);
        } else if (str_equal(n, "Func")) {
            t = m_types.func_of(args[0], args + 1, count - 1);
        } else {
            error(ref->line, ref->column, "'%s' takes no type arguments", n);
            return m_types.error();
        }
    } else if (str_equal(n, "int")) {
        t = m_types.int_type();
    } else if (str_equal(n, "boolean")) {
        t = m_types.boolean();
    } else if (str_equal(n, "void")) {
        t = m_types.void_type();
        if (!allow_void || ref->dims) {
            error(ref->line, ref->column, "'void' is not a type for values");
            return m_types.error();
        }
    } else if (str_equal(n, "String")) {
        t = m_types.string();
    } else if (str_equal(n, "Bytes")) {
        t = m_types.bytes();
    } else if (str_equal(n, "Array") || str_equal(n, "Map") || str_equal(n, "Func")) {
        error(ref->line, ref->column, "'%s' needs type arguments", n);
        return m_types.error();
    } else {
        ClassSym* c = find_class(n);
        if (!c) {
            error(ref->line, ref->column, "unknown type '%s'", n);
            return m_types.error();
        }
        t = c->type;
    }
    for (u32 i = 0; t && i < ref->dims; i++)
        t = m_types.array_of(t);
    if (!t) {
        oom();
        return m_types.error();
    }
    return t;
}

void Compiler::declare_classes(SyntaxTree& program, bool prelude)
{
    for (u32 i = 0; i < program.count; i++) {
        ClassDecl* d = program.items[i].klass;
        if (program.items[i].kind != ItemKind::Class || !d)
            continue;
        if (find_class(d->name) || str_equal(d->name, "String") || str_equal(d->name, "int")
            || str_equal(d->name, "Array") || str_equal(d->name, "Map") || str_equal(d->name, "Func")
            || str_equal(d->name, "Bytes") || str_equal(d->name, "System") || str_equal(d->name, "Linux")) {
            error(d->line, d->column, "class '%s' is already defined", d->name);
            continue;
        }
        ClassSym* c = m_arena->make<ClassSym>();
        if (!c) {
            oom();
            return;
        }
        c->name = d->name;
        c->decl = d;
        c->builtin = prelude;
        c->line = d->line;
        c->column = d->column;
        c->fields.set_memory(m_memory);
        c->methods.set_memory(m_memory);
        c->ctors.set_memory(m_memory);
        c->vtable.set_memory(m_memory);
        c->type = m_types.class_type(c);
        c->id = m_classes.size();
        if (!c->type || !m_classes.try_append(c) || !m_class_index.add(c->name, c->id)) {
            oom();
            return;
        }
        if (!tick())
            return;
    }
}

// Is [sub] [super] or a subclass of it? Once the class tree is numbered
// (number_classes()) a comparison of preorder numbers; before, a walk up the
// chain (only build_vtables() and later ask, after the numbering).
bool Compiler::is_subclass(ClassSym* sub, ClassSym* super)
{
    if (!sub || !super)
        return false;
    if (m_numbered)
        return super->pre <= sub->pre && sub->pre <= super->last;
    for (u32 guard = 0; sub && guard <= m_classes.size(); sub = sub->super, guard++)
        if (sub == super)
            return true;
    return false;
}

// Lays out the fields of [cls], superclass first. Iterative: the chain of
// unresolved ancestors is collected, then resolved from the top. A class is
// marked with the number of the call while on the chain, so that a cycle is
// seen without searching the chain (which made a long chain quadratic).
void Compiler::resolve_class(ClassSym* target)
{
    Vector<ClassSym*> chain(m_memory);
    u32 round = ++m_resolve_round;
    for (ClassSym* c = target; c && !c->resolved;) {
        if (c->mark == round) {
            error(c->line, c->column, "class '%s' inherits from itself", c->name);
            for (ClassSym* s : chain) {
                s->super = m_object;
            }
            c->super = c == m_object ? nullptr : m_object;
            break;
        }
        c->mark = round;
        if (!chain.try_append(c)) {
            oom();
            return;
        }
        c = c->super;
    }
    for (u32 i = chain.size(); i-- > 0;) {
        ClassSym* c = chain[i];
        if (c->resolved)
            continue;
        c->resolved = true;
        ClassDecl* d = c->decl;
        if (c->super) {
            if (!c->super->resolved)
                resolve_class(c->super);   // Only after a cycle was broken; depth 1.
            ClassSym* super = c->super;
            u32 own = d ? d->field_count : 0;
            if (m_failed)
                return;
            if (!c->fields.try_reserve(super->fields.size() + own)) {
                oom();
                return;
            }
            for (FieldSym& f : super->fields)
                if (!c->fields.try_append(f))
                    oom();
            // The superclass's index of names holds the same slots.
            if (super->field_index) {
                c->field_index = new_index();
                if (c->field_index && !c->field_index->copy_from(*super->field_index, own))
                    oom();
            }
            if (m_failed || !tick(super->fields.size() / 16 + 1))
                return;
        }
        for (u32 j = 0; d && j < d->field_count; j++) {
            FieldDecl* fd = &d->fields[j];
            if (find_field(c, fd->name)) {
                error(fd->line, fd->column, "field '%s' is already defined in '%s'", fd->name, c->name);
                continue;
            }
            FieldSym f { fd->name, resolve_type(fd->type), c->fields.size(), fd, c };
            if (f.type->kind == TypeKind::Void)
                f.type = m_types.error();
            add_field(c, f);
            if (!tick())
                return;
        }
    }
}

// Appends [field] to the fields of [cls] (its slot is the next one), and to
// the class's index of field names once it has kIndexFrom fields.
void Compiler::add_field(ClassSym* cls, const FieldSym& field)
{
    if (!cls->fields.try_append(field)) {
        oom();
        return;
    }
    u32 n = cls->fields.size();
    if (n < kIndexFrom)
        return;
    if (!cls->field_index) {
        cls->field_index = new_index();
        for (u32 i = 0; cls->field_index && i + 1 < n; i++)
            if (!cls->field_index->add(cls->fields[i].name, i))
                oom();
    }
    if (cls->field_index && !cls->field_index->add(field.name, n - 1))
        oom();
}

// The field [name] of [cls] (its own or inherited: a class's fields include
// its superclasses'), or null.
FieldSym* Compiler::find_field(ClassSym* cls, const char* name)
{
    if (cls->field_index) {
        i64 slot = cls->field_index->find(name, [&](u32 i) { return str_equal(cls->fields[i].name, name); });
        return slot >= 0 ? &cls->fields[(u32)slot] : nullptr;
    }
    for (FieldSym& f : cls->fields)
        if (str_equal(f.name, name))
            return &f;
    return nullptr;
}

FuncSym* Compiler::new_func_sym(FuncDecl* decl, const char* name, ClassSym* owner, bool prelude)
{
    FuncSym* f = m_arena->make<FuncSym>();
    if (!f) {
        oom();
        return nullptr;
    }
    f->name = name;
    f->decl = decl && decl->body ? decl : nullptr;
    f->first_decl = decl;
    f->owner = owner;
    f->prelude = prelude;
    f->slot = -1;
    f->index = m_functions.size();
    if (!m_functions.try_append(f) || (!owner && !m_function_index.add(name, f->index))) {
        oom();
        return nullptr;
    }
    return f;
}

bool Compiler::resolve_signature(FuncSym* f)
{
    FuncDecl* d = f->first_decl;
    f->result = d && d->return_type ? resolve_type(d->return_type, true) : m_types.void_type();
    u32 n = d ? d->param_count : 0;
    if (n > kMaxParams) {
        error(d->line, d->column, "too many parameters (limit %d)", nullptr, nullptr, kMaxParams);
        n = kMaxParams;
    }
    f->param_count = n;
    f->params = arena_array<Type*>(n);
    // Duplicate names: a scan for a few parameters, an index for many (up
    // to kMaxParams each, in every function).
    NameIndex* names = n >= kIndexFrom ? new_index() : nullptr;
    for (u32 i = 0; i < n && f->params; i++) {
        f->params[i] = resolve_type(d->params[i].type);
        const char* name = d->params[i].name;
        bool twice = false;
        if (names) {
            twice = names->find(name, [&](u32 j) { return str_equal(d->params[j].name, name); }) >= 0;
            if (!twice && !names->add(name, i))
                oom();
        } else {
            for (u32 j = 0; j < i && !twice; j++)
                twice = str_equal(d->params[j].name, name);
        }
        if (twice)
            error(d->params[i].line, d->params[i].column, "parameter '%s' is declared twice", name);
    }
    free_index(names);
    f->func_type = m_types.func_of(f->result, f->params, n);
    if (!f->func_type) {
        oom();
        return false;
    }
    return true;
}

// Do two signatures have the same parameter types?
static bool same_params(FuncSym* a, FuncSym* b)
{
    if (a->param_count != b->param_count)
        return false;
    for (u32 i = 0; i < a->param_count; i++)
        if (a->params[i] != b->params[i])
            return false;
    return true;
}

// The method [name] taking [argc] arguments that an instance of [cls] runs:
// its own or the nearest superclass's. Once the class's vtable is built,
// that is the vtable entry of that name (through the vtable's index when it
// is long), so a deep chain of classes is not walked at every call.
FuncSym* Compiler::find_method(ClassSym* cls, const char* name, u32 argc)
{
    if (cls && cls->vtable_built) {
        auto match = [&](u32 slot) {
            FuncSym* m = cls->vtable[slot];
            return m->param_count == argc && str_equal(m->name, name);
        };
        if (cls->vtable_index) {
            i64 slot = cls->vtable_index->find(name, match);
            return slot >= 0 ? cls->vtable[(u32)slot] : nullptr;
        }
        for (u32 slot = 0; slot < cls->vtable.size(); slot++)
            if (match(slot))
                return cls->vtable[slot];
        return nullptr;
    }
    for (u32 guard = 0; cls && guard <= m_classes.size(); cls = cls->super, guard++)
        if (FuncSym* m = find_own_method(cls, name, argc))
            return m;
    return nullptr;
}

// The method [name] taking [argc] arguments declared by [cls] itself, or null.
FuncSym* Compiler::find_own_method(ClassSym* cls, const char* name, u32 argc)
{
    auto match = [&](u32 i) {
        FuncSym* m = cls->methods[i];
        return m->first_decl->param_count == argc && str_equal(m->name, name);
    };
    if (cls->method_index) {
        i64 i = cls->method_index->find(name, match);
        return i >= 0 ? cls->methods[(u32)i] : nullptr;
    }
    for (u32 i = 0; i < cls->methods.size(); i++)
        if (match(i))
            return cls->methods[i];
    return nullptr;
}

void Compiler::declare_method(ClassSym* cls, FuncDecl* decl, bool prelude)
{
    if (decl->is_constructor) {
        FuncSym* f = nullptr;
        for (FuncSym* existing : cls->ctors)
            if (existing->first_decl->param_count == decl->param_count)
                f = existing;
        if (f) {
            if (f->decl && decl->body) {
                error(decl->line, decl->column, "constructor of '%s' with %d parameters is already defined", cls->name,
                    nullptr, decl->param_count);
                return;
            }
            if (decl->body)
                f->decl = decl;
            return;
        }
        f = new_func_sym(decl, cls->name, cls, prelude);
        if (!f)
            return;
        f->is_ctor = true;
        if (!cls->ctors.try_append(f))
            oom();
        return;
    }
    if (FuncSym* existing = find_own_method(cls, decl->name, decl->param_count)) {
        if (existing->prelude && !prelude && decl->body) {
            // A script's handler replaces the built-in default body; the
            // signature must stay the one the host calls.
            FuncSym probe = *existing;
            probe.first_decl = decl;
            probe.params = nullptr;
            resolve_signature(&probe);
            resolve_signature(existing);
            if (!same_params(&probe, existing) || probe.result != existing->result)
                error(decl->line, decl->column, "'%s.%s' must keep the signature of the built-in handler",
                    cls->name, decl->name);
            existing->decl = decl;
            existing->first_decl = decl;
            existing->prelude = false;
            return;
        }
        if (existing->decl && decl->body) {
            error(decl->line, decl->column, "method '%s.%s' is already defined", cls->name, decl->name);
            return;
        }
        if (decl->body)
            existing->decl = decl;
        existing->first_decl->annotations |= decl->annotations;
        return;
    }
    FuncSym* f = new_func_sym(decl, decl->name, cls, prelude);
    if (!f)
        return;
    if (!cls->methods.try_append(f)) {
        oom();
        return;
    }
    // Past kIndexFrom methods, an index of their names for the check above.
    u32 n = cls->methods.size();
    if (n < kIndexFrom)
        return;
    if (!cls->method_index) {
        cls->method_index = new_index();
        for (u32 i = 0; cls->method_index && i + 1 < n; i++)
            if (!cls->method_index->add(cls->methods[i]->name, i))
                oom();
    }
    if (cls->method_index && !cls->method_index->add(f->name, n - 1))
        oom();
}

FuncSym* Compiler::find_function(const char* name, u32 argc)
{
    i64 id = m_function_index.find(name, [&](u32 i) {
        return m_functions[i]->param_count == argc && str_equal(m_functions[i]->name, name);
    });
    return id >= 0 ? m_functions[(u32)id] : nullptr;
}

bool Compiler::function_name_exists(const char* name)
{
    return m_function_index.find(name, [&](u32 i) { return str_equal(m_functions[i]->name, name); }) >= 0;
}

// A built-in class is compiled only if the script can reach it: the script
// names it, or a reachable built-in class names it or extends it. The others
// keep their id, fields and null value (the VM raises built-in exceptions by
// id), but none of their methods is compiled: nothing could call them, and an
// empty script stays small.
void Compiler::mark_unused_builtins()
{
    for (u32 i = 0; i < m_prelude.count; i++) {
        ClassDecl* d = m_prelude.items[i].klass;
        ClassSym* c = d ? find_class(d->name) : nullptr;
        if (c && c != m_object)
            c->unused = !m_program.all_names.may_contain(d->name, str_length(d->name));
    }
    // Only built-in classes can be unused, and they come first in m_classes.
    u32 builtins = 0;
    while (builtins < m_classes.size() && m_classes[builtins]->builtin)
        builtins++;
    for (bool changed = true; changed;) {
        changed = false;
        for (u32 i = 0; i < m_prelude.count; i++) {
            ClassDecl* d = m_prelude.items[i].klass;
            ClassSym* c = d ? find_class(d->name) : nullptr;
            if (!c || c->unused)
                continue;
            for (u32 k = 0; k < builtins; k++) {
                ClassSym* other = m_classes[k];
                bool reached = other == c->super
                    || m_prelude.items[i].names.may_contain(other->name, str_length(other->name));
                if (other->unused && reached) {
                    other->unused = false;
                    changed = true;
                }
            }
        }
    }
}

void Compiler::declare_functions(SyntaxTree& program, bool prelude)
{
    // Methods inside class bodies first, then outside definitions.
    for (u32 i = 0; i < program.count && !m_failed && tick(); i++) {
        ClassDecl* d = program.items[i].klass;
        if (program.items[i].kind != ItemKind::Class || !d)
            continue;
        ClassSym* c = find_class(d->name);
        if (!c || c->decl != d || c->unused)
            continue;
        for (u32 j = 0; j < d->method_count && !m_failed && tick(); j++)
            declare_method(c, d->methods[j], prelude);
    }
    for (u32 i = 0; i < program.count && !m_failed && tick(); i++) {
        FuncDecl* d = program.items[i].func;
        if (program.items[i].kind != ItemKind::Func || !d)
            continue;
        if (d->owner) {
            ClassSym* c = find_class(d->owner);
            if (!c && (str_equal(d->owner, "String") || str_equal(d->owner, "Array") || str_equal(d->owner, "Map")
                    || str_equal(d->owner, "Bytes") || str_equal(d->owner, "int") || str_equal(d->owner, "boolean"))) {
                error(d->line, d->column, "methods cannot be added to built-in type '%s'", d->owner);
                continue;
            }
            if (!c) {
                error(d->line, d->column, "unknown class '%s'", d->owner);
                continue;
            }
            // Device is the one built-in class meant to be extended this way
            // (seed 001: `void Device.open() { ... }`).
            if (c->builtin && !prelude && !str_equal(c->name, "Device")) {
                error(d->line, d->column, "methods cannot be added to built-in class '%s'", d->owner);
                continue;
            }
            declare_method(c, d, prelude);
            continue;
        }
        i64 found = m_function_index.find(d->name, [&](u32 k) {
            FuncSym* f = m_functions[k];
            return f->first_decl && f->first_decl->param_count == d->param_count && str_equal(f->name, d->name);
        });
        FuncSym* existing = found >= 0 ? m_functions[(u32)found] : nullptr;
        if (existing) {
            if (existing->decl && d->body) {
                error(d->line, d->column, "function '%s' with %d parameters is already defined", d->name, nullptr,
                    d->param_count);
                continue;
            }
            if (d->body)
                existing->decl = d;
            continue;
        }
        if (find_class(d->name))
            error(d->line, d->column, "'%s' is a class name", d->name);
        new_func_sym(d, d->name, nullptr, prelude);
    }
}

// Numbers the class tree once every superclass is final (cycles broken):
// preorder numbers and subtree ends for is_subclass(), depths and jump
// pointers for the common superclass of conditional expressions, and
// m_class_order, the order of build_vtables(). Iterative: a chain of classes
// may be as long as the script allows.
void Compiler::number_classes()
{
    for (u32 i = m_classes.size(); i-- > 0;) {
        ClassSym* c = m_classes[i];
        if (c->super) {
            c->next_sibling = c->super->first_child;
            c->super->first_child = c;
        }
    }
    Vector<ClassSym*> stack(m_memory);
    Vector<ClassSym*> preorder(m_memory);
    if (!preorder.try_reserve(m_classes.size())) {
        oom();
        return;
    }
    for (ClassSym* root : m_classes) {
        if (root->super)
            continue;
        root->depth = 0;
        root->jump = root;
        if (!stack.try_append(root)) {
            oom();
            return;
        }
        while (stack.size()) {
            ClassSym* c = stack.last();
            stack.pop();
            c->pre = c->last = preorder.size();
            if (!preorder.try_append(c)) {
                oom();
                return;
            }
            for (ClassSym* child = c->first_child; child; child = child->next_sibling) {
                // Skew-binary jump pointers (Myers 1983): jumps of lengths
                // 1, 1, 3, 1, 1, 3, 7, ... reach any ancestor in O(log depth).
                child->depth = c->depth + 1;
                ClassSym* j = c->jump;
                child->jump = c->depth - j->depth == j->depth - j->jump->depth ? j->jump : c;
                if (!stack.try_append(child)) {
                    oom();
                    return;
                }
            }
        }
    }
    if (preorder.size() != m_classes.size())
        return;   // Out of memory (a cycle left would be an engine bug): keep the walks.
    // Subtree ends: every class after its subclasses, in reverse preorder.
    for (u32 i = preorder.size(); i-- > 0;) {
        ClassSym* c = preorder[i];
        if (c->super && c->last > c->super->last)
            c->super->last = c->last;
    }
    m_numbered = true;
    // The vtable order: the classes in rounds, as a repeated pass over the
    // list would take them (a class once its superclass is done), which
    // keeps the diagnostics in the order they always had. A class comes in
    // its superclass's round when it follows it in the list, else in the
    // next; preorder has every superclass before its subclasses.
    Vector<u32> rounds(m_memory);
    Vector<u32> starts(m_memory);
    if (!rounds.try_resize(m_classes.size()) || !m_class_order.try_resize(m_classes.size())) {
        oom();
        return;
    }
    u32 last_round = 0;
    for (ClassSym* c : preorder) {
        u32 r = !c->super ? 0 : rounds[c->super->id] + (c->super->id < c->id ? 0 : 1);
        rounds[c->id] = r;
        last_round = max(last_round, r);
    }
    if (!starts.try_resize(last_round + 2)) {
        oom();
        return;
    }
    for (u32 i = 0; i < m_classes.size(); i++)
        starts[rounds[i] + 1]++;
    for (u32 r = 1; r < starts.size(); r++)
        starts[r] += starts[r - 1];
    for (u32 i = 0; i < m_classes.size(); i++)
        m_class_order[starts[rounds[i]]++] = m_classes[i];
    tick(m_classes.size() / 16 + 1);
}

// The vtable of [c], whose superclass's vtable is built: the superclass's
// slots, overridden by its own methods, then its new methods.
void Compiler::build_vtable(ClassSym* c)
{
    if (c->super) {
        if (!c->vtable.try_reserve(c->super->vtable.size() + c->methods.size())) {
            oom();
            return;
        }
        for (FuncSym* m : c->super->vtable)
            if (!c->vtable.try_append(m))
                oom();
        // An override keeps its slot and name: the superclass's index of
        // vtable names holds, and only new slots are added to it below.
        if (c->super->vtable_index) {
            c->vtable_index = new_index();
            if (c->vtable_index && !c->vtable_index->copy_from(*c->super->vtable_index, c->methods.size()))
                oom();
        }
    }
    for (FuncSym* m : c->methods) {
        FuncSym* overridden = c->super ? find_method(c->super, m->name, m->param_count) : nullptr;
        FuncDecl* d = m->first_decl;
        if (overridden) {
            if (!same_params(m, overridden) || !assignable(overridden->result, m->result)
                || (m->result->kind == TypeKind::Void) != (overridden->result->kind == TypeKind::Void)) {
                error(d->line, d->column, "'%s.%s' does not match the signature of the method it overrides",
                    c->name, m->name);
            }
            m->slot = overridden->slot;
            c->vtable[(u32)m->slot] = m;
        } else {
            if (d->annotations & AnnotationOverride)
                error(d->line, d->column, "'%s.%s' is marked @Override but overrides nothing", c->name,
                    m->name);
            m->slot = (i32)c->vtable.size();
            if (!c->vtable.try_append(m))
                oom();
            if (c->vtable_index && !c->vtable_index->add(m->name, (u32)m->slot))
                oom();
        }
    }
    if (!c->vtable_index && c->vtable.size() >= kIndexFrom) {
        c->vtable_index = new_index();
        for (u32 slot = 0; c->vtable_index && slot < c->vtable.size(); slot++)
            if (!c->vtable_index->add(c->vtable[slot]->name, slot))
                oom();
    }
    c->vtable_built = !m_failed;
    tick(c->vtable.size() / 16 + 1);
}

void Compiler::build_vtables()
{
    // Signatures first (they may name any class), then slots, superclass first.
    for (u32 i = 0; i < m_functions.size() && !m_failed && tick(); i++)
        resolve_signature(m_functions[i]);
    // Without the order, memory ran short and the compile fails anyway.
    if (m_class_order.size() != m_classes.size())
        return;
    for (u32 i = 0; i < m_class_order.size() && !m_failed; i++)
        build_vtable(m_class_order[i]);
}

// The nearest class that both [a] and [b] are (the common superclass of the
// arms of `c ? a : b`): both brought to the same depth, then up together, by
// jump pointers where they do not meet yet (the depth of a class's jump
// depends only on its own depth, so equal depths jump alike).
ClassSym* Compiler::common_superclass(ClassSym* a, ClassSym* b)
{
    if (!m_numbered) {
        while (a && !is_subclass(b, a))
            a = a->super;
        return a;
    }
    if (a->depth < b->depth) {
        ClassSym* t = a;
        a = b;
        b = t;
    }
    while (a->depth > b->depth)
        a = a->jump->depth >= b->depth ? a->jump : a->super;
    while (a != b) {
        if (a->jump != b->jump) {
            a = a->jump;
            b = b->jump;
        } else {
            a = a->super;
            b = b->super;
        }
    }
    return a;
}

bool Compiler::assignable(Type* to, Type* from)
{
    if (to == from || to->kind == TypeKind::Error || from->kind == TypeKind::Error)
        return true;
    if (from->kind == TypeKind::Null)
        return is_reference(to);
    if (to->kind == TypeKind::Class && from->kind == TypeKind::Class)
        return is_subclass(from->cls, to->cls);
    // Object accepts every reference.
    if (to->kind == TypeKind::Class && to->cls == m_object && is_reference(from))
        return true;
    return false;
}

GlobalSym* Compiler::find_global(const char* name)
{
    i64 id = m_global_index.find(name, [&](u32 i) { return str_equal(m_globals[i].name, name); });
    return id >= 0 ? &m_globals[(u32)id] : nullptr;
}

// ---------------------------------------------------------------------------
// Runtime classes, null values and constants

u64 Compiler::null_value(Type* t)
{
    switch (t->kind) {
    case TypeKind::String: return m_out->null_string;
    case TypeKind::Bytes: return m_out->null_bytes;
    case TypeKind::Array: return m_out->null_array;
    case TypeKind::Map: return m_out->null_map;
    case TypeKind::Func: return m_out->null_func;
    case TypeKind::Class: return t->cls->rt ? from_obj(t->cls->rt->null_instance) : m_out->null_string;
    default: return 0;
    }
}

bool Compiler::build_runtime_classes()
{
    Program* p = m_out;
    // Null values of the built-in reference types: permanent, empty, frozen.
    if (!m_heap->make_null_values(p)) {
        oom();
        return false;
    }

    u32 n = m_classes.size();
    p->classes = static_cast<RtClass**>(p->arena.alloc_zeroed(sizeof(RtClass*) * (n ? n : 1)));
    if (!p->classes) {
        oom();
        return false;
    }
    p->class_count = n;
    // First every class and its null instance, then the field defaults
    // (which refer to other classes' null instances).
    for (ClassSym* c : m_classes) {
        RtClass* rt = static_cast<RtClass*>(p->arena.alloc_zeroed(sizeof(RtClass)));
        if (!rt) {
            oom();
            return false;
        }
        p->classes[c->id] = rt;
        c->rt = rt;
        rt->name = persist(c->name);
        rt->id = c->id;
        // An unused built-in class keeps no fields unless it is an
        // exception (the VM makes those by id, with their message): nothing
        // can make or read an instance of the others.
        rt->field_count = c->unused && !is_subclass(c, m_exception) ? 0 : c->fields.size();
        rt->to_string_slot = -1;
        rt->message_field = -1;
        if (rt->field_count) {
            rt->field_kinds = static_cast<u8*>(p->arena.alloc_zeroed(rt->field_count));
            rt->field_types = static_cast<u32*>(p->arena.alloc_zeroed(sizeof(u32) * rt->field_count));
            rt->field_defaults = static_cast<u64*>(p->arena.alloc_zeroed(sizeof(u64) * rt->field_count));
            rt->field_names = static_cast<const char**>(p->arena.alloc_zeroed(sizeof(char*) * rt->field_count));
            if (!rt->field_kinds || !rt->field_types || !rt->field_defaults || !rt->field_names) {
                oom();
                return false;
            }
        }
        rt->null_instance = m_heap->new_instance(rt);
        if (!rt->null_instance) {
            oom();
            return false;
        }
        rt->null_instance->header.flags |= ObjNull | ObjPermanent;
    }
    for (ClassSym* c : m_classes) {
        RtClass* rt = c->rt;
        rt->super = c->super ? c->super->rt : nullptr;
        u32 depth = 0;
        if (m_numbered) {
            depth = c->depth;
        } else {
            for (ClassSym* s = c->super; s && depth <= n; s = s->super)
                depth++;
        }
        rt->depth = depth;
        bool exception = is_subclass(c, m_exception);
        for (u32 i = 0; i < rt->field_count; i++) {
            Type* t = c->fields[i].type;
            rt->field_kinds[i] = value_kind(t);
            rt->field_types[i] = type_index(t);
            rt->field_defaults[i] = null_value(t);
            rt->null_instance->fields[i] = rt->field_defaults[i];
            if (exception && str_equal(c->fields[i].name, "message"))
                rt->message_field = (i32)i;
        }
        if (!tick(rt->field_count / 16 + 1))
            return false;
    }
    return true;
}

// The constant pool index of [value] of [kind], added if new (found through
// a hash index: a pool of thousands of constants was scanned per use).
u32 Compiler::add_constant(u64 value, u8 kind, Type* type)
{
    // Typed: the verifier knows each constant's type (one null array
    // constant per array type, so a register keeps its element type).
    u32 t = type_index(type);
    u32 h = m_constant_index.hash_value(value ^ ((u64)kind << 56) ^ ((u64)t << 32));
    i64 found = m_constant_index.find_hashed(h, [&](u32 i) {
        return m_constants[i] == value && m_constant_kinds[i] == kind && m_constant_types[i] == t;
    });
    if (found >= 0)
        return (u32)found;
    if (!m_constants.try_append(value) || !m_constant_kinds.try_append(kind) || !m_constant_types.try_append(t)
        || !m_constant_index.add_hashed(h, m_constants.size() - 1)) {
        oom();
        return 0;
    }
    return m_constants.size() - 1;
}

// The index of [t] in the program's type table (numbered when first used).
u32 Compiler::type_index(Type* t)
{
    u32 index = 0;
    if (!m_program_types.index_of(t, &index))
        oom();
    return index;
}

// The constant index of a string of [n] bytes at [s]: equal literals share
// one permanent string, found by its contents' hash.
u32 Compiler::string_constant(const char* s, usize n)
{
    u32 h = m_string_index.hash_bytes_keyed(s, n);
    i64 found = m_string_index.find_hashed(h, [&](u32 i) {
        StringObj* str = reinterpret_cast<StringObj*>(as_obj(m_constants[i]));
        return str->byte_length == n && mem_compare(str->bytes, s, n) == 0;
    });
    if (found >= 0)
        return (u32)found;
    tick((u32)(n / 64));
    StringObj* str = m_heap->new_string(s, n);
    if (!str) {
        oom();
        return 0;
    }
    m_heap->make_permanent(&str->header);
    u32 k = add_constant(from_obj(str), KindRef, m_types.string());
    if (!m_failed && !m_string_index.add_hashed(h, k))
        oom();
    return k;
}

// ---------------------------------------------------------------------------
// Registers, locals and emission

u16 Compiler::alloc_reg(bool ref)
{
    FunctionState* fs = m_fs;
    Vector<u16>& pool = ref ? fs->free_ref : fs->free_int;
    if (pool.size()) {
        u16 r = pool.last();
        pool.pop();
        return r;
    }
    if (fs->register_count >= kMaxRegisters) {
        if (!fs->too_many_registers)
            error(m_line, 1, "function needs too many registers (limit %d)", nullptr, nullptr, kMaxRegisters);
        fs->too_many_registers = true;
        return (u16)(ref ? 1 : 0);
    }
    u16 r = (u16)fs->register_count++;
    if (!fs->reg_is_ref.try_append(ref ? 1 : 0))
        oom();
    return r;
}

void Compiler::free_reg(u16 reg)
{
    FunctionState* fs = m_fs;
    if (fs->too_many_registers || reg >= fs->reg_is_ref.size())
        return;
    Vector<u16>& pool = fs->reg_is_ref[reg] ? fs->free_ref : fs->free_int;
    if (!pool.try_append(reg))
        oom();
}

// The innermost local named [name] in scope, or null. A function with many
// locals has an index of their names (see index_local()); the others scan.
Local* Compiler::find_local(const char* name)
{
    if (!m_fs)
        return nullptr;
    if (KS_UNLIKELY(m_fs->local_index != nullptr))
        return find_indexed_local(name);
    for (u32 i = m_fs->locals.size(); i-- > 0;)
        if (str_equal(m_fs->locals[i].name, name))
            return &m_fs->locals[i];
    return nullptr;
}

// find_local() through the index of locals: out of line, so that the scan
// of the common small function stays inlined.
KS_NOINLINE Local* Compiler::find_indexed_local(const char* name)
{
    i64 i = m_fs->local_index->find(name, [&](u32 k) { return k != kNoLocal && str_equal(m_fs->locals[k].name, name); });
    return i >= 0 ? &m_fs->locals[(u32)i] : nullptr;
}

// Points the index of locals at local [i], the newest: its name's entry now
// names it, and the local remembers the one it hides (restored by
// pop_local()). An entry whose locals have all gone out of scope holds
// kNoLocal and is taken again by the next name of the same hash.
bool Compiler::index_local(u32 i)
{
    NameIndex* index = m_fs->local_index;
    Local& l = m_fs->locals[i];
    u32 h = index->hash(l.name);
    u32* slot = index->find_slot(h, [&](u32 k) { return k != kNoLocal && str_equal(m_fs->locals[k].name, l.name); });
    l.shadowed = 0;
    if (slot) {
        l.shadowed = *slot + 1;
    } else {
        slot = index->find_slot(h, [](u32 k) { return k == kNoLocal; });
        if (!slot)
            return index->add_hashed(h, i);
    }
    *slot = i;
    return true;
}

Local* Compiler::declare_local(const char* name, Type* type, u32 line, u32 column, bool is_const)
{
    if (m_fs->local_index) {
        Local* inner = find_local(name);
        if (inner && inner->depth >= m_fs->scope_depth)
            error(line, column, "'%s' is already declared in this scope", name);
    } else {
        for (u32 i = m_fs->locals.size(); i-- > 0;) {
            Local& l = m_fs->locals[i];
            if (l.depth < m_fs->scope_depth)
                break;
            if (str_equal(l.name, name)) {
                error(line, column, "'%s' is already declared in this scope", name);
                break;
            }
        }
    }
    Local l { name, type, alloc_for(type), m_fs->scope_depth, is_const, 0 };
    if (!m_fs->locals.try_append(l)) {
        oom();
        return nullptr;
    }
    u32 n = m_fs->locals.size();
    if (!m_fs->local_index && n >= kIndexFrom) {
        // Many locals: index them all, oldest first, so each hides the right one.
        m_fs->local_index = new_index();
        for (u32 i = 0; m_fs->local_index && i + 1 < n; i++)
            if (!index_local(i))
                oom();
    }
    if (m_fs->local_index && !index_local(n - 1))
        oom();
    return &m_fs->locals.last();
}

// Drops the newest local; its name in the index goes back to the local it hid.
void Compiler::pop_local()
{
    FunctionState* fs = m_fs;
    if (KS_UNLIKELY(fs->local_index != nullptr))
        unindex_local(fs->locals.size() - 1);
    fs->locals.pop();
}

// Points the entry of local [i]'s name back at the local it hid (or at no
// local): [i] is going out of scope.
KS_NOINLINE void Compiler::unindex_local(u32 i)
{
    NameIndex* index = m_fs->local_index;
    Local& l = m_fs->locals[i];
    u32* slot = index->find_slot(index->hash(l.name), [i](u32 k) { return k == i; });
    if (slot)
        *slot = l.shadowed ? l.shadowed - 1 : kNoLocal;
}

void Compiler::end_scope()
{
    FunctionState* fs = m_fs;
    while (fs->locals.size() && fs->locals.last().depth >= fs->scope_depth) {
        free_reg(fs->locals.last().reg);
        pop_local();
    }
    fs->scope_depth--;
}

u32 Compiler::emit(Op op, u32 a, u32 b, u32 c, u8 x)
{
    FunctionState* fs = m_fs;
    if (fs->code.size() >= m_options.max_function_size) {
        if (fs->code.size() == m_options.max_function_size) {
            error(m_line, 1, "function is too large (limit %d instructions)", nullptr, nullptr,
                m_options.max_function_size);
            if (!fs->code.try_append(Insn { Op::Nop, 0, 0, 0, 0 }) || !fs->lines.try_append(m_line))
                oom();
        }
        return fs->code.size() - 1;
    }
    Insn insn { op, x, (u16)a, (u16)b, (u16)c };
    if (!fs->code.try_append(insn) || !fs->lines.try_append(m_line)) {
        oom();
        return 0;
    }
    return fs->code.size() - 1;
}

u32 Compiler::emit_imm(Op op, u32 a, i32 imm, u8 x)
{
    u32 u = (u32)imm;
    return emit(op, a, u & 0xffff, u >> 16, x);
}

void Compiler::emit_args(const u16* regs, u32 count)
{
    for (u32 i = 0; i < count; i += 3) {
        u16 r[3] = { 0, 0, 0 };
        for (u32 j = 0; j < 3 && i + j < count; j++)
            r[j] = regs[i + j];
        emit(Op::Args, r[0], r[1], r[2]);
    }
}

void Compiler::patch_jump_to(u32 at, u32 target)
{
    if (at >= m_fs->code.size())
        return;
    Insn& insn = m_fs->code[at];
    i32 offset = (i32)target - (i32)(at + 1);
    if (is_compare_jump(insn.op)) {
        // Functions are limited to max_function_size (at most 1 << 20)
        // instructions, well inside the 24-bit offset.
        if (offset > kMaxCompareJump || offset < -kMaxCompareJump)
            error(m_line, 1, "function is too large for a jump");
        insn.set_off(offset);
        return;
    }
    insn.set_imm(offset);
}

void Compiler::patch_jump(u32 at) { patch_jump_to(at, here()); }

// Drops the code from [start] on (an unreachable statement, or one with an
// error in transcript mode), with everything that still points into it: the
// handlers of try statements inside it, the jumps of its break and continue
// statements waiting in enclosing loops, and the finally copies it cut out
// of enclosing try statements. New code will take those positions: a stale
// patch would rewrite an instruction's registers, a stale handler would send
// an exception into the middle of unrelated code.
void Compiler::drop_code_from(u32 start)
{
    FunctionState* fs = m_fs;
    if (start >= fs->code.size())
        return;
    fs->code.shrink(start);
    fs->lines.shrink(start);
    // Each list is looked at only when something in it reaches [start]:
    // statements after a return each drop their code, and a pass over every
    // handler, jump and cut of the function for each made that quadratic.
    tick(fs->loops.size() + fs->trys.size());
    if (fs->handler_high > start) {
        u32 kept = 0;
        for (u32 i = 0; i < fs->handlers.size(); i++)
            if (fs->handlers[i].end <= start && fs->handlers[i].target < start)
                fs->handlers[kept++] = fs->handlers[i];
        fs->handlers.shrink(kept);
        fs->handler_high = start;
        tick(fs->handlers.size() / 16);
    }
    // Break and continue jumps are listed in code order (each was emitted at
    // the end of the code, and a drop removes every one past its start).
    auto drop_positions = [start](Vector<u32>* list) {
        while (list->size() && list->last() >= start)
            list->pop();
    };
    for (LoopContext& loop : fs->loops) {
        drop_positions(loop.breaks);
        drop_positions(loop.continues);
    }
    for (TryContext& t : fs->trys) {
        if (t.cuts->high <= start)
            continue;
        // Cuts are [from, to) pairs.
        Vector<u32>& pairs = t.cuts->pairs;
        u32 k = 0;
        for (u32 i = 0; i + 1 < pairs.size(); i += 2) {
            if (pairs[i] < start) {
                pairs[k++] = pairs[i];
                pairs[k++] = pairs[i + 1] < start ? pairs[i + 1] : start;
            }
        }
        pairs.shrink(k);
        t.cuts->high = start;
        tick(k / 16);
    }
}

void Compiler::emit_loop(u32 target)
{
    i32 offset = (i32)target - (i32)(here() + 1);
    emit_imm(Op::Loop, 0, offset);
}

void Compiler::load_int(u16 reg, i64 value)
{
    if (value >= -0x80000000LL && value <= 0x7fffffffLL)
        emit_imm(Op::LoadI, reg, (i32)value);
    else
        emit_imm(Op::LoadK, reg, (i32)add_constant((u64)value, KindInt, m_types.int_type()));
}

void Compiler::load_null(u16 reg, Type* type)
{
    // Only reference types have null objects; after an error the type may
    // be anything, and a plain 0 keeps the constant pool free of null pointers.
    if (!is_reference(type) || type->kind == TypeKind::Null)
        emit_imm(Op::LoadI, reg, 0);
    else
        emit_imm(Op::LoadK, reg, (i32)add_constant(null_value(type), KindRef, type));
}

// ---------------------------------------------------------------------------
// Functions

bool Compiler::begin_function(FunctionState* fs, FuncSym* sym, ClassSym* cls)
{
    mem_set(static_cast<void*>(fs), 0, sizeof(*fs));
    fs->code.set_memory(m_memory);
    fs->lines.set_memory(m_memory);
    fs->handlers.set_memory(m_memory);
    fs->reg_is_ref.set_memory(m_memory);
    fs->free_int.set_memory(m_memory);
    fs->free_ref.set_memory(m_memory);
    fs->locals.set_memory(m_memory);
    fs->loops.set_memory(m_memory);
    fs->trys.set_memory(m_memory);
    fs->sym = sym;
    fs->cls = cls;
    fs->return_type = sym ? sym->result : m_types.void_type();
    fs->is_main = !sym;
    fs->is_ctor = sym && sym->is_ctor;
    m_fs = fs;
    if (cls) {
        // `this` is register 0.
        Local self { "this", cls->type, alloc_reg(true), 0, true, 0 };
        if (!fs->locals.try_append(self))
            oom();
    }
    if (sym && sym->first_decl) {
        FuncDecl* d = sym->decl ? sym->decl : sym->first_decl;
        for (u32 i = 0; i < sym->param_count; i++)
            declare_local(d->params[i].name, sym->params[i], d->params[i].line, d->params[i].column, false);
    }
    return !m_failed;
}

// Frees what a function's compile state holds (after finish_function(), or
// instead of it when memory runs out).
void Compiler::release_state(FunctionState* fs)
{
    free_index(fs->local_index);
    fs->code.release();
    fs->lines.release();
    fs->handlers.release();
    fs->reg_is_ref.release();
    fs->free_int.release();
    fs->free_ref.release();
    fs->locals.release();
    fs->loops.release();
    fs->trys.release();
    if (m_fs == fs)
        m_fs = nullptr;
}

// Jump threading: a jump to a jump goes to the final target, and a jump to a
// return becomes that return (the arms of `return c ? a : b`, the ends of
// if/else before a return). A move into the register that the next
// instruction returns becomes a return of the source (the instruction after
// stays: other jumps may lead to it).
static void thread_jumps(Vector<Insn>& code)
{
    for (u32 i = 0; i < code.size(); i++) {
        if (code[i].op != Op::Jump)
            continue;
        i64 target = (i64)i + 1 + code[i].imm();
        for (u32 hops = 0; hops < 8 && target >= 0 && target < code.size() && code[(u32)target].op == Op::Jump;
             hops++)
            target += 1 + code[(u32)target].imm();
        if (target < 0 || target >= code.size())
            continue;
        Op op = code[(u32)target].op;
        if (op == Op::Return || op == Op::ReturnVoid) {
            code[i] = code[(u32)target];
        } else {
            code[i].set_imm((i32)(target - i - 1));
        }
    }
    for (u32 i = 0; i + 1 < code.size(); i++) {
        if (code[i].op == Op::Move && code[i + 1].op == Op::Return && code[i + 1].a == code[i].a)
            code[i] = Insn { Op::Return, 0, code[i].b, 0, 0 };
    }
}

bool Compiler::finish_function(FunctionState* fs, const char* name, u32 line, Function** out)
{
    *out = nullptr;
    tick(fs->code.size() / 16);
    thread_jumps(fs->code);
    Function* f = static_cast<Function*>(m_out->arena.alloc_zeroed(sizeof(Function)));
    if (!f) {
        oom();
        release_state(fs);
        m_fs = nullptr;
        return false;
    }
    f->name = persist(name);
    f->line = line;
    u32 n;
    f->code = keep(fs->code, &n);
    f->code_size = n;
    f->lines = keep(fs->lines, &n);
    f->handlers = keep(fs->handlers, &n);
    f->handler_count = n;
    f->register_count = (u16)fs->register_count;
    f->param_count = (u16)((fs->cls ? 1 : 0) + (fs->sym ? fs->sym->param_count : 0));
    f->return_kind = value_kind(fs->return_type);
    f->return_type = type_index(fs->return_type);
    f->param_types = f->param_count ? static_cast<u32*>(m_out->arena.alloc(sizeof(u32) * f->param_count)) : nullptr;
    if (f->param_count && !f->param_types)
        oom();
    else
        for (u32 i = 0; i < f->param_count; i++)
            f->param_types[i] = type_index(fs->cls ? (i ? fs->sym->params[i - 1] : fs->cls->type) : fs->sym->params[i]);
    f->owner = fs->cls ? fs->cls->rt : nullptr;
    f->builtin = fs->sym && fs->sym->prelude;
    f->diagnostic_line = m_options.mode == CompileMode::Transcript && !fs->is_main ? fs->diagnostic_line : 0;
    u32 refs = 0;
    for (u8 r : fs->reg_is_ref)
        refs += r;
    if (refs) {
        f->ref_registers = static_cast<u16*>(m_out->arena.alloc(sizeof(u16) * refs));
        if (!f->ref_registers)
            oom();
        else
            for (u32 i = 0; i < fs->reg_is_ref.size(); i++)
                if (fs->reg_is_ref[i]) {
                    f->ref_registers[f->ref_register_count++] = (u16)i;
                    if (i < f->param_count)
                        f->ref_param_count++;
                }
    }
    *out = f;
    release_state(fs);
    m_fs = nullptr;
    return !m_failed;
}

// A name for a function: "fib", "Point.sum", "Point.<init>".
static void function_name(FuncSym* f, char* out, usize n)
{
    usize len = 0;
    auto put = [&](const char* s) {
        while (*s && len + 1 < n)
            out[len++] = *s++;
    };
    if (f->owner) {
        put(f->owner->name);
        put(".");
    }
    put(f->is_ctor ? "<init>" : f->name);
    out[len] = 0;
}

void Compiler::compile_main(SyntaxTree& program)
{
    m_shared_names = &program.shared_names;
    FunctionState fs;
    if (!begin_function(&fs, nullptr, nullptr)) {
        release_state(&fs);
        return;
    }
    for (u32 i = 0; i < program.count && !m_failed; i++) {
        if (program.items[i].kind != ItemKind::Stmt || !program.items[i].stmt)
            continue;
        Stmt* s = program.items[i].stmt;
        u32 code_start = here();
        u32 errors_before = m_statement_errors;
        u32 diag_before = m_diag->size();
        if (s->kind == StmtKind::Var)
            var_statement(s, true);
        else if (s->kind == StmtKind::Block && s->block && !s->block->scoped) {
            for (u32 j = 0; j < s->block->count; j++)
                var_statement(s->block->stmts[j], true);
        } else
            statement(s);
        if (m_options.mode == CompileMode::Transcript && m_statement_errors != errors_before) {
            // Transcript mode: the statement reports its error when reached
            // and is skipped; a global it declares keeps its default value.
            drop_code_from(code_start);
            m_line = s->line;
            emit_imm(Op::Report, 0, (i32)add_constant(s->line, KindInt, m_types.int_type()));
            m_diag->mark_deferred_from(diag_before);
        }
    }
    emit(Op::ReturnVoid);
    Function* f;
    if (finish_function(&fs, "<main>", 1, &f) && !m_runtime_functions.try_append(f))
        oom();
    m_out->main_function = m_runtime_functions.size() - 1;
}

void Compiler::compile_function(FuncSym* sym)
{
    FuncDecl* d = sym->decl;
    ClassSym* cls = sym->owner;
    m_in_prelude = sym->prelude;
    if (!d && !sym->implicit) {
        FuncDecl* p = sym->first_decl;
        if (p)
            error(p->line, p->column, "'%s' is declared but never defined", sym->name);
        return;
    }
    FunctionState fs;
    if (!begin_function(&fs, sym, cls)) {
        release_state(&fs);
        return;
    }
    m_line = d ? d->line : (sym->first_decl ? sym->first_decl->line : 0);
    u32 diag_before = m_diag->size();
    begin_scope();
    bool falls_through = true;
    bool warned_unreachable = false;
    u32 first_statement = 0;
    if (sym->is_ctor) {
        // Constructor: super(...) (explicit or implicit), then the field
        // initializers of this class, then the body.
        Stmt* first = d && d->body && d->body->count ? d->body->stmts[0] : nullptr;
        bool explicit_super = first && first->kind == StmtKind::Expr && first->expr
            && first->expr->kind == ExprKind::Call && first->expr->a->kind == ExprKind::Super;
        if (explicit_super) {
            statement(first);
            first_statement = 1;
        } else if (cls->super && cls->super != m_object) {
            FuncSym* super_ctor = nullptr;
            for (FuncSym* c : cls->super->ctors)
                if (c->param_count == 0)
                    super_ctor = c;
            if (!super_ctor) {
                error(d ? d->line : cls->line, d ? d->column : cls->column,
                    "'%s' has no constructor without parameters; call super(...) first", cls->super->name);
            } else {
                u16 base = alloc_reg(true);
                emit_move(base, 0);
                u16 args[1] = { 0 };
                emit(Op::Call, base, super_ctor->index, 1);
                emit_args(args, 1);
                free_reg(base);
            }
        }
        ClassDecl* cd = cls->decl;
        for (u32 i = 0; cd && i < cd->field_count; i++) {
            FieldDecl* fd = &cd->fields[i];
            FieldSym* field = find_field(cls, fd->name);
            if (!fd->init || !field || field->owner != cls)
                continue;
            m_line = fd->line;
            u16 v = alloc_for(field->type);
            expr_into(fd->init, v, field->type, "field initializer");
            emit(Op::SetField, 0, field->slot, v);
            free_reg(v);
        }
    }
    if (d && d->body) {
        for (u32 i = first_statement; i < d->body->count && !m_failed; i++) {
            Stmt* s = d->body->stmts[i];
            if (!falls_through && s->kind != StmtKind::Empty) {
                // Unreachable statements are compiled (to find their errors) but dropped.
                if (!warned_unreachable)
                    m_diag->report(Severity::Warning, s->line, s->column, "unreachable code");
                warned_unreachable = true;
                u32 start = here();
                statement(s);
                drop_code_from(start);
                continue;
            }
            u32 code_start = here();
            u32 errors_before = m_statement_errors;
            falls_through = statement(s);
            if (m_options.mode == CompileMode::Transcript && m_statement_errors != errors_before) {
                drop_code_from(code_start);
                m_line = s->line;
                emit_imm(Op::Raise, ClassRuntimeScriptException, (i32)string_constant("compile error", 13));
                falls_through = false;
            }
        }
    }
    if (falls_through) {
        if (fs.return_type->kind != TypeKind::Void && !sym->is_ctor) {
            u32 end_line = d && d->body ? d->body->end_line : 0;
            error(end_line, 1, "missing return at the end of '%s'", sym->name);
        }
        m_line = d && d->body ? d->body->end_line : m_line;
        emit(Op::ReturnVoid);
    }
    end_scope();
    if (m_options.mode == CompileMode::Transcript)
        m_diag->mark_deferred_from(diag_before);
    char name[160];
    function_name(sym, name, sizeof(name));
    Function* f;
    if (finish_function(&fs, name, d ? d->line : 0, &f)) {
        m_runtime_functions[sym->index] = f;
    }
}

void Compiler::compile_bodies()
{
    for (u32 i = 0; i < m_functions.size() && !m_failed; i++)
        compile_function(m_functions[i]);
    m_in_prelude = false;
}

// ---------------------------------------------------------------------------
// Statements

bool Compiler::statement(Stmt* s)
{
    if (m_failed || !s || !tick_node())
        return true;
    // Past the size limit (already reported) nothing more is compiled: this
    // also bounds the work of copying finally blocks.
    if (m_fs->code.size() >= m_options.max_function_size)
        return true;
    m_line = s->line;
    switch (s->kind) {
    case StmtKind::Error:
    case StmtKind::Empty:
        return true;
    case StmtKind::Expr: {
        Expr* e = s->expr;
        if (!e)
            return true;
        // Expression statements: calls, assignments, ++/--, and block expressions.
        switch (e->kind) {
        case ExprKind::Call: case ExprKind::Assign: case ExprKind::IncDec: case ExprKind::BlockExpr:
        case ExprKind::Error: case ExprKind::New:
            break;
        default:
            error(e->line, e->column, "this expression has no effect as a statement");
            break;
        }
        Operand op = expr(e);
        release(op);
        return true;
    }
    case StmtKind::Var:
        var_statement(s, false);
        return true;
    case StmtKind::Block:
        return block(s->block);
    case StmtKind::If:
        return if_statement(s);
    case StmtKind::While:
        return while_statement(s);
    case StmtKind::DoWhile:
        return do_statement(s);
    case StmtKind::For:
        return for_statement(s);
    case StmtKind::ForEach:
        return foreach_statement(s);
    case StmtKind::Break:
    case StmtKind::Continue:
        jump_out(s, s->kind == StmtKind::Break);
        return false;
    case StmtKind::Return:
        return_statement(s);
        return false;
    case StmtKind::Try:
        return try_statement(s);
    case StmtKind::Throw: {
        Operand v = expr(s->expr);
        if (v.type->kind != TypeKind::Error
            && (v.type->kind != TypeKind::Class || !is_subclass(v.type->cls, m_exception)))
            type_error(s->expr, "only exceptions can be thrown, not '%s'", v.type);
        emit(Op::Throw, v.reg);
        release(v);
        return false;
    }
    }
    return true;
}

bool Compiler::block(Block* b)
{
    if (!b)
        return true;
    if (!b->scoped)
        return block_statements(b);
    begin_scope();
    bool falls = block_statements(b);
    end_scope();
    return falls;
}

bool Compiler::block_statements(Block* b)
{
    bool falls = true;
    bool warned = false;
    // Past the function size limit the rest is not even visited (a finally
    // block copied at many jumps would be walked in vain each time).
    for (u32 i = 0; i < b->count && !m_failed && m_fs->code.size() < m_options.max_function_size; i++) {
        if (!falls) {
            if (!warned && b->stmts[i]->kind != StmtKind::Empty) {
                m_diag->report(Severity::Warning, b->stmts[i]->line, b->stmts[i]->column, "unreachable code");
                warned = true;
            }
            u32 start = here();
            statement(b->stmts[i]);   // Checked, not kept: it cannot run.
            drop_code_from(start);
            continue;
        }
        falls = statement(b->stmts[i]);
    }
    return falls;
}

// A top-level variable that no class or function names (nor `global.x`)
// lives in a register of the main program, like a local: faster than a
// global slot. Transcript mode keeps globals, which start at their defaults
// when a declaration is skipped.
bool Compiler::main_only(const char* name)
{
    return m_options.mode != CompileMode::Transcript && m_shared_names
        && !m_shared_names->may_contain(name, str_length(name));
}

// Class names, System and global cannot name a top-level variable.
void Compiler::check_top_level_name(Stmt* s)
{
    if (find_class(s->name) || str_equal(s->name, "System") || str_equal(s->name, "global"))
        error(s->line, s->column, "'%s' cannot be used as a variable name", s->name);
}

void Compiler::var_statement(Stmt* s, bool top_level)
{
    m_line = s->line;
    bool global = top_level && m_fs->is_main && m_fs->scope_depth == 0;
    if (global && main_only(s->name)) {
        check_top_level_name(s);
        global = false;
    }
    if (global) {
        // A global.
        GlobalSym* existing = find_global(s->name);
        Type* t;
        u16 tmp;
        Operand v {};
        if (s->type) {
            t = resolve_type(s->type);
            tmp = alloc_for(t);
            if (s->expr)
                expr_into(s->expr, tmp, t, "initializer");
            else if (is_reference(t))
                load_null(tmp, t);
            else
                emit_imm(Op::LoadI, tmp, 0);
        } else {
            v = expr(s->expr);
            t = v.type;
            if (t->kind == TypeKind::Null) {
                error(s->line, s->column, "cannot infer the type of '%s' from null", s->name);
                t = m_types.error();
            } else if (t->kind == TypeKind::Void) {
                error(s->line, s->column, "'%s' cannot hold a void value", s->name);
                t = m_types.error();
            }
            tmp = v.reg;
        }
        if (existing) {
            error(s->line, s->column, "'%s' is already declared", s->name);
            if (v.temp)
                release(v);
            else if (s->type)
                free_reg(tmp);
            return;
        }
        check_top_level_name(s);
        GlobalSym g { s->name, t, m_globals.size(), s->is_const, true };
        if (!m_globals.try_append(g) || !m_global_index.add(g.name, g.index)) {
            oom();
            return;
        }
        emit_imm(Op::SetGlobal, tmp, (i32)g.index);
        if (v.temp || s->type)
            free_reg(tmp);
        return;
    }
    Type* t;
    if (s->type) {
        t = resolve_type(s->type);
        // Declared first, initialized after: `int x = x;` sees the outer x
        // nowhere, since the new x is not yet visible; compile the
        // initializer into a temporary, then bind.
        u16 tmp = alloc_for(t);
        if (s->expr)
            expr_into(s->expr, tmp, t, "initializer");
        else if (is_reference(t))
            load_null(tmp, t);
        else
            emit_imm(Op::LoadI, tmp, 0);
        Local* l = declare_local(s->name, t, s->line, s->column, s->is_const);
        if (l) {
            emit_move(l->reg, tmp);
        }
        free_reg(tmp);
        return;
    }
    Operand v = expr(s->expr);
    t = v.type;
    if (t->kind == TypeKind::Null) {
        error(s->line, s->column, "cannot infer the type of '%s' from null", s->name);
        t = m_types.error();
    } else if (t->kind == TypeKind::Void) {
        error(s->line, s->column, "'%s' cannot hold a void value", s->name);
        t = m_types.error();
    }
    Local* l = declare_local(s->name, t, s->line, s->column, s->is_const);
    if (l)
        emit_move(l->reg, v.reg);
    release(v);
}

// The compare-and-jump for comparison [op], inverted when jumping if false,
// against a register or a constant.
static Op compare_jump_op(Tok op, bool jump_if, bool constant)
{
    if (!jump_if) {
        switch (op) {
        case Tok::Lt: op = Tok::Ge; break;
        case Tok::Le: op = Tok::Gt; break;
        case Tok::Gt: op = Tok::Le; break;
        case Tok::Ge: op = Tok::Lt; break;
        case Tok::Eq: op = Tok::Ne; break;
        default: op = Tok::Eq; break;
        }
    }
    Op jop = op == Tok::Lt ? Op::JumpLt : op == Tok::Le ? Op::JumpLe : op == Tok::Gt ? Op::JumpGt
        : op == Tok::Ge ? Op::JumpGe : op == Tok::Eq ? Op::JumpEq : Op::JumpNe;
    return constant ? (Op)((u8)jop + ((u8)Op::JumpLtK - (u8)Op::JumpLt)) : jop;
}

// The constant pool index of [e] if it is an int literal that an instruction
// can take from the pool (the index fits 16 bits), else -1.
i32 Compiler::int_constant_operand(Expr* e)
{
    if (e->kind != ExprKind::Int)
        return -1;
    u32 k = add_constant((u64)e->int_value, KindInt, m_types.int_type());
    return k <= 0xffff ? (i32)k : -1;
}

// Emits a jump to be patched, taken when [cond] is [jump_if]. Comparisons of
// ints fuse into one compare-and-jump; && and || short-circuit.
void Compiler::condition_jump(Expr* cond, bool jump_if, Vector<u32>* patches)
{
    m_line = cond->line;
    if (cond->kind == ExprKind::Unary && cond->op == Tok::Bang) {
        condition_jump(cond->a, !jump_if, patches);
        return;
    }
    if (cond->kind == ExprKind::Binary && (cond->op == Tok::AndAnd || cond->op == Tok::OrOr)) {
        bool is_and = cond->op == Tok::AndAnd;
        if (is_and != jump_if) {
            // (a && b) jumping when false: either false jumps. (a || b) when true: either true jumps.
            condition_jump(cond->a, jump_if, patches);
            condition_jump(cond->b, jump_if, patches);
        } else {
            // (a && b) jumping when true: skip if a false; then b true jumps.
            Vector<u32> skip(m_memory);
            condition_jump(cond->a, !jump_if, &skip);
            condition_jump(cond->b, jump_if, patches);
            for (u32 p : skip)
                patch_jump(p);
        }
        return;
    }
    if (cond->kind == ExprKind::Binary
        && (cond->op == Tok::Lt || cond->op == Tok::Le || cond->op == Tok::Gt || cond->op == Tok::Ge
            || cond->op == Tok::Eq || cond->op == Tok::Ne)) {
        Operand a = expr(cond->a);
        // An int compared with a constant: the constant stays in the pool.
        i32 k = a.type->kind == TypeKind::Int ? int_constant_operand(cond->b) : -1;
        if (k >= 0) {
            u32 at = emit(compare_jump_op(cond->op, jump_if, true), a.reg, (u32)k, 0);
            if (!patches->try_append(at))
                oom();
            release(a);
            return;
        }
        Operand b = expr(cond->b, a.type);
        bool ints = (a.type->kind == TypeKind::Int && b.type->kind == TypeKind::Int)
            || ((cond->op == Tok::Eq || cond->op == Tok::Ne) && a.type->kind == TypeKind::Boolean
                && b.type->kind == TypeKind::Boolean);
        if (ints) {
            u32 at = emit(compare_jump_op(cond->op, jump_if, false), a.reg, b.reg, 0);
            if (!patches->try_append(at))
                oom();
            release(b);
            release(a);
            return;
        }
        // Not ints: compute the boolean the general way.
        u16 r = alloc_reg(false);
        compare_equal(cond, a, b, r, false);
        release(b);
        release(a);
        u32 at = emit_jump(jump_if ? Op::JumpIf : Op::JumpIfNot, r);
        free_reg(r);
        if (!patches->try_append(at))
            oom();
        return;
    }
    Operand c = expr(cond, m_types.boolean());
    if (c.type->kind != TypeKind::Boolean)
        type_error(cond, "condition must be boolean, not '%s'", c.type);
    u32 at = emit_jump(jump_if ? Op::JumpIf : Op::JumpIfNot, c.reg);
    release(c);
    if (!patches->try_append(at))
        oom();
}

static bool is_constant_true(Expr* e) { return e && e->kind == ExprKind::Bool && e->int_value; }

bool Compiler::if_statement(Stmt* s)
{
    Vector<u32> to_else(m_memory);
    condition_jump(s->expr, false, &to_else);
    begin_scope();
    bool then_falls = statement(s->body);
    end_scope();
    if (!s->else_body) {
        for (u32 p : to_else)
            patch_jump(p);
        return true;
    }
    u32 to_end = then_falls ? emit_jump(Op::Jump) : 0;
    for (u32 p : to_else)
        patch_jump(p);
    begin_scope();
    bool else_falls = statement(s->else_body);
    end_scope();
    if (then_falls)
        patch_jump(to_end);
    return then_falls || else_falls;
}

// Loops are laid out with the condition at the bottom:
//   jump cond; top: body; continue: step; cond: if (c) jump top
// A loop body in its own scope, with its break and continue lists; the
// continues are patched to the end of the body.
void Compiler::loop_body(Stmt* body, Vector<u32>* breaks)
{
    Vector<u32> continues(m_memory);
    LoopContext loop { breaks, &continues, m_fs->trys.size(), m_fs->locals.size() };
    if (!m_fs->loops.try_append(loop))
        oom();
    begin_scope();
    statement(body);
    end_scope();
    m_fs->loops.pop();
    for (u32 p : continues)
        patch_jump(p);
}

// "if (cond) goto top": the conditional jumps go straight back to the top (a
// taken backward jump charges the budget, as Loop does).
void Compiler::loop_back_if(Expr* cond, u32 top)
{
    Vector<u32> back(m_memory);
    condition_jump(cond, true, &back);
    for (u32 p : back)
        patch_jump_to(p, top);
}

bool Compiler::while_statement(Stmt* s)
{
    Vector<u32> breaks(m_memory);
    bool infinite = is_constant_true(s->expr);
    u32 to_cond = infinite ? 0 : emit_jump(Op::Jump);
    u32 top = here();
    loop_body(s->body, &breaks);
    m_line = s->line;
    if (infinite) {
        emit_loop(top);
    } else {
        patch_jump(to_cond);
        loop_back_if(s->expr, top);
    }
    for (u32 p : breaks)
        patch_jump(p);
    return !infinite || breaks.size() > 0;
}

bool Compiler::do_statement(Stmt* s)
{
    Vector<u32> breaks(m_memory);
    u32 top = here();
    loop_body(s->body, &breaks);
    m_line = s->line;
    loop_back_if(s->expr, top);
    for (u32 p : breaks)
        patch_jump(p);
    return !is_constant_true(s->expr) || breaks.size() > 0;
}

bool Compiler::for_statement(Stmt* s)
{
    begin_scope();
    if (s->init) {
        if (s->init->kind == StmtKind::Var)
            var_statement(s->init, false);
        else
            statement(s->init);
    }
    Vector<u32> breaks(m_memory);
    u32 to_cond = s->expr ? emit_jump(Op::Jump) : 0;
    u32 top = here();
    loop_body(s->body, &breaks);
    m_line = s->line;
    if (s->step) {
        Operand st = expr(s->step);
        release(st);
    }
    if (s->expr) {
        patch_jump(to_cond);
        loop_back_if(s->expr, top);
    } else {
        emit_loop(top);
    }
    for (u32 p : breaks)
        patch_jump(p);
    end_scope();
    return s->expr != nullptr || breaks.size() > 0;
}

bool Compiler::foreach_statement(Stmt* s)
{
    begin_scope();
    Operand coll = expr(s->expr);
    Type* elem = m_types.error();
    if (coll.type->kind == TypeKind::Array)
        elem = coll.type->elem;
    else if (coll.type->kind != TypeKind::Error)
        type_error(s->expr, "for-each needs an array, not '%s'", coll.type);
    // Keep the array and the index in registers of their own.
    u16 arr = alloc_reg(true);
    emit_move(arr, coll.reg);
    release(coll);
    u16 index = alloc_reg(false);
    u16 size = alloc_reg(false);
    emit_imm(Op::LoadI, index, 0);
    Type* var_type = s->type ? resolve_type(s->type) : elem;
    if (!assignable(var_type, elem))
        error(s->line, s->column, "for-each variable type does not match the array elements");
    Local* l = declare_local(s->name, var_type, s->line, s->column, false);
    u16 var = l ? l->reg : 0;
    Vector<u32> breaks(m_memory);
    u32 to_cond = emit_jump(Op::Jump);
    u32 top = here();
    emit(Op::ArrayGet, var, arr, index);
    loop_body(s->body, &breaks);
    m_line = s->line;
    emit(Op::AddI, index, index, 1);
    patch_jump(to_cond);
    // size is re-read every round: the body may change the array.
    i32 native = find_native("Array", "size", 0);
    emit(Op::CallNative, size, (u32)native, 1, 1);
    emit_args(&arr, 1);
    patch_jump_to(emit(Op::JumpLt, index, size, 0), top);
    for (u32 p : breaks)
        patch_jump(p);
    free_reg(size);
    free_reg(index);
    free_reg(arr);
    end_scope();
    return true;
}

// Runs the finally blocks of the try statements from the innermost down to
// (not including) depth [down_to], as a jump out of them does. Each copy is
// cut out of the handler ranges of the try statements it steps out of, and
// is compiled with only the outer try statements active.
void Compiler::emit_finally_blocks(u32 down_to)
{
    FunctionState* fs = m_fs;
    u32 depth = fs->trys.size();
    if (depth <= down_to || !tick(depth - down_to))
        return;
    Vector<TryContext> saved(m_memory);
    for (u32 j = down_to; j < depth; j++) {
        if (!saved.try_append(fs->trys[j])) {
            oom();
            return;
        }
    }
    for (u32 i = depth; i-- > down_to;) {
        TryContext ctx = saved[i - down_to];
        if (!ctx.finally_block)
            continue;
        fs->trys.shrink(i);
        u32 start = here();
        block(ctx.finally_block);
        u32 end = here();
        for (u32 j = i; j < depth; j++) {
            CutList* cuts = saved[j - down_to].cuts;
            if (!cuts->pairs.try_append(start) || !cuts->pairs.try_append(end))
                oom();
            cuts->high = max(cuts->high, max(start + 1, end));
        }
    }
    fs->trys.shrink(down_to);
    for (TryContext& c : saved)
        if (!fs->trys.try_append(c))
            oom();
}

void Compiler::jump_out(Stmt* s, bool is_break)
{
    if (!m_fs->loops.size()) {
        error(s->line, s->column, is_break ? "'break' outside a loop" : "'continue' outside a loop");
        return;
    }
    LoopContext loop = m_fs->loops.last();
    emit_finally_blocks(loop.try_depth);
    u32 at = emit_jump(Op::Jump);
    if (!(is_break ? loop.breaks : loop.continues)->try_append(at))
        oom();
}

void Compiler::return_statement(Stmt* s)
{
    Type* rt = m_fs->return_type;
    if (rt->kind == TypeKind::Void || m_fs->is_ctor) {
        if (s->expr) {
            error(s->line, s->column, m_fs->is_ctor ? "a constructor cannot return a value"
                                                    : "a void function cannot return a value");
            Operand v = expr(s->expr);
            release(v);
        }
        emit_finally_blocks(0);
        emit(Op::ReturnVoid);
        return;
    }
    if (!s->expr) {
        error(s->line, s->column, "missing return value");
        emit(Op::ReturnVoid);
        return;
    }
    if (m_fs->trys.size() == 0) {
        // No finally block can run (and change a variable) before the
        // return: return the value from wherever it is.
        Operand v = coerce(expr(s->expr, rt), rt, s->expr, "return value");
        m_line = s->line;
        emit(Op::Return, v.reg);
        release(v);
        return;
    }
    u16 r = alloc_for(rt);
    expr_into(s->expr, r, rt, "return value");
    emit_finally_blocks(0);
    m_line = s->line;
    emit(Op::Return, r);
    free_reg(r);
}

// Sorts [n] keys in place, ascending (heapsort: no recursion, no memory).
static void sort_keys(u64* keys, u32 n)
{
    auto sift = [keys](u32 root, u32 size) {
        for (;;) {
            u32 child = 2 * root + 1;
            if (child >= size)
                return;
            if (child + 1 < size && keys[child + 1] > keys[child])
                child++;
            if (keys[root] >= keys[child])
                return;
            u64 t = keys[root];
            keys[root] = keys[child];
            keys[child] = t;
            root = child;
        }
    };
    for (u32 i = n / 2; i-- > 0;)
        sift(i, n);
    for (u32 end = n; end-- > 1;) {
        u64 t = keys[0];
        keys[0] = keys[end];
        keys[end] = t;
        sift(0, end);
    }
}

// Adds handler entries for [start, end) minus the cut ranges. Cuts were
// appended in code order (pairs), but nested copies may interleave; they are
// taken in ascending order of their starts (equal starts in list order),
// sorted once rather than searched for each piece (a try statement with
// thousands of returns through its finally block has thousands of cuts).
// Out of line: try_statement() recurses, and its frame stays small.
KS_NOINLINE bool Compiler::add_handlers(Vector<Handler>* handlers, u32 start, u32 end, CutList* cuts, u32 target, u16 reg)
{
    Vector<u32>& pairs = cuts->pairs;
    u32 count = pairs.size() / 2;
    Vector<u64> order(m_memory);   // Start << 32 | pair number.
    if (!order.try_resize(count))
        return false;
    for (u32 i = 0; i < count; i++)
        order[i] = (u64)pairs[2 * i] << 32 | i;
    sort_keys(order.data(), count);
    tick(count / 4);
    u32 from = start;
    u32 next = 0;
    for (;;) {
        while (next < count && (u32)(order[next] >> 32) < from)
            next++;
        u32 best = end;
        u32 best_end = end;
        if (next < count && (u32)(order[next] >> 32) < end) {
            best = (u32)(order[next] >> 32);
            best_end = pairs[2 * (u32)order[next] + 1];
        }
        if (best > from && !handlers->try_append(Handler { from, best, target, reg }))
            return false;
        if (best >= end)
            return true;
        from = best_end > from ? best_end : from + 1;
    }
}

bool Compiler::try_statement(Stmt* s)
{
    FunctionState* fs = m_fs;
    CutList cuts { Vector<u32>(m_memory), 0 };
    TryContext ctx { s->finally_block, here(), &cuts };
    u32 start = here();
    if (!fs->trys.try_append(ctx)) {
        oom();
        return true;
    }
    u32 depth = fs->trys.size() - 1;
    bool falls = block(s->block);
    u32 end = here();
    fs->trys.shrink(depth);
    if (s->finally_block && falls)
        falls = block(s->finally_block);
    Vector<u32> to_end(m_memory);
    if (falls && !to_end.try_append(emit_jump(Op::Jump)))
        oom();
    u32 target = here();
    u16 exc = alloc_reg(true);
    if (!add_handlers(&fs->handlers, start, end, &cuts, target, exc))
        oom();
    fs->handler_high = max(fs->handler_high, max(end, target + 1));

    // Catch clauses run with the finally block still pending.
    CutList cuts2 { Vector<u32>(m_memory), 0 };
    TryContext ctx2 { s->finally_block, here(), &cuts2 };
    u32 start2 = here();
    if (s->finally_block && !fs->trys.try_append(ctx2))
        oom();
    bool any_falls = falls;
    bool catch_all = false;
    for (u32 i = 0; i < s->catch_count; i++) {
        Catch& c = s->catches[i];
        m_line = c.line;
        Type* t = resolve_type(c.type);
        if (t->kind != TypeKind::Error && (t->kind != TypeKind::Class || !is_subclass(t->cls, m_exception))) {
            Expr at {};
            at.line = c.line;
            at.column = c.column;
            type_error(&at, "'%s' is not an exception class", t);
            t = m_types.error();
        }
        u32 skip = 0;
        bool matches_all = t->kind == TypeKind::Class && t->cls == m_exception;
        if (!matches_all && t->kind == TypeKind::Class) {
            u16 test = alloc_reg(false);
            emit(Op::InstanceOf, test, exc, t->cls->id);
            skip = emit_jump(Op::JumpIfNot, test);
            free_reg(test);
        }
        begin_scope();
        Local* l = c.name ? declare_local(c.name, t->kind == TypeKind::Error ? m_exception->type : t, c.line,
                                c.column, false)
                          : nullptr;
        // The handler's register holds an Exception: a Cast (which the
        // InstanceOf above makes certain) gives the verifier the class.
        if (l && (matches_all || t->kind != TypeKind::Class))
            emit_move(l->reg, exc);
        else if (l)
            emit(Op::Cast, l->reg, exc, t->cls->id);
        bool body_falls = block(c.body);
        end_scope();
        if (body_falls) {
            if (s->finally_block)
                emit_finally_blocks(depth);
            if (!to_end.try_append(emit_jump(Op::Jump)))
                oom();
            any_falls = true;
        }
        if (skip)
            patch_jump(skip);
        if (matches_all) {
            catch_all = true;
            break;
        }
    }
    if (!catch_all)
        emit(Op::Throw, exc);   // No clause matched: on to the outer handlers (through finally).
    u32 end2 = here();
    if (s->finally_block) {
        fs->trys.shrink(depth);
        u32 target2 = here();
        u16 exc2 = alloc_reg(true);
        if (!add_handlers(&fs->handlers, start2, end2, &cuts2, target2, exc2))
            oom();
        fs->handler_high = max(fs->handler_high, max(end2, target2 + 1));
        block(s->finally_block);
        emit(Op::Throw, exc2);
        free_reg(exc2);
    }
    free_reg(exc);
    for (u32 p : to_end)
        patch_jump(p);
    return any_falls;
}

// ---------------------------------------------------------------------------
// Expressions

Operand Compiler::error_operand()
{
    return Operand { m_types.error(), 0, false };
}

Operand Compiler::target_reg(i32 dest, Type* type)
{
    if (dest >= 0)
        return Operand { type, (u16)dest, false };
    return Operand { type, alloc_for(type), true };
}

void Compiler::expr_into(Expr* e, u16 dest, Type* dest_type, const char* context)
{
    Operand op = expr(e, dest_type, dest);
    (void)context;
    if (!assignable(dest_type, op.type)) {
        type_error(e, "cannot use '%s' as '%s'", op.type, dest_type);
    } else if (op.type->kind == TypeKind::Void) {
        error(e->line, e->column, "a void value cannot be used");
    } else if (op.type->kind == TypeKind::Null) {
        release(op);
        load_null(dest, dest_type);
        return;
    }
    if (op.reg != dest && op.type->kind != TypeKind::Error)
        emit_move(dest, op.reg);
    if (op.reg != dest)
        release(op);
}

Operand Compiler::coerce(Operand op, Type* to, Expr* at, const char* context)
{
    (void)context;
    if (!assignable(to, op.type)) {
        type_error(at, "cannot use '%s' as '%s'", op.type, to);
        return op;
    }
    if (op.type->kind == TypeKind::Null) {
        release(op);
        Operand r { to, alloc_for(to), true };
        load_null(r.reg, to);
        return r;
    }
    return op;
}

Operand Compiler::expr(Expr* e, Type* expected, i32 dest)
{
    if (m_failed || !e || !tick_node())
        return error_operand();
    // A second guard behind the parser's nesting limit.
    if (m_expr_depth > 2 * m_options.max_nesting + 64) {
        error(e->line, e->column, "expression nested too deeply");
        return error_operand();
    }
    m_expr_depth++;
    u32 saved_line = m_line;
    m_line = e->line;
    Operand r;
    switch (e->kind) {
    case ExprKind::Error: r = error_operand(); break;
    case ExprKind::Int: case ExprKind::Bool: case ExprKind::Null: case ExprKind::String:
        r = literal(e, dest, expected);
        break;
    case ExprKind::Name: r = name_expr(e, dest); break;
    case ExprKind::This:
        if (!m_fs->cls) {
            error_at(e, "'this' is only valid inside methods and constructors");
            r = error_operand();
        } else {
            r = Operand { m_fs->cls->type, 0, false };
        }
        break;
    case ExprKind::Super:
        error_at(e, "'super' can only be called or used to call a method");
        r = error_operand();
        break;
    case ExprKind::Member: r = member_expr(e, dest); break;
    case ExprKind::Index: r = index_expr(e, dest); break;
    case ExprKind::Call: r = call_expr(e, dest); break;
    case ExprKind::New: r = new_expr(e, dest); break;
    case ExprKind::NewArray: r = new_array_expr(e, dest); break;
    case ExprKind::ArrayLit: r = array_literal(e, expected, dest); break;
    case ExprKind::Unary: r = unary_expr(e, dest); break;
    case ExprKind::Binary:
        r = (e->op == Tok::AndAnd || e->op == Tok::OrOr) ? logical_expr(e, dest) : binary_expr(e, dest);
        break;
    case ExprKind::Assign: r = assign_expr(e, dest); break;
    case ExprKind::IncDec: r = incdec_expr(e); break;
    case ExprKind::Conditional: r = conditional_expr(e, expected, dest); break;
    case ExprKind::InstanceOf: r = instanceof_expr(e, dest); break;
    case ExprKind::As: r = as_expr(e, dest); break;
    case ExprKind::To: r = to_expr(e, dest); break;
    case ExprKind::BlockExpr: r = block_expr(e, expected, dest); break;
    default: r = error_operand(); break;
    }
    m_line = saved_line;
    m_expr_depth--;
    // An expression that failed to check (here or in a declaration it uses)
    // taints its statement: in transcript mode such a statement is replaced,
    // never run with half-emitted code.
    if (r.type->kind == TypeKind::Error)
        m_statement_errors++;
    return r;
}

Operand Compiler::literal(Expr* e, i32 dest, Type* expected)
{
    switch (e->kind) {
    case ExprKind::Int: {
        Operand r = target_reg(dest, m_types.int_type());
        load_int(r.reg, e->int_value);
        return r;
    }
    case ExprKind::Bool: {
        Operand r = target_reg(dest, m_types.boolean());
        emit_imm(Op::LoadI, r.reg, (i32)e->int_value);
        return r;
    }
    case ExprKind::String: {
        Operand r = target_reg(dest, m_types.string());
        emit_imm(Op::LoadK, r.reg, (i32)string_constant(e->name, e->name_length));
        return r;
    }
    default: {
        // null: typed by its context when there is one.
        if (expected && is_reference(expected) && expected->kind != TypeKind::Null) {
            Operand r = target_reg(dest, expected);
            load_null(r.reg, expected);
            r.type = m_types.null_type();
            return r;
        }
        Operand r { m_types.null_type(), alloc_reg(true), true };
        emit_imm(Op::LoadK, r.reg, (i32)add_constant(m_out->null_string, KindRef, m_types.string()));
        return r;
    }
    }
}

Operand Compiler::function_value(FuncSym* f, i32 dest)
{
    FuncObj* fo = m_heap->new_func(f->index);
    if (!fo) {
        oom();
        return error_operand();
    }
    m_heap->make_permanent(&fo->header);
    Operand r = target_reg(dest, f->func_type);
    emit_imm(Op::LoadK, r.reg, (i32)add_constant(from_obj(fo), KindRef, f->func_type));
    return r;
}

Operand Compiler::name_expr(Expr* e, i32 dest)
{
    if (Local* l = find_local(e->name))
        return Operand { l->type, l->reg, false };
    if (m_fs->cls) {
        if (FieldSym* f = find_field(m_fs->cls, e->name)) {
            Operand r = target_reg(dest, f->type);
            emit(Op::GetField, r.reg, 0, f->slot);
            return r;
        }
    }
    if (GlobalSym* g = find_global(e->name)) {
        Operand r = target_reg(dest, g->type);
        emit_imm(Op::GetGlobal, r.reg, (i32)g->index);
        return r;
    }
    for (const BuiltinConstant& c : kBuiltinConstants) {
        if (str_equal(e->name, c.name)) {
            Operand r = target_reg(dest, m_types.int_type());
            load_int(r.reg, c.value);
            return r;
        }
    }
    FuncSym* found = nullptr;
    u32 overloads = 0;
    m_function_index.find(e->name, [&](u32 i) {
        FuncSym* f = m_functions[i];
        if (!f->owner && str_equal(f->name, e->name)) {
            if (!found || f->index > found->index)
                found = f;
            overloads++;
        }
        return overloads > 1;
    });
    if (found && overloads == 1)
        return function_value(found, dest);
    if (found) {
        error_at(e, "'%s' is overloaded; a function value needs one function", e->name);
        return error_operand();
    }
    error_at(e, "undefined name '%s'", e->name);
    return error_operand();
}

static const char* native_owner(Type* t)
{
    switch (t->kind) {
    case TypeKind::String: return "String";
    case TypeKind::Array: return "Array";
    case TypeKind::Map: return "Map";
    case TypeKind::Bytes: return "Bytes";
    default: return nullptr;
    }
}

KS_NOINLINE Operand Compiler::member_expr(Expr* e, i32 dest)
{
    if (e->a->kind == ExprKind::Name && str_equal(e->a->name, "global") && !find_local("global")) {
        GlobalSym* g = find_global(e->name);
        if (!g) {
            error_at(e, "undefined global '%s'", e->name);
            return error_operand();
        }
        Operand r = target_reg(dest, g->type);
        emit_imm(Op::GetGlobal, r.reg, (i32)g->index);
        return r;
    }
    Operand obj = expr(e->a);
    if (obj.type->kind == TypeKind::Error)
        return obj;
    if (obj.type->kind == TypeKind::Class) {
        FieldSym* f = find_field(obj.type->cls, e->name);
        if (!f) {
            error_at(e, "'%s' has no field '%s'", obj.type->cls->name, e->name);
            release(obj);
            return error_operand();
        }
        release(obj);
        Operand r = target_reg(dest, f->type);
        emit(Op::GetField, r.reg, obj.reg, f->slot);
        return r;
    }
    // `s.length` and `a.length` / `a.size` read like properties too.
    const char* owner = native_owner(obj.type);
    if (owner && (str_equal(e->name, "length") || str_equal(e->name, "size"))) {
        i32 n = find_native(owner, e->name, 0);
        if (n >= 0)
            return call_native(e, n, &obj, obj.type, dest);
    }
    type_error(e->a, "'%s' has no fields", obj.type);
    release(obj);
    return error_operand();
}

Operand Compiler::index_expr(Expr* e, i32 dest)
{
    Operand obj = expr(e->a);
    Type* t = obj.type;
    if (t->kind == TypeKind::Error)
        return obj;
    if (t->kind == TypeKind::Array) {
        Operand ix = expr(e->b, m_types.int_type());
        if (ix.type->kind != TypeKind::Int)
            type_error(e->b, "array index must be int, not '%s'", ix.type);
        release(ix);
        release(obj);
        Operand r = target_reg(dest, t->elem);
        emit(Op::ArrayGet, r.reg, obj.reg, ix.reg);
        return r;
    }
    const char* owner = native_owner(t);
    if (owner && t->kind != TypeKind::Array) {
        i32 n = find_native(owner, "get", 1);
        if (n >= 0) {
            // Reuse the call path with a synthetic argument list.
            Expr call = *e;
            Expr* args[1] = { e->b };
            call.args = args;
            call.arg_count = 1;
            return call_native(&call, n, &obj, t, dest);
        }
    }
    type_error(e->a, "'%s' cannot be indexed", t);
    release(obj);
    return error_operand();
}

// Evaluates the arguments of [call] against [params] (null: any type) into
// fresh registers [regs], after the receiver's register if there is one.
// The caller frees every argument register after emitting the call.
void Compiler::args_into(Expr* call, Type** params, u32 count, u16* regs, Operand* receiver)
{
    u32 k = 0;
    if (receiver)
        regs[k++] = receiver->reg;
    for (u32 i = 0; i < count; i++) {
        Expr* a = call->args[i];
        Type* pt = params ? params[i] : nullptr;
        if (!pt) {
            // "any" parameter.
            Operand op = expr(a);
            regs[k++] = op.reg;
            if (!op.temp) {
                // Keep a copy so that freeing below is uniform.
                u16 t = alloc_for(op.type->kind == TypeKind::Error ? m_types.int_type() : op.type);
                emit_move(t, op.reg);
                regs[k - 1] = t;
            }
            continue;
        }
        u16 t = alloc_for(pt);
        expr_into(a, t, pt, "argument");
        regs[k++] = t;
    }
}

Operand Compiler::call_function(Expr* e, FuncSym* f, Operand* receiver, bool virtual_call, i32 dest)
{
    u32 argc = e->arg_count;
    // Argument registers live on the arena: calls nest inside arguments, and
    // the native stack used per nesting level must stay small.
    u16* regs = arena_array<u16>(argc + 1);
    if (!regs)
        return error_operand();
    args_into(e, f->params, argc, regs, receiver);
    u32 total = argc + (receiver ? 1 : 0);
    for (u32 i = receiver ? 1 : 0; i < total; i++)
        free_reg(regs[i]);
    if (receiver)
        release(*receiver);
    Operand r;
    if (f->result->kind == TypeKind::Void)
        r = Operand { m_types.void_type(), 0, false };
    else
        r = target_reg(dest, f->result);
    m_line = e->line;
    if (total == 1) {
        emit(virtual_call ? Op::CallMethod1 : Op::Call1, r.reg, virtual_call ? (u32)f->slot : f->index, regs[0]);
        return r;
    }
    if (virtual_call)
        emit(Op::CallMethod, r.reg, (u32)f->slot, total);
    else
        emit(Op::Call, r.reg, f->index, total);
    emit_args(regs, total);
    return r;
}

Type* Compiler::native_type(char code, Type* receiver)
{
    Type* t = nullptr;
    switch (code) {
    case 'v': return m_types.void_type();
    case 'i': return m_types.int_type();
    case 'b': return m_types.boolean();
    case 's': return m_types.string();
    case 'y': return m_types.bytes();
    case 'o': {
        // An instance of any class (the host natives' object parameter).
        ClassSym* object = find_class("Object");
        return object ? object->type : m_types.error();
    }
    case 'E': return receiver ? receiver->elem : m_types.error();
    case 'K': return receiver ? receiver->key : m_types.error();
    case 'R': return receiver;
    case 'S': t = m_types.array_of(m_types.string()); break;
    case 'k': t = receiver ? m_types.array_of(receiver->key) : nullptr; break;
    case 'e': t = receiver ? m_types.array_of(receiver->elem) : nullptr; break;
    default: return m_types.error();
    }
    if (!t) {
        oom();
        return m_types.error();
    }
    return t;
}

Operand Compiler::call_native(Expr* e, i32 native, Operand* receiver, Type* receiver_type, i32 dest)
{
    u32 count;
    const NativeInfo& info = native_table(&count)[native];
    const char* sig = info.signature;
    u32 argc = (u32)str_length(sig) - 1;
    Type* params[8];
    for (u32 i = 0; i < argc && i < 8; i++)
        params[i] = native_type(sig[i + 1], receiver_type);
    u16 regs[9];
    args_into(e, params, argc, regs, receiver);
    u32 total = argc + (receiver ? 1 : 0);
    for (u32 i = receiver ? 1 : 0; i < total; i++)
        free_reg(regs[i]);
    if (receiver)
        release(*receiver);
    Type* rt = native_type(sig[0], receiver_type);
    Operand r = rt->kind == TypeKind::Void ? Operand { rt, 0, false } : target_reg(dest, rt);
    type_index(rt);   // The verifier types the result (String[], K[], E[]) from the table.
    m_line = e->line;
    emit(Op::CallNative, r.reg, (u32)native, total, rt->kind == TypeKind::Void ? 0 : 1);
    emit_args(regs, total);
    return r;
}

Operand Compiler::call_value(Expr* e, Operand callee, i32 dest)
{
    Type* ft = callee.type;
    if (e->arg_count != ft->param_count) {
        error(e->line, e->column, "this function value takes %d arguments", nullptr, nullptr, ft->param_count);
        release(callee);
        return error_operand();
    }
    u16* regs = arena_array<u16>(e->arg_count + 1);
    if (!regs)
        return error_operand();
    args_into(e, ft->params, e->arg_count, regs, nullptr);
    for (u32 i = 0; i < e->arg_count; i++)
        free_reg(regs[i]);
    release(callee);
    Operand r = ft->elem->kind == TypeKind::Void ? Operand { ft->elem, 0, false } : target_reg(dest, ft->elem);
    m_line = e->line;
    emit(Op::CallValue, r.reg, callee.reg, e->arg_count);
    emit_args(regs, e->arg_count);
    return r;
}

Operand Compiler::call_expr(Expr* e, i32 dest)
{
    if (e->arg_count > kMaxParams) {
        error_at(e, "too many arguments");
        return error_operand();
    }
    Expr* callee = e->a;
    if (callee->kind == ExprKind::Member)
        return method_call(e, dest);
    if (callee->kind == ExprKind::Super) {
        // super(...) in a constructor.
        if (!m_fs->is_ctor || !m_fs->cls || !m_fs->cls->super) {
            error_at(e, "super(...) can only be called in a constructor");
            return error_operand();
        }
        ClassSym* sup = m_fs->cls->super;
        for (FuncSym* c : sup->ctors) {
            if (c->param_count == e->arg_count) {
                Operand self { m_fs->cls->type, 0, false };
                return call_function(e, c, &self, false, dest);
            }
        }
        if (sup == m_object && e->arg_count == 0)
            return Operand { m_types.void_type(), 0, false };
        error(e->line, e->column, "'%s' has no constructor with %d parameters", sup->name, nullptr, e->arg_count);
        return error_operand();
    }
    if (callee->kind == ExprKind::Name) {
        const char* name = callee->name;
        Local* l = find_local(name);
        GlobalSym* g = l ? nullptr : find_global(name);
        if ((l && l->type->kind == TypeKind::Func) || (g && g->type->kind == TypeKind::Func)) {
            Operand fv = expr(callee);
            return call_value(e, fv, dest);
        }
        if (!l && !g && str_equal(name, "assert")) {
            if (e->arg_count != 1) {
                error_at(e, "assert takes one boolean argument");
                return error_operand();
            }
            Operand c = expr(e->args[0], m_types.boolean());
            if (c.type->kind != TypeKind::Boolean)
                type_error(e->args[0], "assert needs a boolean, not '%s'", c.type);
            m_line = e->line;
            emit(Op::Assert, c.reg);
            release(c);
            return Operand { m_types.void_type(), 0, false };
        }
        if (m_fs->cls) {
            if (FuncSym* m = find_method(m_fs->cls, name, e->arg_count)) {
                Operand self { m_fs->cls->type, 0, false };
                return call_function(e, m, &self, true, dest);
            }
        }
        if (FuncSym* f = find_function(name, e->arg_count))
            return call_function(e, f, nullptr, false, dest);
        if (l || g) {
            error_at(e, "'%s' is not a function", name);
            return error_operand();
        }
        if (function_name_exists(name))
            error(e->line, e->column, "no function '%s' takes %d arguments", name, nullptr, e->arg_count);
        else
            error_at(e, "undefined function '%s'", name);
        return error_operand();
    }
    Operand fv = expr(callee);
    if (fv.type->kind == TypeKind::Func)
        return call_value(e, fv, dest);
    if (fv.type->kind != TypeKind::Error)
        type_error(callee, "'%s' is not a function", fv.type);
    release(fv);
    return error_operand();
}

Operand Compiler::method_call(Expr* e, i32 dest)
{
    Expr* callee = e->a;
    Expr* recv = callee->a;
    const char* name = callee->name;
    u32 argc = e->arg_count;
    if (recv->kind == ExprKind::Name && !find_local(recv->name) && !find_global(recv->name)
        && !(m_fs->cls && find_field(m_fs->cls, recv->name))) {
        const char* ns = recv->name;
        if (str_equal(ns, "System") && str_equal(name, "p")) {
            if (argc != 1) {
                error_at(e, "System.p takes one argument");
                return error_operand();
            }
            Operand v = expr(e->args[0]);
            if (v.type->kind == TypeKind::Void) {
                error_at(e->args[0], "a void value cannot be printed");
                return error_operand();
            }
            if (v.type->kind == TypeKind::Class)
                v = string_of(v, e->args[0]);
            m_line = e->line;
            emit(Op::Print, v.reg, 0, 0, v.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(v.type));
            release(v);
            return Operand { m_types.void_type(), 0, false };
        }
        const char* owner = nullptr;
        if (str_equal(ns, "System"))
            owner = "System";
        else if (str_equal(ns, "Linux"))
            owner = "Linux";
        else if (str_equal(ns, "String"))
            owner = "String.";
        else if (str_equal(ns, "Bytes"))
            owner = "Bytes.";
        if (owner) {
            // Natives named __* are the built-in classes' way to the host
            // (Device, Proc, Timer): no script may call them itself.
            if (name[0] == '_' && name[1] == '_' && !m_in_prelude) {
                error_at(e, "'%s.%s' is internal to the built-in classes", ns, name);
                return error_operand();
            }
            i32 n = find_native(owner, name, argc);
            if (n < 0) {
                error_at(e, "'%s' has no function '%s' with these arguments", ns, name);
                return error_operand();
            }
            return call_native(e, n, nullptr, nullptr, dest);
        }
        if (find_class(ns)) {
            error_at(e, "'%s.%s' is not a static function; call it on an instance", ns, name);
            return error_operand();
        }
    }
    if (recv->kind == ExprKind::Super) {
        if (!m_fs->cls || !m_fs->cls->super) {
            error_at(e, "'super' is only valid inside methods of a subclass");
            return error_operand();
        }
        FuncSym* m = find_method(m_fs->cls->super, name, argc);
        if (!m) {
            error_at(e, "'%s' has no method '%s'", m_fs->cls->super->name, name);
            return error_operand();
        }
        Operand self { m_fs->cls->type, 0, false };
        return call_function(e, m, &self, false, dest);
    }
    Operand obj = expr(recv);
    Type* t = obj.type;
    if (t->kind == TypeKind::Error)
        return obj;
    if (str_equal(name, "isNull") && argc == 0 && is_reference(t)) {
        release(obj);
        Operand r = target_reg(dest, m_types.boolean());
        emit(Op::IsNull, r.reg, obj.reg);
        return r;
    }
    if (t->kind == TypeKind::Class) {
        if (FuncSym* m = find_method(t->cls, name, argc))
            return call_function(e, m, &obj, true, dest);
        if (FieldSym* f = find_field(t->cls, name)) {
            if (f->type->kind == TypeKind::Func) {
                Operand fv { f->type, alloc_reg(true), true };
                emit(Op::GetField, fv.reg, obj.reg, f->slot);
                release(obj);
                return call_value(e, fv, dest);
            }
        }
        if (str_equal(name, "toString") && argc == 0) {
            Operand r = to_string(obj, e, dest);
            return r;
        }
        error(e->line, e->column, "'%s' has no method '%s' taking %d arguments", t->cls->name, name, argc);
        release(obj);
        return error_operand();
    }
    if ((t->kind == TypeKind::Int || t->kind == TypeKind::Boolean) && str_equal(name, "toString") && argc == 0)
        return to_string(obj, e, dest);
    const char* owner = native_owner(t);
    if (owner) {
        i32 n = find_native(owner, name, argc);
        if (n >= 0)
            return call_native(e, n, &obj, t, dest);
    }
    no_method_error(e, t, name, argc);
    release(obj);
    return error_operand();
}

Operand Compiler::new_expr(Expr* e, i32 dest)
{
    Type* t = resolve_type(e->type);
    if (t->kind == TypeKind::Error)
        return error_operand();
    if (t->kind == TypeKind::Map) {
        if (e->arg_count)
            error_at(e, "a new Map takes no arguments");
        Operand r = target_reg(dest, t);
        u8 x = (u8)(value_kind(t->key) | (value_kind(t->elem) << 4));
        emit_imm(Op::NewMap, r.reg, (i32)type_index(t), x);
        return r;
    }
    if (t->kind == TypeKind::Array) {
        if (e->arg_count)
            error_at(e, "use new T[n] for an array of n elements");
        Operand size { m_types.int_type(), alloc_reg(false), true };
        emit_imm(Op::LoadI, size.reg, 0);
        release(size);
        Operand r = target_reg(dest, t);
        type_index(t);
        emit(Op::NewArray, r.reg, size.reg, add_constant(null_value(t->elem), value_kind(t->elem), t->elem),
            value_kind(t->elem));
        return r;
    }
    if (t->kind == TypeKind::Bytes) {
        i32 n = find_native("Bytes.", "new", e->arg_count);
        if (n < 0) {
            error_at(e, "new Bytes(n) takes the size");
            return error_operand();
        }
        return call_native(e, n, nullptr, nullptr, dest);
    }
    if (t->kind != TypeKind::Class) {
        type_error(e, "cannot create '%s' with new", t);
        return error_operand();
    }
    ClassSym* c = t->cls;
    FuncSym* ctor = nullptr;
    for (FuncSym* k : c->ctors)
        if (k->param_count == e->arg_count)
            ctor = k;
    if (!ctor) {
        error(e->line, e->column, "'%s' has no constructor with %d parameters", c->name, nullptr, e->arg_count);
        return error_operand();
    }
    // The object goes into a register of its own first: a destination that
    // is also an argument (p = new P(p)) must keep its value until the call.
    Operand obj { t, alloc_reg(true), true };
    emit(Op::NewObject, obj.reg, c->id);
    Operand self { t, obj.reg, false };
    call_function(e, ctor, &self, false, -1);
    if (dest >= 0) {
        emit_move((u16)dest, obj.reg);
        release(obj);
        return Operand { t, (u16)dest, false };
    }
    return obj;
}

Operand Compiler::new_array_expr(Expr* e, i32 dest)
{
    Type* elem = resolve_type(e->type);
    if (elem->kind == TypeKind::Error)
        return error_operand();
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return error_operand();
    }
    Operand size = expr(e->a, m_types.int_type());
    if (size.type->kind != TypeKind::Int)
        type_error(e->a, "array size must be int, not '%s'", size.type);
    release(size);
    Operand r = target_reg(dest, t);
    type_index(t);   // The verifier types the result as the array of the default's type.
    emit(Op::NewArray, r.reg, size.reg, add_constant(null_value(elem), value_kind(elem), elem), value_kind(elem));
    return r;
}

Operand Compiler::array_literal(Expr* e, Type* expected, i32 dest)
{
    Type* elem = expected && expected->kind == TypeKind::Array ? expected->elem : nullptr;
    u32 n = e->arg_count;
    if (n > kMaxParams * 200) {
        error_at(e, "array literal is too long");
        return error_operand();
    }
    Vector<u16> regs(m_memory);
    for (u32 i = 0; i < n; i++) {
        Expr* a = e->args[i];
        if (!elem) {
            Operand first = expr(a);
            if (first.type->kind == TypeKind::Null || first.type->kind == TypeKind::Void) {
                error_at(a, "cannot infer the element type of this array literal");
                release(first);
                return error_operand();
            }
            elem = first.type;
            u16 t = alloc_for(elem);
            emit_move(t, first.reg);
            release(first);
            if (!regs.try_append(t))
                oom();
            continue;
        }
        u16 t = alloc_for(elem);
        expr_into(a, t, elem, "array element");
        if (!regs.try_append(t))
            oom();
    }
    if (!elem) {
        error_at(e, "cannot infer the type of an empty array literal here");
        return error_operand();
    }
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return error_operand();
    }
    for (u16 r : regs)
        free_reg(r);
    Operand r = target_reg(dest, t);
    u32 type = type_index(t);
    if (type > 0xffff)
        error_at(e, "too many types in the program for an array literal");
    emit(Op::ArrayLiteral, r.reg, type, n, value_kind(elem));
    emit_args(regs.data(), n);
    return r;
}

Operand Compiler::unary_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    if (a.type->kind == TypeKind::Error)
        return a;
    release(a);
    if (e->op == Tok::Bang) {
        if (a.type->kind != TypeKind::Boolean)
            type_error(e, "'!' needs a boolean, not '%s'", a.type);
        Operand r = target_reg(dest, m_types.boolean());
        emit(Op::Not, r.reg, a.reg);
        return r;
    }
    if (a.type->kind != TypeKind::Int)
        type_error(e, e->op == Tok::Minus ? "'-' needs an int, not '%s'" : "'~' needs an int, not '%s'", a.type);
    Operand r = target_reg(dest, m_types.int_type());
    emit(e->op == Tok::Minus ? Op::Neg : Op::BitNot, r.reg, a.reg);
    return r;
}

// The string form of a value: a call to toString() for classes that have
// one, the ToString instruction otherwise. Consumes [value].
Operand Compiler::to_string(Operand value, Expr* at, i32 dest)
{
    Type* t = value.type;
    if (t->kind == TypeKind::String)
        return value;
    if (t->kind == TypeKind::Class) {
        FuncSym* m = find_method(t->cls, "toString", 0);
        if (m && m->result->kind == TypeKind::String) {
            Expr call = *at;
            call.arg_count = 0;
            call.args = nullptr;
            return call_function(&call, m, &value, true, dest);
        }
    }
    release(value);
    Operand r = target_reg(dest, m_types.string());
    emit(Op::ToString, r.reg, value.reg, 0, t->kind == TypeKind::Null ? (u8)KindRef : value_kind(t));
    return r;
}

Operand Compiler::string_of(Operand value, Expr* at)
{
    return to_string(value, at, -1);
}

bool Compiler::compare_equal(Expr* e, Operand& a, Operand& b, u16 dest, bool negate)
{
    bool ne = (e->op == Tok::Ne) != negate;
    Type* ta = a.type;
    Type* tb = b.type;
    if (ta->kind == TypeKind::Error || tb->kind == TypeKind::Error)
        return false;
    if (e->op != Tok::Eq && e->op != Tok::Ne) {
        // Ordering comparisons: ints only.
        if (ta->kind != TypeKind::Int || tb->kind != TypeKind::Int) {
            type_error(e, "cannot order '%s' and '%s'", ta, tb);
            return false;
        }
        switch (e->op) {
        case Tok::Lt: emit(Op::Lt, dest, a.reg, b.reg); break;
        case Tok::Le: emit(Op::Le, dest, a.reg, b.reg); break;
        case Tok::Gt: emit(Op::Lt, dest, b.reg, a.reg); break;
        default: emit(Op::Le, dest, b.reg, a.reg); break;
        }
        if (negate)
            emit(Op::Not, dest, dest);
        return true;
    }
    if (ta->kind == TypeKind::Null || tb->kind == TypeKind::Null) {
        Operand& other = ta->kind == TypeKind::Null ? b : a;
        if (!is_reference(other.type)) {
            type_error(e, "cannot compare '%s' with null", other.type);
            return false;
        }
        emit(Op::IsNull, dest, other.reg);
        if (ne)
            emit(Op::Not, dest, dest);
        return true;
    }
    if (ta->kind == TypeKind::String && tb->kind == TypeKind::String) {
        emit(ne ? Op::NeStr : Op::EqStr, dest, a.reg, b.reg);
        return true;
    }
    bool ok = (ta == tb && !is_reference(ta)) || (is_reference(ta) && is_reference(tb) && (assignable(ta, tb) || assignable(tb, ta)));
    if (!ok) {
        type_error(e, "cannot compare '%s' and '%s'", ta, tb);
        return false;
    }
    emit(ne ? Op::Ne : Op::Eq, dest, a.reg, b.reg);
    return true;
}

// The instruction of a binary integer (or boolean bitwise) operator.
static Op arithmetic_op(Tok op)
{
    switch (op) {
    case Tok::Plus: return Op::Add;
    case Tok::Minus: return Op::Sub;
    case Tok::Star: return Op::Mul;
    case Tok::Slash: return Op::Div;
    case Tok::Percent: return Op::Mod;
    case Tok::Amp: return Op::BitAnd;
    case Tok::Pipe: return Op::BitOr;
    case Tok::Caret: return Op::BitXor;
    case Tok::Shl: return Op::Shl;
    default: return Op::Shr;
    }
}

// The form of an arithmetic instruction that takes K[c] as its right operand.
static Op with_constant(Op op)
{
    switch (op) {
    case Op::Add: return Op::AddK;
    case Op::Sub: return Op::SubK;
    case Op::Mul: return Op::MulK;
    case Op::Div: return Op::DivK;
    case Op::Mod: return Op::ModK;
    case Op::BitAnd: return Op::BitAndK;
    case Op::BitOr: return Op::BitOrK;
    case Op::BitXor: return Op::BitXorK;
    case Op::Shl: return Op::ShlK;
    default: return Op::ShrK;
    }
}

static bool is_arithmetic(Tok op)
{
    switch (op) {
    case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent:
    case Tok::Amp: case Tok::Pipe: case Tok::Caret: case Tok::Shl: case Tok::Shr:
        return true;
    default:
        return false;
    }
}

static bool small_int(Expr* e, i64 lo = -32768, i64 hi = 32767)
{
    return e->kind == ExprKind::Int && e->int_value >= lo && e->int_value <= hi;
}

Operand Compiler::binary_expr(Expr* e, i32 dest)
{
    Tok op = e->op;
    // x + k and x - k with a small constant: one instruction.
    if ((op == Tok::Plus || op == Tok::Minus) && small_int(e->b, -32767, 32767)) {
        Operand a = expr(e->a);
        if (a.type->kind == TypeKind::Int) {
            release(a);
            Operand r = target_reg(dest, m_types.int_type());
            i64 k = op == Tok::Plus ? e->b->int_value : -e->b->int_value;
            emit(Op::AddI, r.reg, a.reg, (u16)(i16)k);
            return r;
        }
        if (a.type->kind == TypeKind::String && op == Tok::Plus) {
            Operand b = expr(e->b);
            release(b);
            release(a);
            Operand r = target_reg(dest, m_types.string());
            emit(Op::Concat, r.reg, a.reg, b.reg, KindInt);
            return r;
        }
        release(a);
        if (a.type->kind != TypeKind::Error)
            type_error(e, "'%s' needs ints, not '%s'", a.type);
        return error_operand();
    }
    Operand a = expr(e->a);
    if (a.type->kind == TypeKind::Int && is_arithmetic(op) && e->b->kind == ExprKind::Int
        && !((op == Tok::Slash || op == Tok::Percent) && (e->b->int_value == 0 || e->b->int_value == -1))) {
        // An int operation with a constant: the constant stays in the pool.
        // (Division by 0 or -1 takes the checked path below.)
        i32 k = int_constant_operand(e->b);
        if (k >= 0) {
            release(a);
            Operand r = target_reg(dest, m_types.int_type());
            emit(with_constant(arithmetic_op(op)), r.reg, a.reg, (u32)k);
            return r;
        }
    }
    Operand b = expr(e->b, a.type);
    if (a.type->kind == TypeKind::Error || b.type->kind == TypeKind::Error) {
        release(b);
        release(a);
        return error_operand();
    }
    switch (op) {
    case Tok::Eq: case Tok::Ne: case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge: {
        u16 r = dest >= 0 ? (u16)dest : alloc_reg(false);
        bool ok = compare_equal(e, a, b, r, false);
        release(b);
        release(a);
        if (!ok) {
            if (dest < 0)
                free_reg(r);
            return error_operand();
        }
        return Operand { m_types.boolean(), r, dest < 0 };
    }
    default:
        break;
    }
    if (op == Tok::Plus && a.type->kind == TypeKind::String) {
        if (b.type->kind == TypeKind::Void) {
            error_at(e->b, "a void value cannot be concatenated");
            return error_operand();
        }
        if (b.type->kind == TypeKind::Class)
            b = string_of(b, e->b);
        release(b);
        release(a);
        Operand r = target_reg(dest, m_types.string());
        emit(Op::Concat, r.reg, a.reg, b.reg, b.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(b.type));
        return r;
    }
    bool bitwise = op == Tok::Amp || op == Tok::Pipe || op == Tok::Caret;
    bool bools = bitwise && a.type->kind == TypeKind::Boolean && b.type->kind == TypeKind::Boolean;
    if (!bools && (a.type->kind != TypeKind::Int || b.type->kind != TypeKind::Int)) {
        operator_error(e, op, a.type, b.type);
        release(b);
        release(a);
        return error_operand();
    }
    release(b);
    release(a);
    Operand r = target_reg(dest, bools ? m_types.boolean() : m_types.int_type());
    emit(arithmetic_op(op), r.reg, a.reg, b.reg);
    return r;
}

Operand Compiler::logical_expr(Expr* e, i32 dest)
{
    Operand r = target_reg(dest, m_types.boolean());
    Vector<u32> to_false(m_memory);
    u32 errors = m_statement_errors;
    condition_jump(e, false, &to_false);
    emit_imm(Op::LoadI, r.reg, 1);
    u32 to_end = emit_jump(Op::Jump);
    for (u32 p : to_false)
        patch_jump(p);
    emit_imm(Op::LoadI, r.reg, 0);
    patch_jump(to_end);
    if (m_statement_errors != errors) {
        release(r);
        return error_operand();
    }
    return r;
}

static Tok compound_base(Tok t)
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
static bool may_assign(const Expr* e, u32* steps)
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

static bool may_assign(const Expr* e)
{
    u32 steps = 32;
    return may_assign(e, &steps);
}

// The value of an assignment to a field or global of type [t], in any
// register (a variable's own, or a temporary), checked and converted.
Operand Compiler::assigned_value(Expr* value, Type* t)
{
    Operand v = coerce(expr(value, t), t, value, "assignment");
    if (v.type->kind == TypeKind::Error || !assignable(t, v.type)) {
        // Reported: a register of the right kind keeps the code well formed.
        release(v);
        return Operand { t, alloc_for(t), true };
    }
    v.type = t;
    return v;
}

Operand Compiler::assign_expr(Expr* e, i32 dest)
{
    (void)dest;
    Expr* target = e->a;
    Tok base = compound_base(e->op);
    // The new value, as an expression over the old one for compound forms:
    // `t op= v` is compiled as `t = t op v` with t evaluated once.
    Expr synthetic {};
    Expr* value = e->b;
    if (base != Tok::Assign) {
        synthetic = *e;
        synthetic.kind = ExprKind::Binary;
        synthetic.op = base;
        synthetic.a = target;
        synthetic.b = e->b;
        value = &synthetic;
    }
    if (target->kind == ExprKind::Name) {
        const char* name = target->name;
        if (Local* l = find_local(name)) {
            if (l->is_const || str_equal(name, "this")) {
                error_at(target, "cannot assign to constant '%s'", name);
                return error_operand();
            }
            Local copy = *l;
            expr_into(value, copy.reg, copy.type, "assignment");
            return Operand { copy.type, copy.reg, false };
        }
        // A field or global is stored from wherever the value is.
        if (m_fs->cls) {
            if (FieldSym* f = find_field(m_fs->cls, name)) {
                Operand v = assigned_value(value, f->type);
                emit(Op::SetField, 0, f->slot, v.reg);
                return v;
            }
        }
        if (GlobalSym* g = find_global(name)) {
            if (g->is_const) {
                error_at(target, "cannot assign to constant '%s'", name);
                return error_operand();
            }
            Operand v = assigned_value(value, g->type);
            emit_imm(Op::SetGlobal, v.reg, (i32)g->index);
            return v;
        }
        error_at(target, "undefined name '%s'", name);
        return error_operand();
    }
    if (target->kind == ExprKind::Member) {
        if (target->a->kind == ExprKind::Name && str_equal(target->a->name, "global") && !find_local("global")) {
            GlobalSym* g = find_global(target->name);
            if (!g) {
                error_at(target, "undefined global '%s'", target->name);
                return error_operand();
            }
            if (g->is_const) {
                error_at(target, "cannot assign to constant '%s'", target->name);
                return error_operand();
            }
            Operand v { g->type, alloc_for(g->type), true };
            expr_into(value, v.reg, g->type, "assignment");
            emit_imm(Op::SetGlobal, v.reg, (i32)g->index);
            return v;
        }
        Operand obj = expr(target->a);
        if (obj.type->kind == TypeKind::Error)
            return obj;
        if (obj.type->kind != TypeKind::Class) {
            type_error(target->a, "'%s' has no fields to assign", obj.type);
            release(obj);
            return error_operand();
        }
        FieldSym* f = find_field(obj.type->cls, target->name);
        if (!f) {
            error_at(target, "'%s' has no field '%s'", obj.type->cls->name, target->name);
            release(obj);
            return error_operand();
        }
        // Keep the object in a register the value's evaluation cannot touch
        // (a variable's own register, unless the value may assign variables).
        u16 o = obj.reg;
        bool own = obj.temp;
        if (!own && may_assign(e->b)) {
            o = alloc_reg(true);
            emit_move(o, obj.reg);
            own = true;
        }
        Operand v { f->type, alloc_for(f->type), true };
        if (base != Tok::Assign) {
            // t.f op= v: read the field through the saved object.
            Operand old { f->type, alloc_for(f->type), true };
            emit(Op::GetField, old.reg, o, f->slot);
            compound_value(e, base, f->type, old.reg, v.reg);
            release(old);
        } else {
            expr_into(e->b, v.reg, f->type, "assignment");
        }
        emit(Op::SetField, o, f->slot, v.reg);
        if (own)
            free_reg(o);
        return v;
    }
    if (target->kind == ExprKind::Index) {
        Operand obj = expr(target->a);
        Type* t = obj.type;
        if (t->kind == TypeKind::Error)
            return obj;
        // The container and the index stay in variables' own registers
        // unless the index or the value may assign variables.
        bool stable = !may_assign(target->b) && !may_assign(e->b);
        u16 o = obj.reg;
        bool own_o = obj.temp;
        if (!own_o && !stable) {
            o = alloc_reg(true);
            emit_move(o, obj.reg);
            own_o = true;
        }
        Type* key_type = t->kind == TypeKind::Map ? t->key : m_types.int_type();
        Type* val_type = t->kind == TypeKind::Array || t->kind == TypeKind::Map ? t->elem
            : t->kind == TypeKind::Bytes ? m_types.int_type() : nullptr;
        if (!val_type) {
            type_error(target->a, "'%s' cannot be indexed", t);
            if (own_o)
                free_reg(o);
            return error_operand();
        }
        u16 k;
        bool own_k = true;
        if (stable) {
            Operand key = coerce(expr(target->b, key_type), key_type, target->b, "index");
            k = key.reg;
            own_k = key.temp;
        } else {
            k = alloc_for(key_type);
            expr_into(target->b, k, key_type, "index");
        }
        Operand v { val_type, alloc_for(val_type), true };
        if (base != Tok::Assign) {
            Operand old { val_type, alloc_for(val_type), true };
            if (t->kind == TypeKind::Array) {
                emit(Op::ArrayGet, old.reg, o, k);
            } else {
                const char* owner = native_owner(t);
                u16 regs[2] = { o, k };
                emit(Op::CallNative, old.reg, (u32)find_native(owner, "get", 1), 2, 1);
                emit_args(regs, 2);
            }
            compound_value(e, base, val_type, old.reg, v.reg);
            release(old);
        } else {
            expr_into(e->b, v.reg, val_type, "assignment");
        }
        if (t->kind == TypeKind::Array) {
            emit(Op::ArraySet, o, k, v.reg);
        } else {
            const char* owner = native_owner(t);
            u16 regs[3] = { o, k, v.reg };
            emit(Op::CallNative, 0, (u32)find_native(owner, "set", 2), 3);
            emit_args(regs, 3);
        }
        if (own_k)
            free_reg(k);
        if (own_o)
            free_reg(o);
        return v;
    }
    error_at(target, "cannot assign to this expression");
    return error_operand();
}

// [dest] := [old] op e->b, for `t op= v` on a field or element of type [t].
void Compiler::compound_value(Expr* e, Tok base, Type* t, u16 old, u16 dest)
{
    Operand rhs = expr(e->b, t);
    if (t->kind == TypeKind::String && base == Tok::Plus) {
        if (rhs.type->kind == TypeKind::Class)
            rhs = string_of(rhs, e->b);
        emit(Op::Concat, dest, old, rhs.reg, rhs.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(rhs.type));
    } else if (t->kind == TypeKind::Int && rhs.type->kind == TypeKind::Int) {
        emit(arithmetic_op(base), dest, old, rhs.reg);
    } else if (rhs.type->kind != TypeKind::Error) {
        type_error(e, "compound assignment cannot combine '%s' and '%s'", t, rhs.type);
    }
    release(rhs);
}

Operand Compiler::incdec_expr(Expr* e)
{
    // ++t is t += 1 used as a statement.
    Expr one {};
    one.kind = ExprKind::Int;
    one.line = e->line;
    one.column = e->column;
    one.depth = 1;
    one.int_value = 1;
    Expr assign = *e;
    assign.kind = ExprKind::Assign;
    assign.op = e->op == Tok::PlusPlus ? Tok::PlusAssign : Tok::MinusAssign;
    assign.a = e->a;
    assign.b = &one;
    if (e->a->kind != ExprKind::Name && e->a->kind != ExprKind::Member && e->a->kind != ExprKind::Index) {
        error_at(e, "'++' and '--' need a variable, field or element");
        return error_operand();
    }
    Operand r = assign_expr(&assign, -1);
    if (r.type->kind != TypeKind::Int && r.type->kind != TypeKind::Error)
        type_error(e, "'++' and '--' need an int, not '%s'", r.type);
    release(r);
    return Operand { m_types.void_type(), 0, false };
}

Operand Compiler::conditional_expr(Expr* e, Type* expected, i32 dest)
{
    Vector<u32> to_else(m_memory);
    condition_jump(e->a, false, &to_else);
    // When the type is known, the result register comes first and each arm
    // computes straight into it.
    bool known = expected && expected->kind != TypeKind::Error && expected->kind != TypeKind::Void
        && expected->kind != TypeKind::Null;
    Operand r = known ? target_reg(dest, expected) : Operand {};
    i32 arm_dest = known ? (i32)r.reg : -1;
    Operand then_value = expr(e->b, expected, arm_dest);
    Type* t = expected && expected->kind != TypeKind::Error ? expected : then_value.type;
    if (!expected && then_value.type->kind == TypeKind::Null) {
        error_at(e, "cannot infer the type of '?:' from null; give the variable a type");
        release(then_value);
        return error_operand();
    }
    if (t->kind == TypeKind::Void) {
        error_at(e, "'?:' branches cannot be void");
        release(then_value);
        return error_operand();
    }
    if (!known)
        r = target_reg(dest, t);
    if (then_value.type->kind == TypeKind::Null) {
        load_null(r.reg, t);
    } else {
        if (!assignable(t, then_value.type))
            type_error(e->b, "'?:' branch has type '%s', expected '%s'", then_value.type, t);
        emit_move(r.reg, then_value.reg);
    }
    if (then_value.reg != r.reg)
        release(then_value);
    u32 to_end = emit_jump(Op::Jump);
    for (u32 p : to_else)
        patch_jump(p);
    Operand else_value = expr(e->c, t, arm_dest);
    if (else_value.type->kind == TypeKind::Null) {
        release(else_value);
        load_null(r.reg, t);
    } else {
        if (!assignable(t, else_value.type)) {
            // Unify two classes to their common superclass.
            if (t->kind == TypeKind::Class && else_value.type->kind == TypeKind::Class && !expected) {
                ClassSym* c = common_superclass(t->cls, else_value.type->cls);
                if (c) {
                    t = c->type;
                    r.type = t;
                }
            }
            if (!assignable(t, else_value.type))
                type_error(e->c, "'?:' branches have different types ('%s' and '%s')", t, else_value.type);
        }
        emit_move(r.reg, else_value.reg);
        if (else_value.reg != r.reg)
            release(else_value);
    }
    patch_jump(to_end);
    return r;
}

Operand Compiler::instanceof_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = resolve_type(e->type);
    if (a.type->kind == TypeKind::Error || t->kind == TypeKind::Error) {
        release(a);
        return error_operand();
    }
    if (t->kind != TypeKind::Class || !is_reference(a.type)) {
        error_at(e, "instanceof needs an object and a class");
        release(a);
        return error_operand();
    }
    release(a);
    Operand r = target_reg(dest, m_types.boolean());
    emit(Op::InstanceOf, r.reg, a.reg, t->cls->id);
    return r;
}

Operand Compiler::as_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = resolve_type(e->type);
    if (a.type->kind == TypeKind::Error || t->kind == TypeKind::Error) {
        release(a);
        return error_operand();
    }
    if (a.type->kind == TypeKind::Null && is_reference(t))
        return coerce(a, t, e, "cast");
    if (assignable(t, a.type)) {
        a.type = t;   // An upcast needs no check.
        return a;
    }
    if (t->kind != TypeKind::Class || a.type->kind != TypeKind::Class || !is_subclass(t->cls, a.type->cls)) {
        type_error(e, "cannot cast '%s' to '%s'", a.type, t);
        release(a);
        return error_operand();
    }
    release(a);
    Operand r = target_reg(dest, t);
    emit(Op::Cast, r.reg, a.reg, t->cls->id);
    return r;
}

Operand Compiler::to_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = resolve_type(e->type);
    if (a.type->kind == TypeKind::Error || t->kind == TypeKind::Error) {
        release(a);
        return error_operand();
    }
    TypeKind from = a.type->kind;
    TypeKind to = t->kind;
    if (a.type == t)
        return a;
    if (to == TypeKind::String && from != TypeKind::Void)
        return to_string(a, e, dest);
    if (from == TypeKind::String && (to == TypeKind::Int || to == TypeKind::Boolean)) {
        i32 n = find_native("String", to == TypeKind::Int ? "toInt" : "toBoolean", 0);
        Expr call = *e;
        call.arg_count = 0;
        return call_native(&call, n, &a, a.type, dest);
    }
    if (from == TypeKind::Int && to == TypeKind::Boolean) {
        Operand zero { m_types.int_type(), alloc_reg(false), true };
        emit_imm(Op::LoadI, zero.reg, 0);
        release(zero);
        release(a);
        Operand r = target_reg(dest, t);
        emit(Op::Ne, r.reg, a.reg, zero.reg);
        return r;
    }
    if (from == TypeKind::Boolean && to == TypeKind::Int) {
        a.type = t;   // Booleans are 0 and 1 already.
        return a;
    }
    type_error(e, "cannot convert '%s' to '%s'", a.type, t);
    release(a);
    return error_operand();
}

Operand Compiler::block_expr(Expr* e, Type* expected, i32 dest)
{
    Block* b = e->block;
    if (!b || b->count == 0)
        return Operand { m_types.void_type(), 0, false };
    begin_scope();
    for (u32 i = 0; i + 1 < b->count; i++)
        statement(b->stmts[i]);
    Stmt* last = b->stmts[b->count - 1];
    Operand r { m_types.void_type(), 0, false };
    if (last->kind == StmtKind::Expr && last->expr) {
        Operand v = expr(last->expr, expected);
        if (v.type->kind != TypeKind::Void && v.type->kind != TypeKind::Error) {
            // Copy out of the block before its locals go away.
            r = target_reg(dest, v.type->kind == TypeKind::Null && expected ? expected : v.type);
            if (v.type->kind == TypeKind::Null && expected)
                load_null(r.reg, expected);
            else
                emit_move(r.reg, v.reg);
            if (v.reg != r.reg)
                release(v);
            if (v.type->kind == TypeKind::Null && !expected)
                r.type = v.type;
        } else {
            if (v.type->kind == TypeKind::Error)
                r = v;
            release(v);
        }
    } else {
        statement(last);
    }
    end_scope();
    return r;
}

// ---------------------------------------------------------------------------
// The driver

bool Compiler::compile(const char* source, usize length, Program* out)
{
    m_out = out;
    mem_set(out, 0, sizeof(*out));
    out->arena.init(m_memory);
    m_heap->set_permanent_arena(&out->arena);
    bool ok = compile_all(source, length);
    m_heap->set_permanent_arena(nullptr);
    // Whatever was built belongs to [out] now, even after a failure, so that
    // free_program() can release it.
    u32 n;
    out->functions = keep(m_runtime_functions, &n);
    out->function_count = n;
    out->constants = keep(m_constants, &n);
    out->constant_count = n;
    out->constant_kinds = keep(m_constant_kinds, &n);
    out->constant_types = keep(m_constant_types, &n);
    if (!m_program_types.finish(out))
        oom();
    return ok && !m_failed;
}

bool Compiler::compile_all(const char* source, usize length)
{
    Program* out = m_out;
    m_node_limit = kNodesFloor + kNodesPerSourceByte * (length + str_length(kPreludeSource));
    if (!m_types.init()) {
        oom();
        return false;
    }
    if (!parse(kPreludeSource, str_length(kPreludeSource), true, &m_prelude) || m_diag->error_count())
        return false;   // The prelude failing to parse is a bug of the engine.
    if (!parse(source, length, false, &m_program))
        return false;
    // Classes: Object first (id 0), then the prelude's, then the script's.
    m_in_prelude = true;
    declare_classes(m_prelude, true);
    m_in_prelude = false;
    declare_classes(m_program, false);
    m_object = find_class("Object");
    m_exception = find_class("Exception");
    if (!m_object || !m_exception || m_failed)
        return false;
    for (ClassSym* c : m_classes) {
        if (c == m_object)
            continue;
        const char* super_name = c->decl && c->decl->super_name ? c->decl->super_name : "Object";
        c->super = find_class(super_name);
        if (!c->super) {
            error(c->line, c->column, "unknown superclass '%s'", super_name);
            c->super = m_object;
        }
    }
    for (u32 i = 0; i < m_classes.size() && !m_failed; i++)
        resolve_class(m_classes[i]);
    if (m_failed)
        return false;
    number_classes();
    mark_unused_builtins();
    m_in_prelude = true;
    declare_functions(m_prelude, true);
    m_in_prelude = false;
    declare_functions(m_program, false);
    if (m_failed)
        return false;
    // Implicit default constructors.
    for (ClassSym* c : m_classes) {
        if (c->ctors.size() == 0 && !c->unused) {
            FuncSym* f = new_func_sym(nullptr, c->name, c, c->builtin);
            if (!f)
                return false;
            f->is_ctor = true;
            f->implicit = true;
            if (!c->ctors.try_append(f))
                oom();
        }
    }
    build_vtables();
    if (m_failed || !build_runtime_classes())
        return false;
    tick(m_classes.size() / 16 + 1);
    for (ClassSym* c : m_classes) {
        FuncSym* ts = find_method(c, "toString", 0);
        if (ts && ts->result->kind == TypeKind::String)
            c->rt->to_string_slot = ts->slot;
    }
    if (!m_runtime_functions.try_resize(m_functions.size())) {
        oom();
        return false;
    }
    compile_main(m_program);
    compile_bodies();
    if (m_failed)
        return false;
    // Vtables and field names of the runtime classes.
    for (ClassSym* c : m_classes) {
        RtClass* rt = c->rt;
        if (!tick(rt->field_count / 16 + c->vtable.size() / 16 + 1))
            return false;
        for (u32 i = 0; i < rt->field_count; i++)
            rt->field_names[i] = persist(c->fields[i].name);
        rt->vtable_size = c->vtable.size();
        if (rt->vtable_size) {
            rt->vtable = static_cast<u32*>(m_out->arena.alloc(sizeof(u32) * rt->vtable_size));
            if (!rt->vtable) {
                oom();
                return false;
            }
            for (u32 i = 0; i < rt->vtable_size; i++)
                rt->vtable[i] = c->vtable[i]->index;
        }
    }
    // Globals, at their default values.
    u32 g = m_globals.size();
    out->global_count = g;
    if (g) {
        out->globals = static_cast<u64*>(out->arena.alloc_zeroed(sizeof(u64) * g));
        out->global_kinds = static_cast<u8*>(out->arena.alloc_zeroed(g));
        out->global_types = static_cast<u32*>(out->arena.alloc_zeroed(sizeof(u32) * g));
        out->global_names = static_cast<const char**>(out->arena.alloc_zeroed(sizeof(char*) * g));
        if (!out->globals || !out->global_kinds || !out->global_types || !out->global_names) {
            oom();
            return false;
        }
        for (u32 i = 0; i < g; i++) {
            out->global_kinds[i] = value_kind(m_globals[i].type);
            out->global_types[i] = type_index(m_globals[i].type);
            out->globals[i] = null_value(m_globals[i].type);
            out->global_names[i] = persist(m_globals[i].name);
        }
    }
    // Safety net: a program runs only if every function was built.
    for (Function* f : m_runtime_functions)
        if (!f)
            return false;
    if (m_options.mode == CompileMode::Transcript) {
        // Errors outside function bodies and statements cannot be deferred.
        for (u32 i = 0; i < m_diag->size(); i++)
            if ((*m_diag)[i].severity == Severity::Error && !(*m_diag)[i].deferred)
                return false;
        return !m_failed;
    }
    return m_diag->error_count() == 0 && !m_failed;
}

}   // namespace

bool compile_program(Memory* memory, Heap* heap, const char* source, usize length, const CompileOptions& options,
    Diagnostics* diagnostics, Arena* arena, Program* out)
{
    // The compiler's state is over 1 KiB: on the heap, not the (kernel) stack.
    void* place = memory->alloc(sizeof(Compiler));
    if (!place) {
        diagnostics->set_out_of_memory();
        mem_set(out, 0, sizeof(*out));
        return false;
    }
    Compiler* compiler = new (KsPlace {}, place) Compiler(memory, heap, arena, diagnostics, options);
    bool ok = compiler->compile(source, length, out);
    compiler->~Compiler();
    memory->free(place);
    return ok;
}

}
