// The emitter for statements: blocks, variable declarations, conditions and
// loops, jumps out of loops and try statements (with copies of finally
// blocks), return, and try/catch/finally with its handler table. The
// statements were checked (CheckStatements.cpp) and have no error; code
// that cannot run is not emitted.
#include "CompilerInternal.h"

namespace ks::compiler {

// Compiles statement [s]; returns whether control can fall through to the
// next statement (false after return, throw, break, continue).
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
        // Any expression is a statement (Konoha's rule): it is evaluated and
        // its value dropped. A bare class name evaluates to nothing.
        Expr* e = s->expr;
        if (e && e->res != ResNothing) {
            Operand op = expr(e);
            release(op);
        }
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
    case StmtKind::Switch:
        return switch_statement(s);
    case StmtKind::Throw: {
        Operand v = expr(s->expr);
        emit(Op::Throw, v.reg);
        release(v);
        return false;
    }
    }
    return true;
}

// Compiles block [b], in a new scope when it has its own braces; returns
// whether control falls through.
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

// Compiles the statements of [b] in the current scope, up to one that never
// falls through: the rest cannot run (the checker warned), and only the
// variables they declare get their registers (declare_skipped()).
bool Compiler::block_statements(Block* b)
{
    bool falls = true;
    // Past the function size limit the rest is not even visited (a finally
    // block copied at many jumps would be walked in vain each time).
    for (u32 i = 0; i < b->count && !m_failed && m_fs->code.size() < m_options.max_function_size; i++) {
        if (!falls)
            declare_skipped(b->stmts[i], false);
        else
            falls = statement(b->stmts[i]);
    }
    return falls;
}

