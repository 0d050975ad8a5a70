// The inside of a ks_state, shared by the files of the C API (State.cpp:
// load, run, statistics; Host.cpp: host objects and their handlers).
#pragma once

#include "../../include/kscript.h"
#include "../vm/Vm.h"

using namespace ks;

struct StoredDiagnostic {
    u32 line;
    u32 column;
    bool warning;
    bool info;
    bool deferred;
    char* message;
};

struct ks_state {
    ks_config config;
    Memory memory;
    Heap heap;
    Program program;
    Vm vm;
    Vector<StoredDiagnostic> diagnostics;
    bool loaded;
    bool vm_ready;
    u32 exception_line;
    usize pages;
    // Host objects (Host.cpp): each allocated on its own so that its
    // address, which the host keeps, never changes.
    Vector<struct HostObject*> objects;
    u32 object_counts[KS_OBJECT_KINDS];
    bool running_main;         // ks_run is running the top-level code
    bool in_hook;              // ks_object_hit is running a hook (atomic context)
    bool ran;                  // ks_run was called (the program is no longer as loaded)
    // ks_load's time (ks_stats) to compile the source or read the file, and
    // to verify the program, in microseconds. (The state fits one page; its
    // fields are ordered so that padding does not push it past one.)
    u32 load_us;
    u32 verify_us;
    u64 current_packet;        // The host's handle of the packet being handled
    u64 current_packet_object; // Its Packet object (the hook's argument)
};

// The engine's record of a host object: the public part first.
struct HostObject {
    ks_object pub;
    u64 value;                 // The script object (pinned).
    i32 slots[6];              // Vtable slots of the handlers (HostHandler), -1 if none.
    // Hooks: the Regs or Packet their handler gets (pinned, reused every
    // event), Packet's two address Bytes (pinned), and field slots: of the
    // hook object's budget, and of the argument's fields (HookField).
    u64 arg;
    u64 addr6[2];
    i32 budget_field;
    i32 arg_fields[10];
    // Probes: the slot of a0 when a0..a5 and rv are seven int fields in a
    // row (the built-in Regs), so that an event copies them without a test
    // each; else -1.
    i32 regs_run;
    // The handler reads its Regs or Packet: else an event does not fill it
    // in (nothing can see it: the handler is the one code it is given to).
    bool arg_read;
    // The budget of an event whose object sets none (> 0), within
    // config.max_hook_budget.
    i64 default_budget;
    // The handler's function (the object's class never changes, so the
    // vtable lookup and its checks are done once, when it is made).
    i32 hit_function;
};

// The handlers a host calls, by the built-in class that declares them.
enum HostHandler : u32 {
    HandlerOpen,
    HandlerRead,
    HandlerWrite,
    HandlerRelease,
    HandlerRun,
    HandlerHit,   // Kprobe.hit, Kretprobe.ret, Netfilter.hook
    HandlerCount
};

// Host.cpp: the VM's request hook (Linux.__deviceCreate and friends).
i64 host_request(void* context, const HostRequestArgs& args, const char** reason);
// Frees the object records (ks_close).
void host_objects_free(ks_state* s);
// Host.cpp: the VM's read hook (Linux.readKernel, Packet.bytes).
i64 host_read(void* context, int what, u64 packet, u64 where, void* out, usize n, const char** reason);


