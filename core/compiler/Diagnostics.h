// Compile diagnostics: each is "line:col: error: message", all of them are
// collected, and the caller decides how to print them.
#pragma once

#include "../support/Arena.h"
#include "../support/Vector.h"

namespace ks {

// Info: a remark that is neither a problem nor a risk (the type `var`
// inferred, a conversion that does nothing); printed like a warning.
enum class Severity : u8 { Error, Warning, Info };

struct Diagnostic {
    Severity severity;
    u32 line;
    u32 column;
    const char* message;   // Arena-owned, NUL-terminated.
    bool deferred;         // Transcript mode: reported when its code runs.
};

class Diagnostics {
public:
    Diagnostics(Memory* memory, Arena* arena) : m_list(memory), m_arena(arena) {}

    // [message] may contain %s (C strings: s1, s2, s3 in turn) and %d (an
    // i64) placeholders.
    void report(Severity severity, u32 line, u32 column, const char* format, const char* s1 = nullptr,
        const char* s2 = nullptr, i64 number = 0, const char* s3 = nullptr);
    void error(u32 line, u32 column, const char* format, const char* s1 = nullptr, const char* s2 = nullptr,
        i64 number = 0, const char* s3 = nullptr)
    {
        report(Severity::Error, line, column, format, s1, s2, number, s3);
    }

    u32 error_count() const { return m_errors; }
    u32 size() const { return m_list.size(); }
    const Diagnostic& operator[](u32 i) const { return m_list[i]; }
    bool out_of_memory() const { return m_out_of_memory; }
    void mark_deferred_from(u32 first)
    {
        for (u32 i = first; i < m_list.size(); i++)
            if (m_list[i].severity == Severity::Error)
                m_list[i].deferred = true;
    }
    // Transcript mode: diagnostic [i] is reported by the code (a Report
    // instruction), not when the program loads.
    void mark_deferred(u32 i) { m_list[i].deferred = true; }
    void set_out_of_memory() { m_out_of_memory = true; }
    // Forgets the diagnostics past the first [size] (and errors past
    // [errors]): what a probe (`defined(...)`) found is no problem.
    void restore(u32 size, u32 errors)
    {
        if (size < m_list.size())
            m_list.shrink(size);
        m_errors = errors;
    }
    // Puts the list in source order (line, then column; a stable sort, so
    // that the messages of one position keep the order they were found in)
    // and drops repeats of the same message at the same position, as javac
    // and rustc print them. Called once the compile is over.
    void sort_and_dedupe();
    // An error that ends the compile ("compilation interrupted"): stored even
    // when the cap below has been reached, so that the caller learns why.
    void error_past_cap(u32 line, u32 column, const char* message)
    {
        m_past_cap = true;
        report(Severity::Error, line, column, message);
        m_past_cap = false;
    }
    // Cap on stored diagnostics, so that hostile input cannot use up memory
    // with error messages.
    static constexpr u32 kMaxDiagnostics = 200;

private:
    Vector<Diagnostic> m_list;
    Arena* m_arena;
    u32 m_errors { 0 };
    bool m_out_of_memory { false };
    bool m_past_cap { false };
};

}
