#include "Parser.h"

#include "../support/NameIndex.h"

namespace ks {


// peek() past the tokens lexed so far: lexes on to token [i], or gives
// the Eof token (m_eof) past the end. A body (m_in_body) is lexed a batch
// of tokens at a time, in one loop; the top level a token at a time, since
// its function bodies are skipped by other means (skip_body()). A lexer
// that fails (out of memory, the meter said stop) ends the parse as the end
// of the file would, where it failed: inside a batch, the tokens before the
// failure are read first (m_lex_failed), so the same errors are reported as
// when each token was lexed on demand.
const Token& Parser::peek_lexing(u32 i) const
{
    if (!m_lexer || m_abort)
        return i < m_count ? (*m_tokens)[i] : m_eof;
    while (i >= m_count) {
        if (KS_UNLIKELY(m_lex_failed)) {
            lexing_failed();
            break;
        }
        if (m_lexer->done())
            break;
        if (m_in_body) {
            u32 lexed;
            if (KS_UNLIKELY(!m_lexer->lex_some(kBodyBatch, &lexed))) {
                m_lex_failed = true;
                m_count = lexed;
                continue;
            }
        } else if (KS_UNLIKELY(!m_lexer->lex())) {
            lexing_failed();
            break;
        }
        m_count = m_tokens->size();
        if (KS_UNLIKELY(m_lexer->done())) {
            // The lexer's Eof is read as m_eof, which a body sets at its '}'.
            m_count--;
            if (!m_in_body)
                m_eof = (*m_tokens)[m_count];
        }
    }
    return i < m_count ? (*m_tokens)[i] : m_eof;
}

// A syntax error at [token] (none once the parse was aborted: the reason
// was reported).
void Parser::error_at(const Token& token, const char* format, const char* s1)
{
    if (m_abort)
        return;
    m_diagnostics->error(token.line, token.column, format, s1);
}

void Parser::error_here(const char* format, const char* s1) { error_at(current(), format, s1); }

// Consumes a token of [kind], or reports "expected WHAT before 'found'"
// and consumes nothing; whether it was there.
bool Parser::expect(Tok kind, const char* what)
{
    if (match(kind))
        return true;
    const Token& t = current();
    char found[64];
    u32 length = m_tokens->length(t);
        u32 n = t.kind == Tok::Eof ? 0 : (length < 40 ? length : 40);
    if (n) {
        mem_copy(found, m_tokens->start(t), n);
        found[n] = 0;
    }
    if (m_abort)
        return false;
    if (n)
        m_diagnostics->error(t.line, t.column, "expected %s before '%s'", what, found);
    else
        m_diagnostics->error(t.line, t.column, "expected %s before end of file", what);
    return false;
}

// Statements end at ';', or at a line break, '}' or the end of the file.
void Parser::expect_terminator()
{
    if (match(Tok::Semicolon))
        return;
    if (check(Tok::RBrace) || check(Tok::Eof) || current().newline_before)
        return;
    expect(Tok::Semicolon, "';'");
    synchronize();
}

// Skips a declaration that is not allowed here, including its braced body.
void Parser::skip_declaration()
{
    u32 depth = 0;
    while (!check(Tok::Eof)) {
        Tok k = current().kind;
        m_pos++;
        if (k == Tok::LBrace) {
            depth++;
        } else if (k == Tok::RBrace) {
            if (depth <= 1)
                return;
            depth--;
        } else if (k == Tok::Semicolon && depth == 0) {
            return;
        }
    }
}

void Parser::synchronize()
{
    // Skip to a likely statement start: after ';', before '}' or a keyword
    // that begins a statement on a new line. Always makes progress.
    u32 start = m_pos;
    while (!check(Tok::Eof)) {
        if (match(Tok::Semicolon))
            return;
        if (check(Tok::RBrace)) {
            if (m_pos == start)
                m_pos++;
            return;
        }
        if (m_pos != start && current().newline_before) {
            switch (current().kind) {
            case Tok::KwIf: case Tok::KwWhile: case Tok::KwFor: case Tok::KwReturn: case Tok::KwClass:
            case Tok::KwDo: case Tok::KwTry: case Tok::KwThrow: case Tok::KwVar: case Tok::KwConst:
            case Tok::KwInt: case Tok::KwBoolean: case Tok::KwVoid: case Tok::KwSwitch: case Tok::KwCase:
            case Tok::KwDefault: case Tok::KwStatic:
                return;
            default:
                break;
            }
        }
        m_pos++;
    }
}

// The '}' that closes the block opened by [open]. At the end of the file
// the error points at the '{' left open (the innermost one only: the outer
// ones are open because of it).
void Parser::expect_close(const Token& open)
{
    if (match(Tok::RBrace))
        return;
    if (check(Tok::Eof)) {
        if (!m_unclosed_reported && !m_abort)
            m_diagnostics->error(open.line, open.column, m_in_body
                    ? "this '{' is never closed: the function's body ends before its '}'"
                    : "this '{' is never closed: the file ends before its '}'");
        m_unclosed_reported = true;
        return;
    }
    expect(Tok::RBrace, "'}'");
}

// Java's modifiers in front of a declaration (`public`, `private`,
// `protected`, `abstract`, `final`): skipped, the first of a run reported.
// Returns a mask: 1 if `final` was among them (the caller makes a variable
// const, as the message advises), 2 for `abstract`, 4 for any. A word
// counts as a modifier only when a declaration follows it, so that a
// variable called `final` still works.
u32 Parser::skip_java_modifiers()
{
    u32 mask = 0;
    for (;;) {
        const Token& t = current();
        if (t.kind != Tok::Ident)
            return mask;
        bool is_final = ident_is(t, "final"), is_abstract = ident_is(t, "abstract");
        if (!is_final && !is_abstract && !ident_is(t, "public") && !ident_is(t, "private")
            && !ident_is(t, "protected"))
            return mask;
        Tok next = peek(1).kind, after = peek(2).kind;
        bool declaration = next == Tok::KwClass || next == Tok::KwInt || next == Tok::KwBoolean
            || next == Tok::KwVoid || next == Tok::KwStatic || next == Tok::KwConst || next == Tok::At
            || (next == Tok::Ident && (after == Tok::Ident || after == Tok::LParen || after == Tok::LBracket
                                          || ident_is(peek(1), "final") || ident_is(peek(1), "abstract")
                                          || ident_is(peek(1), "public") || ident_is(peek(1), "private")
                                          || ident_is(peek(1), "protected")));
        if (!declaration)
            return mask;
        if (!(mask & 4)) {
            if (is_final)
                error_here("'final' is not supported: use 'const' for a constant (const int N = 3); classes and "
                           "methods need nothing");
            else if (is_abstract)
                error_here("'abstract' is not supported: write a plain class whose methods have bodies, and "
                           "override them in subclasses (@Override)");
            else
                error_at(t, "'%s' is not supported: every class and member is visible; leave it out",
                    copy_name(t));
        }
        mask |= 4 | (is_final ? 1 : 0) | (is_abstract ? 2 : 0);
        m_pos++;
    }
}

// `interface NAME {...}` and `enum NAME {...}`: reported and skipped whole.
bool Parser::java_type_declaration()
{
    bool is_interface = ident_is(current(), "interface");
    if ((!is_interface && !ident_is(current(), "enum")) || peek(1).kind != Tok::Ident)
        return false;
    if (is_interface)
        error_here("'interface' is not supported: use a base class whose methods subclasses override "
                   "(class Shape { int area() { return 0; } } and @Override in each subclass)");
    else
        error_here("'enum' is not supported: use int constants (const int RED = 0) or static constants of a "
                   "class (class Color { static const int RED = 0 } and Color.RED)");
    skip_declaration();
    return true;
}

// Java's `throws A, B` after a function's parameters: reported, skipped.
void Parser::skip_throws()
{
    if (!ident_is(current(), "throws"))
        return;
    error_here("'throws' is not needed: any function may throw; remove the clause");
    m_pos++;
    while (check(Tok::Ident) || check(Tok::Comma) || check(Tok::Dot))
        m_pos++;
}

// True when the tokens from [ahead] on are a Java lambda's parameters and
// its arrow: `x ->`, `() ->`, `(a, b) ->`, `(int a, String b) ->`. Looks
// at most 32 tokens ahead, so that the check costs a bounded time at each
// '(' and name. [arrow] gets the position of the '-' (from [ahead]'s base).
// Java's type arguments, `List<String>` or `Map<String, List<Integer>>`:
// whether the token [ahead] from here is a '<' that such arguments follow
// to their closing '>' (a `>>` closes two; for an [inner] one, one of its
// own and one of the enclosing arguments'), at most 64 tokens on; then
// [after] is the distance of the token after them.
bool Parser::java_generic_at(u32 ahead, u32* after, bool inner) const
{
    if (peek(ahead).kind != Tok::Lt)
        return false;
    i32 depth = 0;
    for (u32 i = ahead; i < ahead + 64; i++) {
        switch (peek(i).kind) {
        case Tok::Lt: depth++; break;
        case Tok::Gt: depth--; break;
        case Tok::Shr:
            // `>>` closes two, or one here and one of an enclosing `<`.
            depth -= depth == 1 && inner ? 1 : 2;
            break;
        case Tok::Ident: case Tok::Comma: case Tok::Dot: case Tok::Question: case Tok::KwExtends:
        case Tok::KwSuper: case Tok::LBracket: case Tok::RBracket: case Tok::KwInt: case Tok::KwBoolean:
            continue;
        default: return false;
        }
        if (depth < 0)
            return false;
        if (depth == 0) {
            *after = i + 1;
            return true;
        }
    }
    return false;
}

// Says once a line that `<...>` type arguments are Java's.
void Parser::report_java_generic(const Token& at)
{
    if (m_generic_line == at.line)
        return;
    m_generic_line = at.line;
    error_at(at, "'<...>' type arguments are Java's: kscript writes a list of T as T[] (an empty one: [] or "
                 "new T[0]) and a map as Map[K, V] (new Map[K, V]())");
}

// At `Name<...>` of a Java declaration: reports it and reads it as the
// nearest kscript type, so that no cascade follows: a List, ArrayList,
// LinkedList, Vector, Collection or Iterable of one type is that type's
// array, a Map, HashMap, TreeMap or LinkedHashMap of two is a Map, and
// Integer, Long, Short, Byte are int, Boolean is boolean inside them.
TypeRef* Parser::java_generic_type()
{
    const Token& name = current();
    report_java_generic(name);
    u32 after = 0;
    java_generic_at(1, &after);
    u32 end = m_pos + after;
    auto is = [&](const Token& t, const char* const* names) {
        for (; *names; names++)
            if (t.kind == Tok::Ident && m_tokens->length(t) == str_length(*names)
                && mem_compare(m_tokens->start(t), *names, m_tokens->length(t)) == 0)
                return true;
        return false;
    };
    static const char* const kLists[] = { "List", "ArrayList", "LinkedList", "Vector", "Collection", "Iterable",
        nullptr };
    static const char* const kMaps[] = { "Map", "HashMap", "TreeMap", "LinkedHashMap", nullptr };
    static const char* const kInts[] = { "Integer", "Long", "Short", "Byte", nullptr };
    bool list = is(name, kLists), map = is(name, kMaps);
    // The arguments, one level deep: a nested `<...>` makes its argument
    // Object (already reported; the line gets one error).
    TypeRef* args[2] = { nullptr, nullptr };
    u32 count = 0;
    m_pos += 2;
    while (m_pos < end && count < 2) {
        const Token& arg = current();
        bool boxed = is(arg, kInts) || ident_is(arg, "Boolean");
        u32 nested = 0;
        bool generic = arg.kind == Tok::Ident && java_generic_at(1, &nested, true);
        TypeRef* t = nullptr;
        if (boxed || generic) {
            t = m_arena->make<TypeRef>();
            if (t) {
                mem_set(t, 0, sizeof(*t));
                t->name = generic ? "Object" : ident_is(arg, "Boolean") ? "boolean" : "int";
                t->line = arg.line;
                t->column = arg.column;
            }
            m_pos += generic ? nested : 1;
        } else {
            t = try_parse_type();
        }
        if (!t)
            break;
        args[count++] = t;
        if (!match(Tok::Comma))
            break;
    }
    m_pos = end;
    if (list && count == 1) {
        args[0]->dims++;
        return args[0];
    }
    TypeRef* t = m_arena->make<TypeRef>();
    if (!t) {
        oom();
        return nullptr;
    }
    mem_set(t, 0, sizeof(*t));
    t->line = name.line;
    t->column = name.column;
    if (map && count == 2) {
        t->name = "Map";
        t->args = static_cast<TypeRef**>(m_arena->alloc(sizeof(TypeRef*) * 2));
        if (!t->args) {
            oom();
            return nullptr;
        }
        t->args[0] = args[0];
        t->args[1] = args[1];
        t->arg_count = 2;
    } else {
        t->name = "Object";   // Unknown: anything goes, no cascade.
    }
    while (check(Tok::LBracket) && peek(1).kind == Tok::RBracket) {
        m_pos += 2;
        t->dims++;
    }
    return t;
}

// Whether a Java lambda (`x -> ...`, `(a, b) -> ...`) starts [ahead]
// tokens on; [arrow] is then the distance of its `->`. Looks at most 32
// tokens ahead.
bool Parser::lambda_at(u32 ahead, u32* arrow)
{
    u32 i = ahead;
    if (peek(i).kind == Tok::Ident) {
        i++;
    } else if (peek(i).kind == Tok::LParen) {
        i++;
        while (peek(i).kind != Tok::RParen) {
            Tok k = peek(i).kind;
            if ((k != Tok::Ident && k != Tok::KwInt && k != Tok::KwBoolean && k != Tok::Comma && k != Tok::LBracket
                    && k != Tok::RBracket)
                || i - ahead > 32)
                return false;
            i++;
        }
        i++;
    } else {
        return false;
    }
    const Token& minus = peek(i);
    const Token& gt = peek(i + 1);
    if (minus.kind != Tok::Minus || gt.kind != Tok::Gt || gt.line != minus.line || gt.column != minus.column + 1)
        return false;
    *arrow = i;
    return true;
}

// A Java lambda: one error, then its body is parsed (a block or an
// expression) and dropped, so that what follows parses as usual.
Expr* Parser::skip_lambda(const Token& at, u32 arrow)
{
    error_at(at, "'->' lambdas are not supported: declare a function and use its name as the value "
                 "(int inc(int x) { return x + 1; } then Func[int, int] f = inc)");
    m_pos += arrow + 2;
    if (check(Tok::LBrace))
        parse_block();
    else
        parse_expression();
    return error_expr(at);
}

// The token's text as a NUL-terminated name in the arena ("" when memory
// ran out, which is reported).
const char* Parser::copy_name(const Token& token)
{
    const char* s = m_arena->copy_string(m_tokens->start(token), m_tokens->length(token));
    if (!s) {
        oom();
        return "";
    }
    return s;
}

// enter() when the meter is due or the depth at its limit (or the parse
// aborted): charges the work meter and checks the nesting limit; false
// (the parse aborts) when either says stop.
bool Parser::enter_slow()
{
    if (m_abort)
        return false;
    // A unit of work per step, charged 16 at a time.
    if ((++m_steps & 15) == 0 && m_meter && !m_meter->charge(16)) {
        m_abort = true;   // The host asked to stop; the compiler reports it.
        return false;
    }
    if (++m_depth > m_max_depth) {
        m_diagnostics->error(current().line, current().column, "nesting too deep (limit %d)", nullptr, nullptr,
            m_max_depth);
        m_abort = true;
        return false;
    }
    return true;
}

// A new scoped block opened by [open], no statements yet (null when memory
// ran out, which is reported).
Block* Parser::make_block(const Token& open)
{
    Block* block = m_arena->make<Block>();
    if (!block) {
        oom();
        return nullptr;
    }
    mem_set(block, 0, sizeof(*block));
    block->scoped = true;
    block->line = open.line;
    block->column = open.column;
    return block;
}

// A new expression node of [kind] at [at]'s position, all else zero.
Expr* Parser::make_expr(ExprKind kind, const Token& at)
{
    Expr* e = m_arena->make<Expr>();   // Value-initialized: all zero.
    if (!e) {
        oom();
        return nullptr;
    }
    e->kind = kind;
    e->line = at.line;
    e->column = at.column;
    e->depth = 1;
    return e;
}

static const Expr kErrorExpr = { ExprKind::Error, Tok::Error, 0, 0, 0, 0, { 1 }, { 0 }, 0, { 0 }, nullptr, nullptr,
    nullptr, nullptr, nullptr, nullptr };

// An Error node (a shared static one when memory ran out), for an
// expression already reported.
Expr* Parser::error_expr(const Token& at)
{
    Expr* e = make_expr(ExprKind::Error, at);
    return e ? e : const_cast<Expr*>(&kErrorExpr);
}

// Completes [e]: its depth is one more than its deepest child's, and an
// expression deeper than the limit is reported and made an Error node, so
// that no later walk of the tree recurses too deep.
Expr* Parser::finish(Expr* e)
{
    if (!e)
        return const_cast<Expr*>(&kErrorExpr);
    u32 d = 0;
    if (e->a)
        d = max(d, e->a->depth);
    if (e->b)
        d = max(d, e->b->depth);
    if (e->c)
        d = max(d, e->c->depth);
    for (u32 i = 0; i < e->arg_count; i++)
        d = max(d, e->args[i]->depth);
    e->depth = d + 1;
    if (e->depth > m_max_depth && !m_abort) {
        m_diagnostics->error(e->line, e->column, "expression nested too deeply (limit %d)", nullptr, nullptr,
            m_max_depth);
        m_abort = true;
    }
    if (e->depth > m_max_depth) {
        e->kind = ExprKind::Error;
        e->a = e->b = e->c = nullptr;
        e->arg_count = 0;
        e->depth = 1;
    }
    return e;
}

// A new statement node of [kind] at [at]'s position, all else zero.
Stmt* Parser::make_stmt(StmtKind kind, const Token& at)
{
    Stmt* s = m_arena->make<Stmt>();   // Value-initialized: all zero.
    if (!s) {
        oom();
        static Stmt error_stmt;
        error_stmt.kind = StmtKind::Error;
        return &error_stmt;
    }
    s->kind = kind;
    s->line = at.line;
    s->column = at.column;
    return s;
}

// ---------------------------------------------------------------------------
// Types

// type := base ('[' ']')*
// base := 'int' | 'boolean' | 'void' | Ident ('[' type (',' type)* ']')?
TypeRef* Parser::parse_type()
{
    u32 after = 0;
    if (check(Tok::Ident) && java_generic_at(1, &after))
        return java_generic_type();   // `List<String>`: reported, read as String[].
    TypeRef* t = try_parse_type();
    if (!t) {
        error_here("expected a type");
        return nullptr;
    }
    return t;
}

// Whether a type may start with a token of [kind] (try_parse_type() and
// skip_type()).
static bool starts_type(Tok kind)
{
    return kind == Tok::KwInt || kind == Tok::KwBoolean || kind == Tok::KwVoid || kind == Tok::Ident;
}

// Whether the type named [first], just passed, has type arguments: a '['
// that is not an array's `[]`. Only Array, Map and Func may
// ([*generic]).
bool Parser::type_arguments_follow(const Token& first, bool* generic) const
{
    if (first.kind != Tok::Ident || !check(Tok::LBracket) || peek(1).kind == Tok::RBracket)
        return false;
    *generic = ident_is(first, "Array") || ident_is(first, "Map") || ident_is(first, "Func");
    return true;
}

// A type (`int`, `Point`, `Map[String, int]`, `int[][]`) if one starts
// here; otherwise null, nothing reported and the position unchanged.
TypeRef* Parser::try_parse_type()
{
    u32 start = m_pos;
    const Token& first = current();
    if (!starts_type(first.kind))
        return nullptr;
    if (!enter())
        return nullptr;
    TypeRef* t = m_arena->make<TypeRef>();
    if (!t) {
        leave();
        oom();
        return nullptr;
    }
    mem_set(t, 0, sizeof(*t));
    t->line = first.line;
    t->column = first.column;
    t->name = copy_name(first);
    m_pos++;
    bool generic;
    if (type_arguments_follow(first, &generic)) {
        if (!generic) {
            leave();
            m_pos = start;
            return nullptr;
        }
        m_pos++;
        Vector<TypeRef*> args(m_memory);
        for (;;) {
            TypeRef* arg = try_parse_type();
            if (!arg || !args.try_append(arg)) {
                leave();
                m_pos = start;
                return nullptr;
            }
            if (match(Tok::Comma))
                continue;
            if (match(Tok::RBracket))
                break;
            leave();
            m_pos = start;
            return nullptr;
        }
        t->args = to_array(args, &t->arg_count);
    }
    while (check(Tok::LBracket) && peek(1).kind == Tok::RBracket) {
        m_pos += 2;
        t->dims++;
    }
    leave();
    return t;
}

// A declaration starts with a type followed by a name on the same line (a
// name on the next line starts another statement: `n` then `n * 2` are two
// expression statements).
bool Parser::looks_like_declaration()
{
    u32 start = m_pos;
    bool yes = skip_type() && check(Tok::Ident) && !current().newline_before;
    m_pos = start;
    return yes;
}

// try_parse_type()'s grammar without building the type (most statements
// that start with a name are not declarations): moves past a type and is
// true, or is false, the position then anywhere.
bool Parser::skip_type()
{
    const Token& first = current();
    if (!starts_type(first.kind))
        return false;
    if (!enter())
        return false;
    m_pos++;
    bool ok = true;
    if (type_arguments_follow(first, &ok)) {
        if (ok) {
            m_pos++;
            for (;;) {
                if (!skip_type()) {
                    ok = false;
                    break;
                }
                if (match(Tok::Comma))
                    continue;
                ok = match(Tok::RBracket);
                break;
            }
        }
    }
    while (ok && check(Tok::LBracket) && peek(1).kind == Tok::RBracket)
        m_pos += 2;
    leave();
    return ok;
}

// ---------------------------------------------------------------------------
// Declarations

u8 Parser::parse_annotations()
{
    u8 flags = 0;
    while (check(Tok::At)) {
        m_pos++;
        const Token& name = current();
        if (name.kind != Tok::Ident) {
            error_here("expected an annotation name after '@'");
            continue;
        }
        m_pos++;
        const char* n = copy_name(name);
        if (str_equal(n, "Override"))
            flags |= AnnotationOverride;
        else if (str_equal(n, "Virtual"))
            flags |= AnnotationVirtual;
        else if (str_equal(n, "Public"))
            flags |= AnnotationPublic;
        else if (str_equal(n, "Const"))
            flags |= AnnotationConst;
        else if (str_equal(n, "Static"))
            flags |= AnnotationStatic;
        else
            error_at(name, "unknown annotation '@%s'", n);
    }
    return flags;
}

// Keyed by [seed] (see NameIndex): a script cannot make its names crowd into
// one run of slots, which would make building the set quadratic.
u32 name_hash(const char* name, usize length, u64 seed)
{
    u32 h = (u32)hash_keyed(name, length, seed);
    return h ? h : 1;
}

// Whether [name] may be in the set (a hash match: false positives are
// possible, false negatives are not).
bool NameSet::may_contain(const char* name, usize length) const { return contains(name_hash(name, length, seed)); }

bool NameSet::contains(u32 h) const
{
    if (!size)
        return false;
    for (u32 i = h & (size - 1);; i = (i + 1) & (size - 1)) {
        if (slots[i] == h)
            return true;
        if (!slots[i])
            return false;
    }
}

// Parses every top-level item (lazily: function bodies are skipped, see
// set_lazy_bodies()) and gathers the program's name sets as it goes: each
// item's tokens are gone once the next item is parsed.
SyntaxTree Parser::parse_program()
{
    Vector<Item*> chunks(m_memory);
    SyntaxTree program {};
    u32 count = 0;
    // Appends [item] in its chunk (a new one every kItemChunk items).
    auto append = [&](const Item& item) {
        constexpr u32 n = SyntaxTree::kItemChunk;
        if (count % n == 0) {
            Item* chunk = static_cast<Item*>(m_arena->alloc(sizeof(Item) * n));
            if (!chunk || !chunks.try_append(chunk))
                return false;
        }
        chunks[count / n][count % n] = item;
        count++;
        return true;
    };
    program.shared_names.seed = program.all_names.seed = m_seed;
    m_capitals = &program.all_names;
    // The filter of inner names: about a bit per four bytes of source (a
    // 200 KB program's two thousand names then set 6% of its bits, and a
    // name not there finds both of its bits set 0.4% of the time).
    u32 bits = 1u << 12;
    usize length = m_lexer ? m_lexer->length() / 4 : 0;
    while (bits < length && bits < (1u << 24))
        bits <<= 1;
    m_inner.bits = bits;
    m_inner.words = static_cast<u64*>(m_arena->alloc(bits / 8));
    if (!m_inner.words)
        oom();
    else
        mem_set(m_inner.words, 0, bits / 8);
    while (!check(Tok::Eof) && !m_abort) {
        u32 before = m_pos;
        m_tokens->release_before(before ? before - 1 : 0);
        NameSet names {};
        names.seed = m_seed;
        m_item_set = m_item_names ? &names : nullptr;
        Item item = parse_item();
        item.line = (*m_tokens)[before].line;
        item.end_line = (*m_tokens)[m_pos > before ? m_pos - 1 : before].line;
        note_names(before, m_pos, item.kind != ItemKind::Stmt);
        item.names = names;
        m_item_set = nullptr;
        if ((item.stmt || item.func || item.klass) && !append(item))
            oom();
        if (m_pos == before && !check(Tok::Eof))
            m_pos++;
    }
    // A parse that gave up on nesting still lexes the rest of the file,
    // for its lexical errors: each is reported as when a whole file was
    // lexed before it was parsed.
    if (m_abort && m_lexer && !m_diagnostics->out_of_memory() && !(m_meter && m_meter->stopped())) {
        m_lexer->set_skipping(true);
        while (!m_lexer->done()) {
            u32 size = m_tokens->size(), values = m_tokens->value_count();
            if (!m_lexer->lex())
                break;
            m_tokens->truncate(size, values);
        }
    }
    m_capitals = nullptr;
    m_lexer = nullptr;   // The caller's, gone after this.
    u32 chunk_count;
    program.item_chunks = to_array(chunks, &chunk_count);
    program.count = chunk_count ? count : 0;
    // shared_names: the names that top-level variable statements declare
    // (only those are asked of it, by Compiler::main_only()) that the filter
    // of inner names may hold.
    auto share = [&](const Stmt* st) {
        if (st && st->kind == StmtKind::Var && st->name && st->name[0] && m_inner.words) {
            u32 n = str_length(st->name);
            if (m_inner.may_contain(st->name, n))
                add_name(&program.shared_names, name_hash(st->name, n, m_seed));
        }
    };
    for (u32 i = 0; i < program.count; i++) {
        const Stmt* st = program.item(i).kind == ItemKind::Stmt ? program.item(i).stmt : nullptr;
        if (st && st->kind == StmtKind::Block && st->block && !st->block->scoped) {
            for (u32 j = 0; j < st->block->count; j++)
                share(st->block->stmts[j]);
        } else {
            share(st);
        }
    }
    return program;
}

// The names among tokens [from, to) of an item (what skip_body() did not
// drop): see note_name(). `global.NAME` anywhere counts as inner.
void Parser::note_names(u32 from, u32 to, bool in_declaration)
{
    for (u32 i = from; i < to && i < m_count && !m_abort; i++) {
        const Token& t = (*m_tokens)[i];
        if (t.kind != Tok::Ident)
            continue;
        note_name(t, in_declaration);
        if (!in_declaration && ident_is(t, "global") && i + 2 < m_count && (*m_tokens)[i + 1].kind == Tok::Dot
            && (*m_tokens)[i + 2].kind == Tok::Ident && m_inner.words)
            m_inner.add(m_tokens->start((*m_tokens)[i + 2]), (*m_tokens)[i + 2].aux);
    }
}

// A cheap hash of a name for NameFilter: its first and last eight bytes
// and its length, mixed by two multiplications.
static KS_ALWAYS_INLINE u64 filter_hash(const char* name, u32 length)
{
    // [a]: the first eight bytes, or all of a shorter name (two overlapping
    // loads for four to seven; add() and may_contain() hash alike, so the
    // byte order does not matter).
    u64 a = 0, b = 0;
    if (length >= 8) {
        mem_copy(&a, name, 8);
        mem_copy(&b, name + length - 8, 8);
    } else if (length >= 4) {
        u32 lo, hi;
        mem_copy(&lo, name, 4);
        mem_copy(&hi, name + length - 4, 4);
        a = lo | (u64)hi << (8 * (length - 4));
    } else {
        for (u32 i = 0; i < length; i++)
            a |= (u64)(u8)name[i] << (8 * i);
    }
    u64 h = (a ^ (b * 0x9e3779b97f4a7c15ULL) ^ length) * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 31);
}

