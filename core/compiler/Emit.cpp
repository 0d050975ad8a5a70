// Emission helpers: constants, registers, the emitter's locals and scopes,
// instructions and jumps, moving code (transcript mode's reports) and the
// assembly of a finished function (the peephole passes are in
// Peephole.cpp).
//
// Registers have a fixed kind per function: a register that ever holds a
// reference holds only references (the VM clears such registers on entry),
// so the GC can scan exactly the reference registers of every frame.
#include "CompilerInternal.h"

namespace ks::compiler {

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

// A free register of the kind [ref] (reference or not), reused from the
// function's free pool or a new one; past kMaxRegisters an error.
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

// Returns [reg] to the free pool of its kind.
void Compiler::free_reg(u16 reg)
{
    FunctionState* fs = m_fs;
    if (fs->too_many_registers || reg >= fs->reg_is_ref.size())
        return;
    Vector<u16>& pool = fs->reg_is_ref[reg] ? fs->free_ref : fs->free_int;
    if (!pool.try_append(reg))
        oom();
}

// The emitter's declaration of the local the checker numbered [number]: a
// new register of [type]'s kind, live in the current scope.
u16 Compiler::emit_local(u32 number, Type* type)
{
    FunctionState* fs = m_fs;
    u16 reg = alloc_for(type);
    // Sized once for every local the checker has numbered so far.
    if (KS_UNLIKELY(number >= fs->local_regs.size())
        && !fs->local_regs.try_resize(fs->local_count > number ? fs->local_count : number + 1)) {
        oom();
        return reg;
    }
    fs->local_regs[number] = reg;
    if (!fs->live.try_append(LiveLocal { reg, fs->emit_depth }))
        oom();
    return reg;
}

// Closes the emitter's innermost scope: the registers of its locals are
// freed, newest first.
void Compiler::end_scope()
{
    FunctionState* fs = m_fs;
    while (fs->live.size() && fs->live.last().depth >= fs->emit_depth) {
        free_reg(fs->live.last().reg);
        fs->live.pop();
    }
    fs->emit_depth--;
}

// Appends an instruction (with the current source line) and returns its
// index; past max_function_size reports "function is too large" once and
// appends nothing more.
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
    if (op == Op::SetGlobal && fuse_global_increment(a, (u32)b | (u32)c << 16))
        return fs->code.size() - 1;
    Insn insn { op, x, (u16)a, (u16)b, (u16)c };
    if (!fs->code.try_append(insn) || !fs->lines.try_append(m_line)) {
        oom();
        return 0;
    }
    return fs->code.size() - 1;
}

// emit() with a signed 32-bit immediate split over operands b (low 16 bits)
// and c (high 16 bits).
u32 Compiler::emit_imm(Op op, u32 a, i32 imm, u8 x)
{
    u32 u = (u32)imm;
    return emit(op, a, u & 0xffff, u >> 16, x);
}

// Emits the Args instructions that carry the argument registers [regs] of
// a call, three per instruction.
void Compiler::emit_args(const u16* regs, u32 count)
{
    for (u32 i = 0; i < count; i += 3) {
        u16 r[3] = { 0, 0, 0 };
        for (u32 j = 0; j < 3 && i + j < count; j++)
            r[j] = regs[i + j];
        emit(Op::Args, r[0], r[1], r[2]);
    }
}

// Makes the jump at [at] go to [target] (compare-and-jump instructions keep
// their offset in a narrower field).
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

// Makes the jump at [at] go to the next instruction emitted.
void Compiler::patch_jump(u32 at) { patch_jump_to(at, here()); }

// Moves the instructions [mid, end of code) to [at], before those of [at,
// mid): transcript mode emits a top-level statement's Report instructions
// after compiling it, and they must run before it. Only between top-level
// statements of <main>, where no loop or try statement is open: jumps are
// relative and move with the code around them, and handlers, the only
// absolute positions left, are shifted here.
void Compiler::move_code_before(u32 at, u32 mid)
{
    FunctionState* fs = m_fs;
    u32 end = fs->code.size();
    if (at >= mid || mid >= end)
        return;
    auto reverse = [fs](u32 from, u32 to) {
        while (from + 1 < to) {
            to--;
            Insn t = fs->code[from];
            fs->code[from] = fs->code[to];
            fs->code[to] = t;
            u32 l = fs->lines[from];
            fs->lines[from] = fs->lines[to];
            fs->lines[to] = l;
            from++;
        }
    };
    reverse(at, mid);
    reverse(mid, end);
    reverse(at, end);
    tick((end - at) / 16 + fs->handlers.size() / 16);
    u32 shift = end - mid;
    for (Handler& h : fs->handlers) {
        if (h.start >= at) {
            h.start += shift;
            h.end += shift;
            h.target += shift;
        }
    }
}

