// The compiler's driver. Order of work (see compile_all()):
//  1. Parse the prelude (built-in classes, in kscript) and the script,
//     skipping function bodies (lazy parsing: each body is parsed when it is
//     compiled, in step 4, its tree freed before the next one).
//  2. Declare classes, resolve superclasses, lay out fields, collect methods
//     (from class bodies and `R Class.name(...)` definitions) and build
//     vtables, superclass first (Declarations.cpp).
//  3. Declare top-level functions (overloaded by parameter count).
//  4. Compile the top-level statements into <main>, declaring globals as
//     they come; then every function, method and constructor body
//     (Statements.cpp, Expressions.cpp, Calls.cpp, through Emit.cpp).
// This file also holds error reporting, the work meter and the entry point
// compile_program().
#include "CompilerInternal.h"

namespace ks::compiler {

// Releases the symbol tables' vectors and hash indexes (the symbols themselves
// live in the arena), the sources' tokens and parsers, and the syntax trees.
Compiler::~Compiler()
{
    for (Source* src : m_sources) {
        if (!src)
            continue;
        if (src->parser) {
            src->parser->~Parser();
            m_memory->free(src->parser);
        }
        src->~Source();
        m_memory->free(src);
    }
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

// Destroys and frees a hash index made by new_index(); [index] becomes null.
void Compiler::free_index(NameIndex*& index)
{
    if (!index)
        return;
    index->~NameIndex();
    m_memory->free(index);
    index = nullptr;
}

// Reports a compile error at [line]:[column] (format with %s for [s1],
// [s2] and %d for [n]); counts it for the statement being checked
// (Stmt::has_error) and, in transcript mode, remembers the first error line
// of the function.
void Compiler::error(u32 line, u32 column, const char* format, const char* s1, const char* s2, i64 n,
    const char* s3)
{
    if (m_stopped)
        return;   // Whatever is still found while unwinding, the reason is the stop.
    m_check_errors++;
    if (m_fs && !m_fs->diagnostic_line)
        m_fs->diagnostic_line = line ? line : 1;
    m_diag->error(line, column, format, s1, s2, n, s3);
}

// The edit distance of [a] and [b] (insertions, deletions, substitutions
// and swaps of neighbours, each 1: "smu" is 1 from "sum"), or [limit] + 1
// as soon as it is known to be more than [limit]; names over 64 bytes are
// not compared.
static u32 edit_distance(const char* a, const char* b, u32 limit)
{
    usize n = str_length(a), m = str_length(b);
    if (n > 64 || m > 64 || (n > m ? n - m : m - n) > limit)
        return limit + 1;
    u8 rows[3][65];
    u8* before = rows[0];   // Row i - 2.
    u8* prev = rows[1];     // Row i - 1.
    u8* cur = rows[2];
    for (usize j = 0; j <= m; j++)
        prev[j] = (u8)j;
    for (usize i = 1; i <= n; i++) {
        cur[0] = (u8)i;
        u8 best = cur[0];
        for (usize j = 1; j <= m; j++) {
            u8 v = (u8)(prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0));
            v = min(v, (u8)(prev[j] + 1));
            v = min(v, (u8)(cur[j - 1] + 1));
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                v = min(v, (u8)(before[j - 2] + 1));
            cur[j] = v;
            best = min(best, v);
        }
        if (best > limit)
            return limit + 1;
        u8* t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

// A name close to [name] (within an edit distance of 1 for names up to 3
// bytes, 2 up to 6, 3 beyond, and less than its length) among those [from]
// says: locals, fields, class constants, globals and built-in constants
// (SuggestValues), functions and static methods in reach
// (SuggestFunctions), the fields or methods of [cls]. Null when none is.
// Bounded: at most 4096 names looked at per search and 64 searches per
// compile, each charged to the compile meter.
const char* Compiler::did_you_mean(const char* name, u8 from, ClassSym* cls)
{
    usize len = str_length(name);
    if (len < 2 || len > 64 || m_suggestions >= 64)
        return nullptr;
    m_suggestions++;
    u32 limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    const char* best = nullptr;
    u32 best_distance = limit + 1;
    u32 looked = 0;
    auto consider = [&](const char* candidate) {
        if (looked >= 4096 || !candidate || str_equal(candidate, name))
            return;
        looked++;
        u32 d = edit_distance(name, candidate, best_distance - 1 < limit ? best_distance - 1 : limit);
        if (d < best_distance && d < len) {
            best = candidate;
            best_distance = d;
        }
    };
    // The part after "Class." of a static method's or constant's name.
    auto bare = [](const char* q) {
        const char* dot = q;
        while (*dot && *dot != '.')
            dot++;
        return *dot ? dot + 1 : q;
    };
    ClassSym* scope = m_fs ? static_scope() : nullptr;
    if (from & SuggestValues) {
        for (u32 i = m_fs ? m_fs->locals.size() : 0; i-- > 0;)
            consider(m_fs->locals[i].name);
        for (ClassSym* k = scope; k && looked < 4096; k = k->super)
            for (FieldSym& f : k->fields)
                consider(f.name);
        for (GlobalSym& g : m_globals) {
            const char* b = bare(g.name);
            if (b == g.name)
                consider(g.name);
            else if (scope && str_length(scope->name) == (usize)(b - 1 - g.name)
                && mem_compare(scope->name, g.name, (usize)(b - 1 - g.name)) == 0)
                consider(b);
        }
        u32 constant_count = 0;
        const BuiltinConstant* constants = builtin_constants(&constant_count);
        for (u32 i = 0; i < constant_count; i++)
            consider(constants[i].name);
    }
    if (from & (SuggestValues | SuggestFunctions)) {
        for (FuncSym* f : m_functions) {
            if (looked >= 4096)
                break;
            if (!f->owner && !f->static_class)
                consider(f->name);
            else if (f->static_class && f->static_class == scope)
                consider(bare(f->name));
        }
    }
    if ((from & SuggestFunctions) && scope)
        for (FuncSym* m : scope->vtable)
            consider(m->name);
    if ((from & SuggestFields) && cls)
        for (FieldSym& f : cls->fields)
            consider(f.name);
    if ((from & SuggestMethods) && cls)
        for (FuncSym* m : cls->vtable)
            consider(m->name);
    tick(looked / 16 + 1);
    return best;
}

// [format] into [text], followed by "; did you mean '%s'?" when there is
// a [hint] (the format is cut at 100 bytes: messages are far shorter).
static void format_with_hint(char (&text)[160], const char* format, bool hint)
{
    usize n = 0;
    for (const char* p = format; *p && n < 100; p++)
        text[n++] = *p;
    const char* tail = hint ? "; did you mean '%s'?" : "";
    for (const char* p = tail; *p && n < sizeof(text) - 1; p++)
        text[n++] = *p;
    text[n] = 0;
}

// "undefined name 'x'" ([format] with one %s), with "; did you mean 'y'?"
// when a close name is in reach.
KS_NOINLINE void Compiler::undefined_error(const Expr* e, const char* format, const char* name, u8 from,
    ClassSym* cls)
{
    const char* hint = did_you_mean(name, from, cls);
    char text[160];
    format_with_hint(text, format, hint != nullptr);
    error(e->line, e->column, text, name, hint);
}

// "'C' has no field 'x'" ([format] with two %s), with a suggestion among
// the fields or methods of [cls].
KS_NOINLINE void Compiler::member_error(const Expr* e, const char* format, const char* cls_name, const char* name,
    u8 from, ClassSym* cls)
{
    const char* hint = did_you_mean(name, from, cls);
    char text[160];
    format_with_hint(text, format, hint != nullptr);
    error(e->line, e->column, text, cls_name, name, 0, hint);
}

// "name(int a, String b)" for [f] into [out] (clipped to [size]).
KS_NOINLINE void Compiler::signature_text(FuncSym* f, char* out, usize size)
{
    usize n = 0;
    auto put = [&](const char* s) {
        for (; *s && n + 1 < size; s++)
            out[n++] = *s;
    };
    put(f->name);
    put("(");
    FuncDecl* d = f->first_decl;
    for (u32 i = 0; i < f->param_count && n + 1 < size; i++) {
        char t[64];
        TypeTable::name(f->params[i], t, sizeof(t));
        if (i)
            put(", ");
        put(t);
        if (d && i < d->param_count) {
            put(" ");
            put(d->params[i].name);
        }
    }
    put(")");
    out[n] = 0;
}

// "cannot use 'String' as 'int' (argument 2 of f(int a, int b))".
KS_NOINLINE void Compiler::argument_error(const Expr* e, Type* given, Type* expected, FuncSym* f, u32 index)
{
    if (given->kind == TypeKind::Error || expected->kind == TypeKind::Error)
        return;
    char a[96], b[96], sig[120];
    TypeTable::name(given, a, sizeof(a));
    TypeTable::name(expected, b, sizeof(b));
    signature_text(f, sig, sizeof(sig));
    error(e->line, e->column, "cannot use '%s' as '%s' (argument %d of %s)", a, b, index + 1, sig);
}

// An argument-count error ([format]: %s the name, %d the count) followed by
// the signatures that exist: "; expected f(int a)" (or "f(int a) or
// f(int a, int b)", at most three).
KS_NOINLINE void Compiler::arity_error(const Expr* e, const char* format, const char* name, u32 argc,
    FuncSym* const* candidates, u32 count)
{
    char sigs[240];
    usize n = 0;
    for (u32 i = 0; i < count && i < 3; i++) {
        char one[120];
        signature_text(candidates[i], one, sizeof(one));
        const char* sep = i ? " or " : "";
        for (const char* p = sep; *p && n + 1 < sizeof(sigs); p++)
            sigs[n++] = *p;
        for (const char* p = one; *p && n + 1 < sizeof(sigs); p++)
            sigs[n++] = *p;
    }
    sigs[n] = 0;
    char text[160];
    n = 0;
    for (const char* p = format; *p && n < 100; p++)
        text[n++] = *p;
    const char* tail = count ? "; expected %s" : "";
    for (const char* p = tail; *p && n < sizeof(text) - 1; p++)
        text[n++] = *p;
    text[n] = 0;
    error(e->line, e->column, text, name, count ? sigs : nullptr, argc);
}

// Reports an error naming types [a] (and [b]) in [format], unless one of
// them is the error type (its error was reported already).
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

// Reports that operator [op] does not apply to types [a] and [b].
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

// A copy of [s] in the program's arena, which outlives compilation.
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

// Tokenizes and parses [source] (the prelude when [prelude]) into [out];
// false on errors or when the work meter stopped the compile. The tokens
// and the parser stay (m_sources) for the bodies that lazy parsing skipped:
// all of them but in transcript mode, whose reports need every syntax error
// of an item before the item runs.
bool Compiler::parse(const char* source, usize length, bool prelude, SyntaxTree* out)
{
    void* place = m_memory->alloc(sizeof(Source));
    if (!place) {
        oom();
        return false;
    }
    Source* src = new (KsPlace {}, place) Source(m_memory);
    m_sources[prelude ? 0 : 1] = src;
    place = m_memory->alloc(sizeof(Parser));
    if (!place) {
        oom();
        return false;
    }
    // The parser pulls the tokens from the lexer as it reads; those of a
    // top-level item go once the next one is parsed, and a skipped body's
    // are never kept.
    Lexer lexer(source, length, m_arena, m_diag, &m_meter);
    lexer.start(&src->tokens);
    src->parser = new (KsPlace {}, place) Parser(src->tokens, m_arena, m_memory, m_diag, m_options.max_nesting,
        &m_meter, m_options.hash_seed, &lexer);
    src->parser->set_item_names(prelude);
    src->parser->set_lazy_bodies(prelude || m_options.mode != CompileMode::Transcript);
    if (!prelude)
        src->parser->set_statement_arena(&m_statement_arena);
    *out = src->parser->parse_program();
    src->tokens.clear();
    if (m_meter.stopped()) {
        stop_work();
        return false;
    }
    return !m_diag->out_of_memory();
}

// The statements of [d]'s body, parsed now if lazy parsing skipped them
// (into m_body_arena, which this resets: the previous body's tree is gone).
// Null when memory ran out or the compile was stopped.
Block* Compiler::parse_body(FuncDecl* d)
{
    if (!d->body_parser)
        return d->body;
    // A parser that gave up (the nesting limit, reported) parses nothing
    // more: the compile stops rather than compile empty bodies.
    if (d->body_parser->aborted()) {
        m_failed = true;
        return nullptr;
    }
    m_body_arena.reset();
    Block* body = d->body_parser->parse_body(d, &m_body_arena);
    if (m_meter.stopped()) {
        stop_work();
        return nullptr;
    }
    if (!body || m_diag->out_of_memory()) {
        oom();
        return nullptr;
    }
    if (d->body_parser->aborted()) {
        m_failed = true;
        return nullptr;
    }
    return body;
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

// Compiles the top-level statements of [program] into the function <main>,
// declaring globals as their declarations are reached.
//
// Transcript mode follows Konoha, which checks and runs one top-level
// statement after another: every diagnostic of a top-level item (its own,
// and the lexer's, parser's and declarations' ones within its lines) is
// printed by Report instructions when the item is reached, in line order,
// and an item with an error stops the script there (its code is dropped).
void Compiler::compile_main(SyntaxTree& program)
{
    m_shared_names = &program.shared_names;
    FunctionState fs;
    if (!begin_function(&fs, nullptr, nullptr)) {
        release_state(&fs);
        return;
    }
    init_class_constants();
    bool transcript = m_options.mode == CompileMode::Transcript;
    if (transcript)
        check_field_initializers(&fs);
    // Transcript mode: the diagnostics so far (lexer, parser, declarations),
    // by line; [next_early] is the first not yet reported.
    Vector<u32> early(m_memory);
    u32 next_early = 0;
    if (transcript) {
        if (!early.try_resize(m_diag->size())) {
            oom();
            release_state(&fs);
            return;
        }
        for (u32 i = 0; i < early.size(); i++)
            early[i] = i;
        sort_by_line(early.data(), early.size());
    }
    for (u32 i = 0; i < program.count && !m_failed; i++) {
        const Item& item = program.item(i);
        u32 code_start = here();
        u32 diag_before = m_diag->size();
        // The early diagnostics up to the end of this item are its own; an
        // error among them keeps the item from running.
        u32 early_end = next_early;
        bool has_error = false;
        while (early_end < early.size() && (*m_diag)[early[early_end]].line <= item.end_line) {
            has_error = has_error || (*m_diag)[early[early_end]].severity == Severity::Error;
            early_end++;
        }
        if (item.kind == ItemKind::Stmt && item.stmt)
            has_error = main_item(item.stmt, has_error);
        if (!transcript)
            continue;
        report_item(item.line, early.data() + next_early, early_end - next_early, diag_before, has_error, code_start);
        next_early = early_end;
    }
    if (transcript)
        report_item(m_line, early.data() + next_early, early.size() - next_early, m_diag->size(), false, here());
    emit(Op::ReturnVoid);
    Function* f;
    if (finish_function(&fs, "<main>", 1, &f) && !m_runtime_functions.try_append(f))
        oom();
    m_out->main_function = m_runtime_functions.size() - 1;
}

// Checks the top-level statement [s] of <main> (a variable declaration, a
// group of them, or any statement) and, unless it or the early
// diagnostics of its item ([has_error]) have an error, emits it. Returns
// whether it has an error.
bool Compiler::main_item(Stmt* s, bool has_error)
{
    bool group = s->kind == StmtKind::Block && s->block && !s->block->scoped;
    if (s->kind == StmtKind::Var) {
        check_var(s, true);
        has_error = has_error || s->has_error;
    } else if (group) {
        for (u32 j = 0; j < s->block->count; j++) {
            check_var(s->block->stmts[j], true);
            has_error = has_error || s->block->stmts[j]->has_error;
        }
    } else {
        check_statement(s);
        has_error = has_error || s->has_error;
    }
    if (has_error || m_failed) {
        declare_skipped(s, true);
        return has_error;
    }
    if (s->kind == StmtKind::Var)
        var_statement(s, true);
    else if (group) {
        for (u32 j = 0; j < s->block->count; j++)
            var_statement(s->block->stmts[j], true);
    } else
        statement(s);
    return false;
}

// Sorts the diagnostic indexes [list] by line, keeping the order of those on
// one line (insertion sort: a statement has few diagnostics; the early ones
// come mostly in order already).
void Compiler::sort_by_line(u32* list, u32 n)
{
    for (u32 i = 1; i < n; i++) {
        u32 v = list[i];
        u32 line = (*m_diag)[v].line;
        u32 j = i;
        while (j > 0 && (*m_diag)[list[j - 1]].line > line) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = v;
    }
}

// How many of the diagnostics [list] (in line order) Konoha would print: up
// to and including the first error, where its checking stops, and the info
// lines that explain it (on its line, after it: the escape meant).
u32 Compiler::through_first_error(const u32* list, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        const Diagnostic& d = (*m_diag)[list[i]];
        if (d.severity != Severity::Error)
            continue;
        u32 end = i + 1;
        while (end < n && (*m_diag)[list[end]].line == d.line && (*m_diag)[list[end]].severity == Severity::Info)
            end++;
        return end;
    }
    return n;
}

// Transcript mode, after a top-level item at [line] was checked and, if it
// had no error, emitted from [code_start] on: its diagnostics ([early],
// [early_count] of them from before <main>, and those from [diag_before] on)
// become Report instructions in line order, placed before its code; when
// it has an error ([has_error], or an error among them), the script stops
// there.
void Compiler::report_item(u32 line, const u32* early, u32 early_count, u32 diag_before, bool has_error,
    u32 code_start)
{
    Vector<u32> list(m_memory);
    u32 own = m_diag->size() - diag_before;
    if (!list.try_resize(early_count + own)) {
        oom();
        return;
    }
    for (u32 i = 0; i < early_count + own; i++) {
        list[i] = i < early_count ? early[i] : diag_before + (i - early_count);
        const Diagnostic& d = (*m_diag)[list[i]];
        has_error = has_error || d.severity == Severity::Error;
        m_diag->mark_deferred(list[i]);
    }
    if (!list.size() && !has_error)
        return;
    sort_by_line(list.data(), list.size());
    list.shrink(through_first_error(list.data(), list.size()));
    m_line = line;
    bool reported_error = false;
    u32 reports_start = here();
    for (u32 i : list) {
        const Diagnostic& d = (*m_diag)[i];
        u64 kind = d.severity == Severity::Error ? 0 : d.severity == Severity::Warning ? 1 : 2;
        reported_error = reported_error || kind == 0;
        m_line = d.line ? d.line : line;
        emit_imm(Op::Report, 0, (i32)add_constant((u64)m_line | kind << 32, KindInt, m_types.int_type()));
    }
    // An error found without a diagnostic of its own (one reported where a
    // declaration it uses is) still reports the statement's line.
    if (has_error && !reported_error) {
        m_line = line;
        emit_imm(Op::Report, 0, (i32)add_constant(line, KindInt, m_types.int_type()));
    }
    if (has_error)
        emit(Op::ReturnVoid);
    else
        move_code_before(code_start, reports_start);   // Reported before the statement runs.
}

// The start of <main>: each class constant's initializer, in class order,
// compiled with the class's static methods and constants in reach.
void Compiler::init_class_constants()
{
    for (const ClassConstant& k : m_class_constants) {
        if (m_failed)
            return;
        GlobalSym& g = m_globals[k.global];
        m_line = k.decl->line;
        m_const_class = k.cls;
        u32 errors = m_check_errors;
        if (k.decl->init)
            check_into(k.decl->init, g.type, "initializer");
        m_const_class = nullptr;
        if (m_check_errors != errors)
            continue;   // Reported; the constant keeps its default.
        u16 tmp = alloc_for(g.type);
        if (k.decl->init)
            expr_into(k.decl->init, tmp, g.type);
        emit_imm(Op::SetGlobal, tmp, (i32)g.index);
        free_reg(tmp);
    }
}

// The field of [cls] that [fd] declares, if [fd] gives it an initializer
// that [cls]'s constructors run (not a field a superclass already has).
FieldSym* Compiler::initialized_field(ClassSym* cls, FieldDecl* fd)
{
    FieldSym* field = fd->init ? find_field(cls, fd->name) : nullptr;
    return field && field->owner == cls ? field : nullptr;
}

// Checks the field initializers of class [cls] (declared by [cd]) in the
// current function's scope, a constructor's; each one with an error is
// marked (ConvHasError) for the emitter.
void Compiler::check_own_field_initializers(ClassSym* cls, ClassDecl* cd)
{
    for (u32 i = 0; i < cd->field_count; i++) {
        FieldDecl* fd = &cd->fields[i];
        FieldSym* field = initialized_field(cls, fd);
        if (!field)
            continue;
        m_line = fd->line;
        u32 errors = m_check_errors;
        check_into(fd->init, field->type, "field initializer");
        fd->init->conv = m_check_errors != errors ? ConvHasError : 0;
    }
}

// Transcript mode: the field initializers of the script's classes, checked
// before <main> is, so that their errors are among the diagnostics of their
// class's item, which then stops the script where the class stands, as
// Konoha does. (They are checked again, and emitted, with each constructor,
// which the script then never reaches.) [main] is <main>'s state, made
// current again after.
void Compiler::check_field_initializers(FunctionState* main)
{
    for (ClassSym* cls : m_classes) {
        ClassDecl* cd = cls->decl;
        if (m_failed || cls->builtin || !cd || !cls->ctors.size())
            continue;
        FunctionState fs;
        if (begin_function(&fs, cls->ctors[0], cls)) {
            begin_check_scope();
            check_own_field_initializers(cls, cd);
            end_check_scope();
        }
        release_state(&fs);
    }
    m_fs = main;
}

// Compiles the body of function, method or constructor [sym] (an implicit
// default constructor only calls the superclass's); a prototype never
// defined compiles to a function that raises when called.
void Compiler::compile_function(FuncSym* sym)
{
    FuncDecl* d = sym->decl;
    m_in_prelude = sym->prelude;
    FunctionState fs;
    if (!d && !sym->implicit) {
        compile_undefined(&fs, sym);
        return;
    }
    // A lazily parsed body is parsed now and put back to its placeholder
    // after: the tree lives in m_body_arena until the next body.
    Block* placeholder = d ? d->body : nullptr;
    if (d && !(d->body = parse_body(d))) {
        d->body = placeholder;
        return;
    }
    compile_body(&fs, sym, d);
    if (d)
        d->body = placeholder;
}

// compile_function()'s work once [d]'s body is parsed: the body is checked
// whole, then emitted. A constructor first calls super(...) (explicit or
// implicit) and sets the field initializers of its class. In transcript
// mode a statement with an error becomes a raise of RuntimeScriptException
// and its diagnostics print at the first call; otherwise, after an error,
// nothing more of the function is emitted (the program will not run).
void Compiler::compile_body(FunctionState* state, FuncSym* sym, FuncDecl* d)
{
    FunctionState& fs = *state;
    ClassSym* cls = sym->owner;
    if (!begin_function(&fs, sym, cls)) {
        release_state(&fs);
        return;
    }
    bool transcript = m_options.mode == CompileMode::Transcript;
    m_line = d ? d->line : (sym->first_decl ? sym->first_decl->line : 0);
    u32 diag_before = m_diag->size();
    u32 errors_before = m_check_errors;
    Stmt* first = d && d->body && d->body->count ? d->body->stmts[0] : nullptr;
    bool explicit_super = sym->is_ctor && first && first->kind == StmtKind::Expr && first->expr
        && first->expr->kind == ExprKind::Call && first->expr->a->kind == ExprKind::Super;
    u32 first_statement = explicit_super ? 1 : 0;
    FuncSym* super_ctor = nullptr;
    // Check.
    begin_check_scope();
    if (explicit_super) {
        check_statement(first);
    } else if (sym->is_ctor && cls->super && cls->super != m_object) {
        for (FuncSym* c : cls->super->ctors)
            if (c->param_count == 0)
                super_ctor = c;
        if (!super_ctor)
            error(d ? d->line : cls->line, d ? d->column : cls->column,
                "'%s' has no constructor without parameters; call super(...) first", cls->super->name);
    }
    ClassDecl* cd = sym->is_ctor ? cls->decl : nullptr;
    if (cd)
        check_own_field_initializers(cls, cd);
    bool falls_through = true;
    bool warned_unreachable = false;
    for (u32 i = first_statement; d && d->body && i < d->body->count && !m_failed; i++) {
        Stmt* s = d->body->stmts[i];
        if (!falls_through && s->kind != StmtKind::Empty) {
            // Unreachable statements are checked (to find their errors), not emitted.
            if (!warned_unreachable)
                m_diag->report(Severity::Warning, s->line, s->column, "unreachable code");
            warned_unreachable = true;
            check_unreachable(s);
            continue;
        }
        falls_through = check_statement(s);
        if (transcript && s->has_error) {
            // What follows a raise put in for an error is not reported
            // unreachable: the script wrote no statement that ends here.
            falls_through = false;
            warned_unreachable = true;
        }
    }
    if (falls_through && fs.return_type->kind != TypeKind::Void && !sym->is_ctor) {
        u32 end_line = d && d->body ? d->body->end_line : 0;
        error(end_line, 1, "missing return at the end of '%s'", sym->name);
    }
    end_check_scope();
    // Emit.
    begin_scope();
    falls_through = true;
    if (m_failed || (!transcript && m_check_errors != errors_before)) {
        // The program will not run (and after a stop, part of the body was
        // never checked: the emitter must not see it).
        falls_through = false;
    } else {
        if (explicit_super) {
            if (first->has_error)
                falls_through = raise_compile_error(first);
            else
                statement(first);
        } else if (super_ctor) {
            u16 base = alloc_reg(true);
            emit_move(base, 0);
            u16 args[1] = { 0 };
            emit(Op::Call, base, super_ctor->index, 1);
            emit_args(args, 1);
            free_reg(base);
        }
        for (u32 i = 0; cd && i < cd->field_count && falls_through; i++) {
            FieldDecl* fd = &cd->fields[i];
            FieldSym* field = initialized_field(cls, fd);
            if (!field)
                continue;
            m_line = fd->line;
            if (fd->init->conv & ConvHasError) {
                falls_through = raise_compile_error(nullptr);
                break;
            }
            u16 v = alloc_for(field->type);
            expr_into(fd->init, v, field->type);
            emit(Op::SetField, 0, field->slot, v);
            free_reg(v);
        }
        for (u32 i = first_statement; d && d->body && i < d->body->count && !m_failed; i++) {
            Stmt* s = d->body->stmts[i];
            if (!falls_through && s->kind != StmtKind::Empty) {
                declare_skipped(s, false);   // Cannot run.
            } else if (s->has_error) {
                falls_through = raise_compile_error(s);
                declare_skipped(s, false);
            } else {
                falls_through = statement(s);
            }
        }
    }
    if (falls_through) {
        m_line = d && d->body ? d->body->end_line : m_line;
        emit(Op::ReturnVoid);
    }
    end_scope();
    if (transcript)
        report_on_first_call(diag_before, d ? d->line : m_line);
    char name[160];
    function_name(sym, name, sizeof(name));
    Function* f;
    if (finish_function(&fs, name, d ? d->line : 0, &f)) {
        m_runtime_functions[sym->index] = f;
    }
}

// Transcript mode: what a statement [s] with an error (null: a field
// initializer, at m_line) compiles to, a raise of RuntimeScriptException
// ("compile error"). Returns false: control does not go on.
bool Compiler::raise_compile_error(Stmt* s)
{
    if (s)
        m_line = s->line;
    emit_imm(Op::Raise, ClassRuntimeScriptException, (i32)string_constant("compile error", 13));
    return false;
}

// Transcript mode, at the end of a function body: its diagnostics (from
// [diag_before] on) print at its first call, in line order, as Konoha
// compiles a function when first called. A prologue does it: a hidden
// boolean global says whether it ran; then Report instructions.
void Compiler::report_on_first_call(u32 diag_before, u32 line)
{
    u32 n = m_diag->size() - diag_before;
    if (!n)
        return;
    Vector<u32> list(m_memory);
    if (!list.try_resize(n)) {
        oom();
        return;
    }
    for (u32 i = 0; i < n; i++) {
        list[i] = diag_before + i;
        m_diag->mark_deferred(diag_before + i);
    }
    sort_by_line(list.data(), n);
    list.shrink(through_first_error(list.data(), n));
    GlobalSym once { "", m_types.boolean(), m_globals.size(), false, true };
    if (!m_globals.try_append(once)) {
        oom();
        return;
    }
    u32 mid = here();
    m_line = line;
    u16 flag = alloc_reg(false);
    emit_imm(Op::GetGlobal, flag, (i32)once.index);
    u32 skip = emit_jump(Op::JumpIf, flag);
    emit_imm(Op::LoadI, flag, 1);
    emit_imm(Op::SetGlobal, flag, (i32)once.index);
    for (u32 i : list) {
        const Diagnostic& d = (*m_diag)[i];
        u64 kind = d.severity == Severity::Error ? 0 : d.severity == Severity::Warning ? 1 : 2;
        m_line = d.line ? d.line : line;
        emit_imm(Op::Report, 0, (i32)add_constant((u64)m_line | kind << 32, KindInt, m_types.int_type()));
    }
    patch_jump(skip);
    free_reg(flag);
    move_code_before(0, mid);
    m_fs->diagnostic_line = 0;   // Reported by the prologue, not by the VM.
}

// Compiles a function [sym] that was declared without a body and never
// defined (Konoha): a method so declared is abstract and returns its type's
// default value; a function or constructor raises RuntimeScriptException
// when called (outside transcript mode a warning says so first).
void Compiler::compile_undefined(FunctionState* fs, FuncSym* sym)
{
    FuncDecl* p = sym->first_decl;
    if (!p)
        return;
    bool abstract = sym->owner && !sym->is_ctor;
    if (!abstract && m_options.mode != CompileMode::Transcript)
        m_diag->report(Severity::Warning, p->line, p->column, "'%s' is declared but never defined", sym->name);
    if (!begin_function(fs, sym, sym->owner)) {
        release_state(fs);
        return;
    }
    m_line = p->line;
    if (!abstract) {
        emit_imm(Op::Raise, ClassRuntimeScriptException, (i32)string_constant("declared but never defined", 26));
    } else if (sym->result->kind == TypeKind::Void) {
        emit(Op::ReturnVoid);
    } else {
        u16 r = alloc_for(sym->result);
        load_null(r, sym->result);
        emit(Op::Return, r);
    }
    char name[160];
    function_name(sym, name, sizeof(name));
    Function* f;
    if (finish_function(fs, name, p->line, &f))
        m_runtime_functions[sym->index] = f;
}

// Compiles every function, method and constructor body.
void Compiler::compile_bodies()
{
    for (u32 i = 0; i < m_functions.size() && !m_failed; i++)
        compile_function(m_functions[i]);
    m_in_prelude = false;
}

// Compiles [source] into [out]; whatever was built belongs to [out] even
// after a failure, so that free_program() can release it.
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

// The phases of a compile (see the top of this file): parse, declare,
// build vtables and runtime classes, compile <main> and every body.
bool Compiler::compile_all(const char* source, usize length)
{
    Program* out = m_out;
    usize prelude_length;
    const char* prelude = prelude_source(&prelude_length);
    m_node_limit = kNodesFloor + kNodesPerSourceByte * (length + prelude_length);
    if (!m_types.init()) {
        oom();
        return false;
    }
    if (!parse(prelude, prelude_length, true, &m_prelude) || m_diag->error_count())
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
    declare_class_constants();
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
    // The top-level statements are compiled: their trees go, and the
    // bodies compiled next reuse the memory.
    for (u32 i = 0; i < m_program.count; i++)
        m_program.item(i).stmt = nullptr;
    m_statement_arena.release();
    compile_bodies();
    if (m_failed)
        return false;
    // Vtables and field names of the runtime classes.
    for (ClassSym* c : m_classes) {
        RtClass* rt = c->rt;
        if (!tick(rt->field_count / 16 + c->vtable.size() / 16 + 1))
            return false;
        // Field tables shared with the superclass (see build_runtime_classes())
        // already hold the names.
        bool shared = rt->super && rt->field_count && rt->field_names == rt->super->field_names;
        for (u32 i = 0; i < rt->field_count && !shared; i++)
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

}   // namespace ks::compiler

namespace ks {

// Compiles [source] into [out] with a Compiler on the heap (its state is
// over 1 KiB, too much for a kernel stack).
bool compile_program(Memory* memory, Heap* heap, const char* source, usize length, const CompileOptions& options,
    Diagnostics* diagnostics, Arena* arena, Program* out)
{
    // The compiler's state is over 1 KiB: on the heap, not the (kernel) stack.
    void* place = memory->alloc(sizeof(compiler::Compiler));
    if (!place) {
        diagnostics->set_out_of_memory();
        mem_set(out, 0, sizeof(*out));
        return false;
    }
    compiler::Compiler* c = new (KsPlace {}, place) compiler::Compiler(memory, heap, arena, diagnostics, options);
    bool ok = c->compile(source, length, out);
    c->~Compiler();
    memory->free(place);
    return ok;
}

}   // namespace ks
