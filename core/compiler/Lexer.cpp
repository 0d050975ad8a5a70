#include "Lexer.h"

namespace ks {

// The text a token kind prints as in messages ("'('", "identifier").
const char* token_text(Tok kind)
{
    switch (kind) {
#define KS_TOKEN_TEXT(name, text) \
    case Tok::name:               \
        return text;
        KS_TOKENS(KS_TOKEN_TEXT)
#undef KS_TOKEN_TEXT
    }
    return "?";
}

// Character classes, one table load per test (identifiers are most of a
// program's bytes): letters, '_' and every byte of a UTF-8 sequence start
// an identifier; digits continue one. skip_plain() steps over blanks and
// the operator characters that make no token with an error or a value.
enum : u8 { CharIdentStart = 1, CharDigit = 2, CharBlank = 4, CharOperator = 8 };

struct CharTable {
    u8 bits[256];
};

// Built at compile time: the class bits of every byte.
static constexpr CharTable make_char_table()
{
    CharTable t {};
    for (u32 c = 0; c < 256; c++) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80)
            t.bits[c] |= CharIdentStart;
        if (c >= '0' && c <= '9')
            t.bits[c] |= CharDigit;
    }
    for (const char* p = " \t\r"; *p; p++)
        t.bits[(u8)*p] |= CharBlank;
    // Not '/' (it may start a comment), braces (skip_lexing() counts them)
    // or quotes (strings interpolate).
    for (const char* p = "()[],;.:?@~+-*%^!=&|<>"; *p; p++)
        t.bits[(u8)*p] |= CharOperator;
    return t;
}

static constexpr CharTable kChars = make_char_table();

// One table load each: a letter, '_' or a UTF-8 byte starts an identifier;
// a digit only continues one.
static bool is_ident_start(char c) { return kChars.bits[(u8)c] & CharIdentStart; }
static bool is_digit(char c) { return kChars.bits[(u8)c] & CharDigit; }
static bool is_ident_char(char c) { return kChars.bits[(u8)c] & (CharIdentStart | CharDigit); }

struct Keyword {
    const char* text;
    u32 length;
    Tok kind;

    constexpr Keyword(const char* t, Tok k) : text(t), length(0), kind(k)
    {
        while (t[length])
            length++;
    }
};

// The reserved words. keyword_kind() finds the one an identifier may be by
// a perfect hash (kKeywordSlots), then compares it.
static constexpr Keyword kKeywords[] = {
    { "as", Tok::KwAs }, { "break", Tok::KwBreak }, { "boolean", Tok::KwBoolean },
    { "continue", Tok::KwContinue }, { "class", Tok::KwClass }, { "const", Tok::KwConst },
    { "catch", Tok::KwCatch }, { "case", Tok::KwCase }, { "do", Tok::KwDo }, { "default", Tok::KwDefault },
    { "else", Tok::KwElse }, { "extends", Tok::KwExtends }, { "for", Tok::KwFor }, { "false", Tok::KwFalse },
    { "finally", Tok::KwFinally }, { "if", Tok::KwIf }, { "instanceof", Tok::KwInstanceof },
    { "import", Tok::KwImport }, { "int", Tok::KwInt }, { "new", Tok::KwNew }, { "null", Tok::KwNull },
    { "return", Tok::KwReturn }, { "super", Tok::KwSuper }, { "switch", Tok::KwSwitch },
    { "static", Tok::KwStatic }, { "this", Tok::KwThis }, { "true", Tok::KwTrue }, { "try", Tok::KwTry },
    { "throw", Tok::KwThrow }, { "to", Tok::KwTo }, { "var", Tok::KwVar }, { "void", Tok::KwVoid },
    { "while", Tok::KwWhile },
};
constexpr u32 kKeywordCount = sizeof(kKeywords) / sizeof(kKeywords[0]);
constexpr u32 kKeywordMaxLength = 10;   // "instanceof"

// The slot of a word of [length] bytes from [first] to [last] in
// kKeywordSlots: the constants were searched for so that no two keywords
// share a slot (checked below).
static constexpr u32 keyword_slot(u8 first, u8 last, u32 length) { return (first + last * 6u + length * 8u) & 127; }