KS_ALWAYS_INLINE void Parser::NameFilter::add(const char* name, u32 length)
{
    u64 h = filter_hash(name, length);
    u32 i = (u32)h & (bits - 1), j = (u32)(h >> 40) & (bits - 1);
    words[i / 64] |= 1ull << (i % 64);
    words[j / 64] |= 1ull << (j % 64);
}

// Notes the identifier [name] ([length] bytes) of the item being parsed: in
// all_names if it is capitalized (Compiler::mark_unused_builtins() asks it
// for the built-in classes, all capitalized), in the inner names if it is
// inside a class or function ([in_declaration]), and in the item's own set
// if one is made. Inline: once per identifier of every skipped body.
KS_ALWAYS_INLINE void Parser::note_name(const char* name, u32 length, bool in_declaration)
{
    if ((u8)(name[0] - 'A') < 26 && m_capitals)
        add_name(m_capitals, name_hash(name, length, m_seed));
    if (in_declaration && m_inner.words)
        m_inner.add(name, length);
    if (m_item_set)
        add_name(m_item_set, name_hash(name, length, m_seed));
}

// note_name() of an identifier token.
void Parser::note_name(const Token& t, bool in_declaration)
{
    note_name(m_tokens->start(t), t.aux, in_declaration);
}

// Lexer::skip_plain()'s callback for the identifiers of a skipped body.
void Parser::note_skipped_name(void* parser, const char* name, u32 length)
{
    static_cast<Parser*>(parser)->note_name(name, length, true);
}

