// Tokens of the kscript lexical grammar (language.md, "Lexical").
#pragma once

#include "../support/Types.h"

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

struct Token {
    Tok kind;
    bool newline_before;   // A line break separates it from the previous token.
    u32 line;
    u32 column;
    const char* start;     // Points into the source.
    u32 length;
    i64 int_value;         // Int tokens.
    const char* string;    // String tokens: decoded text (arena), NUL-terminated.
    u32 string_length;
};

}