// Per slot: 1 + the index of the keyword there, or 0. [perfect]: no two
// keywords in one slot, none longer than kKeywordMaxLength.
struct KeywordSlots {
    u8 keyword[128];
    bool perfect;
};

static constexpr KeywordSlots make_keyword_slots()
{
    KeywordSlots t {};
    t.perfect = true;
    for (u32 i = 0; i < kKeywordCount; i++) {
        const Keyword& k = kKeywords[i];
        u32 slot = keyword_slot((u8)k.text[0], (u8)k.text[k.length - 1], k.length);
        if (t.keyword[slot] || k.length > kKeywordMaxLength || k.length < 2)
            t.perfect = false;
        t.keyword[slot] = (u8)(i + 1);
    }
    return t;
}

static constexpr KeywordSlots kKeywordSlots = make_keyword_slots();
static_assert(kKeywordSlots.perfect, "two keywords share a slot of keyword_slot(): change its constants");

// The keyword [start, start + length) spells, or Tok::Ident: one table
// load, then at most one comparison (inline: once per identifier).
static KS_ALWAYS_INLINE Tok keyword_kind(const char* start, u32 length)
{
    if (length < 2 || length > kKeywordMaxLength)
        return Tok::Ident;
    u32 k = kKeywordSlots.keyword[keyword_slot((u8)start[0], (u8)start[length - 1], length)];
    if (!k || kKeywords[k - 1].length != length)
        return Tok::Ident;
    const char* text = kKeywords[k - 1].text;
    for (u32 i = 0; i < length; i++)
        if (text[i] != start[i])
            return Tok::Ident;
    return kKeywords[k - 1].kind;
}

// Whether the line from [p] (to its '\n' or [end]) has no byte above 0x7f:
// eight bytes a step while none of them is a newline or such a byte.
static bool line_is_ascii(const char* p, const char* end)
{
    constexpr u64 kOnes = 0x0101010101010101ull;
    constexpr u64 kHigh = 0x8080808080808080ull;
    while (end - p >= 8) {
        u64 w;
        mem_copy(&w, p, 8);
        u64 newline = w ^ (kOnes * '\n');
        if ((w & kHigh) || ((newline - kOnes) & ~newline & kHigh))
            break;   // One of the eight ends the line or is not ASCII.
        p += 8;
    }
    for (; p < end && *p != '\n'; p++)
        if ((u8)*p >= 0x80)
            return false;
    return true;
}

// Whether no byte of [p, end) is above 0x7f: eight bytes a step. Once for
// the text a lexer reads, so that columns on most sources are byte offsets
// without a look at each line.
static bool text_is_ascii(const char* p, const char* end)
{
    constexpr u64 kHigh = 0x8080808080808080ull;
    u64 high = 0;
    for (; end - p >= 8; p += 8) {
        u64 w;
        mem_copy(&w, p, 8);
        high |= w;
    }
    for (; p < end; p++)
        high |= (u8)*p;
    return !(high & kHigh);
}

// column_of()'s path for a new line (checked once for non-ASCII bytes)
// and for lines that have them (characters counted, resuming where the last
// count stopped).
u32 Lexer::column_slow(const char* where)
{
    // Columns count characters (UTF-8 continuation bytes are skipped), from
    // 1. On a line of ASCII only (found once per line) that is the byte
    // offset. Otherwise positions only move forward, so counting resumes
    // where the last call stopped: linear in the line length overall.
    if (m_column_line != m_line_start) {
        m_column_line = m_line_start;
        m_column_at = m_line_start;
        m_column = 1;
        m_line_ascii = line_is_ascii(m_line_start, m_end);
    }
    if (m_line_ascii)
        return (u32)(where - m_line_start) + 1;
    if (where < m_column_at) {
        m_column_at = m_line_start;
        m_column = 1;
    }
    for (; m_column_at < where; m_column_at++)
        if (((u8)*m_column_at & 0xc0) != 0x80)
            m_column++;
    return m_column;
}