bool Parser::NameFilter::may_contain(const char* name, u32 length) const
{
    u64 h = filter_hash(name, length);
    u32 i = (u32)h & (bits - 1), j = (u32)(h >> 40) & (bits - 1);
    return (words[i / 64] >> (i % 64) & 1) && (words[j / 64] >> (j % 64) & 1);
}

// Adds [hash] to [set] unless it is there, doubling the table (in the arena;
// the old one is left there, less than the final one in all) when it would
// be more than half full. Sized by the distinct names, not their uses: the
// same few hundred names recur through a program.
void Parser::add_name(NameSet* set, u32 hash)
{
    if (m_abort)
        return;
    if ((set->count + 1) * 2 > set->size) {
        u32 size = set->size ? set->size * 2 : 64;
        u32* slots = static_cast<u32*>(m_arena->alloc(sizeof(u32) * size));
        if (!slots) {
            oom();
            return;
        }
        mem_set(slots, 0, sizeof(u32) * size);
        for (u32 i = 0; i < set->size; i++) {
            u32 h = set->slots[i];
            if (!h)
                continue;
            u32 j = h & (size - 1);
            while (slots[j])
                j = (j + 1) & (size - 1);
            slots[j] = h;
        }
        set->slots = slots;
        set->size = size;
    }
    u32 i = hash & (set->size - 1);
    while (set->slots[i] && set->slots[i] != hash)
        i = (i + 1) & (set->size - 1);
    if (!set->slots[i]) {
        set->slots[i] = hash;
        set->count++;
    }
}

