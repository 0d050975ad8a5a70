// The register VM. One Vm runs one program in one state; it is never entered
// by two threads at once (the host serializes calls into a state).
//
// Frames live in an array and registers in one value stack, both on the heap
// and grown on demand, so script recursion never uses native stack: the
// interpreter loop is one C++ frame whatever the script does. The one
// re-entry: a native calling back into a script (sort's comparator, an
// element's toString()) runs a nested loop, at most kMaxNestedRuns deep.
#pragma once

#include "../support/StringBuilder.h"
#include "Heap.h"
#include "Program.h"

namespace ks {

struct Frame {
    Function* function;
    u32 base;          // Index of register 0 in the value stack.
    u32 pc;            // Saved resume point (callers only).
    u16 result;        // Caller register that receives the return value.
};

enum class RunStatus : u8 {
    Ok,
    Exception,   // An exception escaped; see exception_*().
};

enum HostRequest {
    HostDeviceCreate = 1,
    HostTimerCreate = 2,
    HostTimerStop = 3,
    HostProcCreate = 4,
    HostProbeCreate = 5,       // Kprobe (flag false) or Kretprobe (flag true) on [name]
    HostNetfilterCreate = 6,   // family [number], hook point [number2], priority [number3]
};

// What Linux.__deviceCreate and friends pass to the host-object layer.
struct HostRequestArgs {
    int request;          // HostRequest
    u64 object;           // The script object (checked by the layer: any value may come)
    const char* name;     // Device and /proc names: NUL-terminated, [name_length] bytes before it
    usize name_length;
    i64 number;           // Device mode; timer interval in ms; netfilter family
    bool flag;            // Proc: writable; Timer: periodic; probe: a Kretprobe
    i64 number2;          // Netfilter: hook point
    i64 number3;          // Netfilter: priority
};

// What the host reads for Linux.readKernel(), readKernelString() and
// Packet.bytes().
enum HostRead { ReadKernel = 0, ReadKernelString = 1, ReadPacket = 2 };

// How the VM talks to its host.
struct VmHooks {
    // Output of System.p and Linux.printk ([stream] 0: print, 1: kernel log).
    void (*write)(void* context, int stream, const char* text, usize length);
    // Called every poll interval of budget; returns false to interrupt the
    // script (it then stops with BudgetExceededException).
    bool (*poll)(void* context);
    // Host information for the Linux.* functions.
    i64 (*info)(void* context, int what);
    // Linux.comm(): writes the current task name (up to 16 bytes).
    usize (*comm)(void* context, char* out);
    // Host objects (Device, Proc, Timer): returns 0, or a negative errno
    // with a static text saying why in [reason].
    i64 (*request)(void* context, const HostRequestArgs& args, const char** reason);
    // Copies [n] bytes of [what] (HostRead) at [where] to [out] without
    // faulting: for ReadPacket, [packet] must be the Packet of the event
    // being handled. Returns the bytes copied (ReadKernelString: up to and
    // without the NUL), or a negative errno with a static [reason].
    i64 (*read)(void* context, int what, u64 packet, u64 where, void* out, usize n, const char** reason);
    void* context;
};

enum HostInfo { InfoJiffies = 0, InfoPid = 1, InfoUid = 2, InfoKtimeNs = 3 };

struct VmLimits {
    i64 budget;          // Instructions (approximate: loops and calls) per entry.
    u32 max_depth;       // Call depth.
    u32 max_stack;       // Registers on the value stack.
    i64 poll_interval;   // Budget between polls.
};

class Vm {
public:
    bool init(Memory* memory, Heap* heap, Program* program, const VmLimits& limits, const VmHooks& hooks,
        bool transcript);
    void destroy();