// An error at [where] on the current line.
void Lexer::error_at(const char* where, const char* message)
{
    if (!m_quiet)
        m_diagnostics->error(m_line, column_of(where), message);
}

// Moves past spaces, newlines (counting lines) and comments; false at the
// end of the source. An unterminated block comment is an error at its start.
bool Lexer::skip_space_and_comments()
{
    while (m_cursor < m_end) {
        char c = *m_cursor;
        if (c == '\n') {
            m_cursor++;
            m_line++;
            m_line_start = m_cursor;
            m_newline = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            m_cursor++;
        } else if (c == '/' && m_cursor + 1 < m_end && m_cursor[1] == '/') {
            while (m_cursor < m_end && *m_cursor != '\n')
                m_cursor++;
        } else if (c == '/' && m_cursor + 1 < m_end && m_cursor[1] == '*') {
            // "/** ... **/" comments nest; plain "/* */" ones do not.
            const char* start = m_cursor;
            u32 start_line = m_line;
            u32 start_column = column_of(start);
            u32 depth = 0;
            bool closed = false;
            while (m_cursor < m_end) {
                if (m_cursor + 2 < m_end && m_cursor[0] == '/' && m_cursor[1] == '*' && m_cursor[2] == '*') {
                    depth++;
                    m_cursor += 3;
                } else if (m_cursor + 1 < m_end && m_cursor[0] == '/' && m_cursor[1] == '*') {
                    if (depth == 0)
                        depth = 1;
                    m_cursor += 2;
                } else if (m_cursor + 2 < m_end && m_cursor[0] == '*' && m_cursor[1] == '*' && m_cursor[2] == '/') {
                    m_cursor += 3;
                    if (--depth == 0) {
                        closed = true;
                        break;
                    }
                } else if (m_cursor + 1 < m_end && m_cursor[0] == '*' && m_cursor[1] == '/') {
                    m_cursor += 2;
                    if (--depth == 0) {
                        closed = true;
                        break;
                    }
                } else {
                    if (*m_cursor == '\n') {
                        m_line++;
                        m_line_start = m_cursor + 1;
                        m_newline = true;
                    }
                    m_cursor++;
                }
            }
            if (!closed && !m_quiet)
                m_diagnostics->error(start_line, start_column, "unterminated comment");
        } else {
            return true;
        }
    }
    return false;
}

// Makes [token] (an Int or a String, its aux still its length) point at
// [value], kept in the token list's values.
void Lexer::keep_value(Token* token, TokenValue value)
{
    if (m_skipping)
        return;   // The token is dropped: its aux stays its length.
    value.length = token->aux;
    u32 i = m_out->add_value(value);
    if (i == TokenList::kNoValue) {
        m_out_of_memory = true;
        token->kind = Tok::Error;
        return;
    }
    token->aux = i;
}