// One top-level item: an import line (ignored), a class, a function (a
// type, a name and '('), or a statement.
Item Parser::parse_item()
{
    Item item {};
    item.kind = ItemKind::Stmt;
    // import("...") lines are accepted and ignored.
    if (check(Tok::KwImport)) {
        m_pos++;
        if (expect(Tok::LParen, "'('")) {
            expect(Tok::String, "a string");
            expect(Tok::RParen, "')'");
        }
        expect_terminator();
        return item;
    }
    if (java_type_declaration())
        return item;
    u8 annotations = parse_annotations();
    u32 modifiers = skip_java_modifiers();
    if (check(Tok::KwStatic)) {
        if (!modifiers)
            error_here("'static' is for methods and constants inside a class; a top-level function or "
                       "variable needs nothing");
        m_pos++;
        modifiers |= 4;
    }
    if (check(Tok::KwClass)) {
        item.kind = ItemKind::Class;
        item.klass = parse_class((modifiers & 2) != 0);
        return item;
    }
    // Function: type name '(' or type Class '.' name '('.
    u32 after_annotations = m_pos;
    u32 generic_end = 0;
    bool java_generic = check(Tok::Ident) && java_generic_at(1, &generic_end) && peek(generic_end).kind == Tok::Ident
        && peek(generic_end + 1).kind == Tok::LParen;
    TypeRef* type = java_generic ? java_generic_type() : try_parse_type();
    if (type && check(Tok::Ident) && !current().newline_before
        && (peek(1).kind == Tok::LParen || (peek(1).kind == Tok::Dot && peek(2).kind == Tok::Ident
                                               && peek(3).kind == Tok::LParen))) {
        item.kind = ItemKind::Func;
        item.func = parse_function(type, annotations, nullptr);
        return item;
    }
    m_pos = after_annotations;
    if (annotations)
        error_here("annotations apply only to classes, functions and methods");
    // A top-level statement's nodes go to the statement arena, if any.
    Arena* saved = m_arena;
    if (m_statement_arena)
        m_arena = m_statement_arena;
    if ((modifiers & 1) && looks_like_declaration())
        item.stmt = parse_var_decl(parse_type(), true);   // `final int x = 1`: made const, as advised.
    else
        item.stmt = parse_statement();
    m_arena = saved;
    return item;
}

// `(T a, U b)`: the parameters of [func]; false (reported) when malformed.
bool Parser::parse_params(FuncDecl* func)
{
    if (!expect(Tok::LParen, "'('"))
        return false;
    Vector<Param> params(m_memory);
    if (!check(Tok::RParen)) {
        for (;;) {
            Param p {};
            p.line = current().line;
            p.column = current().column;
            p.type = parse_type();
            if (!p.type)
                return false;
            if (!check(Tok::Ident)) {
                error_here("expected a parameter name");
                return false;
            }
            p.name = copy_name(current());
            m_pos++;
            if (!params.try_append(p))
                oom();
            if (!match(Tok::Comma))
                break;
        }
    }
    if (!expect(Tok::RParen, "')'"))
        return false;
    func->params = to_array(params, &func->param_count);
    return true;
}

// A function or method from its name on ([return_type] null for a
// constructor): parameters, then a body (skipped when lazy) or `;` for a
// prototype.
FuncDecl* Parser::parse_function(TypeRef* return_type, u8 annotations, const char* class_name)
{
    FuncDecl* f = m_arena->make<FuncDecl>();
    if (!f) {
        oom();
        return nullptr;
    }
    mem_set(f, 0, sizeof(*f));
    f->return_type = return_type;
    f->annotations = annotations;
    f->owner = class_name;
    const Token& name = current();
    f->line = name.line;
    f->column = name.column;
    if (return_type) {
        f->name = copy_name(name);
        m_pos++;
        if (!class_name && match(Tok::Dot)) {
            f->owner = f->name;
            f->name = copy_name(current());
            m_pos++;
        }
    } else {
        f->is_constructor = true;
        f->name = copy_name(name);
        m_pos++;
    }
    if (!parse_params(f)) {
        synchronize();
        return f;
    }
    skip_throws();
    if (check(Tok::LBrace)) {
        if (!m_lazy_bodies || !skip_body(f))
            f->body = parse_block();
    } else
        expect_terminator();   // A prototype.
    return f;
}

// Lazy parsing: leaves [func] a placeholder body for the '{' here (no
// statements, the lines of its braces, as the declarations need) and moves
// past its matching '}', keeping none of the tokens between. False, having
// moved nowhere, when the file ends before that '}' (or the body is inside
// a `${`, see below): the body is then
// parsed at once, for the error to be the same as without laziness, and
// so are all bodies after it (for each to look for its '}' to the end of
// the file again would be quadratic).
bool Parser::skip_body(FuncDecl* func)
{
    // A body lexed inside a `${` (an unterminated one before it, already
    // reported) is parsed at once: lexed again from outside any, its tokens
    // would differ from those whose errors were reported.
    if (!m_lexer || m_lexer->interpolation_depth())
        return false;
    u32 open = m_pos;
    // Tokens lexed already (peeked at) count first.
    u32 depth = 0;
    u32 close = open;
    for (; close < m_count; close++) {
        Tok k = (*m_tokens)[close].kind;
        if (k == Tok::LBrace)
            depth++;
        else if (k == Tok::RBrace && --depth == 0)
            break;
    }
    if (close == m_count) {
        if (!skip_lexing(depth)) {
            m_lazy_bodies = false;
            return false;
        }
        close = m_count - 1;
    }
    Block* block = make_block((*m_tokens)[open]);
    if (!block)
        return false;
    block->end_line = (*m_tokens)[close].line;
    func->body = block;
    func->body_parser = this;
    func->body_open = (*m_tokens)[open];
    func->body_close = (*m_tokens)[close];
    m_pos = close + 1;
    return true;
}

