// The parser: tokens to a syntax tree, by recursive descent with precedence
// climbing for binary operators. It reports every syntax error it can
// (recovering at statement boundaries) and bounds nesting: source nested more
// deeply than the limit is a compile error, never a native stack overflow.
#pragma once

#include "../support/Vector.h"
#include "../support/WorkMeter.h"
#include "Ast.h"
#include "Diagnostics.h"
#include "Lexer.h"

namespace ks {

class Parser {
public:
    // [meter] (may be null) is charged a unit per step of the descent; when
    // its hook says stop, parsing stops as on a nesting error. [seed] keys
    // the hashes of the name sets (see NameIndex). With a [lexer] (started on
    // [tokens]), tokens are pulled from it as the parser reads on; without
    // one, [tokens] must hold them all, ending with Eof.
    Parser(TokenList& tokens, Arena* arena, Memory* memory, Diagnostics* diagnostics, u32 max_depth,
        WorkMeter* meter = nullptr, u64 seed = 0, Lexer* lexer = nullptr)
        : m_tokens(&tokens), m_lexer(lexer), m_text(lexer ? lexer->source() : nullptr), m_count(tokens.size()),
          m_body_tokens(memory), m_arena(arena), m_memory(memory),
          m_diagnostics(diagnostics), m_max_depth(max_depth), m_meter(meter), m_seed(seed)
    {
        m_eof = Token { Tok::Eof, true, 0, 0, 0, 0, 0 };
        if (!lexer && m_count) {
            m_eof = tokens[--m_count];   // The Eof token: read as m_eof, like a lexer's.
        }
    }

    // Parses the whole program. The program is valid (possibly with Error
    // nodes) unless memory ran out (reported in the diagnostics) or the
    // meter's hook said stop (the meter knows).
    SyntaxTree parse_program();
    // Gives each class and function item the set of names it mentions
    // (Item::names; the prelude's, to find the built-in classes a script
    // reaches). Off by default: a script's items do not need them.
    void set_item_names(bool on) { m_item_names = on; }
    // Lazy parsing (needs a lexer): parse_program() skips each function and
    // method body, lexing it only to find its '}' (FuncDecl::body_open and
    // body_close mark it), and parse_body() lexes and parses it again when
    // the compiler gets to it, into an arena the compiler resets after each
    // function. So neither a program's syntax trees nor its tokens are ever
    // all in memory at once: a 10,000-line program's bodies took 7 MB as
    // trees, and 1.6 MB as tokens, whose fresh pages cost more time than
    // lexing the bodies twice.
    void set_lazy_bodies(bool on) { m_lazy_bodies = on; }
    // Where the nodes of top-level statements go (by default the parser's
    // arena): the compiler frees them once the main program is compiled.
    void set_statement_arena(Arena* arena) { m_statement_arena = arena; }
    // The body [func] skipped in parse_program(), lexed again (quietly: its
    // lexical errors were reported then) and parsed, its nodes from [arena].
    // Parsing goes as it would have in parse_program().
    Block* parse_body(const FuncDecl* func, Arena* arena);
    // Nesting too deep, out of memory or stopped: nothing more is parsed.
    bool aborted() const { return m_abort; }

private:
    // Token access.
    // The token [ahead] past the current one; the Eof token past the end.
    // (Const: lexing on only reveals tokens that were always there.)
    const Token& peek(u32 ahead = 0) const
    {
        u32 i = m_pos + ahead;
        return KS_LIKELY(i < m_count) ? (*m_tokens)[i] : peek_lexing(i);
    }
    const Token& peek_lexing(u32 i) const;
    const Token& current() const { return peek(0); }
    const Token& previous() const { return (*m_tokens)[m_pos ? m_pos - 1 : 0]; }
    bool check(Tok kind) const { return current().kind == kind; }
    bool match(Tok kind)
    {
        if (!check(kind))
            return false;
        if (kind != Tok::Eof)
            m_pos++;
        return true;
    }
    bool expect(Tok kind, const char* what);
    void expect_terminator();
    void error_here(const char* format, const char* s1 = nullptr);
    void error_at(const Token& token, const char* format, const char* s1 = nullptr);
    void synchronize();
    void skip_declaration();
    void expect_close(const Token& open);

    // Java and C# forms that kscript does not have: each gives one error
    // saying what to write instead, and the parser goes on as if the
    // nearest kscript form had been written, so that no cascade follows.
    // Whether [t] is the identifier [word] (a literal: its length is known).
    template<usize N>
    bool ident_is(const Token& t, const char (&word)[N]) const
    {
        return t.kind == Tok::Ident && t.aux == N - 1 && mem_compare(m_tokens->start(t), word, N - 1) == 0;
    }
    u32 skip_java_modifiers();
    bool java_type_declaration();
    void skip_throws();
    bool lambda_at(u32 ahead, u32* arrow);
    bool java_generic_at(u32 ahead, u32* after, bool inner = false) const;
    TypeRef* java_generic_type();
    void report_java_generic(const Token& at);
    Expr* skip_lambda(const Token& at, u32 arrow);
    const char* copy_name(const Token& token);

