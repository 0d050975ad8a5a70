#include "Diagnostics.h"

#include "../support/StringBuilder.h"

namespace ks {

// Formats and stores one diagnostic (errors counted even past the cap, so
// that the caller knows the compile failed); past kMaxDiagnostics only an
// error_past_cap() one is stored.
void Diagnostics::report(Severity severity, u32 line, u32 column, const char* format, const char* s1,
    const char* s2, i64 number, const char* s3)
{
    if (severity == Severity::Error)
        m_errors++;
    if (m_list.size() >= kMaxDiagnostics && !m_past_cap)
        return;
    // Format into a small fixed buffer first: messages are short, and names
    // inside them are clipped so that a hostile identifier cannot blow it up.
    char buffer[512];
    usize n = 0;
    auto put = [&](const char* s, usize len) {
        for (usize i = 0; i < len && n < sizeof(buffer) - 1; i++)
            buffer[n++] = s[i];
    };
    const char* strings[3] = { s1, s2, s3 };
    u32 next_string = 0;
    for (const char* p = format; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            const char* s = next_string < 3 ? strings[next_string++] : nullptr;
            if (!s)
                s = "?";
            usize len = str_length(s);
            if (len > 120) {
                put(s, 117);
                put("...", 3);
            } else {
                put(s, len);
            }
            p++;
        } else if (p[0] == '%' && p[1] == 'd') {
            char digits[24];
            put(digits, StringBuilder::format_int(number, digits));
            p++;
        } else {
            put(p, 1);
        }
    }
    buffer[n] = 0;
    char* message = m_arena->copy_string(buffer, n);
    if (!message || !m_list.try_append(Diagnostic { severity, line, column, message, false })) {
        m_out_of_memory = true;
        return;
    }
}

// Insertion sort: at most kMaxDiagnostics (+1) entries, so at most about
// 20,000 moves, and stable.
void Diagnostics::sort_and_dedupe()
{
    u32 n = m_list.size();
    for (u32 i = 1; i < n; i++) {
        Diagnostic d = m_list[i];
        u32 j = i;
        while (j > 0 && (m_list[j - 1].line > d.line || (m_list[j - 1].line == d.line && m_list[j - 1].column > d.column))) {
            m_list[j] = m_list[j - 1];
            j--;
        }
        m_list[j] = d;
    }
    u32 kept = 0;
    for (u32 i = 0; i < n; i++) {
        const Diagnostic& d = m_list[i];
        bool repeat = false;
        // Repeats share the position, so they are neighbours after the sort.
        for (u32 k = kept; k > 0 && m_list[k - 1].line == d.line && m_list[k - 1].column == d.column; k--) {
            const Diagnostic& e = m_list[k - 1];
            if (e.severity == d.severity && e.deferred == d.deferred && str_equal(e.message, d.message)) {
                repeat = true;
                break;
            }
        }
        if (!repeat)
            m_list[kept++] = d;
    }
    m_list.shrink(kept);
}

}