// skip_body() past the tokens lexed so far, [depth] braces open: lexes on
// to the '}' that closes them and keeps that token only (the others are
// dropped as it goes). Each identifier is noted first (note_name()). False,
// with the lexer, tokens and diagnostics as they were, when the file ends
// first.
bool Parser::skip_lexing(u32 depth)
{
    Lexer saved = *m_lexer;
    u32 size = m_tokens->size(), values = m_tokens->value_count();
    u32 diagnostics = m_diagnostics->size(), errors = m_diagnostics->error_count();
    m_lexer->set_skipping(true);
    bool found = false;
    while (!found && !m_lexer->done()) {
        u32 from = m_tokens->size();
        // Most of a body is plain text (Lexer::skip_plain()), stepped over
        // without making tokens; lex() takes the rest, braces among it.
        if (!m_lexer->skip_plain(note_skipped_name, this) || !m_lexer->lex()) {
            lexing_failed();
            break;
        }
        for (u32 i = from; i < m_tokens->size(); i++) {
            const Token& t = (*m_tokens)[i];
            if (t.kind == Tok::Ident) {
                note_name(t, true);
            } else if (t.kind == Tok::LBrace) {
                depth++;
            } else if (t.kind == Tok::RBrace && --depth == 0) {
                // A '}' that closes no `${` is a token of its own: it
                // takes the place of the tokens skipped.
                Token close = t;
                m_tokens->truncate(size, values);
                if (!m_tokens->try_append(close))
                    oom();
                found = true;
                break;
            }
        }
        // The skipped tokens are dropped now and then, not one by one.
        if (!found && m_tokens->size() - size >= 256)
            m_tokens->truncate(size, values);
    }
    if (!found)
        m_tokens->truncate(size, values);
    m_lexer->set_skipping(false);
    if (found || m_abort) {
        m_count = m_tokens->size();
        return found && !m_abort;
    }
    *m_lexer = saved;
    m_diagnostics->restore(diagnostics, errors);
    return false;
}

// See Parser.h.
Block* Parser::parse_body(const FuncDecl* func, Arena* arena)
{
    // A list and a lexer of the body's own, the lexer's text ending at the
    // '}': past it the parser sees the end, as if the file ended there, so
    // that a body whose syntax errors made the parser step over a '}' never
    // runs on into the rest of the file (parsed once more for every such
    // body, that was quadratic).
    // One list serves every body: emptied, it keeps its chunk and the room
    // for values, so a body costs no allocation for its tokens.
    TokenList& tokens = m_body_tokens;
    tokens.truncate(0, 0);
    Lexer lexer(m_text, func->body_close.offset + 1, arena, m_diagnostics, m_meter);
    lexer.restart_at(func->body_open.offset, func->body_open.line, func->body_open.column);
    lexer.start(&tokens);
    Arena* saved_arena = m_arena;
    TokenList* saved_tokens = m_tokens;
    Lexer* saved_lexer = m_lexer;
    u32 saved_pos = m_pos, saved_count = m_count;
    Token saved_eof = m_eof;
    m_arena = arena;
    m_tokens = &tokens;
    m_lexer = &lexer;
    m_pos = 0;
    m_count = 0;
    m_eof = func->body_close;
    m_eof.kind = Tok::Eof;
    m_in_body = true;
    bool saved_failed = m_lex_failed;
    m_lex_failed = false;
    Block* block = parse_block();
    m_in_body = false;
    m_lex_failed = saved_failed;
    m_arena = saved_arena;
    m_tokens = saved_tokens;
    m_lexer = saved_lexer;
    m_pos = saved_pos;
    m_count = saved_count;
    m_eof = saved_eof;
    return block;
}

// [abstract_class]: the class was declared `abstract`, already reported;
// its abstract methods are then dropped without a word more.
ClassDecl* Parser::parse_class(bool abstract_class)
{
    m_pos++;   // 'class'
    ClassDecl* c = m_arena->make<ClassDecl>();
    if (!c) {
        oom();
        return nullptr;
    }
    mem_set(c, 0, sizeof(*c));
    if (!check(Tok::Ident)) {
        error_here("expected a class name");
        synchronize();
        return nullptr;
    }
    c->line = current().line;
    c->column = current().column;
    c->name = copy_name(current());
    m_pos++;
    if (match(Tok::KwExtends)) {
        if (!check(Tok::Ident)) {
            error_here("expected a superclass name");
        } else {
            c->super_name = copy_name(current());
            m_pos++;
        }
    }
    if (ident_is(current(), "implements")) {
        error_here("'implements' is not supported: a class extends one base class, whose methods it overrides");
        m_pos++;
        while (check(Tok::Ident) || check(Tok::Comma) || check(Tok::Dot))
            m_pos++;
    }
    // A forward declaration (Konoha): `class C;`.
    if (check(Tok::Semicolon) || (!check(Tok::LBrace) && (check(Tok::Eof) || current().newline_before))) {
        match(Tok::Semicolon);
        c->forward = true;
        return c;
    }
    const Token& open = current();
    if (!expect(Tok::LBrace, "'{'")) {
        synchronize();
        return c;
    }
    Vector<FieldDecl> fields(m_memory);
    Vector<FieldDecl> constants(m_memory);
    Vector<FuncDecl*> methods(m_memory);
    while (!check(Tok::RBrace) && !check(Tok::Eof) && !m_abort) {
        u32 before = m_pos;
        if (java_type_declaration())
            continue;
        u8 annotations = parse_annotations();
        bool quiet_abstract = abstract_class && ident_is(current(), "abstract");
        if (quiet_abstract)
            m_pos++;
        u32 modifiers = skip_java_modifiers() | (quiet_abstract ? 2 : 0);
        // `static` (Konoha: @Static) makes a method a class function and
        // `static const` a class constant; `const` alone a constant too.
        bool is_static = (annotations & AnnotationStatic) != 0;
        const Token& static_at = current();
        if (match(Tok::KwStatic))
            is_static = true;
        annotations |= parse_annotations();
        modifiers |= skip_java_modifiers();
        bool is_const = match(Tok::KwConst) || (modifiers & 1);
        if (check(Tok::Ident) && str_equal(copy_name(current()), c->name) && peek(1).kind == Tok::LParen) {
            if (is_static || is_const)
                error_at(static_at, "a constructor cannot be static or const");
            FuncDecl* ctor = parse_function(nullptr, annotations, c->name);
            if (ctor && !methods.try_append(ctor))
                oom();
        } else {
            TypeRef* type = parse_type();
            if (!type) {
                synchronize();
            } else if (!check(Tok::Ident)) {
                error_here("expected a field or method name");
                synchronize();
            } else if (peek(1).kind == Tok::LParen) {
                if (is_const && !(modifiers & 1))
                    error_at(static_at, "a method cannot be const (did you mean 'static'?)");
                FuncDecl* method = parse_function(type, annotations, c->name);
                if (method)
                    method->is_static = is_static;
                // An abstract method (already reported) is dropped: its
                // missing body would be one more error.
                if (method && !((modifiers & 2) && !method->body) && !methods.try_append(method))
                    oom();
            } else {
                for (;;) {
                    FieldDecl field {};
                    field.type = type;
                    field.line = current().line;
                    field.column = current().column;
                    field.is_static = is_static;
                    field.is_const = is_const;
                    if (!check(Tok::Ident)) {
                        error_here("expected a field name");
                        break;
                    }
                    field.name = copy_name(current());
                    m_pos++;
                    if (match(Tok::Assign))
                        field.init = parse_expression();
                    else if (is_const || is_static)
                        error_at(previous(), "'%s' needs an initial value", field.name);
                    if (!(field.is_static || field.is_const ? constants : fields).try_append(field))
                        oom();
                    if (!match(Tok::Comma))
                        break;
                }
                expect_terminator();
            }
        }
        if (m_pos == before)
            m_pos++;
    }
    expect_close(open);
    c->fields = to_array(fields, &c->field_count);
    c->constants = to_array(constants, &c->constant_count);
    c->methods = to_array(methods, &c->method_count);
    return c;
}

// ---------------------------------------------------------------------------
// Statements

Block* Parser::parse_block()
{
    const Token& open = current();
    Block* block = make_block(open);
    if (!block)
        return nullptr;
    if (!expect(Tok::LBrace, "'{'"))
        return block;
    if (!enter())
        return block;
    Vector<Stmt*> stmts(m_memory);
    while (!check(Tok::RBrace) && !check(Tok::Eof) && !m_abort) {
        u32 before = m_pos;
        Stmt* s = parse_statement();
        if (s && !stmts.try_append(s))
            oom();
        if (m_pos == before)
            m_pos++;
    }
    leave();
    block->end_line = current().line;
    expect_close(open);
    block->stmts = to_array(stmts, &block->count);
    return block;
}

