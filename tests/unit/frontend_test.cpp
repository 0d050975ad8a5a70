// Lexer and parser pieces on their own.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/compiler/Lexer.h"
#include "core/compiler/Parser.h"

using namespace ks;

namespace {

class FrontendTest : public ::testing::Test {
protected:
    void SetUp() override { memory.init(64u << 20, false); }
    void TearDown() override { memory.destroy(); }

    // The tokens of [src], into [tokens], diagnostics into [diags].
    struct Lexed {
        explicit Lexed(Memory* memory) : arena(memory), diags(memory, &arena), tokens(memory) {}
        Arena arena;
        Diagnostics diags;
        TokenList tokens;
        bool ok { false };
    };
    void lex(Lexed* out, const char* src)
    {
        Lexer lexer(src, strlen(src), &out->arena, &out->diags);
        out->ok = lexer.tokenize(&out->tokens);
    }

    Memory memory;
};

TEST_F(FrontendTest, LexesAllTokenKinds)
{
    Lexed lexed(&memory);
    lex(&lexed, "int x = 0x10 + 0b11; // c\n x <<= 2 && y != \"s\\n\"");
    ASSERT_TRUE(lexed.ok);
    EXPECT_EQ(lexed.diags.error_count(), 0u);
    const TokenList& tokens = lexed.tokens;
    Tok expected[] = { Tok::KwInt, Tok::Ident, Tok::Assign, Tok::Int, Tok::Plus, Tok::Int, Tok::Semicolon,
        Tok::Ident, Tok::ShlAssign, Tok::Int, Tok::AndAnd, Tok::Ident, Tok::Ne, Tok::String, Tok::Eof };
    ASSERT_EQ(tokens.size(), sizeof(expected) / sizeof(expected[0]));
    for (u32 i = 0; i < tokens.size(); i++)
        EXPECT_EQ(tokens[i].kind, expected[i]) << i;
    EXPECT_EQ(tokens.int_value(tokens[3]), 16);
    EXPECT_EQ(tokens.int_value(tokens[5]), 3);
    EXPECT_TRUE(tokens[7].newline_before);
    EXPECT_STREQ(tokens.string(tokens[13]), "s\n");
    EXPECT_EQ(tokens.length(tokens[13]), 5u);   // "s\n" in the source
    EXPECT_EQ(tokens.length(tokens[1]), 1u);    // x
    EXPECT_EQ(tokens.length(tokens[3]), 4u);    // 0x10
    EXPECT_EQ(tokens.start(tokens[8])[0], '<');
    EXPECT_EQ(tokens.string_length(tokens[13]), 2u);
    EXPECT_EQ(tokens[7].line, 2u);
}

// Columns count characters: on a line with UTF-8 (here after more than
// eight ASCII bytes, and on a later line that is ASCII again) a column is
// not the byte offset.
TEST_F(FrontendTest, ColumnsCountCharacters)
{
    Lexed lexed(&memory);
    lex(&lexed, "abcdefghij \"\xc3\xa9\xc3\xa9\" x\n  y \"\xe2\x82\xac\" z\nlong_ascii_line w");
    ASSERT_TRUE(lexed.ok);
    const TokenList& tokens = lexed.tokens;
    ASSERT_EQ(tokens.size(), 9u);
    EXPECT_EQ(tokens[0].column, 1u);    // abcdefghij
    EXPECT_EQ(tokens[1].column, 12u);   // "éé"
    EXPECT_EQ(tokens[2].column, 17u);   // x: 4 characters after the quote, 6 bytes
    EXPECT_EQ(tokens[3].column, 3u);    // y
    EXPECT_EQ(tokens[5].column, 9u);    // z, after a 3-byte character
    EXPECT_EQ(tokens[7].column, 17u);   // w, on an ASCII line
    EXPECT_EQ(tokens[7].line, 3u);
}

// Every reserved word is its keyword token, found by keyword_kind()'s
// perfect hash; words that share a keyword's hash slot (first and last
// letter and length) or differ in case are identifiers.
TEST_F(FrontendTest, KeywordsAndNearMisses)
{
    struct {
        const char* text;
        Tok kind;
    } words[] = { { "as", Tok::KwAs }, { "break", Tok::KwBreak }, { "boolean", Tok::KwBoolean },
        { "continue", Tok::KwContinue }, { "class", Tok::KwClass }, { "const", Tok::KwConst },
        { "catch", Tok::KwCatch }, { "case", Tok::KwCase }, { "do", Tok::KwDo }, { "default", Tok::KwDefault },
        { "else", Tok::KwElse }, { "extends", Tok::KwExtends }, { "for", Tok::KwFor }, { "false", Tok::KwFalse },
        { "finally", Tok::KwFinally }, { "if", Tok::KwIf }, { "instanceof", Tok::KwInstanceof },
        { "import", Tok::KwImport }, { "int", Tok::KwInt }, { "new", Tok::KwNew }, { "null", Tok::KwNull },
        { "return", Tok::KwReturn }, { "super", Tok::KwSuper }, { "switch", Tok::KwSwitch },
        { "static", Tok::KwStatic }, { "this", Tok::KwThis }, { "true", Tok::KwTrue }, { "try", Tok::KwTry },
        { "throw", Tok::KwThrow }, { "to", Tok::KwTo }, { "var", Tok::KwVar }, { "void", Tok::KwVoid },
        { "while", Tok::KwWhile }, { "clash", Tok::Ident }, { "thus", Tok::Ident }, { "whole", Tok::Ident },
        { "ink", Tok::Ident }, { "tx", Tok::Ident }, { "Int", Tok::Ident }, { "iF", Tok::Ident },
        { "instanceofs", Tok::Ident }, { "i", Tok::Ident }, { "interface", Tok::Ident }, { "x", Tok::Ident } };
    for (const auto& w : words) {
        Lexed lexed(&memory);
        lex(&lexed, w.text);
        ASSERT_TRUE(lexed.ok);
        ASSERT_EQ(lexed.tokens.size(), 2u) << w.text;
        EXPECT_EQ(lexed.tokens[0].kind, w.kind) << w.text;
    }
}

// Lexer::skip_plain() (a skipped body's fast path) steps over identifiers,
// keywords, short decimal literals, operators and blanks, reporting each
// identifier but no keyword, counting lines, and stops before what lex()
// must see: here a hexadecimal literal, then '/', '{' and a string.
TEST_F(FrontendTest, SkipPlainStopsWhereLexMustLook)
{
    const char* src = "a1 + b_c * 12;\n\tint x = -0x1f / y { \"s\"";
    Lexed lexed(&memory);
    Lexer lexer(src, strlen(src), &lexed.arena, &lexed.diags);
    lexer.start(&lexed.tokens);
    std::string names;
    auto note = [](void* context, const char* text, u32 length) {
        static_cast<std::string*>(context)->append(text, length).append(",");
    };
    auto next_kind = [&]() {
        u32 before = lexed.tokens.size();
        EXPECT_TRUE(lexer.lex());
        EXPECT_EQ(lexed.tokens.size(), before + 1);
        return lexed.tokens[before];
    };
    ASSERT_TRUE(lexer.skip_plain(note, &names));
    EXPECT_EQ(names, "a1,b_c,x,");
    EXPECT_EQ(lexed.tokens.size(), 0u);
    Token hex = next_kind();
    EXPECT_EQ(hex.kind, Tok::Int);
    EXPECT_EQ(hex.line, 2u);
    EXPECT_EQ(hex.column, 11u);
    ASSERT_TRUE(lexer.skip_plain(note, &names));   // Stops at once: '/'.
    EXPECT_EQ(next_kind().kind, Tok::Slash);
    ASSERT_TRUE(lexer.skip_plain(note, &names));
    EXPECT_EQ(names, "a1,b_c,x,y,");
    EXPECT_EQ(next_kind().kind, Tok::LBrace);
    ASSERT_TRUE(lexer.skip_plain(note, &names));
    EXPECT_EQ(next_kind().kind, Tok::String);
    EXPECT_EQ(lexed.diags.error_count(), 0u);
}

// The token list's chunks: indexes across chunk boundaries must find each
// token.
TEST_F(FrontendTest, TokenListAcrossChunks)
{
    TokenList tokens(&memory);
    u32 n = TokenList::kChunk * 3 + 7;
    for (u32 i = 0; i < n; i++) {
        Token t {};
        t.kind = Tok::Int;
        t.offset = i;
        ASSERT_TRUE(tokens.try_append(t));
    }
    ASSERT_EQ(tokens.size(), n);
    for (u32 i = 0; i < n; i++)
        ASSERT_EQ(tokens[i].offset, i) << i;
}

// reset() keeps the newest chunk and hands its memory out again from the
// start; everything else goes back, so a reset arena holds one chunk.
TEST_F(FrontendTest, ArenaResetReusesItsNewestChunk)
{
    Arena arena(&memory);
    arena.reset();   // Nothing yet: nothing to keep.
    usize before = memory.used();
    void* first = nullptr;
    for (u32 round = 0; round < 3; round++) {
        void* p = arena.alloc(64);
        ASSERT_NE(p, nullptr);
        if (round == 0)
            first = p;
        for (u32 i = 0; i < 2000; i++)   // Several chunks' worth.
            ASSERT_NE(arena.alloc(48), nullptr);
        usize grown = memory.used();
        EXPECT_GT(grown, before + 3 * 16384);
        arena.reset();
        EXPECT_LT(memory.used(), before + 20000) << round;
        // The kept chunk is handed out from its start again.
        void* again = arena.alloc(64);
        EXPECT_NE(again, nullptr);
        if (round == 0) {
            EXPECT_NE(again, first);   // The newest chunk, not the first one.
        }
        arena.reset();
    }
    // A chunk of its own (bigger than the usual size) can be the one kept.
    ASSERT_NE(arena.alloc(100000), nullptr);
    arena.reset();
    usize kept = memory.used();
    EXPECT_GT(kept, before + 100000);
    EXPECT_NE(arena.alloc(90000), nullptr);
    EXPECT_EQ(memory.used(), kept);   // Served from the kept chunk.
    arena.release();
    EXPECT_EQ(memory.used(), before);
}

TEST_F(FrontendTest, LexerReportsBadLiterals)
{
    Lexed lexed(&memory);
    lex(&lexed, "99999999999999999999 \"\\z\" \"open");
    ASSERT_TRUE(lexed.ok);
    EXPECT_EQ(lexed.diags.error_count(), 3u);
    // The number keeps a value (0) and the source length; the unterminated
    // string becomes an error token of its length.
    EXPECT_EQ(lexed.tokens.int_value(lexed.tokens[0]), 0);
    EXPECT_EQ(lexed.tokens.length(lexed.tokens[0]), 20u);
    EXPECT_EQ(lexed.tokens[2].kind, Tok::Error);
    EXPECT_EQ(lexed.tokens.length(lexed.tokens[2]), 5u);
}

SyntaxTree parse(Memory* memory, Arena* arena, Diagnostics* diags, const char* src, u32 depth = 64)
{
    static TokenList* tokens;
    tokens = new TokenList(memory);
    Lexer lexer(src, strlen(src), arena, diags);
    EXPECT_TRUE(lexer.tokenize(tokens));
    Parser parser(*tokens, arena, memory, diags, depth);
    SyntaxTree p = parser.parse_program();
    delete tokens;
    return p;
}

TEST_F(FrontendTest, ParsesDeclarationsAndStatements)
{
    Arena arena(&memory);
    Diagnostics diags(&memory, &arena);
    SyntaxTree p = parse(&memory, &arena, &diags,
        "class A extends B { int x = 1; A() {} int f(int a) { return a; } }\n"
        "int g();\nint A.h() { return 0; }\nint[] xs = [1, 2]\nfor (int v : xs) {}\n");
    EXPECT_EQ(diags.error_count(), 0u);
    ASSERT_EQ(p.count, 5u);
    EXPECT_EQ(p.item(0).kind, ItemKind::Class);
    EXPECT_EQ(p.item(0).klass->field_count, 1u);
    EXPECT_EQ(p.item(0).klass->method_count, 2u);
    EXPECT_EQ(p.item(1).kind, ItemKind::Func);
    EXPECT_EQ(p.item(1).func->body, nullptr);
    EXPECT_STREQ(p.item(2).func->owner, "A");
    EXPECT_EQ(p.item(3).stmt->kind, StmtKind::Var);
    EXPECT_EQ(p.item(4).stmt->kind, StmtKind::ForEach);
}

TEST_F(FrontendTest, NestingLimitIsACompileError)
{
    std::string deep = "int x = " + std::string(100000, '(') + "1" + std::string(100000, ')');
    Arena arena(&memory);
    Diagnostics diags(&memory, &arena);
    parse(&memory, &arena, &diags, deep.c_str(), 200);
    ASSERT_GE(diags.size(), 1u);
    EXPECT_NE(strstr(diags[0].message, "nesting too deep"), nullptr);
}

TEST_F(FrontendTest, DeepBlocksAndLongChainsAreBounded)
{
    std::string blocks = std::string(100000, '{') + std::string(100000, '}');
    std::string chain = "int x = 1";
    for (int i = 0; i < 100000; i++)
        chain += " + 1";
    for (const std::string& src : { blocks, chain }) {
        Arena arena(&memory);
        Diagnostics diags(&memory, &arena);
        parse(&memory, &arena, &diags, src.c_str(), 200);
        EXPECT_GE(diags.error_count(), 1u);
    }
}

TEST_F(FrontendTest, RecoversToReportSeveralErrors)
{
    Arena arena(&memory);
    Diagnostics diags(&memory, &arena);
    parse(&memory, &arena, &diags, "int a = ;\nint b = );\nint c = 3\n");
    bool line1 = false, line2 = false, line3 = false;
    for (u32 i = 0; i < diags.size(); i++) {
        line1 |= diags[i].line == 1;
        line2 |= diags[i].line == 2;
        line3 |= diags[i].line == 3;
    }
    EXPECT_TRUE(line1 && line2);
    EXPECT_FALSE(line3);
}

}

namespace {

// Diagnostics come out in source order, a repeat of one message at one
// position once, and messages at one position in the order they came.
TEST_F(FrontendTest, DiagnosticsSortedAndRepeatsDropped)
{
    Arena arena(&memory);
    Diagnostics diags(&memory, &arena);
    diags.error(5, 2, "late");
    diags.error(1, 9, "first line, later column");
    diags.error(1, 3, "first");
    diags.error(5, 2, "late");
    diags.error(5, 2, "also late");
    diags.report(Severity::Warning, 5, 2, "late");
    diags.error(1, 3, "first");
    diags.sort_and_dedupe();
    const char* expected[] = { "first", "first line, later column", "late", "also late", "late" };
    ASSERT_EQ(diags.size(), 5u);
    for (u32 i = 0; i < 5; i++)
        EXPECT_STREQ(diags[i].message, expected[i]) << i;
    EXPECT_EQ(diags[4].severity, Severity::Warning);
    EXPECT_EQ(diags[0].column, 3u);
    EXPECT_EQ(diags[2].line, 5u);
}

}
