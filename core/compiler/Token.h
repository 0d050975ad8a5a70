// Tokens of the kscript lexical grammar (language.md, "Lexical").
#pragma once

#include "../support/Types.h"
#include "../support/Vector.h"

namespace ks {

#define KS_TOKENS(X)                                                          \
    X(Eof, "end of file") X(Error, "invalid token")                          \
    X(Ident, "identifier") X(Int, "integer") X(String, "string")             \
    X(LParen, "(") X(RParen, ")") X(LBrace, "{") X(RBrace, "}")              \
    X(LBracket, "[") X(RBracket, "]") X(Comma, ",") X(Semicolon, ";")        \
    X(Dot, ".") X(Colon, ":") X(Question, "?") X(At, "@")                    \
    X(Plus, "+") X(Minus, "-") X(Star, "*") X(Slash, "/") X(Percent, "%")    \
    X(Amp, "&") X(Pipe, "|") X(Caret, "^") X(Tilde, "~") X(Bang, "!")        \
    X(Shl, "<<") X(Shr, ">>") X(AndAnd, "&&") X(OrOr, "||")                  \
    X(Eq, "==") X(Ne, "!=") X(Lt, "<") X(Le, "<=") X(Gt, ">") X(Ge, ">=")   \
    X(Assign, "=") X(PlusAssign, "+=") X(MinusAssign, "-=")                  \
    X(StarAssign, "*=") X(SlashAssign, "/=") X(PercentAssign, "%=")          \
    X(AmpAssign, "&=") X(PipeAssign, "|=") X(CaretAssign, "^=")              \
    X(ShlAssign, "<<=") X(ShrAssign, ">>=") X(PlusPlus, "++")                \
    X(MinusMinus, "--")                                                      \
    X(KwIf, "if") X(KwElse, "else") X(KwWhile, "while") X(KwDo, "do")        \
    X(KwFor, "for") X(KwBreak, "break") X(KwContinue, "continue")            \
    X(KwReturn, "return") X(KwClass, "class") X(KwExtends, "extends")        \
    X(KwNew, "new") X(KwThis, "this") X(KwSuper, "super") X(KwNull, "null")  \
    X(KwTrue, "true") X(KwFalse, "false") X(KwVar, "var")                    \
    X(KwConst, "const") X(KwTry, "try") X(KwCatch, "catch")                  \
    X(KwFinally, "finally") X(KwThrow, "throw")                              \
    X(KwInstanceof, "instanceof") X(KwAs, "as") X(KwTo, "to")               \
    X(KwImport, "import") X(KwInt, "int") X(KwBoolean, "boolean")            \
    X(KwVoid, "void") X(KwSwitch, "switch") X(KwCase, "case")                \
    X(KwDefault, "default") X(KwStatic, "static")

enum class Tok : u8 {
#define KS_TOKEN_ENUM(name, text) name,
    KS_TOKENS(KS_TOKEN_ENUM)
#undef KS_TOKEN_ENUM
};

const char* token_text(Tok kind);

// 20 bytes. The lexer makes them as the parser asks (Lexer::lex()), and
// only the parts of a program outside function bodies are kept until their
// top-level item is parsed: bodies are lexed again when they are compiled
// (Parser::parse_body()). What only numbers and strings have (a value, a
// decoded text) is in the list's values instead. TokenList's start(),
// length(), int_value() and string() read a token.
struct Token {
    Tok kind;
    bool newline_before;   // A line break separates it from the previous token.
    u16 reserved;
    u32 line;
    u32 column;
    u32 offset;            // Of its first byte in the source.
    u32 aux;               // Its length in bytes; for Int and String tokens, its entry in the values.
};
static_assert(sizeof(Token) == 20, "Token grew");

// What an Int or String token has besides its position.
struct TokenValue {
    union {
        i64 int_value;         // Int tokens.
        const char* string;    // String tokens: decoded text (arena), NUL-terminated.
    };
    u32 length;                // The token's length in bytes.
    u32 string_length;         // String tokens: the decoded text's.
};

// The lexer's output, in chunks of kChunk tokens: growing never copies
// the tokens made so far, and never holds them twice (a Vector's doubling
// held three times the final size at its peak). kChunk is a power of two,
// so that finding token i (which the parser does for every look at a
// token) is a shift and a mask, not a division: 512 tokens, 10 KB, in
// three pages with the slab's large-allocation header (a function body's
// list, most often a few hundred tokens, needs no more). The parser frees
// the chunks behind it (release_before()) and drops tokens it only needed
// to see (truncate(): a skipped body's), whose chunks stay for the next
// tokens.
class TokenList {
public:
    static constexpr u32 kChunk = 512;
    static_assert((kChunk & (kChunk - 1)) == 0, "token chunks hold a power of two tokens");