    // Runs the top-level statements.
    RunStatus run_main();
    // Calls function [index] with [args]; the result (if any) goes to [result].
    RunStatus call(u32 index, const u64* args, u32 argc, u64* result);
    // A hook's entry (ks_object_hit): call() of function [index] with the
    // hook object [self] and its Regs or Packet [arg], on the budget that
    // set_atomic() gave. Inline, with the frame pushed in place, so that an
    // event makes one call, into the interpreter: in a kernel built with
    // retpolines, run under TCG, each call and return costs the event more
    // than the instructions around it. The rare cases (frame array full,
    // stack to grow) go through call().
    RunStatus call_hook(u32 index, u64 self, u64 arg, u64* result);

    // The uncaught exception after RunStatus::Exception.
    u64 exception() const { return m_exception; }
    u32 exception_line() const { return m_exception_line; }
    // The script frames of the last exception raised, innermost first (the
    // function and the line in it), for stack traces: at most kMaxTrace are
    // kept; trace_omitted() says how many outer frames were not.
    struct TraceEntry {
        const char* function;
        u32 line;
    };
    static constexpr u32 kMaxTrace = 16;
    u32 trace_count() const { return m_trace_count; }
    const TraceEntry& trace(u32 i) const { return m_trace[i]; }
    u32 trace_omitted() const { return m_trace_omitted; }
    // For natives: the script line running now (the innermost frame that
    // is not built-in code), 0 outside any call.
    u32 current_line() const;
    const char* exception_class() const;
    // Writes the exception message into [out]; returns its length.
    // The pending exception's message into [out] (cut to [size] - 1 bytes
    // and a NUL); returns its whole length.
    usize exception_message(char* out, usize size) const;

    // For natives.
    Heap& heap() { return *m_heap; }
    Memory& memory() { return *m_memory; }
    Program& program() { return *m_program; }
    const VmHooks& hooks() const { return m_hooks; }
    // Raise a built-in exception (always returns false, for `return vm.raise(...)`).
    bool raise(u32 builtin_class, const char* message);
    bool raise_out_of_memory() { return raise(ClassOutOfMemoryException, "out of memory"); }
    // OutOfBoundsException saying "[what]: index I, length L".
    bool raise_index(const char* what, i64 index, i64 length);
    // [builtin_class] with "[message]: \"TEXT\"" ([text] clipped to 40 bytes).
    bool raise_quoting(u32 builtin_class, const char* message, const char* text, usize length);
    bool raise_cast(u64 value, RtClass* target);
    // TypeCastException naming the value's type and type index [target]:
    // "String[] cannot be cast to int[]".
    bool raise_type_cast(u64 value, u32 target);
    // Whether [value] (a reference, not null) is of type index [t] (String,
    // Bytes, an array, map or function type) in full: an array's element
    // type, a map's key and value types, a function's signature.
    bool has_type(u64 value, u32 t) const;
    // Returns null after raising OutOfMemoryException.
    StringObj* new_string(const char* bytes, usize length);
    // Appends the display form of [value] of [kind] to [out], whole (no
    // length cap: the text is a value), [depth] containers deep (strings
    // inside containers are quoted). The walk is charged, one unit per
    // element or map entry, checked. Returns false with an exception
    // pending: OutOfMemoryException when [out] cannot grow, or
    // BudgetExceededException.
    bool format_value(StringBuilder& out, u64 value, u8 kind, u32 depth);
    // format_value() at the top level, except that a null String is "null"
    // (as in Java): the text printing, `+` and join() give a value.
    bool append_text(StringBuilder& out, u64 value, u8 kind);
    void collect_garbage();
    // Calls the function value [func] from a native (sort's comparator, an
    // element's toString()); false with the exception pending. Collections
    // may happen during the call: the native must keep what it holds
    // reachable (pin()) and re-read the objects it looks at.
    bool call_nested(u64 func, const u64* args, u32 argc, u64* result);
    // Atomic mode, for hooks (kprobes, netfilter): entries get [budget]
    // units instead of the limit, never poll the host (no rescheduling) and
    // never collect (a collection that falls due waits: collection_due()).
    // Leaving atomic mode restores the limit.
    void set_atomic(bool atomic, i64 budget)
    {
        m_atomic = atomic;
        m_entry_budget = atomic ? budget : m_limits.budget;
    }
    bool atomic() const { return m_atomic; }
    // Whether a collection may run now: not in atomic mode, nor while a
    // toString() called from formatting runs.
    bool may_collect() const { return !m_atomic && !m_collection_holds; }
    bool collection_due() const { return m_heap->should_collect(); }
    // Host-held objects that must survive collections (devices, timers...).
    bool pin(u64 value);
    void unpin(u64 value);