// `T a = 1, b` after its type ([type] null for `var`): one Var statement,
// or an unscoped Block of them for several names.
Stmt* Parser::parse_var_decl(TypeRef* type, bool is_const)
{
    // type name (= expr)? (, name (= expr)?)* ; several names give an unscoped block.
    const Token& at = current();
    Vector<Stmt*> decls(m_memory);
    for (;;) {
        if (!check(Tok::Ident)) {
            error_here("expected a variable name");
            synchronize();
            break;
        }
        Stmt* s = make_stmt(StmtKind::Var, current());
        s->type = type;
        s->is_const = is_const;
        s->name = copy_name(current());
        m_pos++;
        if (match(Tok::Assign))
            s->expr = parse_expression();
        else if (!type || is_const)
            error_here("'%s' needs an initial value", s->name);
        if (!decls.try_append(s))
            oom();
        if (!match(Tok::Comma)) {
            expect_terminator();
            break;
        }
    }
    if (decls.size() == 1)
        return decls[0];
    Stmt* group = make_stmt(StmtKind::Block, at);
    group->block = m_arena->make<Block>();
    if (!group->block) {
        oom();
        return group;
    }
    mem_set(group->block, 0, sizeof(Block));
    group->block->scoped = false;
    group->block->stmts = to_array(decls, &group->block->count);
    return group;
}

// One statement, by its first token; a Java or C form kscript does not
// have gets one error saying what to write, and is parsed as the nearest
// kscript form.
Stmt* Parser::parse_statement()
{
    const Token& at = current();
    if (!enter())
        return make_stmt(StmtKind::Error, at);
    Stmt* s = nullptr;
    switch (at.kind) {
    case Tok::LBrace:
        s = make_stmt(StmtKind::Block, at);
        s->block = parse_block();
        break;
    case Tok::Semicolon:
        m_pos++;
        s = make_stmt(StmtKind::Empty, at);
        break;
    case Tok::KwIf:
        s = parse_if();
        break;
    case Tok::KwWhile:
        s = parse_while();
        break;
    case Tok::KwDo:
        s = parse_do();
        break;
    case Tok::KwFor:
        s = parse_for();
        break;
    case Tok::KwTry:
        s = parse_try();
        break;
    case Tok::KwSwitch:
        s = parse_switch();
        break;
    case Tok::KwCase:
    case Tok::KwDefault:
        error_here("'%s' belongs inside a switch", at.kind == Tok::KwCase ? "case" : "default");
        synchronize();
        s = make_stmt(StmtKind::Error, at);
        break;
    case Tok::KwStatic:
        error_here("'static' is for methods and constants inside a class; a local variable needs nothing");
        m_pos++;
        s = parse_statement();
        break;
    case Tok::KwBreak:
    case Tok::KwContinue:
        m_pos++;
        s = make_stmt(at.kind == Tok::KwBreak ? StmtKind::Break : StmtKind::Continue, at);
        // Java's `break LABEL`: said once, with the label itself.
        if (check(Tok::Ident) && !current().newline_before) {
            if (!m_label_reported)
                error_here("'%s LABEL' is not supported: it leaves the innermost loop; use a flag, or move the "
                           "loops into a function and 'return'", at.kind == Tok::KwBreak ? "break" : "continue");
            m_label_reported = true;
            m_pos++;
        }
        expect_terminator();
        break;
    case Tok::KwReturn:
        m_pos++;
        s = make_stmt(StmtKind::Return, at);
        if (!check(Tok::Semicolon) && !check(Tok::RBrace) && !check(Tok::Eof) && !current().newline_before)
            s->expr = parse_expression();
        expect_terminator();
        break;
    case Tok::KwThrow:
        m_pos++;
        s = make_stmt(StmtKind::Throw, at);
        s->expr = parse_expression();
        expect_terminator();
        break;
    case Tok::KwVar:
        m_pos++;
        s = parse_var_decl(nullptr, false);
        break;
    case Tok::KwConst:
        m_pos++;
        if (looks_like_declaration())
            s = parse_var_decl(parse_type(), true);
        else
            s = parse_var_decl(nullptr, true);
        break;
    case Tok::KwClass:
        error_here("classes may be declared only at the top level");
        skip_declaration();
        s = make_stmt(StmtKind::Error, at);
        break;
    default:
        if (java_type_declaration()) {
            s = make_stmt(StmtKind::Error, at);
            break;
        }
        if (at.kind == Tok::Ident && peek(1).kind == Tok::Colon) {
            // A Java label, `outer: for (...)`: said once; the statement
            // after it is parsed as if it had none.
            if (!m_label_reported)
                error_here("labels are not supported: 'break' and 'continue' leave the innermost loop; use a flag, "
                           "or move the loops into a function and 'return'");
            m_label_reported = true;
            m_pos += 2;
            s = parse_statement();
            break;
        }
        if (u32 modifiers = skip_java_modifiers()) {
            if (looks_like_declaration()) {
                s = parse_var_decl(parse_type(), (modifiers & 1) != 0);
                break;
            }
        }
        u32 after = 0;
        if (at.kind == Tok::Ident && java_generic_at(1, &after) && peek(after).kind == Tok::Ident
            && !peek(after).newline_before) {
            // `List<String> names = ...`: Java's type arguments.
            TypeRef* type = java_generic_type();
            s = type ? parse_var_decl(type, false) : make_stmt(StmtKind::Error, at);
            break;
        }
        if (looks_like_declaration()) {
            TypeRef* type = parse_type();
            if (check(Tok::Ident) && peek(1).kind == Tok::LParen) {
                error_here("functions may be declared only at the top level");
                skip_declaration();
                s = make_stmt(StmtKind::Error, at);
            } else {
                s = parse_var_decl(type, false);
            }
        } else {
            s = make_stmt(StmtKind::Expr, at);
            s->expr = parse_expression();
            expect_terminator();
        }
        break;
    }
    leave();
    return s;
}

// `if (cond) stmt [else stmt]`.
Stmt* Parser::parse_if()
{
    Stmt* s = make_stmt(StmtKind::If, current());
    m_pos++;
    expect(Tok::LParen, "'('");
    s->expr = parse_expression();
    expect(Tok::RParen, "')'");
    s->body = parse_statement();
    if (match(Tok::KwElse))
        s->else_body = parse_statement();
    return s;
}

// `while (cond) stmt`.
Stmt* Parser::parse_while()
{
    Stmt* s = make_stmt(StmtKind::While, current());
    m_pos++;
    expect(Tok::LParen, "'('");
    s->expr = parse_expression();
    expect(Tok::RParen, "')'");
    s->body = parse_statement();
    return s;
}

// `do stmt while (cond)`.
Stmt* Parser::parse_do()
{
    Stmt* s = make_stmt(StmtKind::DoWhile, current());
    m_pos++;
    s->body = parse_statement();
    expect(Tok::KwWhile, "'while'");
    expect(Tok::LParen, "'('");
    s->expr = parse_expression();
    expect(Tok::RParen, "')'");
    expect_terminator();
    return s;
}

// `for (init; cond; step) stmt`, or `for (T x : e) stmt` (ForEach).
Stmt* Parser::parse_for()
{
    const Token& at = current();
    m_pos++;
    expect(Tok::LParen, "'('");
    // for (T x : expr) body
    {
        u32 start = m_pos;
        TypeRef* type = nullptr;
        bool is_var = match(Tok::KwVar);
        if (!is_var)
            type = try_parse_type();
        if ((type || is_var) && check(Tok::Ident) && peek(1).kind == Tok::Colon) {
            Stmt* s = make_stmt(StmtKind::ForEach, at);
            s->type = type;
            s->name = copy_name(current());
            m_pos += 2;
            s->expr = parse_expression();
            expect(Tok::RParen, "')'");
            s->body = parse_statement();
            return s;
        }
        m_pos = start;
    }
    Stmt* s = make_stmt(StmtKind::For, at);
    if (!match(Tok::Semicolon)) {
        if (match(Tok::KwVar)) {
            s->init = parse_var_decl(nullptr, false);
        } else if (looks_like_declaration()) {
            TypeRef* type = parse_type();
            s->init = parse_var_decl(type, false);
        } else {
            s->init = make_stmt(StmtKind::Expr, current());
            s->init->expr = parse_expression();
            expect(Tok::Semicolon, "';'");
        }
    }
    if (!check(Tok::Semicolon))
        s->expr = parse_expression();
    expect(Tok::Semicolon, "';'");
    if (!check(Tok::RParen))
        s->step = parse_expression();
    expect(Tok::RParen, "')'");
    s->body = parse_statement();
    return s;
}

// `try { } catch (E e) { } ... finally { }`: at least one catch or a finally.
Stmt* Parser::parse_try()
{
    Stmt* s = make_stmt(StmtKind::Try, current());
    m_pos++;
    s->block = parse_block();
    Vector<Catch> catches(m_memory);
    while (check(Tok::KwCatch)) {
        Catch c {};
        c.line = current().line;
        c.column = current().column;
        m_pos++;
        expect(Tok::LParen, "'('");
        c.type = parse_type();
        if (check(Tok::Ident)) {
            c.name = copy_name(current());
            m_pos++;
        } else {
            error_here("expected a name for the caught exception");
        }
        expect(Tok::RParen, "')'");
        c.body = parse_block();
        if (!catches.try_append(c))
            oom();
    }
    if (match(Tok::KwFinally))
        s->finally_block = parse_block();
    if (catches.size() == 0 && !s->finally_block)
        error_at(previous(), "'try' needs a 'catch' or a 'finally'");
    s->catches = to_array(catches, &s->catch_count);
    return s;
}