// The value of the Int token lexed so far (decimal, 0x, 0b, 0o or a leading
// 0 for octal; '_' separators; Konoha's letter suffixes ignored), kept in
// the token list's values; a malformed or too large literal is an error
// and the value 0.
void Lexer::lex_number(Token* token)
{
    const char* start = m_source + token->offset;
    // Most literals are a few decimal digits: no prefix, separator, suffix
    // or overflow to look for.
    u32 length = (u32)(m_cursor - start);
    if (length <= 18 && (start[0] != '0' || length == 1)) {
        u64 value = 0;
        u32 i = 0;
        for (; i < length && is_digit(start[i]); i++)
            value = value * 10 + (u64)(start[i] - '0');
        if (i == length) {
            TokenValue v;
            v.int_value = (i64)value;
            v.string_length = 0;
            keep_value(token, v);
            return;
        }
    }
    const char* p = start;
    u64 base = 10;
    if (p[0] == '0' && p + 1 < m_end && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && p + 1 < m_end && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    } else if (p[0] == '0' && p + 1 < m_end && (p[1] == 'o' || p[1] == 'O')) {
        base = 8;
        p += 2;
    } else if (p[0] == '0' && p + 1 < m_cursor && (is_digit(p[1]) || p[1] == '_')) {
        base = 8;   // C and Java: a leading 0 means octal (file modes: 0644).
        p += 1;
    }
    // Konoha's suffixes: `1000000L` (an int: ints are 64-bit already) and
    // units (`1234km`, `5s`): letters after the digits that cannot be
    // digits of the base are ignored.
    const char* digits_end = p;
    while (digits_end < m_cursor) {
        char c = *digits_end;
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool hex_digit = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (letter && (base != 16 || !hex_digit || c == 'L' || c == 'l'))
            break;
        digits_end++;
    }
    const char* suffix = digits_end;
    while (suffix < m_cursor && ((*suffix >= 'a' && *suffix <= 'z') || (*suffix >= 'A' && *suffix <= 'Z')))
        suffix++;
    const char* end = suffix == m_cursor && digits_end > p ? digits_end : m_cursor;
    u64 value = 0;
    bool overflow = false;
    bool any = false;
    bool bad = false;
    for (; p < end; p++) {
        char c = *p;
        if (c == '_')
            continue;
        u64 digit;
        if (is_digit(c))
            digit = (u64)(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = (u64)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = (u64)(c - 'A' + 10);
        else
            digit = 99;
        if (digit >= base) {
            bad = true;
            continue;
        }
        any = true;
        if (__builtin_mul_overflow(value, base, &value) || __builtin_add_overflow(value, digit, &value))
            overflow = true;
    }
    if (bad || !any) {
        error_at(start, "malformed integer literal");
        value = 0;
    } else if (overflow || (base == 10 && value > (u64)KS_INT_MAX + 1)) {
        // Decimal literals may be up to 2^63 (only valid after unary minus,
        // which the parser checks); hex, octal and binary literals may fill
        // all 64 bits.
        error_at(start, "integer literal does not fit in 64 bits");
        value = 0;
    }
    TokenValue v;
    v.int_value = (i64)value;
    v.string_length = 0;
    keep_value(token, v);
}

// A string literal from its opening quote (see lex_string_part()).
void Lexer::lex_string(Token* token)
{
    lex_string_part(token, m_source + token->offset + 1);
}

// Lexes string text from [from] to its closing quote or, for Konoha's
// interpolation, to `${` (m_string_interpolates is then set and m_cursor
// is after the `${`). The token's text is the decoded part.
void Lexer::lex_string_part(Token* token, const char* from)
{
    // First pass finds the end and the decoded size; second pass decodes.
    const char* p = from;
    usize size = 0;
    bool closed = false;
    m_string_interpolates = false;
    while (p < m_end) {
        if (*p == '"') {
            closed = true;
            break;
        }
        if (*p == '$' && p + 1 < m_end && p[1] == '{') {
            closed = true;
            m_string_interpolates = true;
            break;
        }
        if (*p == '\n')
            break;
        // An escape takes the next character, but never a newline: a string
        // ends on its own line (the line count stays true after it).
        if (*p == '\\' && p + 1 < m_end && p[1] != '\n')
            p++;
        p++;
        size++;
    }
    m_cursor = closed ? p + (m_string_interpolates ? 2 : 1) : p;
    token->aux = (u32)(m_cursor - (m_source + token->offset));
    if (!closed) {
        error_at(m_source + token->offset, "unterminated string literal");
        token->kind = Tok::Error;
        return;
    }
    // A skipped token's text is checked (its escapes) but not kept.
    char* out = m_skipping ? nullptr : static_cast<char*>(m_arena->alloc(size + 1));
    if (!out && !m_skipping) {
        m_out_of_memory = true;
        token->kind = Tok::Error;
        return;
    }
    usize n = 0;
    for (const char* q = from; q < p; q++) {
        char c = *q;
        if (c == '\\') {
            q++;
            switch (*q) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '\'': c = '\''; break;
            case '$': c = '$'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'r': c = '\r'; break;
            case 'v': c = '\v'; break;
            default: {
                char escape[2] = { *q, 0 };
                if (m_quiet) {
                    c = *q;
                    break;
                }
                m_diagnostics->error(m_line, column_of(q - 1), "invalid escape sequence '\\%s' in string literal",
                    escape);
                // Konoha adds what was probably meant: the backslash itself.
                m_diagnostics->report(Severity::Info, m_line, column_of(q - 1),
                    "a backslash followed by '%s' is written '\\\\%s'", escape, escape);
                c = *q;
                break;
            }
            }
        }
        if (out)
            out[n] = c;
        n++;
    }
    if (out)
        out[n] = 0;
    TokenValue v;
    v.string = out;
    v.string_length = (u32)n;
    keep_value(token, v);
}

