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

// 40 bytes: a 10,000-line program has about 80,000 of them.
struct Token {
    Tok kind;
    bool newline_before;   // A line break separates it from the previous token.
    u32 line;
    u32 column;
    u32 length;
    const char* start;     // Points into the source.
    union {
        i64 int_value;         // Int tokens.
        const char* string;    // String tokens: decoded text (arena), NUL-terminated.
    };
    u32 string_length;
};
static_assert(sizeof(Token) == 40, "Token grew");

// The lexer's output, in chunks of kChunk tokens: growing never copies
// the tokens made so far, and never holds them twice (a Vector's doubling
// held three times the final size at its peak, most of a compile's memory).
class TokenList {
public:
    static constexpr u32 kShift = 8;
    static constexpr u32 kChunk = 1u << kShift;

    explicit TokenList(Memory* memory) : m_memory(memory), m_chunks(memory) {}
    TokenList(const TokenList&) = delete;
    TokenList& operator=(const TokenList&) = delete;
    ~TokenList()
    {
        for (u32 i = 0; i < m_chunks.size(); i++)
            m_memory->free(m_chunks[i]);
    }

    [[nodiscard]] bool try_append(const Token& token)
    {
        if ((m_size >> kShift) == m_chunks.size()) {
            Token* chunk = static_cast<Token*>(m_memory->alloc(sizeof(Token) * kChunk));
            if (!chunk)
                return false;
            if (!m_chunks.try_append(chunk)) {
                m_memory->free(chunk);
                return false;
            }
        }
        m_chunks[m_size >> kShift][m_size & (kChunk - 1)] = token;
        m_size++;
        return true;
    }
    const Token& operator[](u32 i) const { return m_chunks[i >> kShift][i & (kChunk - 1)]; }
    u32 size() const { return m_size; }

private:
    Memory* m_memory;
    Vector<Token*> m_chunks;
    u32 m_size { 0 };
};

}