// switch (expr) { case VALUE: statements... default: statements... }
// C-style: control enters at the matching label and runs on through the
// labels after it until a `break` (or the end of the switch).
Stmt* Parser::parse_switch()
{
    Stmt* s = make_stmt(StmtKind::Switch, current());
    m_pos++;
    expect(Tok::LParen, "'('");
    s->expr = parse_expression();
    expect(Tok::RParen, "')'");
    const Token& open = current();
    if (!expect(Tok::LBrace, "'{'")) {
        synchronize();
        return s;
    }
    Vector<SwitchCase> cases(m_memory);
    bool has_default = false;
    while (!check(Tok::RBrace) && !check(Tok::Eof) && !m_abort) {
        const Token& label = current();
        if (!check(Tok::KwCase) && !check(Tok::KwDefault)) {
            error_here("expected 'case' or 'default' in a switch");
            u32 before = m_pos;
            synchronize();
            if (m_pos == before)
                m_pos++;
            continue;
        }
        m_pos++;
        SwitchCase c {};
        c.line = label.line;
        c.column = label.column;
        if (label.kind == Tok::KwCase) {
            c.value = parse_expression();
        } else {
            if (has_default)
                error_at(label, "a switch has at most one 'default'");
            has_default = true;
        }
        expect(Tok::Colon, "':'");
        Vector<Stmt*> stmts(m_memory);
        while (!check(Tok::KwCase) && !check(Tok::KwDefault) && !check(Tok::RBrace) && !check(Tok::Eof) && !m_abort) {
            u32 before = m_pos;
            Stmt* st = parse_statement();
            if (st && !stmts.try_append(st))
                oom();
            if (m_pos == before)
                m_pos++;
        }
        c.stmts = to_array(stmts, &c.count);
        if (!cases.try_append(c))
            oom();
    }
    expect_close(open);
    s->cases = to_array(cases, &s->case_count);
    return s;
}

// ---------------------------------------------------------------------------
// Expressions

Expr* Parser::parse_expression()
{
    if (!enter())
        return error_expr(current());
    Expr* e = parse_assignment();
    leave();
    return e;
}

// `=` and the compound assignments.
static bool is_assignment(Tok t)
{
    switch (t) {
    case Tok::Assign: case Tok::PlusAssign: case Tok::MinusAssign: case Tok::StarAssign:
    case Tok::SlashAssign: case Tok::PercentAssign: case Tok::AmpAssign: case Tok::PipeAssign:
    case Tok::CaretAssign: case Tok::ShlAssign: case Tok::ShrAssign:
        return true;
    default:
        return false;
    }
}

// assignment := conditional (assign-op assignment)?
Expr* Parser::parse_assignment()
{
    Expr* target = parse_conditional();
    if (is_assignment(current().kind)) {
        const Token& op = current();
        m_pos++;
        Expr* e = make_expr(ExprKind::Assign, op);
        if (!e)
            return error_expr(op);
        e->op = op.kind;
        e->a = target;
        e->b = parse_expression();
        return finish(e);
    }
    return target;
}

// conditional := binary ('?' expression ':' conditional)?
Expr* Parser::parse_conditional()
{
    Expr* cond = parse_binary(0);
    if (check(Tok::Question)) {
        const Token& q = current();
        m_pos++;
        Expr* e = make_expr(ExprKind::Conditional, q);
        if (!e)
            return error_expr(q);
        e->a = cond;
        e->b = parse_expression();
        expect(Tok::Colon, "':'");
        if (!enter())
            return error_expr(q);
        e->c = parse_conditional();
        leave();
        return finish(e);
    }
    return cond;
}

// Binary operator precedence, C's order (higher binds tighter).
static int precedence(Tok t)
{
    switch (t) {
    case Tok::OrOr: return 1;
    case Tok::AndAnd: return 2;
    case Tok::Pipe: return 3;
    case Tok::Caret: return 4;
    case Tok::Amp: return 5;
    case Tok::Eq: case Tok::Ne: return 6;
    case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge: case Tok::KwInstanceof: return 7;
    case Tok::Shl: case Tok::Shr: return 8;
    case Tok::Plus: case Tok::Minus: return 9;
    case Tok::Star: case Tok::Slash: case Tok::Percent: return 10;
    default: return -1;
    }
}

// binary := unary (op unary)*, by precedence climbing; left-associative.
Expr* Parser::parse_binary(int min_precedence)
{
    Expr* left = parse_unary();
    for (;;) {
        const Token& op = current();
        int p = precedence(op.kind);
        if (p < 0 || p < min_precedence)
            return left;
        m_pos++;
        if (op.kind == Tok::KwInstanceof) {
            Expr* e = make_expr(ExprKind::InstanceOf, op);
            if (!e)
                return error_expr(op);
            e->a = left;
            e->type = parse_type();
            left = finish(e);
            continue;
        }
        if (!enter())
            return error_expr(op);
        Expr* right = parse_binary(p + 1);
        leave();
        Expr* e = make_expr(ExprKind::Binary, op);
        if (!e)
            return error_expr(op);
        e->op = op.kind;
        e->a = left;
        e->b = right;
        left = finish(e);
        if (m_abort)
            return left;
    }
}

// unary := ('-' | '!' | '~' | '+' | '++' | '--') unary | postfix
Expr* Parser::parse_unary()
{
    const Token& op = current();
    if (op.kind == Tok::Minus || op.kind == Tok::Bang || op.kind == Tok::Tilde || op.kind == Tok::Plus
        || op.kind == Tok::PlusPlus || op.kind == Tok::MinusMinus) {
        m_pos++;
        if (!enter())
            return error_expr(op);
        // -9223372036854775808 is the one literal that needs its minus.
        if (op.kind == Tok::Minus && check(Tok::Int) && m_tokens->int_value(current()) == KS_INT_MIN) {
            const Token& lit = current();
            m_pos++;
            leave();
            Expr* e = make_expr(ExprKind::Int, lit);
            if (!e)
                return error_expr(lit);
            e->int_value = KS_INT_MIN;
            return e;
        }
        Expr* operand = parse_unary();
        leave();
        if (op.kind == Tok::Plus)
            return operand;
        Expr* e = make_expr(op.kind == Tok::PlusPlus || op.kind == Tok::MinusMinus ? ExprKind::IncDec : ExprKind::Unary, op);
        if (!e)
            return error_expr(op);
        e->op = op.kind;
        e->a = operand;
        return finish(e);
    }
    return parse_postfix();
}

// Comma-separated expressions up to [closing] (`)` for calls, `]` for
// array literals, which may end with a comma) as [call]'s arguments.
bool Parser::parse_arguments(Expr* call, Tok closing)
{
    Vector<Expr*> args(m_memory);
    if (!check(closing)) {
        for (;;) {
            Expr* arg = parse_expression();
            if (!args.try_append(arg))
                oom();
            if (!match(Tok::Comma))
                break;
            if (closing == Tok::RBracket && check(Tok::RBracket))
                break;   // Trailing comma in an array literal.
        }
    }
    bool ok = expect(closing, closing == Tok::RParen ? "')'" : "']'");
    call->args = to_array(args, &call->arg_count);
    return ok;
}

// postfix := primary ('.' name | '[' expression ']' | '(' args ')' | 'as' type | 'to' type | '++' | '--')*
Expr* Parser::parse_postfix()
{
    Expr* e = parse_primary();
    for (;;) {
        const Token& at = current();
        if (m_abort)
            return e;
        if (at.kind == Tok::Dot) {
            m_pos++;
            if (!check(Tok::Ident)) {
                error_here("expected a member name after '.'");
                return error_expr(at);
            }
            // Java's System.out.println(x): said once, then read as
            // System.p(x), so that the arguments are still checked.
            bool java_print = e->kind == ExprKind::Name && str_equal(e->name, "System") && ident_is(current(), "out")
                && peek(1).kind == Tok::Dot && peek(2).kind == Tok::Ident;
            if (java_print) {
                m_pos += 2;
                error_at(at, "'System.out.%s' is not kscript: use System.p(x), which prints x on a line",
                    copy_name(current()));
            }
            Expr* m = make_expr(ExprKind::Member, current());
            if (!m)
                return error_expr(at);
            m->a = e;
            m->name = java_print ? "p" : copy_name(current());
            m_pos++;
            e = finish(m);
        } else if (at.kind == Tok::LBracket) {
            m_pos++;
            Expr* ix = make_expr(ExprKind::Index, at);
            if (!ix)
                return error_expr(at);
            ix->a = e;
            ix->b = parse_expression();
            expect(Tok::RBracket, "']'");
            e = finish(ix);
        } else if (at.kind == Tok::LParen && !at.newline_before) {
            m_pos++;
            Expr* call = make_expr(ExprKind::Call, at);
            if (!call)
                return error_expr(at);
            call->a = e;
            call->line = e->line;
            call->column = e->column;
            parse_arguments(call, Tok::RParen);
            e = finish(call);
        } else if (at.kind == Tok::KwAs || at.kind == Tok::KwTo) {
            m_pos++;
            Expr* c = make_expr(at.kind == Tok::KwAs ? ExprKind::As : ExprKind::To, at);
            if (!c)
                return error_expr(at);
            c->a = e;
            c->type = parse_type();
            e = finish(c);
        } else if ((at.kind == Tok::PlusPlus || at.kind == Tok::MinusMinus) && !at.newline_before) {
            m_pos++;
            Expr* inc = make_expr(ExprKind::IncDec, at);
            if (!inc)
                return error_expr(at);
            inc->op = at.kind;
            inc->a = e;
            e = finish(inc);
        } else {
            return e;
        }
    }
}