// Lexes the next token into [t].
KS_ALWAYS_INLINE void Lexer::next(Token* t)
{
    // Most tokens follow one space or none, not a newline or a comment:
    // those need no call of the loop that handles the rest.
    if (m_cursor < m_end && *m_cursor == ' ')
        m_cursor++;
    if (KS_UNLIKELY(m_cursor >= m_end || (u8)*m_cursor <= ' ' || *m_cursor == '/') && !skip_space_and_comments()) {
        make(t, Tok::Eof, m_end);
        return;
    }
    const char* start = m_cursor;
    char c = *m_cursor++;
    auto two = [&](char second, Tok yes, Tok no) {
        if (m_cursor < m_end && *m_cursor == second) {
            m_cursor++;
            return yes;
        }
        return no;
    };
    Tok kind;
    switch (c) {
    case '(': kind = Tok::LParen; break;
    case ')': kind = Tok::RParen; break;
    case '{': kind = Tok::LBrace; break;
    case '}': kind = Tok::RBrace; break;
    case '[': kind = Tok::LBracket; break;
    case ']': kind = Tok::RBracket; break;
    case ',': kind = Tok::Comma; break;
    case ';': kind = Tok::Semicolon; break;
    case '.': kind = Tok::Dot; break;
    case ':': kind = Tok::Colon; break;
    case '?': kind = Tok::Question; break;
    case '@': kind = Tok::At; break;
    case '~': kind = Tok::Tilde; break;
    case '+':
        kind = (m_cursor < m_end && *m_cursor == '+') ? (m_cursor++, Tok::PlusPlus) : two('=', Tok::PlusAssign, Tok::Plus);
        break;
    case '-':
        kind = (m_cursor < m_end && *m_cursor == '-') ? (m_cursor++, Tok::MinusMinus) : two('=', Tok::MinusAssign, Tok::Minus);
        break;
    case '*': kind = two('=', Tok::StarAssign, Tok::Star); break;
    case '/': kind = two('=', Tok::SlashAssign, Tok::Slash); break;
    case '%': kind = two('=', Tok::PercentAssign, Tok::Percent); break;
    case '^': kind = two('=', Tok::CaretAssign, Tok::Caret); break;
    case '!': kind = two('=', Tok::Ne, Tok::Bang); break;
    case '=': kind = two('=', Tok::Eq, Tok::Assign); break;
    case '&':
        kind = (m_cursor < m_end && *m_cursor == '&') ? (m_cursor++, Tok::AndAnd) : two('=', Tok::AmpAssign, Tok::Amp);
        break;
    case '|':
        kind = (m_cursor < m_end && *m_cursor == '|') ? (m_cursor++, Tok::OrOr) : two('=', Tok::PipeAssign, Tok::Pipe);
        break;
    case '<':
        if (m_cursor < m_end && *m_cursor == '<') {
            m_cursor++;
            kind = two('=', Tok::ShlAssign, Tok::Shl);
        } else {
            kind = two('=', Tok::Le, Tok::Lt);
        }
        break;
    case '>':
        if (m_cursor < m_end && *m_cursor == '>') {
            m_cursor++;
            kind = two('=', Tok::ShrAssign, Tok::Shr);
        } else {
            kind = two('=', Tok::Ge, Tok::Gt);
        }
        break;
    case '"':
        make(t, Tok::String, start);
        lex_string(t);
        m_newline = false;
        return;
    default:
        if (is_digit(c)) {
            while (m_cursor < m_end && is_ident_char(*m_cursor))
                m_cursor++;
            make(t, Tok::Int, start);
            lex_number(t);
            m_newline = false;
            return;
        }
        if (is_ident_start(c)) {
            while (m_cursor < m_end && is_ident_char(*m_cursor))
                m_cursor++;
            make(t, keyword_kind(start, (u32)(m_cursor - start)), start);
            m_newline = false;
            return;
        }
        {
            make(t, Tok::Error, start);
            if (c == '\'')
                error_at(start, "character literals are not supported; use a string");
            else
                error_at(start, "unexpected character");
            m_newline = false;
            return;
        }
    }
    make(t, kind, start);
    m_newline = false;
}

