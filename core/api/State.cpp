// The C API over the engine: a ks_state owns a Memory (slab allocator and
// quota), a Heap, a compiled program and a VM.
#include "StateImpl.h"

#include "../../include/kscript_platform.h"
#include "../compiler/Compiler.h"
#include "../vm/Bytecode.h"
#include "../vm/Disasm.h"
#include "../vm/Verify.h"

using namespace ks;

// Bytes that states still held when closed (see ks_close); a debugging aid,
// not synchronized between threads.
static u64 g_leaked_bytes;

static constexpr usize kStatePages = (sizeof(ks_state) + KSP_PAGE_SIZE - 1) / KSP_PAGE_SIZE;
// An empty script holds the state's page and little else (docs/performance.md,
// Engine.EmptyScriptHoldsUnder16KiB): a field more must fit in the padding.
static_assert(kStatePages == 1, "ks_state outgrew its page");

extern "C" void ks_config_init(ks_config* c)
{
    mem_set(c, 0, sizeof(*c));
    c->memory_quota = 64ul << 20;
    c->budget = 1ll << 31;
    c->max_depth = 2000;
    c->max_nesting = 200;
    c->max_source = 4ul << 20;
    c->poll_interval = 1 << 20;
    // Host objects a script may make, and the host memory each stands for
    // (the CLI's estimates; kscript.ko sets its own).
    c->object_limit[KS_OBJECT_DEVICE] = 16;
    c->object_limit[KS_OBJECT_PROC] = 16;
    c->object_limit[KS_OBJECT_TIMER] = 64;
    c->object_cost[KS_OBJECT_DEVICE] = 4096;
    c->object_cost[KS_OBJECT_PROC] = 1024;
    c->object_cost[KS_OBJECT_TIMER] = 256;
    c->object_limit[KS_OBJECT_KPROBE] = 16;
    c->object_limit[KS_OBJECT_KRETPROBE] = 16;
    c->object_limit[KS_OBJECT_NETFILTER] = 8;
    c->object_cost[KS_OBJECT_KPROBE] = 1024;
    c->object_cost[KS_OBJECT_KRETPROBE] = 4096;
    c->object_cost[KS_OBJECT_NETFILTER] = 512;
    // Hooks run where nothing may wait: a small budget per event.
    c->hook_budget = 100000;
    c->max_hook_budget = 10000000;
}

extern "C" ks_state* ks_open(const ks_config* config)
{
    void* pages = ksp_pages_alloc(kStatePages);
    if (!pages)
        return nullptr;
    mem_set(pages, 0, kStatePages * KSP_PAGE_SIZE);
    ks_state* s = static_cast<ks_state*>(pages);
    s->config = *config;
    if (s->config.max_nesting < 8)
        s->config.max_nesting = 8;
    if (s->config.max_depth < 1)
        s->config.max_depth = 1;
    s->memory.init(config->memory_quota, config->slab_debug != 0);
    s->heap.init(&s->memory);
    s->diagnostics.set_memory(&s->memory);
    s->objects.set_memory(&s->memory);
    s->pages = kStatePages;
    return s;
}

extern "C" void ks_close(ks_state* s)
{
    if (!s)
        return;
    host_objects_free(s);
    if (s->vm_ready)
        s->vm.destroy();
    for (StoredDiagnostic& d : s->diagnostics)
        s->memory.free(d.message);
    s->diagnostics.release();
    free_program(&s->memory, &s->program);
    s->heap.destroy();
    // Everything the state allocated has been freed one by one by now; what
    // is left is a leak of the engine (the pages go back regardless).
    g_leaked_bytes += s->memory.used();
    s->memory.destroy();
    ksp_pages_free(s, s->pages);
}

extern "C" unsigned long long ks_leaked_bytes(void) { return g_leaked_bytes; }

static void vm_write(void* context, int stream, const char* text, usize length)
{
    ks_state* s = static_cast<ks_state*>(context);
    if (s->config.write)
        s->config.write(s->config.ctx, stream, text, length);
}

static bool vm_poll(void* context)
{
    ks_state* s = static_cast<ks_state*>(context);
    return !s->config.poll || s->config.poll(s->config.ctx);
}