// After `new`: `T(args)`, `T[n]`, `T[](capacity)`, `Map[K, V]()`.
Expr* Parser::parse_new(const Token& at)
{
    // new Type(args) | new Type[size]([])* | new Map[K, V]()
    const Token& name = current();
    if (name.kind != Tok::Ident && name.kind != Tok::KwInt && name.kind != Tok::KwBoolean) {
        error_here("expected a type after 'new'");
        return error_expr(at);
    }
    u32 after = 0;
    if (name.kind == Tok::Ident && java_generic_at(1, &after)) {
        // `new ArrayList<>()`, `new HashMap<String, Integer>()`: Java's.
        report_java_generic(name);
        m_pos += after;
        if (match(Tok::LParen)) {
            Expr skipped {};
            parse_arguments(&skipped, Tok::RParen);
        }
        return error_expr(at);
    }
    u32 start = m_pos;
    // Generic form first: new Map[String, int]() or new Array[int](...)
    TypeRef* generic = try_parse_type();
    if (generic && generic->arg_count > 0 && check(Tok::LParen)) {
        Expr* e = make_expr(ExprKind::New, at);
        if (!e)
            return error_expr(at);
        e->type = generic;
        m_pos++;
        parse_arguments(e, Tok::RParen);
        return finish(e);
    }
    m_pos = start;
    TypeRef* base = m_arena->make<TypeRef>();
    if (!base) {
        oom();
        return error_expr(at);
    }
    mem_set(base, 0, sizeof(*base));
    base->name = copy_name(name);
    base->line = name.line;
    base->column = name.column;
    m_pos++;
    if (check(Tok::LBracket) && peek(1).kind == Tok::RBracket) {
        // Konoha's `new T[](capacity)`: an empty array of T, room for
        // [capacity] elements (a hint: arrays grow as needed).
        u32 back = m_pos;
        base->dims = 1;
        m_pos += 2;
        while (check(Tok::LBracket) && peek(1).kind == Tok::RBracket) {
            m_pos += 2;
            base->dims++;
        }
        if (check(Tok::LParen)) {
            Expr* e = make_expr(ExprKind::New, at);
            if (!e)
                return error_expr(at);
            e->type = base;
            m_pos++;
            parse_arguments(e, Tok::RParen);
            return finish(e);
        }
        base->dims = 0;
        m_pos = back;
    }
    if (match(Tok::LBracket)) {
        Expr* e = make_expr(ExprKind::NewArray, at);
        if (!e)
            return error_expr(at);
        e->a = parse_expression();
        expect(Tok::RBracket, "']'");
        // Java's new int[2][3]: said once, then read as new int[2][].
        bool reported = false;
        while (check(Tok::LBracket) && peek(1).kind != Tok::RBracket && !m_abort) {
            if (!reported)
                error_here("'new T[a][b]' is not supported: make the outer array, then each row in a loop "
                           "(int[][] g = new int[a][] and g[i] = new int[b])");
            reported = true;
            m_pos++;
            parse_expression();
            expect(Tok::RBracket, "']'");
            base->dims++;
        }
        while (check(Tok::LBracket) && peek(1).kind == Tok::RBracket) {
            m_pos += 2;
            base->dims++;
        }
        e->type = base;
        return finish(e);
    }
    Expr* e = make_expr(ExprKind::New, at);
    if (!e)
        return error_expr(at);
    e->type = base;
    if (expect(Tok::LParen, "'(' or '['"))
        parse_arguments(e, Tok::RParen);
    return finish(e);
}

// defined '(' name '(' type (',' type)* ')' ')'   -- a function signature
// defined '(' expression ')'                       -- the expression compiles
// When the argument reads as a signature, args hold its types (int_value
// 1); when it parses as an expression, [a] holds it. Both may hold: the
// checker tries the signature, then the expression (`f(x)`: x a variable).
Expr* Parser::parse_defined()
{
    const Token& at = current();
    m_pos += 2;   // 'defined' '('
    Expr* e = make_expr(ExprKind::Defined, at);
    if (!e)
        return error_expr(at);
    u32 start = m_pos;
    if (check(Tok::Ident) && peek(1).kind == Tok::LParen) {
        const char* name = copy_name(current());
        m_pos += 2;
        Vector<Expr*> types(m_memory);
        bool signature = true;
        while (signature && !check(Tok::RParen)) {
            TypeRef* t = try_parse_type();
            // An inert node (kind Error) that carries the type.
            Expr* arg = t ? make_expr(ExprKind::Error, at) : nullptr;
            if (!arg || !types.try_append(arg)) {
                signature = false;
                break;
            }
            arg->type = t;
            if (!match(Tok::Comma) && !check(Tok::RParen))
                signature = false;
        }
        if (signature && match(Tok::RParen) && check(Tok::RParen)) {
            e->int_value = 1;
            e->name = name;
            e->args = to_array(types, &e->arg_count);
        }
        m_pos = start;
    }
    u32 diag_size = m_diagnostics->size();
    u32 diag_errors = m_diagnostics->error_count();
    Expr* probe = parse_expression();
    if (e->int_value && (m_diagnostics->error_count() != diag_errors || !check(Tok::RParen)) && !m_abort) {
        // A signature that is no expression (`succ(int[])`).
        m_diagnostics->restore(diag_size, diag_errors);
        probe = nullptr;
        while (!check(Tok::RParen) && !check(Tok::Eof))
            m_pos++;
    }
    e->a = probe;
    expect(Tok::RParen, "')'");
    return finish(e);
}

// A literal, a name, `this`, `super`, `(e)`, `[a, b]`, `new ...`, a block
// expression, `defined(...)`; a Java lambda is reported.
Expr* Parser::parse_primary()
{
    const Token& t = current();
    u32 arrow;
    // A name is a lambda's parameter only when '-' follows it (most are not).
    if (((t.kind == Tok::Ident && peek(1).kind == Tok::Minus) || t.kind == Tok::LParen) && lambda_at(0, &arrow))
        return skip_lambda(t, arrow);
    switch (t.kind) {
    case Tok::Int: {
        m_pos++;
        Expr* e = make_expr(ExprKind::Int, t);
        if (!e)
            return error_expr(t);
        if (m_tokens->int_value(t) == KS_INT_MIN && m_tokens->start(t)[0] != '0')
            error_at(t, "integer literal does not fit in 64 bits");
        e->int_value = m_tokens->int_value(t);
        return e;
    }
    case Tok::String: {
        m_pos++;
        Expr* e = make_expr(ExprKind::String, t);
        if (!e)
            return error_expr(t);
        e->name = m_tokens->string(t);
        e->name_length = m_tokens->string_length(t);
        return e;
    }
    case Tok::KwTrue:
    case Tok::KwFalse: {
        m_pos++;
        Expr* e = make_expr(ExprKind::Bool, t);
        if (!e)
            return error_expr(t);
        e->int_value = t.kind == Tok::KwTrue;
        return e;
    }
    case Tok::KwNull:
        m_pos++;
        return make_expr(ExprKind::Null, t) ?: error_expr(t);
    case Tok::KwThis:
        m_pos++;
        return make_expr(ExprKind::This, t) ?: error_expr(t);
    case Tok::KwSuper:
        m_pos++;
        return make_expr(ExprKind::Super, t) ?: error_expr(t);
    case Tok::Ident: {
        // Konoha's NULL is null.
        if (ident_is(t, "NULL")) {
            m_pos++;
            return make_expr(ExprKind::Null, t) ?: error_expr(t);
        }
        if (ident_is(t, "defined") && peek(1).kind == Tok::LParen)
            return parse_defined();
        m_pos++;
        Expr* e = make_expr(ExprKind::Name, t);
        if (!e)
            return error_expr(t);
        e->name = copy_name(t);
        return e;
    }
    case Tok::KwInt:
    case Tok::KwBoolean: {
        // `int` as a receiver of static functions is not supported; a name
        // here lets the checker give a clear error.
        m_pos++;
        Expr* e = make_expr(ExprKind::Name, t);
        if (!e)
            return error_expr(t);
        e->name = copy_name(t);
        return e;
    }
    case Tok::LParen: {
        m_pos++;
        Expr* e = parse_expression();
        expect(Tok::RParen, "')'");
        return e;
    }
    case Tok::LBracket: {
        m_pos++;
        Expr* e = make_expr(ExprKind::ArrayLit, t);
        if (!e)
            return error_expr(t);
        parse_arguments(e, Tok::RBracket);
        return finish(e);
    }
    case Tok::KwNew:
        m_pos++;
        return parse_new(t);
    case Tok::LBrace: {
        Expr* e = make_expr(ExprKind::BlockExpr, t);
        if (!e)
            return error_expr(t);
        e->block = parse_block();
        return e;
    }
    default:
        break;
    }
    if (t.kind == Tok::Eof)
        error_at(t, "expected an expression before end of file");
    else if (t.kind != Tok::Error) {
        char found[48];
        u32 length = m_tokens->length(t);
        u32 n = length < 40 ? length : 40;
        mem_copy(found, m_tokens->start(t), n);
        found[n] = 0;
        error_at(t, "expected an expression before '%s'", found);
    }
    if (t.kind != Tok::Eof && t.kind != Tok::RBrace && t.kind != Tok::Semicolon && t.kind != Tok::RParen)
        m_pos++;
    return error_expr(t);
}

}