// See Lexer.h. What it steps over are whole tokens of the kinds that lex()
// makes without a diagnostic: an identifier or keyword, a decimal literal
// of at most 18 digits with no leading 0 (lex_number()'s fast path; any
// other number is left to lex(), which checks it), an operator character
// (an operator of two counts as two tokens for the meter, which is then
// charged a little more than lex() would charge). Lines are counted as
// skip_space_and_comments() counts them.
bool Lexer::skip_plain(void (*name)(void* context, const char* text, u32 length), void* context)
{
    const char* p = m_cursor;
    const char* end = m_end;
    bool ok = true;
    while (p < end) {
        u8 c = (u8)*p;
        u8 bits = kChars.bits[c];
        if (bits & CharBlank) {
            p++;
            continue;
        }
        if (c == '\n') {
            p++;
            m_line++;
            m_line_start = p;
            m_newline = true;
            continue;
        }
        const char* start = p;
        if (bits & CharOperator) {
            p++;
        } else if (bits & CharIdentStart) {
            for (p++; p < end && is_ident_char(*p); p++) {
            }
            u32 length = (u32)(p - start);
            if (keyword_kind(start, length) == Tok::Ident)
                name(context, start, length);
        } else if (bits & CharDigit) {
            for (p++; p < end && is_digit(*p); p++) {
            }
            if ((p < end && is_ident_char(*p)) || p - start > 18 || (c == '0' && p - start > 1)) {
                p = start;
                break;
            }
        } else {
            break;
        }
        m_newline = false;
        if ((++m_lexed & 63) == 0 && m_meter && !m_meter->charge(64)) {
            ok = false;
            break;
        }
    }
    m_cursor = p;
    return ok;
}

// See Lexer.h. An optional "#!" first line is skipped.
void Lexer::start(TokenList* out)
{
    m_out = out;
    out->set_source(m_source);
    m_all_ascii = text_is_ascii(m_cursor, m_end);
    if (m_cursor == m_source && m_end - m_cursor >= 2 && m_cursor[0] == '#' && m_cursor[1] == '!') {
        while (m_cursor < m_end && *m_cursor != '\n')
            m_cursor++;
    }
}

// See Lexer.h. Columns on the '{' line count on from the '{' ([column],
// found by the first lexing): the line's start is not looked for, so that
// a body late on a long line (a 1 MB script on one line) costs its own
// bytes only. The line's start is taken to be [column] - 1 bytes before the
// '{', which it is when the line's text before the '{' is ASCII, and
// otherwise is only the key of the column cache, which counts from the '{'.
// Before start(), which looks at the text from the cursor on.
void Lexer::restart_at(u32 offset, u32 line, u32 column)
{
    m_cursor = m_source + offset;
    m_line = line;
    u32 back = column > offset + 1 ? offset : column - 1;
    m_line_start = m_cursor - back;
    m_column_line = m_line_start;
    m_column_at = m_cursor;
    m_column = column;
    m_line_ascii = false;   // Columns are counted on from the '{' (column_slow()).
    m_newline = false;
    m_quiet = true;
    m_depth = 0;
    m_done = false;
}

bool Lexer::tokenize(TokenList* out)
{
    start(out);
    while (!m_done)
        if (!lex())
            return false;
    return true;
}

