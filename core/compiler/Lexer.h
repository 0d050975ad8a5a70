// The lexer: source text to tokens, with diagnostics for malformed
// literals. It never recurses; nested block comments are counted. The
// parser pulls tokens from it (lex()) as it needs them; tokenize() lexes a
// whole text at once. A Lexer is plain data: copying one saves its place.
#pragma once

#include "../support/Arena.h"
#include "../support/Vector.h"
#include "../support/WorkMeter.h"
#include "Diagnostics.h"
#include "Token.h"

namespace ks {

class Lexer {
public:
    // [meter] (may be null) is charged a unit per token.
    Lexer(const char* source, usize length, Arena* arena, Diagnostics* diagnostics, WorkMeter* meter = nullptr)
        : m_source(source), m_end(source + length), m_cursor(source), m_arena(arena), m_diagnostics(diagnostics),
          m_meter(meter)
    {
    }

    // Appends every token, ending with Eof. False when memory ran out or the
    // meter's hook said stop.
    bool tokenize(TokenList* out);

    // Pull mode: start() once, then each lex() appends the next token to
    // [out] (or the few that an interpolating string's part makes), until
    // done(): the Eof token is in. lex() is false when memory ran out or
    // the meter's hook said stop.
    void start(TokenList* out);
    bool lex();
    bool done() const { return m_done; }
    // lex() [count] times or until done(), in one loop; false when a lex()
    // failed, [lexed] then the size of the list before it.
    bool lex_some(u32 count, u32* lexed);
    // Lexing text again (a function body, from its '{' at [offset], on
    // [line] at [column]): starts there, and reports nothing, the first
    // lexing having reported its errors. Called before start().
    void restart_at(u32 offset, u32 line, u32 column);
    // `${` being lexed: a '{' lexed inside one cannot be lexed again from
    // outside any (restart_at()) with the same result.
    u32 interpolation_depth() const { return m_depth; }
    // Tokens that are lexed only to be dropped (a body the parser skips):
    // strings are checked but not decoded.
    void set_skipping(bool on) { m_skipping = on; }
    // Skip mode's fast path, called between lex() calls: moves past the
    // plain text from the cursor (identifiers, keywords, short decimal
    // literals, operators other than '/', blanks and newlines), which makes
    // no diagnostic and no value, calling [name] with each identifier's
    // text, and stops before anything else (a brace, a string, '/', other
    // bytes, the end), for lex() to take. It makes no tokens: a skipped
    // body's are dropped anyway. Charged to the meter as lex() is; false
    // when the meter said stop.
    bool skip_plain(void (*name)(void* context, const char* text, u32 length), void* context);
    const char* source() const { return m_source; }
    usize length() const { return (usize)(m_end - m_source); }

private:
    bool skip_space_and_comments();
    bool lex_one();
    bool lex_special(Token* slot);
    void next(Token* t);
    // Fills [t] as a token of [kind] from [start] to the cursor, at the
    // current line and [start]'s column (inline: once per token).
    KS_ALWAYS_INLINE void make(Token* t, Tok kind, const char* start)
    {
        t->kind = kind;
        t->newline_before = m_newline;
        t->line = m_line;
        t->column = column_of(start);
        t->reserved = 0;
        t->offset = (u32)(start - m_source);
        t->aux = (u32)(m_cursor - start);
    }
    Token make(Tok kind, const char* start)
    {
        Token t;
        make(&t, kind, start);
        return t;
    }
    void keep_value(Token* token, TokenValue value);
    void lex_number(Token* token);
    void lex_string(Token* token);
    void lex_string_part(Token* token, const char* from);
    void error_at(const char* where, const char* message);
    u32 column_of(const char* where)
    {
        if (KS_LIKELY(m_all_ascii || (m_column_line == m_line_start && m_line_ascii)))
            return (u32)(where - m_line_start) + 1;
        return column_slow(where);
    }
    u32 column_slow(const char* where);

    const char* m_source;
    const char* m_end;
    const char* m_cursor;
    const char* m_line_start { m_source };
    u32 m_line { 1 };
    bool m_newline { true };
    Arena* m_arena;
    Diagnostics* m_diagnostics;
    TokenList* m_out { nullptr };   // What tokenize() fills (values of numbers and strings go there too).
    WorkMeter* m_meter;
    bool m_out_of_memory { false };
    bool m_string_interpolates { false };   // The string part just lexed ended at `${`.
    static constexpr u32 kMaxInterpolation = 16;
    u32 m_braces[kMaxInterpolation];   // Open braces inside each `${` being lexed.
    u32 m_depth { 0 };                 // `${` being lexed.
    u32 m_lexed { 0 };                 // lex() calls, for the meter.
    bool m_done { false };
    bool m_quiet { false };            // restart_at(): diagnostics were reported the first time.
    bool m_skipping { false };
    const char* m_column_line { nullptr };   // Line start of the cached column.
    const char* m_column_at { nullptr };
    u32 m_column { 1 };
    bool m_line_ascii { false };   // The line of m_column_line has no byte above 0x7f.
    bool m_all_ascii { false };    // No byte above 0x7f from where lexing started to the end.
};

}