    // Declarations.
    Item parse_item();
    u8 parse_annotations();
    ClassDecl* parse_class(bool abstract_class = false);
    FuncDecl* parse_function(TypeRef* return_type, u8 annotations, const char* class_name);
    bool parse_params(FuncDecl* func);
    bool skip_body(FuncDecl* func);
    bool skip_lexing(u32 depth);
    void note_names(u32 from, u32 to, bool in_declaration);
    void note_name(const Token& t, bool in_declaration);
    void note_name(const char* name, u32 length, bool in_declaration);
    static void note_skipped_name(void* parser, const char* name, u32 length);
    void add_name(NameSet* set, u32 hash);

    // Types.
    TypeRef* parse_type();
    TypeRef* try_parse_type();   // No diagnostics; restores the position on failure.
    bool looks_like_declaration();
    bool skip_type();
    bool type_arguments_follow(const Token& first, bool* generic) const;

    // Statements.
    Stmt* parse_statement();
    Stmt* parse_var_decl(TypeRef* type, bool is_const);
    Block* parse_block();
    Stmt* parse_if();
    Stmt* parse_while();
    Stmt* parse_do();
    Stmt* parse_for();
    Stmt* parse_try();
    Stmt* parse_switch();
    Stmt* make_stmt(StmtKind kind, const Token& at);
    Block* make_block(const Token& open);

    // Expressions, lowest to highest precedence.
    Expr* parse_expression();
    Expr* parse_assignment();
    Expr* parse_conditional();
    Expr* parse_binary(int min_precedence);
    Expr* parse_unary();
    Expr* parse_postfix();
    Expr* parse_primary();
    Expr* parse_defined();
    Expr* parse_new(const Token& at);
    bool parse_arguments(Expr* call, Tok closing);
    Expr* make_expr(ExprKind kind, const Token& at);
    Expr* finish(Expr* e);   // Computes depth and enforces the limit.
    Expr* error_expr(const Token& at);

    // One level deeper in the descent (the recursion guard): a unit of work
    // per step, charged 16 at a time, and the nesting limit; false (the
    // parse aborts) when the meter or the limit says stop. Inline: the
    // common case is two increments and a test.
    bool enter()
    {
        if (KS_LIKELY(!m_abort && ((m_steps + 1) & 15) != 0 && m_depth < m_max_depth)) {
            m_steps++;
            m_depth++;
            return true;
        }
        return enter_slow();
    }
    bool enter_slow();
    void leave() { m_depth--; }

    template<typename T>
    T* to_array(Vector<T>& list, u32* count)
    {
        *count = list.size();
        if (list.size() == 0)
            return nullptr;
        T* out = static_cast<T*>(m_arena->alloc(sizeof(T) * list.size()));
        if (!out) {
            oom();
            *count = 0;
            return nullptr;
        }
        mem_copy(static_cast<void*>(out), list.data(), sizeof(T) * list.size());
        return out;
    }
    void oom() { m_diagnostics->set_out_of_memory(); m_abort = true; }
    // The lexer failed: out of memory, unless the meter said stop (the
    // compiler reports that); the parse aborts.
    void lexing_failed() const
    {
        if (!m_meter || !m_meter->stopped())
            m_diagnostics->set_out_of_memory();
        m_abort = true;
    }

    // A Bloom filter of names (two bits each, a cheap unkeyed hash): the
    // identifiers inside classes and functions, gathered while their
    // bodies are skipped, before the top-level variables they may name are
    // known. A false positive only keeps such a variable in a global slot
    // instead of a register, so the hash needs no key.
    struct NameFilter {
        u64* words;
        u32 bits;   // A power of two.
        void add(const char* name, u32 length);
        bool may_contain(const char* name, u32 length) const;
    };

    TokenList* m_tokens;
    Lexer* m_lexer;               // Null when m_tokens came whole; only parse_program() uses the first one.
    const char* m_text;           // The source, for parse_body().
    bool m_item_names { false };
    bool m_lazy_bodies { false };
    Arena* m_statement_arena { nullptr };
    mutable u32 m_count;          // Tokens lexed so far, the Eof not counted.
    mutable Token m_eof;          // What the parser reads past them: the Eof token (or one at the body's '}').
    bool m_in_body { false };     // parse_body() is at work.
    mutable bool m_lex_failed { false };   // A body's batch failed to lex past m_count (peek_lexing()).
    static constexpr u32 kBodyBatch = 256;  // Tokens a body is lexed ahead, at most.
    TokenList m_body_tokens;      // parse_body()'s, emptied for each body (its chunks kept).
    NameSet* m_item_set { nullptr };   // parse_program(): the item's names (set_item_names()).
    NameSet* m_capitals { nullptr };   // parse_program(): SyntaxTree::all_names.
    NameFilter m_inner {};        // parse_program(): names inside classes and functions.
    u32 m_pos { 0 };
    Arena* m_arena;
    Memory* m_memory;
    Diagnostics* m_diagnostics;
    u32 m_max_depth;
    WorkMeter* m_meter;
    u64 m_seed;
    u32 m_depth { 0 };
    u32 m_steps { 0 };            // Calls of enter(), for the meter.
    mutable bool m_abort { false };   // Nesting limit hit, out of memory or stopped: stop.
    bool m_label_reported { false };    // A Java label was reported: `break NAME` goes quietly.
    u32 m_generic_line { 0 };           // Line of the last Java `<...>` reported: once a line.
    bool m_unclosed_reported { false }; // An unclosed '{' was reported: outer ones are not.
};

}