    explicit TokenList(Memory* memory) : m_memory(memory), m_chunks(memory), m_values(memory) {}
    TokenList(const TokenList&) = delete;
    TokenList& operator=(const TokenList&) = delete;
    ~TokenList()
    {
        for (u32 i = 0; i < m_chunks.size(); i++)
            m_memory->free(m_chunks[i]);
    }

    [[nodiscard]] bool try_append(const Token& token)
    {
        Token* slot = push();
        if (slot)
            *slot = token;
        return slot != nullptr;
    }
    // A slot for one more token, its contents unset; null when memory ran
    // out. The lexer writes a token in place instead of copying it in.
    KS_ALWAYS_INLINE Token* push()
    {
        if (KS_UNLIKELY(!m_left) && !grow())
            return nullptr;
        m_left--;
        m_size++;
        return m_next++;
    }
    // Takes back the slot that push() just gave.
    void pop()
    {
        m_left++;
        m_size--;
        m_next--;
    }
    const Token& operator[](u32 i) const { return m_chunks[i / kChunk][i % kChunk]; }
    u32 size() const { return m_size; }
    u32 value_count() const { return m_values.size(); }

    // Drops the tokens from [size] on and the values from [values] on (both
    // counts taken earlier, never before a released chunk). The chunks stay
    // for the tokens pushed next.
    void truncate(u32 size, u32 values)
    {
        m_size = size;
        u32 c = size / kChunk;
        if (c < m_chunks.size()) {
            m_next = m_chunks[c] + size % kChunk;
            m_left = kChunk - size % kChunk;
        } else {
            m_next = nullptr;   // size is a whole number of chunks, all full.
            m_left = 0;
        }
        m_values.shrink(values);
    }

    // Frees the chunks that hold only tokens before [index], but never the
    // chunk the next token goes into: the parser is done with them, and what
    // the compile builds next reuses their pages. Reading such a token after
    // is a bug.
    void release_before(u32 index)
    {
        while (m_released < m_chunks.size() && (m_released + 1) * kChunk <= index
            && (m_released + 1) * kChunk <= m_size) {
            m_memory->free(m_chunks[m_released]);
            m_chunks[m_released++] = nullptr;
        }
    }

    // Frees every token and value: the list is empty, as new.
    void clear()
    {
        for (u32 i = 0; i < m_chunks.size(); i++)
            m_memory->free(m_chunks[i]);
        m_chunks.release();
        m_values.release();
        m_next = nullptr;
        m_left = m_released = m_size = 0;
    }

    // The source the tokens' offsets are in (the lexer sets it).
    void set_source(const char* source) { m_source = source; }
    // Keeps [value] for an Int or String token: its index for Token::aux, or
    // kNoValue when memory ran out.
    static constexpr u32 kNoValue = 0xffffffffu;
    u32 add_value(const TokenValue& value)
    {
        return m_values.try_append(value) ? m_values.size() - 1 : kNoValue;
    }
    static bool has_value(Tok kind) { return kind == Tok::Int || kind == Tok::String; }

    const char* start(const Token& t) const { return m_source + t.offset; }
    u32 length(const Token& t) const { return has_value(t.kind) ? m_values[t.aux].length : t.aux; }
    i64 int_value(const Token& t) const { return m_values[t.aux].int_value; }
    const char* string(const Token& t) const { return m_values[t.aux].string; }
    u32 string_length(const Token& t) const { return m_values[t.aux].string_length; }

private:
    // Moves on to the next chunk: one kept by truncate(), or a new one.
    KS_NOINLINE bool grow()
    {
        u32 c = m_size / kChunk;
        if (c >= m_chunks.size()) {
            Token* chunk = static_cast<Token*>(m_memory->alloc(sizeof(Token) * kChunk));
            if (!chunk)
                return false;
            if (!m_chunks.try_append(chunk)) {
                m_memory->free(chunk);
                return false;
            }
        }
        m_next = m_chunks[c];
        m_left = kChunk;
        return true;
    }

    Memory* m_memory;
    Vector<Token*> m_chunks;
    Vector<TokenValue> m_values;
    const char* m_source { nullptr };
    Token* m_next { nullptr };   // The next free slot of the last chunk.
    u32 m_left { 0 };            // Free slots from m_next on.
    u32 m_released { 0 };        // Chunks freed by release_before().
    u32 m_size { 0 };
};

}
