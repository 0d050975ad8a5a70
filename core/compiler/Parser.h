// The parser: tokens to a syntax tree, by recursive descent with precedence
// climbing for binary operators. It reports every syntax error it can
// (recovering at statement boundaries) and bounds nesting: source nested more
// deeply than the limit is a compile error, never a native stack overflow.
#pragma once

#include "../support/Vector.h"
#include "../support/WorkMeter.h"
#include "Ast.h"
#include "Diagnostics.h"

namespace ks {

class Parser {
public:
    // [meter] (may be null) is charged a unit per step of the descent; when
    // its hook says stop, parsing stops as on a nesting error. [seed] keys
    // the hashes of the name sets (see NameIndex).
    Parser(const TokenList& tokens, Arena* arena, Memory* memory, Diagnostics* diagnostics, u32 max_depth,
        WorkMeter* meter = nullptr, u64 seed = 0)
        : m_tokens(tokens), m_count(tokens.size()), m_arena(arena), m_memory(memory), m_diagnostics(diagnostics),
          m_max_depth(max_depth), m_meter(meter), m_seed(seed)
    {
        m_eof = m_count ? m_tokens[m_count - 1] : Token { Tok::Eof, true, 0, 0, 0, 0, 0 };
    }

    // Parses the whole token array. The program is valid (possibly with Error
    // nodes) unless memory ran out, which is reported in the diagnostics.
    SyntaxTree parse_program();
    // Gives each class and function item the set of names it mentions
    // (Item::names; the prelude's, to find the built-in classes a script
    // reaches). Off by default: a script's items do not need them.
    void set_item_names(bool on) { m_item_names = on; }
    // Lazy parsing: parse_program() skips each function and method body by
    // matching its braces (FuncDecl::body_token marks it) and parse_body()
    // parses it when the compiler gets to it, into an arena the compiler
    // resets after each function. So a program's syntax trees are never all
    // in memory at once: a 10,000-line program's bodies took 7 MB.
    void set_lazy_bodies(bool on) { m_lazy_bodies = on; }
    // Where the nodes of top-level statements go (by default the parser's
    // arena): the compiler frees them once the main program is compiled.
    void set_statement_arena(Arena* arena) { m_statement_arena = arena; }
    // The body whose '{' is token [open], its nodes from [arena]. Parsing
    // goes as it would have in parse_program(); the tokens stay where they
    // were.
    Block* parse_body(u32 open, Arena* arena);
    // Nesting too deep, out of memory or stopped: nothing more is parsed.
    bool aborted() const { return m_abort; }
    NameSet name_set(u32 from, u32 to);

private:
    // Token access.
    // The token [ahead] past the current one; the Eof token past the end.
    const Token& peek(u32 ahead = 0) const
    {
        u32 i = m_pos + ahead;
        return KS_LIKELY(i < m_count) ? m_tokens[i] : peek_past_end();
    }
    const Token& peek_past_end() const;
    const Token& current() const { return peek(0); }
    const Token& previous() const { return m_tokens[m_pos ? m_pos - 1 : 0]; }
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
        return t.kind == Tok::Ident && t.aux == N - 1 && mem_compare(m_tokens.start(t), word, N - 1) == 0;
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
    void add_name(NameSet* set, u32 hash);
    u32 token_hash(const Token& token) const;

    // Types.
    TypeRef* parse_type();
    TypeRef* try_parse_type();   // No diagnostics; restores the position on failure.
    bool looks_like_declaration();

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

    bool enter();            // Recursion guard; false when nested too deeply.
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

    const TokenList& m_tokens;
    bool m_item_names { false };
    bool m_lazy_bodies { false };
    Arena* m_statement_arena { nullptr };
    u32 m_count;                  // Tokens the parser may read (a lazy body: up to its '}').
    Token m_eof;                  // What it reads past them: the Eof token (or one at the body's '}').
    bool m_in_body { false };     // parse_body() is at work.
    u32 m_pos { 0 };
    Arena* m_arena;
    Memory* m_memory;
    Diagnostics* m_diagnostics;
    u32 m_max_depth;
    WorkMeter* m_meter;
    u64 m_seed;
    u32 m_depth { 0 };
    u32 m_steps { 0 };            // Calls of enter(), for the meter.
    bool m_abort { false };       // Nesting limit hit or out of memory: stop.
    bool m_label_reported { false };    // A Java label was reported: `break NAME` goes quietly.
    u32 m_generic_line { 0 };           // Line of the last Java `<...>` reported: once a line.
    bool m_unclosed_reported { false }; // An unclosed '{' was reported: outer ones are not.
};

}
