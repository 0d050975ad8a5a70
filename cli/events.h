// The CLI's simulation of kernel events: kprobe and kretprobe hits,
// packets through netfilter hooks, and the kernel memory that
// Linux.readKernel() reads. The hooks run through ks_object_hit(), the
// entry kscript.ko uses, so a script behaves here as it does in the kernel
// (atomic mode, the hook budget, verdicts).
#pragma once

#include <string>

#include "../include/kscript.h"

namespace cli {

// Options of `kscript run` for events. Returns 1 if [option] is one
// (consuming [value]), 0 if not, -1 if its value is malformed (a message
// was printed).
int event_option(const std::string& option, const char* value, ks_config* config);
// True for the options that take a value and queue an action after the run.
bool is_event_action(const std::string& option);
// Runs one queued event action ("kprobe", "kretprobe", "packet") on the
// loaded script. False when the specification names nothing the script
// made (hook exceptions are reported and counted, not failures).
bool run_event(ks_state* state, const char* path, const std::string& action, const std::string& spec);
// The config.read hook: simulated kernel memory and the current packet.
long read_hook(void* ctx, int what, unsigned long long packet, unsigned long long where, void* out,
    unsigned long n, const char** reason);
// The uncaught exception's message, whole (NULs included).
std::string exception_message(ks_state* state);
// Reports the exception a handler ([where]: "read", "kprobe f"...) left
// uncaught, as FILE:LINE: error: uncaught NAME: MESSAGE in WHERE.
void report_uncaught(ks_state* state, const char* path, const char* where);
// The stack trace of the uncaught exception, one "  at FUNCTION (FILE:LINE)"
// line per script frame, innermost first (at most 16, then how many more);
// nothing when it was raised in the function the host called.
void print_trace(ks_state* state, const char* path);
// The line `kscript run` prints when the script makes a hook.
void describe_hook(const ks_object* o);

}