    // Statistics.
    u64 instructions_charged() const { return m_charged; }
    u64 calls() const { return m_calls; }
    u64 exceptions_raised() const { return m_exceptions_raised; }
    // Charges work that is not one instruction (scanning, copying): one unit
    // per 16 bytes. Running out stops the script at its next loop or call.
    void charge_bytes(u64 bytes) { m_budget -= (i64)(bytes >> 4); }
    void charge_units(u64 units) { m_budget -= (i64)units; }
    // The checked charge, for natives that work in steps or before work
    // they are about to do: subtracts [units] and, once the budget is below
    // the next poll mark, polls the host (cond_resched and the fatal-signal
    // check in the kernel). Returns false when the budget is spent or the
    // host interrupted the script; BudgetExceededException (uncatchable) is
    // then pending, and the native must return false at once, leaving every
    // object it touched whole. The fast path is a subtraction and a compare.
    bool charge_checked(u64 units)
    {
        m_budget -= (i64)units;
        if (KS_LIKELY(m_budget >= m_next_poll))
            return true;
        return charge_slow();
    }
    // Charges the bytes allocated since the last such charge (what the
    // interpreter does after each allocating instruction), checked: for
    // natives that allocate in a loop, so that they stop as they go instead
    // of being charged for everything when they return.
    bool charge_allocations_checked();
    const VmLimits& limits() const { return m_limits; }

private:
    InstanceObj* reset_preallocated(InstanceObj* e);
    RunStatus execute(u32 entry_depth);
    bool push_frame(Function* f, u32 base, u16 result);
    Frame* enter_frame(Function* f, u32 base, u16 result);
    // call() and call_hook(): a new entry's exception, budget and poll
    // mark; execute()'s run from frame depth [entry] and its accounting.
    void begin_entry();
    RunStatus finish_entry(u32 entry, u32 base, u64* result);
    // The first register past the top frame's: where a new entry's frame
    // starts (0 with no frame).
    u32 entry_base() const
    {
        if (!m_frame_count)
            return 0;
        const Frame& top = m_frames[m_frame_count - 1];
        return top.base + top.function->register_count;
    }
    // Out of line, so that its argument array gives call_hook()'s callers
    // no stack protector of their own.
    KS_NOINLINE RunStatus call_hook_slow(u32 index, u64 self, u64 arg, u64* result);
    // Room for [needed] registers: the check inline, growing out of line.
    bool ensure_stack(u32 needed) { return KS_LIKELY(needed <= m_stack_size) || grow_stack(needed); }
    bool grow_stack(u32 needed);
    bool print(u64 value, u8 kind, u32 line);
    StringObj* concat(u64 left, u64 value, u8 kind);
    bool format_text(StringBuilder& out, u64 value, u8 kind, u32 depth);
    bool run_nested(Function* f, const u64* args, u32 argc, u64* result);
    // Transcript mode: prints "LINE<n>: (error) " for [report], the line in
    // its low 32 bits and the kind in the high ones (0 error, 1 warning,
    // 2 info; see Op::Report).
    void report_line(u64 report);
    bool poll_or_exhausted();
    bool charge_slow();
    u32 line_of(Function* f, u32 pc) const;