static_assert((int)InfoJiffies == (int)KS_INFO_JIFFIES && (int)InfoPid == (int)KS_INFO_PID && (int)InfoUid == (int)KS_INFO_UID
        && (int)InfoKtimeNs == (int)KS_INFO_KTIME_NS,
    "the VM's info codes are the host contract's");

static i64 vm_info(void* context, int what)
{
    ks_state* s = static_cast<ks_state*>(context);
    return s->config.info ? s->config.info(s->config.ctx, what) : 0;
}

static usize vm_comm(void* context, char* out)
{
    ks_state* s = static_cast<ks_state*>(context);
    return s->config.comm ? s->config.comm(s->config.ctx, out) : 0;
}

// Keeps a copy of a diagnostic in the state; false when memory is short.
static bool store_diagnostic(ks_state* s, u32 line, u32 column, bool warning, bool info, bool deferred,
    const char* text, usize length)
{
    char* copy = static_cast<char*>(s->memory.alloc(length + 1));
    if (!copy)
        return false;
    mem_copy(copy, text, length);
    copy[length] = 0;
    if (!s->diagnostics.try_append(StoredDiagnostic { line, column, warning, info, deferred, copy })) {
        s->memory.free(copy);
        return false;
    }
    return true;
}

// Verifies the program just built or read; on failure stores a diagnostic
// that starts with [what] and names the function and the instruction, and
// returns KS_ECOMPILE (KS_ENOMEM when the verifier ran out of memory).
static int verify_loaded(ks_state* s, const char* what)
{
    VerifyError error;
    if (verify_program(s->program, &s->memory, &error))
        return KS_OK;
    if (str_equal(error.reason, "out of memory"))
        return KS_ENOMEM;
    StringBuilder sb(&s->memory);
    sb.append(what);
    const Program& p = s->program;
    if (error.function != kVerifyNone) {
        const Function* f = error.function < p.function_count ? p.functions[error.function] : nullptr;
        sb.append(" of '");
        sb.append(f && f->name ? f->name : "?");
        sb.append("'");
        if (error.pc != kVerifyNone) {
            sb.append(" fails verification at instruction ");
            sb.append_int(error.pc);
            if (f && error.pc < f->code_size) {
                sb.append(" (");
                sb.append(opcode_name(f->code[error.pc].op));
                sb.append(")");
            }
        } else {
            sb.append(" fails verification");
        }
    } else {
        sb.append(" fails verification");
    }
    sb.append(": ");
    sb.append(error.reason);
    if (!sb.has_failed())
        store_diagnostic(s, 1, 1, false, false, false, sb.data(), sb.size());
    return KS_ECOMPILE;
}

// Reads a bytecode file (ks_load found its magic) into the state's program.
static int read_bytecode_file(ks_state* s, const char* data, unsigned long length)
{
    const char* error = "";
    if (!s->config.bytecode) {
        // The host chose not to take files (ks_config.bytecode).
        error = "this host does not load bytecode files";
    } else {
        bool out_of_memory = false;
        s->memory.slab().set_blocks_enabled(false);
        bool ok = read_bytecode(&s->memory, &s->heap, reinterpret_cast<const u8*>(data), length, &s->program,
            &error, &out_of_memory);
        s->memory.slab().set_blocks_enabled(true);
        if (ok)
            return KS_OK;
        if (out_of_memory)
            return KS_ENOMEM;
    }
    StringBuilder sb(&s->memory);
    sb.append("bytecode: ");
    sb.append(error);
    if (!sb.has_failed())
        store_diagnostic(s, 1, 1, false, false, false, sb.data(), sb.size());
    return KS_ECOMPILE;
}