// Konoha's string interpolation: "a${x}b" is read as ("a" + (x) + "b"),
// tokens made here around the string's parts, so that the parser and the
// checker see an ordinary concatenation (which starts with a string, so
// any value converts). The `${...}` nest (a string inside one may
// interpolate too) up to kMaxInterpolation deep; braces inside count.
KS_ALWAYS_INLINE bool Lexer::lex_one()
{
    // Lexed in place; only a token that takes part in an interpolation
    // (or the Eof) is taken back out and written with the tokens made
    // around it, by lex_special().
    Token* slot = m_out->push();
    if (!slot)
        return false;
    next(slot);
    if (KS_UNLIKELY(m_depth || slot->kind == Tok::Eof || m_out_of_memory
            || (slot->kind == Tok::String && m_string_interpolates)))
        return lex_special(slot);
    // A unit per token, charged 64 at a time.
    return (++m_lexed & 63) != 0 || !m_meter || m_meter->charge(64);
}

bool Lexer::lex() { return lex_one(); }

// See Lexer.h: lex() in a loop, inlined.
bool Lexer::lex_some(u32 count, u32* lexed)
{
    for (u32 n = 0; n < count && !m_done; n++) {
        u32 before = m_out->size();
        if (!lex_one()) {
            *lexed = before;
            return false;
        }
    }
    return true;
}

// lex() for a token [slot] that starts or is inside an interpolation, or
// is the Eof, or was lexed as memory ran out.
bool Lexer::lex_special(Token* slot)
{
    if (m_out_of_memory)
        return false;
    TokenList* out = m_out;
    u32* braces = m_braces;
    u32& depth = m_depth;
    // A skipped token has no value: its aux is its length.
    auto length = [&](const Token& at) {
        return m_skipping && TokenList::has_value(at.kind) ? at.aux : out->length(at);
    };
    auto synthetic = [&](Tok kind, const Token& at) {
        Token t = at;
        t.kind = kind;
        t.newline_before = false;
        t.aux = length(at);
        return out->try_append(t);
    };
    Token t = *slot;
    out->pop();
    bool ok = true;
    bool interpolates = t.kind == Tok::String && m_string_interpolates;
    if (interpolates) {
        // The start of an interpolating string: ( "part" + (
        if (depth == kMaxInterpolation) {
            error_at(m_source + t.offset, "string interpolation nested too deep");
            t.kind = Tok::Error;
            ok = out->try_append(t);
        } else {
            braces[depth++] = 0;
            Token open = t;
            open.kind = Tok::LParen;
            open.aux = length(t);
            t.newline_before = false;
            ok = out->try_append(open) && out->try_append(t) && synthetic(Tok::Plus, t)
                && synthetic(Tok::LParen, t);
        }
    } else if (depth && t.kind == Tok::LBrace) {
        braces[depth - 1]++;
        ok = out->try_append(t);
    } else if (depth && t.kind == Tok::RBrace && braces[depth - 1]) {
        braces[depth - 1]--;
        ok = out->try_append(t);
    } else if (depth && t.kind == Tok::RBrace) {
        // The end of a `${...}`: ) + "next part", then ( again for
        // another `${`, or the string's closing ).
        Token part = make(Tok::String, m_cursor);
        lex_string_part(&part, m_cursor);
        if (m_out_of_memory)
            return false;
        ok = synthetic(Tok::RParen, t) && synthetic(Tok::Plus, t) && out->try_append(part);
        if (part.kind != Tok::String)
            depth = 0;   // Unterminated: reported; the parser recovers.
        else if (m_string_interpolates)
            ok = ok && synthetic(Tok::Plus, part) && synthetic(Tok::LParen, part);
        else {
            ok = ok && synthetic(Tok::RParen, part);
            depth--;
        }
    } else {
        if (t.kind == Tok::Eof && depth)
            error_at(m_source + t.offset, "unterminated string interpolation: '${' without its '}'");
        ok = out->try_append(t);
    }
    if (!ok)
        return false;
    if (t.kind == Tok::Eof)
        m_done = true;
    return (++m_lexed & 63) != 0 || !m_meter || m_meter->charge(64);
}

}