// Emits a backward jump to [target] (Loop, where the VM polls for interrupts).
void Compiler::emit_loop(u32 target)
{
    i32 offset = (i32)target - (i32)(here() + 1);
    emit_imm(Op::Loop, 0, offset);
}

// Loads integer [value] into [reg]: an immediate when it fits in 32 bits,
// otherwise a constant.
void Compiler::load_int(u16 reg, i64 value)
{
    if (value >= -0x80000000LL && value <= 0x7fffffffLL)
        emit_imm(Op::LoadI, reg, (i32)value);
    else
        emit_imm(Op::LoadK, reg, (i32)add_constant((u64)value, KindInt, m_types.int_type()));
}

// Loads the null value of [type] into [reg]: for an int or boolean, 0 (the
// default value of every type, then).
void Compiler::load_null(u16 reg, Type* type)
{
    // Only reference types have null objects; after an error the type may
    // be anything, and a plain 0 keeps the constant pool free of null pointers.
    if (!is_reference(type) || type->kind == TypeKind::Null)
        emit_imm(Op::LoadI, reg, 0);
    else
        emit_imm(Op::LoadK, reg, (i32)add_constant(null_value(type), KindRef, type));
}

// Starts compiling a function into [fs] (function symbol [sym], class of
// `this` [cls]; both null for <main>): empty code, parameters as the first
// locals. False when memory ran out.
bool Compiler::begin_function(FunctionState* fs, FuncSym* sym, ClassSym* cls)
{
    mem_set(static_cast<void*>(fs), 0, sizeof(*fs));
    // Each vector starts empty, with the spare's room (see m_spare).
#define KS_TAKE_SPARE(v)            \
    fs->v.set_memory(m_memory);     \
    m_spare.v.set_memory(m_memory); \
    fs->v.swap(m_spare.v);
    KS_STATE_VECTORS(KS_TAKE_SPARE)
#undef KS_TAKE_SPARE
    fs->sym = sym;
    fs->cls = cls;
    fs->return_type = sym ? sym->result : m_types.void_type();
    fs->is_main = !sym;
    fs->is_ctor = sym && sym->is_ctor;
    m_fs = fs;
    if (cls) {
        // `this` is local 0, in register 0.
        Local self { "this", cls->type, fs->local_count++, 0, true, 0 };
        if (!fs->locals.try_append(self))
            oom();
        emit_local(self.number, cls->type);
    }
    if (sym && sym->first_decl) {
        FuncDecl* d = sym->decl ? sym->decl : sym->first_decl;
        for (u32 i = 0; i < sym->param_count; i++) {
            Local* l = declare_local(d->params[i].name, sym->params[i], d->params[i].line, d->params[i].column, false);
            if (l)
                emit_local(l->number, l->type);
        }
    }
    return !m_failed;
}

// Frees what a function's compile state holds (after finish_function(), or
// instead of it when memory runs out).
void Compiler::release_state(FunctionState* fs)
{
    free_index(fs->local_index);
    fs->local_index = nullptr;
    // The larger room of each vector is kept in m_spare for the next
    // function, emptied; the other is freed.
#define KS_KEEP_SPARE(v)                                 \
    fs->v.clear();                                       \
    m_spare.v.set_memory(m_memory);                      \
    if (fs->v.capacity() > m_spare.v.capacity())         \
        fs->v.swap(m_spare.v);                           \
    fs->v.release();
    KS_STATE_VECTORS(KS_KEEP_SPARE)
#undef KS_KEEP_SPARE
    if (m_fs == fs)
        m_fs = nullptr;
}

// Finishes the function being compiled in [fs]: threads jumps, copies
// code, lines and handlers into a Function in the program arena ([out]),
// and releases [fs].
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
    f->code = copy_out(fs->code, &n);
    f->code_size = n;
    f->lines = copy_out(fs->lines, &n);
    f->handlers = copy_out(fs->handlers, &n);
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

}   // namespace ks::compiler