#ifdef KS_NO_COMPILER
// A module built without the compiler (kernel/Kbuild, KS_COMPILER=n): source
// is refused, with what to do instead.
static int compile_source(ks_state* s, const char*, unsigned long)
{
    static const char message[] = "this kscript was built without the compiler and loads only bytecode files: "
                                  "compile the script with `kscript compile FILE.k` and load FILE.kbc";
    store_diagnostic(s, 1, 1, false, false, false, message, sizeof(message) - 1);
    return KS_ECOMPILE;
}
#else
// Compiles [source] into the state's program.
static int compile_source(ks_state* s, const char* source, unsigned long length)
{
    int status = KS_OK;
    Arena arena(&s->memory);
    Diagnostics diagnostics(&s->memory, &arena);
    // The compiler polls the host as the VM does (in the kernel:
    // cond_resched() and a fatal-signal check), so that a long compile
    // yields the CPU and stops on request; its hash indexes get a random
    // seed, so that no script can choose names that collide.
    CompileOptions options { s->config.transcript ? CompileMode::Transcript : CompileMode::Normal,
        s->config.max_nesting, kMaxFunctionCode, s->config.poll ? vm_poll : nullptr, s, 0, ksp_random_u64() };
    options.script_args = s->config.script_args;
    options.script_arg_count = s->config.script_args ? s->config.script_arg_count : 0;
    s->memory.slab().set_blocks_enabled(false);
    bool ok = compile_program(&s->memory, &s->heap, source, length, options, &diagnostics, &arena, &s->program);
    s->memory.slab().set_blocks_enabled(true);
    // In source order, repeats dropped; kept past the arena.
    diagnostics.sort_and_dedupe();
    for (u32 i = 0; i < diagnostics.size(); i++) {
        const Diagnostic& d = diagnostics[i];
        if (!store_diagnostic(s, d.line, d.column, d.severity != Severity::Error, d.severity == Severity::Info,
                d.deferred, d.message, str_length(d.message)))
            break;
    }
    if (diagnostics.out_of_memory() || (!ok && diagnostics.error_count() == 0))
        status = KS_ENOMEM;
    else if (!ok)
        status = KS_ECOMPILE;
    return status;
}
#endif

// Source text or a bytecode file (told apart by the bytecode magic, which
// no source starts with); either way the program is verified before the VM
// is made ready.
extern "C" int ks_load(ks_state* s, const char* source, unsigned long length, const char* name)
{
    (void)name;
    if (s->loaded)
        return KS_ESTATE;
    if (length > s->config.max_source)
        return KS_ETOOBIG;
    s->loaded = true;
    bool bytecode = is_bytecode(source, length);
    // Two clock reads per load time its two phases (ks_stats).
    u64 start = ksp_clock_ns();
    int status = bytecode ? read_bytecode_file(s, source, length) : compile_source(s, source, length);
    u64 built = ksp_clock_ns();
    s->load_us = (u32)((built - start) / 1000);
    if (status == KS_OK) {
        status = verify_loaded(s, bytecode ? "bytecode: the code" : "internal error: the compiled code");
        s->verify_us = (u32)((ksp_clock_ns() - built) / 1000);
    }
    if (status != KS_OK)
        return status;
    // The compiler's pages are empty now: back before the VM allocates.
    s->memory.slab().shrink();
    VmLimits limits { s->config.budget, s->config.max_depth, 1u << 24, s->config.poll_interval };
    VmHooks hooks { vm_write, vm_poll, vm_info, vm_comm, host_request, host_read, s };
    if (!s->vm.init(&s->memory, &s->heap, &s->program, limits, hooks, s->config.transcript != 0)) {
        s->vm.destroy();
        return KS_ENOMEM;
    }
    s->vm_ready = true;
    s->memory.slab().shrink();
    return KS_OK;
}

extern "C" int ks_is_bytecode(const char* data, unsigned long length) { return is_bytecode(data, length); }

extern "C" int ks_write_bytecode(ks_state* s, void (*write)(void* ctx, const char* data, unsigned long length),
    void* ctx)
{
    // Running changes globals and what transcript mode has reported.
    if (!s->vm_ready || s->ran)
        return KS_ESTATE;
    StringBuilder out(&s->memory);
    if (!write_bytecode(s->program, out))
        return KS_ENOMEM;
    write(ctx, out.data(), out.size());
    return KS_OK;
}

extern "C" unsigned int ks_diagnostic_count(const ks_state* s) { return s->diagnostics.size(); }

extern "C" int ks_get_diagnostic(const ks_state* s, unsigned int i, struct ks_diagnostic* out)
{
    if (i >= s->diagnostics.size())
        return KS_ENOENT;
    const StoredDiagnostic& d = s->diagnostics[i];
    out->line = d.line;
    out->column = d.column;
    out->is_warning = d.warning;
    out->deferred = d.deferred;
    out->message = d.message;
    out->is_info = d.info;
    return KS_OK;
}

