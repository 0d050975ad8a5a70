// WorkMeter: counts the units of work of a computation that nothing else
// bounds in time (compiling a script: lexing, parsing and checking charge a
// unit per token, syntax node, declaration and so on) and calls a hook every
// [interval] units. In the kernel the hook is cond_resched() plus a check for
// a fatal signal, so that compiling a large script neither holds a CPU for
// seconds nor ignores kill -9; when the hook returns false the work stops.
#pragma once

#include "Types.h"

namespace ks {

class WorkMeter {
public:
    using Hook = bool (*)(void* context);

    // [hook] may be null: then the meter only counts.
    void init(Hook hook, void* context, u32 interval)
    {
        m_hook = hook;
        m_context = context;
        m_interval = interval ? interval : 1;
        m_left = m_interval;
        m_total = 0;
        m_stopped = false;
    }

    // Counts [units]; false once the hook has asked to stop (and from then
    // on). Cheap when no call is due: a subtraction and a branch.
    bool charge(u32 units = 1)
    {
        if (KS_LIKELY(m_left > units)) {
            m_left -= units;
            return true;
        }
        return due(units);
    }

    bool stopped() const { return m_stopped; }
    // Units counted so far.
    u64 total() const { return m_total + (m_interval - m_left); }

private:
    // An interval is over: call the hook and start the next one.
    KS_NOINLINE bool due(u32 units)
    {
        if (m_stopped)
            return false;
        m_total += (u64)(m_interval - m_left) + units;
        m_left = m_interval;
        if (m_hook && !m_hook(m_context)) {
            m_stopped = true;
            m_left = 0;
            return false;
        }
        return true;
    }

    Hook m_hook { nullptr };
    void* m_context { nullptr };
    u32 m_interval { 1 };
    u32 m_left { 1 };
    u64 m_total { 0 };
    bool m_stopped { false };
};

}