// For a statement [s] that is not emitted (it cannot run, or it has an
// error), declares the locals it would have declared in the current scope
// (a variable, or a group `int a, b;`; at <main>'s top level, [top_level],
// those that are not globals): a later statement the emitter does reach may
// name them, as it could when the one-pass compiler emitted such a
// statement and dropped its code.
void Compiler::declare_skipped(Stmt* s, bool top_level)
{
    if (!s)
        return;
    if (s->kind == StmtKind::Block && s->block && !s->block->scoped) {
        for (u32 i = 0; i < s->block->count; i++)
            declare_skipped(s->block->stmts[i], top_level);
        return;
    }
    if (s->kind != StmtKind::Var || !s->declared)
        return;
    if (top_level && m_fs->is_main && m_fs->emit_depth == 0 && !main_only(s->name))
        return;   // A global.
    emit_local(s->local, m_types.by_id(s->type_id));
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

// Compiles a variable declaration: a global in <main>'s top level
// ([top_level]; the checker declared it, its index in Stmt::local), a local
// otherwise (numbered Stmt::local); the type is Stmt::type_id.
void Compiler::var_statement(Stmt* s, bool top_level)
{
    m_line = s->line;
    bool global = top_level && m_fs->is_main && m_fs->emit_depth == 0 && !main_only(s->name);
    Type* t = m_types.by_id(s->type_id);
    if (!global) {
        // A local is bound first and its initializer compiled straight into
        // its register (no temporary and Move): the initializer cannot name
        // the new local (the checker resolved the x of `int x = x;` to the
        // outer one), and a register just allocated holds nothing it reads.
        u16 reg = emit_local(s->local, t);
        if (s->expr)
            expr_into(s->expr, reg, t);
        else
            load_null(reg, t);   // The type's default: null, or 0 for an int or boolean.
        return;
    }
    // A global's initializer goes through a temporary into its slot.
    u16 tmp;
    Operand v {};
    if (s->type) {
        tmp = alloc_for(t);
        if (s->expr)
            expr_into(s->expr, tmp, t);
        else
            load_null(tmp, t);
    } else {
        v = expr(s->expr);
        tmp = v.reg;
    }
    emit_imm(Op::SetGlobal, tmp, (i32)s->local);
    if (v.temp || s->type)
        free_reg(tmp);
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
    u32 at = emit_jump(jump_if ? Op::JumpIf : Op::JumpIfNot, c.reg);
    release(c);
    if (!patches->try_append(at))
        oom();
}

// Compiles `if (cond) body [else else_body]`; falls through unless both
// branches end.
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
    LoopContext loop { breaks, &continues, m_fs->trys.size(), false };
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

// Compiles `while (cond) body`: the condition at the bottom (one jump per
// iteration); `while (true)` has no test.
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

// Compiles `do body while (cond);`.
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

// Compiles `for (init; cond; step) body` in its own scope.
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

// Compiles `for (T x : collection) body` over the elements of an array, or
// over the keys of a map in insertion order: the loop walks the array
// m.keys() made when it started, so that the body may change the map.
bool Compiler::foreach_statement(Stmt* s)
{
    begin_scope();
    Operand coll = expr(s->expr);
    bool map = coll.type->kind == TypeKind::Map;
    // Keep the array and the index in registers of their own.
    u16 arr = alloc_reg(true);
    if (map) {
        m_line = s->line;
        Type* key_array = m_types.array_of(coll.type->key);
        if (!key_array)
            oom();
        else
            type_index(key_array);   // The verifier types keys()'s result from the table.
        emit(Op::CallNative, arr, (u32)find_native("Map", "keys", 0), 1, 1);
        emit_args(&coll.reg, 1);
    } else {
        emit_move(arr, coll.reg);
    }
    release(coll);
    u16 index = alloc_reg(false);
    u16 size = alloc_reg(false);
    emit_imm(Op::LoadI, index, 0);
    u16 var = emit_local(s->local, m_types.by_id(s->type_id));
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

// Compiles `switch (subject) { case V: ... default: ... }` on an int or a
// String, C-style. The subject is evaluated once into a register of its
// own; the labels are tested in source order (each value is an int or
// String expression, usually a literal or a constant), the first equal one
// wins, and control jumps to its statements, or to `default` (else past the
// switch). From there it runs on through the later labels' statements
// until a `break` (which leaves the switch; `continue` still goes to the
// enclosing loop). Each label's statements are a scope of their own, so a
// variable declared under one label is never seen, uninitialized, under
// another. Returns whether control can reach the end.
bool Compiler::switch_statement(Stmt* s)
{
    Operand subject = expr(s->expr);
    Type* t = subject.type;
    bool is_int = t->kind == TypeKind::Int;
    bool is_string = t->kind == TypeKind::String;
    u16 subj = alloc_reg(is_string);
    emit_move(subj, subject.reg);
    release(subject);
    Vector<u32> to_case(m_memory);   // Per label: the jumps to its statements (one each; none for default).
    i32 default_index = -1;
    for (u32 i = 0; i < s->case_count && !m_failed; i++) {
        SwitchCase& c = s->cases[i];
        m_line = c.line;
        if (!c.value) {
            default_index = (i32)i;
            if (!to_case.try_append(0))
                oom();
            continue;
        }
        u32 at = 0;
        i32 k = is_int ? int_constant_operand(c.value) : -1;
        if (k >= 0) {
            at = emit(compare_jump_op(Tok::Eq, true, true), subj, (u32)k, 0);
        } else {
            Operand v = expr(c.value, t);
            if (is_int) {
                at = emit(compare_jump_op(Tok::Eq, true, false), subj, v.reg, 0);
            } else {
                u16 r = alloc_reg(false);
                emit(Op::EqStr, r, subj, v.reg);
                at = emit_jump(Op::JumpIf, r);
                free_reg(r);
            }
            release(v);
        }
        if (!to_case.try_append(at))
            oom();
    }
    m_line = s->line;
    u32 to_default = emit_jump(Op::Jump);
    Vector<u32> breaks(m_memory);
    LoopContext context { &breaks, nullptr, m_fs->trys.size(), true };
    if (!m_fs->loops.try_append(context))
        oom();
    bool falls = true;
    for (u32 i = 0; i < s->case_count && i < to_case.size() && !m_failed; i++) {
        SwitchCase& c = s->cases[i];
        if ((i32)i == default_index)
            patch_jump(to_default);
        else
            patch_jump(to_case[i]);
        Block body { c.stmts, c.count, true, c.line, c.column, c.line };
        falls = block(&body);
    }
    m_fs->loops.pop();
    if (default_index < 0 || to_case.size() < s->case_count)
        patch_jump(to_default);
    for (u32 p : breaks)
        patch_jump(p);
    free_reg(subj);
    return falls || default_index < 0 || breaks.size() > 0;
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
        }
    }
    fs->trys.shrink(down_to);
    for (TryContext& c : saved)
        if (!fs->trys.try_append(c))
            oom();
}