    Memory* m_memory;
    Heap* m_heap;
    Program* m_program;
    VmLimits m_limits;
    VmHooks m_hooks;
    bool m_transcript;
    u64* m_stack;
    u32 m_stack_size;
    Frame* m_frames;
    u32 m_frame_count;
    u32 m_frame_capacity;
    u32 m_frame_limit;        // The lesser of m_frame_capacity and the depth limit: the call fast path.
    i64 m_budget;
    i64 m_next_poll;
    i64 m_entry_budget;       // What call() gives each entry (set_atomic()).
    bool m_atomic;
    bool m_interrupted;
    u64 m_exception;
    u32 m_exception_line;
    u64 m_exception_placed;   // The exception m_exception_line and the trace describe.
    TraceEntry* m_trace { nullptr };   // kMaxTrace entries, made at the first exception.
    u32 m_trace_count { 0 };
    u32 m_trace_omitted { 0 };
    void record_trace(u32 entry_depth);
    u64 m_charged;
    u64 m_calls;
    u64 m_exceptions_raised;
    u64 m_allocated_seen;     // Memory::allocated_total() already charged.
    u32 m_nested_runs;        // call_nested() runs in progress.
    u32 m_collection_holds;   // Nested runs during which nothing is collected.
    Vector<u64> m_pinned;
    // Preallocated for when memory is gone.
    InstanceObj* m_oom_exception;
    InstanceObj* m_budget_exception;
    InstanceObj* m_overflow_exception;
    u64 m_preallocated_messages[3];   // Their original messages (roots too).
};

// Pushes the frame of [f] at [base] once there is room for it (the frame
// array and the stack are big enough): the one place that sets up a frame,
// for push_frame(), call(), call_hook() and execute()'s calls. Every
// register but the parameters (set by the caller) starts cleared: a
// reference register must not hold a stale pointer for the collector, and
// an int register the code reads before writing (which the verifier does
// not track) must not show what an earlier frame or a freed object left
// on the stack.
inline Frame* Vm::enter_frame(Function* f, u32 base, u16 result)
{
    u64* regs = m_stack + base;
    for (u32 r = f->param_count; r < f->register_count; r++)
        regs[r] = 0;
    Frame* frame = &m_frames[m_frame_count++];
    *frame = Frame { f, base, 0, result };
    m_calls++;
    return frame;
}

inline void Vm::begin_entry()
{
    m_exception = 0;
    m_exception_placed = 0;
    m_allocated_seen = m_memory->allocated_total();
    m_budget = m_entry_budget;
    // Atomic entries never poll: their first slow-path check is the
    // budget's end. Reaching below zero must come through the slow path.
    m_next_poll = m_atomic ? 0 : m_budget - m_limits.poll_interval;
    if (m_next_poll < 0)
        m_next_poll = 0;
    m_interrupted = false;
}

inline RunStatus Vm::finish_entry(u32 entry, u32 base, u64* result)
{
    RunStatus status = execute(entry);
    m_charged += (u64)(m_entry_budget - (m_budget < 0 ? 0 : m_budget));
    if (status == RunStatus::Ok && result)
        *result = m_stack[base];
    m_frame_count = entry;
    return status;
}

inline RunStatus Vm::call_hook(u32 index, u64 self, u64 arg, u64* result)
{
    Function* f = m_program->functions[index];
    u32 entry = m_frame_count;
    u32 base = entry_base();
    if (KS_UNLIKELY(m_frame_count >= m_frame_limit || f->register_count < 2
            || base + f->register_count + 1 > m_stack_size))
        return call_hook_slow(index, self, arg, result);
    begin_entry();
    m_stack[base] = self;
    m_stack[base + 1] = arg;
    enter_frame(f, base, 0);
    return finish_entry(entry, base, result);
}

// Frees every part of a compiled program (not its heap objects).
void free_program(Memory* memory, Program* program);

// Appends the name of the type coded [code] (Program::type_code()) to [sb]
// ("String[]", "Map[String, int]"), at most [4 - depth] levels deep: for
// TypeCastException's message and the disassembler's type operands.
void append_type_name(StringBuilder& sb, const Program* p, u32 code, u32 depth = 0);

}
