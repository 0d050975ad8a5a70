// The checker for statements: scopes and locals (numbered for the
// emitter), variable declarations (globals are declared here), conditions,
// loops, switch, try/catch/finally, jumps and return. Each statement gets
// Stmt::has_error and Stmt::falls; reachability ("unreachable code",
// "missing return") is decided here, and the emitter never sees a
// statement that cannot run. The emitting half is Statements.cpp.
#include "CompilerInternal.h"

namespace ks::compiler {

// Checks statement [s] and returns whether control can fall through to the
// next statement (false after return, throw, break, continue); marks [s]
// with an error when one was found in it (Stmt::has_error).
bool Compiler::check_statement(Stmt* s)
{
    if (m_failed || !s || !tick())
        return true;
    u32 errors = m_check_errors;
    m_line = s->line;
    bool falls = true;
    switch (s->kind) {
    case StmtKind::Error:
    case StmtKind::Empty:
        break;
    case StmtKind::Expr: {
        Expr* e = s->expr;
        if (!e)
            break;
        // Any expression is a statement (Konoha's rule): it is evaluated and
        // its value dropped. A bare class name evaluates to nothing.
        if (e->kind == ExprKind::Name && (names_only_a_class(e->name)
                || (str_equal(e->name, "global") && !find_local("global") && !find_global("global")))) {
            e->res = ResNothing;
            e->type_id = m_types.void_type()->id;
            break;
        }
        check(e);
        break;
    }
    case StmtKind::Var:
        check_var(s, false);
        break;
    case StmtKind::Block:
        falls = check_block(s->block);
        break;
    case StmtKind::If: {
        check_condition(s->expr);
        begin_check_scope();
        bool then_falls = check_statement(s->body);
        end_check_scope();
        bool else_falls = true;
        if (s->else_body) {
            begin_check_scope();
            else_falls = check_statement(s->else_body);
            end_check_scope();
        }
        falls = then_falls || else_falls;
        break;
    }
    case StmtKind::While: {
        bool infinite = is_constant_true(s->expr);
        u32 breaks = check_loop_body(s->body, false);
        m_line = s->line;
        if (!infinite)
            check_condition(s->expr);
        falls = !infinite || breaks > 0;
        break;
    }
    case StmtKind::DoWhile: {
        u32 breaks = check_loop_body(s->body, false);
        m_line = s->line;
        check_condition(s->expr);
        falls = !is_constant_true(s->expr) || breaks > 0;
        break;
    }
    case StmtKind::For: {
        begin_check_scope();
        if (s->init) {
            if (s->init->kind == StmtKind::Var)
                check_var(s->init, false);
            else
                check_statement(s->init);
        }
        u32 breaks = check_loop_body(s->body, false);
        m_line = s->line;
        if (s->step)
            check(s->step);
        if (s->expr)
            check_condition(s->expr);
        end_check_scope();
        falls = s->expr != nullptr || breaks > 0;
        break;
    }
    case StmtKind::ForEach:
        check_foreach(s);
        break;
    case StmtKind::Break:
    case StmtKind::Continue:
        check_jump(s, s->kind == StmtKind::Break);
        falls = false;
        break;
    case StmtKind::Return:
        check_return(s);
        falls = false;
        break;
    case StmtKind::Try:
        falls = check_try(s);
        break;
    case StmtKind::Switch:
        falls = check_switch(s);
        break;
    case StmtKind::Throw: {
        Type* v = check(s->expr);
        if (v->kind != TypeKind::Error && (v->kind != TypeKind::Class || !is_subclass(v->cls, m_exception)))
            type_error(s->expr, "only exceptions can be thrown, not '%s'", v);
        falls = false;
        break;
    }
    }
    s->has_error = m_check_errors != errors;
    return falls;
}

// Whether [name], used as an expression, names a class (or built-in type)
// and nothing else that a name expression could mean.
bool Compiler::names_only_a_class(const char* name)
{
    if (find_local(name) || (m_fs->cls && find_field(m_fs->cls, name)) || find_global(name)
        || function_name_exists(name))
        return false;
    return find_class(name) || str_equal(name, "int") || str_equal(name, "boolean") || str_equal(name, "String")
        || str_equal(name, "Array") || str_equal(name, "Map") || str_equal(name, "Bytes") || str_equal(name, "Func");
}

// Opens a scope of the checker's locals.
void Compiler::begin_check_scope()
{
    m_fs->scope_depth++;
}

// Closes the checker's innermost scope: its locals go out of reach.
void Compiler::end_check_scope()
{
    FunctionState* fs = m_fs;
    while (fs->locals.size() && fs->locals.last().depth >= fs->scope_depth)
        pop_local();
    fs->scope_depth--;
}

// Checks block [b], in a scope of its own when it has its own braces;
// returns whether control falls through.
bool Compiler::check_block(Block* b)
{
    if (!b)
        return true;
    if (!b->scoped)
        return check_block_statements(b);
    begin_check_scope();
    bool falls = check_block_statements(b);
    end_check_scope();
    return falls;
}

// Checks the statements of [b] in the current scope, warning once about
// code after a statement that never falls through (it is checked, but
// never emitted: see check_unreachable()).
bool Compiler::check_block_statements(Block* b)
{
    bool falls = true;
    bool warned = false;
    for (u32 i = 0; i < b->count && !m_failed; i++) {
        if (!falls) {
            if (!warned && b->stmts[i]->kind != StmtKind::Empty) {
                m_diag->report(Severity::Warning, b->stmts[i]->line, b->stmts[i]->column, "unreachable code");
                warned = true;
            }
            check_unreachable(b->stmts[i]);
            continue;
        }
        falls = check_statement(b->stmts[i]);
    }
    return falls;
}

// Checks statement [s], which cannot run: its breaks do not count as ways
// out of their loop.
void Compiler::check_unreachable(Stmt* s)
{
    m_fs->unreachable++;
    check_statement(s);
    m_fs->unreachable--;
}

// Checks a loop body in its own scope, as a loop ([is_switch] false) or a
// switch's labels; returns the number of reachable `break`s out of it.
u32 Compiler::check_loop_body(Stmt* body, bool is_switch)
{
    CheckLoop loop { 0, is_switch };
    if (!m_fs->check_loops.try_append(loop)) {
        oom();
        return 0;
    }
    begin_check_scope();
    check_statement(body);
    end_check_scope();
    u32 breaks = m_fs->check_loops.last().breaks;
    m_fs->check_loops.pop();
    return breaks;
}

// Checks `break` ([is_break]) or `continue`: there must be a loop (or, for
// break, a switch) to leave.
void Compiler::check_jump(Stmt* s, bool is_break)
{
    u32 i = m_fs->check_loops.size();
    while (i > 0 && !is_break && m_fs->check_loops[i - 1].is_switch)
        i--;
    if (i == 0) {
        error(s->line, s->column, is_break ? "'break' outside a loop or switch" : "'continue' outside a loop");
        return;
    }
    if (is_break && !m_fs->unreachable)
        m_fs->check_loops[i - 1].breaks++;
}

// Checks `return [expr]` against the function's return type.
void Compiler::check_return(Stmt* s)
{
    Type* rt = m_fs->return_type;
    if (m_fs->is_main) {
        // Konoha's rule: the top level is not a function.
        error(s->line, s->column, "'return' outside a function");
        if (s->expr)
            check(s->expr);
        return;
    }
    if (rt->kind == TypeKind::Void || m_fs->is_ctor) {
        if (s->expr) {
            error(s->line, s->column, m_fs->is_ctor ? "a constructor cannot return a value"
                                                    : "a void function cannot return a value");
            check(s->expr);
        }
        return;
    }
    if (!s->expr) {
        error(s->line, s->column, "missing return value");
        return;
    }
    check_into(s->expr, rt, "return value");
}

// Class names, System and global cannot name a top-level variable.
void Compiler::check_top_level_name(Stmt* s)
{
    if (find_class(s->name) || str_equal(s->name, "System") || str_equal(s->name, "global"))
        error(s->line, s->column, "'%s' cannot be used as a variable name", s->name);
}

// Checks a variable declaration and declares the variable: a global in
// <main>'s top level ([top_level]; its index in Stmt::local), a local
// otherwise (its number in Stmt::local); the type (Stmt::type_id) is the
// declared one or, for `var`, the initializer's.
void Compiler::check_var(Stmt* s, bool top_level)
{
    m_line = s->line;
    u32 errors = m_check_errors;
    s->declared = false;
    bool global = top_level && m_fs->is_main && m_fs->scope_depth == 0;
    if (global && main_only(s->name)) {
        check_top_level_name(s);
        global = false;
    }
    Type* t;
    if (s->type) {
        t = resolve_type(s->type);
        if (s->expr)
            check_into(s->expr, t, "initializer");
    } else {
        t = inferred_type(s, check(s->expr));
    }
    s->type_id = t->id;
    if (global) {
        if (find_global(s->name)) {
            error(s->line, s->column, "'%s' is already declared", s->name);
        } else {
            check_top_level_name(s);
            // The name outlives the statement's tree (freed after <main>).
            const char* name = m_arena->copy_string(s->name, str_length(s->name));
            GlobalSym g { name, t, m_globals.size(), s->is_const, true };
            if (!name || !m_globals.try_append(g) || !m_global_index.add(g.name, g.index))
                oom();
            s->local = g.index;
        }
    } else if (Local* l = declare_local(s->name, t, s->line, s->column, s->is_const)) {
        s->local = l->number;
        s->declared = true;
    }
    s->has_error = m_check_errors != errors;
}

// The type `var` [s] gets from its value's type [t]: null and void give
// none (an error, and the error type); reported as an info line.
Type* Compiler::inferred_type(Stmt* s, Type* t)
{
    if (t->kind == TypeKind::Null) {
        error(s->line, s->column, "cannot infer the type of '%s' from null", s->name);
        t = m_types.error();
    } else if (t->kind == TypeKind::Void) {
        error(s->line, s->column, "'%s' cannot hold a void value", s->name);
        t = m_types.error();
    }
    report_inferred(s, t);
    return t;
}

// The info line Konoha prints for `var` [s]: the type it inferred, [t].
void Compiler::report_inferred(Stmt* s, Type* t)
{
    if (s->is_const || t->kind == TypeKind::Error)
        return;
    char name[96];
    TypeTable::name(t, name, sizeof(name));
    m_diag->report(Severity::Info, s->line, s->column, "'%s' has the inferred type '%s'", s->name, name);
}

// Checks `for (T x : collection) body` over an array's elements or a map's
// keys; the variable's number and type go on [s].
void Compiler::check_foreach(Stmt* s)
{
    begin_check_scope();
    Type* coll = check(s->expr);
    Type* elem = m_types.error();
    bool map = coll->kind == TypeKind::Map;
    if (coll->kind == TypeKind::Array)
        elem = coll->elem;
    else if (map)
        elem = coll->key;
    else if (coll->kind == TypeKind::Class && coll->cls == m_object)
        // What an Object holds is known when it runs; the loop's element
        // type must be known now (as in Konoha, which iterates arrays and
        // iterators only).
        type_error(s->expr, "for-each needs an array or a map, not '%s'; say what it holds with 'as' (for (T x : o as T[]))",
            coll);
    else if (coll->kind != TypeKind::Error)
        type_error(s->expr, "for-each needs an array or a map, not '%s'", coll);
    if (map && find_native("Map", "keys", 0) < 0)
        error(s->line, s->column, "internal: Map.keys() is missing");
    Type* var_type = s->type ? resolve_type(s->type) : elem;
    if (!assignable(var_type, elem))
        error(s->line, s->column, "for-each variable type does not match the array elements");
    s->type_id = var_type->id;
    if (Local* l = declare_local(s->name, var_type, s->line, s->column, false))
        s->local = l->number;
    check_loop_body(s->body, false);
    end_check_scope();
}

// Checks `switch (subject) { case V: ... }`: an int or String subject,
// labels of its type and none repeated (found through a hash of the
// literals seen, keyed by the compile's seed, so n labels cost n lookups),
// and the labels' statements, each list a scope of its own. Returns
// whether control can reach the end.
bool Compiler::check_switch(Stmt* s)
{
    Type* t = check(s->expr);
    bool is_int = t->kind == TypeKind::Int;
    bool is_string = t->kind == TypeKind::String;
    if (!is_int && !is_string && t->kind != TypeKind::Error)
        type_error(s->expr, "a switch needs an int or a String, not '%s'", t);
    NameIndex labels(m_memory, m_options.hash_seed);   // The literal labels seen, by value.
    bool has_default = false;
    for (u32 i = 0; i < s->case_count && !m_failed; i++) {
        SwitchCase& c = s->cases[i];
        m_line = c.line;
        if (!c.value) {
            has_default = true;
            continue;
        }
        if (!tick(1))
            break;
        i64 literal_int;
        bool is_literal = case_int_literal(c.value, &literal_int) || c.value->kind == ExprKind::String;
        if (is_literal) {
            u32 h = c.value->kind == ExprKind::String ? labels.hash_bytes_keyed(c.value->name, c.value->name_length)
                                                      : labels.hash_value((u64)literal_int);
            i64 seen = labels.find_hashed(h, [&](u32 j) { return same_case_literal(s->cases[j].value, c.value); });
            if (seen >= 0)
                error(c.value->line, c.value->column, "this case value is already a label of the switch (line %d)",
                    nullptr, nullptr, s->cases[seen].line);
            else if (!labels.add_hashed(h, i))
                oom();
        }
        Type* v = check(c.value, t);
        if (v->kind != TypeKind::Error && t->kind != TypeKind::Error && v != t)
            type_error(c.value, "a case value of type '%s' in a switch on '%s'", v, t);
    }
    m_line = s->line;
    CheckLoop context { 0, true };
    if (!m_fs->check_loops.try_append(context))
        oom();
    bool falls = true;
    for (u32 i = 0; i < s->case_count && !m_failed; i++) {
        SwitchCase& c = s->cases[i];
        Block body { c.stmts, c.count, true, c.line, c.column, c.line };
        falls = check_block(&body);
    }
    u32 breaks = m_fs->check_loops.size() ? m_fs->check_loops.last().breaks : 0;
    if (m_fs->check_loops.size())
        m_fs->check_loops.pop();
    return falls || !has_default || breaks > 0;
}

// Checks try/catch/finally: the block, each catch clause (an exception
// class; its variable's number and class on the Catch) and the finally
// block, once (the emitter copies it to every way out).
bool Compiler::check_try(Stmt* s)
{
    bool falls = check_block(s->block);
    bool finally_falls = s->finally_block ? check_block(s->finally_block) : true;
    if (s->finally_block && falls)
        falls = finally_falls;
    bool any_falls = falls;
    for (u32 i = 0; i < s->catch_count; i++) {
        Catch& c = s->catches[i];
        m_line = c.line;
        Type* t = resolve_type(c.type);
        if (t->kind == TypeKind::Error)
            m_check_errors++;   // Reported where it was found (a clause without a type: by the parser).
        else if (t->kind != TypeKind::Class || !is_subclass(t->cls, m_exception)) {
            Expr at {};
            at.line = c.line;
            at.column = c.column;
            type_error(&at, "'%s' is not an exception class", t);
            t = m_types.error();
        }
        c.type_id = t->id;
        bool matches_all = t->kind == TypeKind::Class && t->cls == m_exception;
        begin_check_scope();
        if (c.name) {
            if (Local* l = declare_local(c.name, t->kind == TypeKind::Error ? m_exception->type : t, c.line, c.column,
                    false))
                c.local = l->number;
        }
        bool body_falls = check_block(c.body);
        end_check_scope();
        any_falls = any_falls || body_falls;
        if (matches_all)
            break;
    }
    return any_falls;
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

// Declares local [name] of [type] in the checker's current scope, numbered
// next (the emitter gives the number a register: emit_local()); redeclaring
// a name of the same scope is an error. Null when memory ran out.
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
    Local l { name, type, m_fs->local_count++, m_fs->scope_depth, is_const, 0 };
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

}   // namespace ks::compiler
