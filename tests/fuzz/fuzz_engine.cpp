// libFuzzer target: any input is a script. Compiling and running it must never
// crash, hang or leak: compile errors, exceptions and exhausted limits are
// all fine outcomes. Small limits keep each run short. Every host object
// the script made (Device, Proc, Timer, Kprobe, Kretprobe, Netfilter) then
// gets every host entry point, whatever its kind, as kscript.ko or a
// confused host could call them; hooks get an event built from the input.
// Every program that compiles is also written as a bytecode file and read
// back: that must always succeed (the writer, the reader and the verifier
// agree on every program the compiler makes).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../include/kscript.h"

#include <string>

static void discard(void*, int, const char*, unsigned long) {}

// Kernel memory and packets, as the CLI simulates them: 64 bytes of the
// input at address 0x1000, the packet 0x2000 bytes of it; the rest faults.
static const uint8_t* g_data;
static size_t g_size;

static long read_hook(void*, int what, unsigned long long packet, unsigned long long where, void* out,
    unsigned long n, const char** reason)
{
    size_t avail = g_size < 64 ? g_size : 64;
    unsigned long long base = what == KS_READ_PACKET ? 0 : 0x1000;
    if ((what == KS_READ_PACKET && packet != 1) || where < base || where - base > avail || n > avail - (where - base)) {
        *reason = "fault";
        return what == KS_READ_PACKET ? -34 : -14;
    }
    memcpy(out, g_data + (where - base), n);
    if (what == KS_READ_KERNEL_STRING) {
        unsigned long len = 0;
        while (len + 1 < n && static_cast<char*>(out)[len])
            len++;
        return (long)len;
    }
    return (long)n;
}

static void append_bytes(void* ctx, const char* data, unsigned long length)
{
    static_cast<std::string*>(ctx)->append(data, length);
}

// Writes the loaded program of [state] as a bytecode file and loads that in
// a state made from [config]: a compiled program that does not come back
// is a bug (trap, so that libFuzzer reports it).
static void round_trip(ks_state* state, ks_config config)
{
    std::string file;
    if (ks_write_bytecode(state, append_bytes, &file) != KS_OK)
        return;   // Out of memory under the small quota: fine.
    config.bytecode = 1;
    config.max_source = file.size() + 1;
    ks_state* again = ks_open(&config);
    if (!again)
        return;
    int status = ks_load(again, file.data(), file.size(), "fuzz.kbc");
    if (status != KS_OK && status != KS_ENOMEM)
        __builtin_trap();
    ks_close(again);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    ks_config config;
    ks_config_init(&config);
    config.memory_quota = 8u << 20;
    config.budget = 200000;
    config.max_depth = 200;
    config.write = discard;
    config.read = read_hook;
    config.hook_budget = 20000;
    g_data = data;
    g_size = size;
    // The first byte picks a mode, so that transcript and slab debug mode
    // are fuzzed too.
    if (size > 0) {
        config.transcript = data[0] & 1;
        config.slab_debug = (data[0] >> 1) & 1;
    }
    ks_state* state = ks_open(&config);
    if (!state)
        return 0;
    if (ks_load(state, reinterpret_cast<const char*>(data), size, "fuzz.k") == KS_OK) {
        round_trip(state, config);
        ks_run(state);
        ks_disassemble(state);
        for (unsigned i = 0; i < ks_object_count(state) && i < 8; i++) {
            ks_object* o = ks_object_get(state, i);
            const void* out;
            unsigned long length;
            long long consumed;
            ks_object_open(state, o);
            ks_object_read(state, o, &out, &length);
            ks_object_write(state, o, data, size < 64 ? size : 64, &consumed);
            ks_object_run(state, o);
            ks_object_release(state, o);
            ks_event e;
            memset(&e, 0, sizeof(e));
            memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
            e.packet = 1;
            int verdict;
            ks_object_hit(state, o, &e, &verdict, nullptr);
            if (ks_collect_due(state))
                ks_collect(state);
        }
    }
    ks_close(state);
    return 0;
}