// Compiles `break` ([is_break]) or `continue`: runs the finally blocks of
// try statements inside the loop, then jumps (patched at the loop's end).
void Compiler::jump_out(Stmt* s, bool is_break)
{
    (void)s;
    // `break` leaves the innermost loop or switch; `continue` the innermost
    // loop, through any switch inside it (the checker made sure there is one).
    u32 i = m_fs->loops.size();
    while (i > 0 && !is_break && m_fs->loops[i - 1].is_switch)
        i--;
    LoopContext loop = m_fs->loops[i - 1];
    emit_finally_blocks(loop.try_depth);
    u32 at = emit_jump(Op::Jump);
    if (!(is_break ? loop.breaks : loop.continues)->try_append(at))
        oom();
}

// Compiles `return [expr]`: runs the enclosing finally blocks first.
void Compiler::return_statement(Stmt* s)
{
    Type* rt = m_fs->return_type;
    if (rt->kind == TypeKind::Void || m_fs->is_ctor) {
        emit_finally_blocks(0);
        emit(Op::ReturnVoid);
        return;
    }
    if (m_fs->trys.size() == 0) {
        // No finally block can run (and change a variable) before the
        // return: return the value from wherever it is.
        Operand v = coerce(expr(s->expr, rt), rt);
        m_line = s->line;
        emit(Op::Return, v.reg);
        release(v);
        return;
    }
    u16 r = alloc_for(rt);
    expr_into(s->expr, r, rt);
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

// Compiles try/catch/finally: the block, a handler per catch clause (in
// order, by exception class), and the finally block on every way out
// (fall-through, catch, a copy before jumps out, and a rethrowing handler).
bool Compiler::try_statement(Stmt* s)
{
    FunctionState* fs = m_fs;
    CutList cuts { Vector<u32>(m_memory) };
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

    // Catch clauses run with the finally block still pending.
    CutList cuts2 { Vector<u32>(m_memory) };
    TryContext ctx2 { s->finally_block, here(), &cuts2 };
    u32 start2 = here();
    if (s->finally_block && !fs->trys.try_append(ctx2))
        oom();
    bool any_falls = falls;
    bool catch_all = false;
    for (u32 i = 0; i < s->catch_count; i++) {
        Catch& c = s->catches[i];
        m_line = c.line;
        Type* t = m_types.by_id(c.type_id);
        u32 skip = 0;
        bool matches_all = t->kind == TypeKind::Class && t->cls == m_exception;
        if (!matches_all && t->kind == TypeKind::Class) {
            u16 test = alloc_reg(false);
            emit(Op::InstanceOf, test, exc, t->cls->id);
            skip = emit_jump(Op::JumpIfNot, test);
            free_reg(test);
        }
        begin_scope();
        // The handler's register holds an Exception: a Cast (which the
        // InstanceOf above makes certain) gives the verifier the class.
        if (c.name) {
            u16 var = emit_local(c.local, t);
            if (matches_all)
                emit_move(var, exc);
            else
                emit(Op::Cast, var, exc, t->cls->id);
        }
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
        block(s->finally_block);
        emit(Op::Throw, exc2);
        free_reg(exc2);
    }
    free_reg(exc);
    for (u32 p : to_end)
        patch_jump(p);
    return any_falls;
}

}   // namespace ks::compiler