extern "C" int ks_run(ks_state* s)
{
    if (!s->vm_ready)
        return KS_ESTATE;
    s->running_main = true;
    s->ran = true;
    RunStatus status = s->vm.run_main();
    s->running_main = false;
    return status == RunStatus::Ok ? KS_OK : KS_EEXCEPTION;
}

extern "C" const char* ks_exception_name(const ks_state* s) { return s->vm_ready ? s->vm.exception_class() : ""; }

extern "C" unsigned int ks_exception_line(const ks_state* s) { return s->vm_ready ? s->vm.exception_line() : 0; }

extern "C" unsigned int ks_exception_trace(const ks_state* s, unsigned int index, const char** function,
    unsigned int* line, unsigned int* omitted)
{
    if (omitted)
        *omitted = s->vm_ready ? s->vm.trace_omitted() : 0;
    if (!s->vm_ready)
        return 0;
    if (index < s->vm.trace_count()) {
        if (function)
            *function = s->vm.trace(index).function;
        if (line)
            *line = s->vm.trace(index).line;
    }
    return s->vm.trace_count();
}

extern "C" unsigned long ks_exception_message(const ks_state* s, char* out, unsigned long size)
{
    if (!s->vm_ready) {
        if (size)
            out[0] = 0;
        return 0;
    }
    return s->vm.exception_message(out, size);
}

extern "C" void ks_get_stats(const ks_state* s, struct ks_stats* out)
{
    ks_state* m = const_cast<ks_state*>(s);
    out->memory_used = m->memory.used();
    out->memory_peak = m->memory.peak();
    out->memory_quota = m->memory.quota();
    out->pages = m->memory.slab().pages_held() + s->pages;
    out->instructions = s->vm_ready ? m->vm.instructions_charged() : 0;
    out->calls = s->vm_ready ? m->vm.calls() : 0;
    out->exceptions = s->vm_ready ? m->vm.exceptions_raised() : 0;
    out->collections = m->heap.collections();
    out->live_objects = m->heap.live_objects();
    out->load_us = s->load_us;
    out->verify_us = s->verify_us;
}

extern "C" void ks_slabinfo(ks_state* s)
{
    if (s->config.write)
        ks_slabinfo_to(s, s->config.write, s->config.ctx);
}

extern "C" void ks_slabinfo_to(ks_state* s, void (*write)(void*, int, const char*, unsigned long), void* ctx)
{
    char line[160];
    // bytes_req is the sum of requested sizes of live objects, kept only in
    // slab debug mode (it is stored in each object's red zone).
    const char* header =
        "# name            <active_objs> <num_objs> <objsize> <pages> <bytes_held> <bytes_req> <allocs> <frees> <fails>\n";
    bool debug = s->config.slab_debug != 0;
    write(ctx, KS_STREAM_LISTING, header, str_length(header));
    s->memory.slab().for_each_cache([&](const SlabStats& st) {
        usize n = 0;
        auto put = [&](const char* text) {
            while (*text && n < sizeof(line) - 2)
                line[n++] = *text++;
        };
        auto num = [&](u64 v, usize width) {
            char digits[24];
            usize len = StringBuilder::format_int((i64)v, digits);
            while (len < width && n < sizeof(line) - 2) {
                line[n++] = ' ';
                width--;
            }
            put(digits);
        };
        put(st.name);
        while (n < 17)
            line[n++] = ' ';
        num(st.objects_in_use, 13);
        num(st.objects_total, 11);
        num(st.object_size, 10);
        num(st.pages, 8);
        num(st.bytes_held, 13);
        if (debug || !st.object_size) {
            num(st.bytes_requested, 12);
        } else {
            put("           -");
        }
        num(st.allocs, 9);
        num(st.frees, 8);
        num(st.failures, 8);
        line[n++] = '\n';
        write(ctx, KS_STREAM_LISTING, line, n);
    });
}

extern "C" int ks_disassemble(ks_state* s)
{
    if (!s->vm_ready)
        return KS_ESTATE;
    StringBuilder out(&s->memory);
    disassemble(s->program, out);
    if (out.has_failed())
        return KS_ENOMEM;
    if (s->config.write)
        s->config.write(s->config.ctx, KS_STREAM_LISTING, out.data(), out.size());
    return KS_OK;
}
