// kscript: the command-line tool.
//
//   kscript run [options] FILE.k     compile and run
//   kscript check FILE.k             compile only; errors as file:line:col: error: ...
//   kscript disasm FILE.k            print the bytecode
//   kscript compile FILE.k [-o OUT]  write a bytecode file (default FILE.kbc)
//
// run, check and disasm take a bytecode file (FILE.kbc) as well: the engine
// tells it by its first bytes.
//
// Exit status (sysexits; the same table is in usage() and the README): 0 ok,
// 1 a kernel command failed, 64 usage (also a --device-*/--proc-* name the
// script did not make), 65 compile error (or a bytecode file refused),
// 66 cannot read the file, 70 uncaught exception, 71 out of memory,
// 73 cannot create the output, 74 cannot write it, or a simulated device or
// /proc write that the kernel would fail (EPERM, EIO).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../include/kscript.h"
#include "../include/kscript_ioctl.h"
#include "events.h"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitCompile = 65;
constexpr int kExitNoInput = 66;
constexpr int kExitRuntime = 70;
constexpr int kExitNoMemory = 71;
constexpr int kExitIo = 74;

// The usage text, to stderr after a usage error or to stdout for --help.
void usage(FILE* out = stderr);

// The simulated clock of `--timer-run`: from the first simulated timer tick
// on, jiffies() and ktimeNs() read this frozen clock, which each tick moves to
// its due time, so that a timer's run() sees its interval pass as in the
// kernel. Before that, they read the monotonic clock.
bool g_clock_simulated = false;
long long g_clock_ns = 0;

long long monotonic_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

long long clock_ns() { return g_clock_simulated ? g_clock_ns : monotonic_ns(); }

struct Output {
    bool printed = false;
};

void write_hook(void* ctx, int stream, const char* text, unsigned long length)
{
    Output* out = static_cast<Output*>(ctx);
    if (stream == KS_STREAM_KERNEL)
        fputs("[printk] ", stdout);
    fwrite(text, 1, length, stdout);
    out->printed = true;
}

long long info_hook(void*, int what)
{
    switch (what) {
    case KS_INFO_JIFFIES: return clock_ns() / 4000000;   // Jiffies at HZ=250.
    case KS_INFO_KTIME_NS: return clock_ns();
    case KS_INFO_PID: return getpid();
    case KS_INFO_UID: return getuid();
    default: return 0;
    }
}

unsigned long comm_hook(void*, char* out)
{
    const char* name = "kscript";
    size_t n = strlen(name);
    memcpy(out, name, n);
    return n;
}

// Host objects (Device, Proc, Timer) at the command line: the engine's
// host-object layer checks and records them exactly as in the kernel; the
// CLI only says what the kernel would do, and after the run the
// --device-read/--device-write/--proc-*/--timer-run actions call their
// handlers through the same entry points kscript.ko uses.
ks_state* current_state;

int created_hook(void*, ks_object* o)
{
    if (o->kind == KS_OBJECT_DEVICE)
        printf("[device] /dev/%s created (mode %04o)\n", o->name, o->mode);
    else if (o->kind == KS_OBJECT_PROC)
        printf("[proc] /proc/kscript/%s created%s\n", o->name, o->writable ? " (writable)" : "");
    else if (o->kind == KS_OBJECT_TIMER)
        printf("[timer] %s %lu ms\n", o->periodic ? "every" : "once after", o->interval_ms);
    else
        cli::describe_hook(o);
    return 0;
}

void stopped_hook(void*, ks_object*) { printf("[timer] stopped\n"); }

bool report_exception(const char* path, const char* where)
{
    cli::report_uncaught(current_state, path, where);
    return false;
}

// The result of a handler call: false after an exception (reported).
bool handler_ok(const char* path, int rc, const char* where)
{
    if (rc == KS_EEXCEPTION)
        return report_exception(path, where);
    if (rc != KS_OK) {
        fprintf(stderr, "kscript: %s failed (%s)\n", where, rc == KS_ENOMEM ? "out of memory" : "no handler");
        return false;
    }
    return true;
}

// Runs the timers as the kernel would over simulated time: each periodic
// timer fires [rounds] times and each one-shot timer once, in the order of
// their due times (ties: the older timer first) on the simulated clock, which
// starts now and jumps to each tick's due time. A timer made by a handler is
// due one interval after the tick that made it; a stopped one fires no more.
bool run_timers(const char* path, int rounds)
{
    struct Schedule {
        long long due;
        int fired;
        bool known;
    };
    std::vector<Schedule> timers;
    if (!g_clock_simulated) {
        g_clock_ns = monotonic_ns();
        g_clock_simulated = true;
    }
    for (;;) {
        unsigned count = ks_object_count(current_state);
        if (timers.size() < count)
            timers.resize(count, Schedule { 0, 0, false });
        ks_object* next = nullptr;
        unsigned next_index = 0;
        for (unsigned i = 0; i < count; i++) {
            ks_object* o = ks_object_get(current_state, i);
            if (o->kind != KS_OBJECT_TIMER)
                continue;
            Schedule& t = timers[i];
            if (!t.known) {
                t = Schedule { g_clock_ns + (long long)o->interval_ms * 1000000, 0, true };
            }
            if (o->stopped || t.fired >= (o->periodic ? rounds : 1))
                continue;
            if (!next || t.due < timers[next_index].due) {
                next = o;
                next_index = i;
            }
        }
        if (!next)
            return true;
        Schedule& t = timers[next_index];
        g_clock_ns = t.due;
        t.fired++;
        t.due += (long long)next->interval_ms * 1000000;
        if (!handler_ok(path, ks_object_run(current_state, next), "run"))
            return false;
    }
}

// The most one write(2) passes to a handler, as kscript.ko's
// KS_MAX_DEVICE_IO.
constexpr size_t kMaxDeviceIo = 1ul << 20;

// What an action on a device or /proc file ended with.
enum class ActionResult { Ok, NoSuchFile, Exception, IoError };

// "read NAME" or "write NAME=TEXT" (on a device; "proc-read"/"proc-write"
// on a /proc file): open, the operation, release, as `cat` and a shell's
// `echo TEXT > FILE` do. A write goes through the kernel's rules: a file
// without write() fails with EPERM; each write(2) passes at most 1 MiB; the
// handler's result is the bytes it took (a negative one is EIO, more than it
// was given counts as all), and like a shell's write loop the rest is written
// again until all is taken. A handler that takes 0 bytes would make that
// loop spin for ever: the CLI reports it and stops.
ActionResult device_action(const char* path, const std::string& verb, const std::string& spec)
{
    bool proc = verb.compare(0, 5, "proc-") == 0;
    std::string action = proc ? verb.substr(5) : verb;
    int kind = proc ? KS_OBJECT_PROC : KS_OBJECT_DEVICE;
    std::string name = spec, text;
    size_t eq = spec.find('=');
    if (action == "write" && eq != std::string::npos) {
        name = spec.substr(0, eq);
        text = spec.substr(eq + 1);
    }
    ks_object* o = ks_object_find(current_state, kind, name.c_str());
    if (!o) {
        fprintf(stderr, "kscript: --%s%s %s: the script made no %s '%s'\n", proc ? "" : "device-", verb.c_str(),
            spec.c_str(), proc ? "proc file" : "device", name.c_str());
        return ActionResult::NoSuchFile;
    }
    const char* where = proc ? "/proc/kscript/" : "/dev/";
    const char* tag = proc ? "proc" : "device";
    if (!handler_ok(path, ks_object_open(current_state, o), "open"))
        return ActionResult::Exception;
    ActionResult result = ActionResult::Ok;
    if (action == "read") {
        const void* data;
        unsigned long n;
        if (handler_ok(path, ks_object_read(current_state, o, &data, &n), "read")) {
            printf("[%s] read %s%s: ", tag, where, name.c_str());
            if (n)
                fwrite(data, 1, n, stdout);
            if (!n || static_cast<const char*>(data)[n - 1] != '\n')
                printf("\n");
        } else {
            result = ActionResult::Exception;
        }
    } else if (!o->writable) {
        fprintf(stderr, "kscript: write %s%s: %s (EPERM: the file has no write handler)\n", where, name.c_str(),
            strerror(EPERM));
        result = ActionResult::IoError;
    } else {
        size_t done = 0;
        do {
            size_t count = text.size() - done < kMaxDeviceIo ? text.size() - done : kMaxDeviceIo;
            long long consumed = 0;
            if (!handler_ok(path, ks_object_write(current_state, o, text.data() + done, count, &consumed), "write")) {
                result = ActionResult::Exception;
                break;
            }
            if (consumed < 0) {
                fprintf(stderr, "kscript: write %s%s: %s (EIO: write() returned %lld)\n", where, name.c_str(),
                    strerror(EIO), consumed);
                result = ActionResult::IoError;
                break;
            }
            size_t taken = (unsigned long long)consumed < count ? (size_t)consumed : count;
            printf("[%s] write %s%s: %zu\n", tag, where, name.c_str(), taken);
            done += taken;
            if (taken == 0 && done < text.size()) {
                fprintf(stderr, "kscript: write %s%s: write() took 0 of %zu bytes; a shell would retry for ever\n",
                    where, name.c_str(), text.size() - done);
                result = ActionResult::IoError;
                break;
            }
        } while (done < text.size());
    }
    if (!handler_ok(path, ks_object_release(current_state, o), "release") && result == ActionResult::Ok)
        result = ActionResult::Exception;
    return result;
}

bool read_file(const char* path, std::string* out);

void append_bytes(void* ctx, const char* data, unsigned long length)
{
    static_cast<std::string*>(ctx)->append(data, length);
}

// `kscript compile`: the loaded program as a bytecode file at [output]
// (default: [path] with .k replaced by .kbc, or .kbc added).
int write_bytecode_file(ks_state* state, const char* path, std::string output)
{
    if (output.empty()) {
        output = path;
        if (output.size() > 2 && output.compare(output.size() - 2, 2, ".k") == 0)
            output.resize(output.size() - 2);
        output += ".kbc";
    }
    std::string data;
    if (ks_write_bytecode(state, append_bytes, &data) != KS_OK) {
        fprintf(stderr, "%s: error: out of memory while writing bytecode\n", path);
        return kExitNoMemory;
    }
    FILE* f = output == "-" ? stdout : fopen(output.c_str(), "wb");
    if (!f) {
        fprintf(stderr, "kscript: cannot write %s: %s\n", output.c_str(), strerror(errno));
        return 73;   // EX_CANTCREAT
    }
    bool ok = fwrite(data.data(), 1, data.size(), f) == data.size();
    if (f != stdout)
        ok = fclose(f) == 0 && ok;
    else
        ok = fflush(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "kscript: cannot write %s: %s\n", output.c_str(), strerror(errno));
        return 74;   // EX_IOERR
    }
    return 0;
}
bool parse_number(const char* s, long long* out);

// ---- Commands for the kernel module (/dev/kscript, /proc/kscript).

// Prints the module's diagnostics with the script's file name in front of
// each "name:line:col: ..." line, as `kscript check` would.
void print_kernel_diagnostics(const char* path, const char* name, const char* text)
{
    std::string all = text;
    size_t start = 0;
    std::string prefix = std::string(name) + ":";
    while (start < all.size()) {
        size_t end = all.find('\n', start);
        if (end == std::string::npos)
            end = all.size();
        std::string line = all.substr(start, end - start);
        if (line.compare(0, prefix.size(), prefix) == 0 && line.find(": loaded") == std::string::npos)
            fprintf(stderr, "%s:%s\n", path, line.c_str() + prefix.size());
        else if (!line.empty() && line.find(": loaded") == std::string::npos)
            fprintf(stderr, "%s\n", line.c_str());
        start = end + 1;
    }
}

// The module's listing (KS_IOC_LIST on /proc/kscript/scripts, which anyone
// who may read the file may ask): every loaded script and its objects. The
// list may change between calls: asks again with more room until it fits.
bool list_scripts(std::vector<ks_ioc_script>* scripts, std::vector<ks_ioc_object>* objects)
{
    int fd = open("/proc/kscript/scripts", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kscript: cannot read /proc/kscript/scripts: %s (is kscript.ko loaded?)\n", strerror(errno));
        return false;
    }
    uint32_t room_s = 16, room_o = 64;
    for (;;) {
        scripts->assign(room_s, ks_ioc_script {});
        objects->assign(room_o, ks_ioc_object {});
        ks_ioc_list req {};
        req.version = KS_LIST_VERSION;
        req.script_size = sizeof(ks_ioc_script);
        req.object_size = sizeof(ks_ioc_object);
        req.max_scripts = room_s;
        req.max_objects = room_o;
        req.scripts = (uint64_t)(uintptr_t)scripts->data();
        req.objects = (uint64_t)(uintptr_t)objects->data();
        if (ioctl(fd, KS_IOC_LIST, &req) < 0) {
            fprintf(stderr, "kscript: cannot list the scripts: %s\n", strerror(errno));
            close(fd);
            return false;
        }
        if (req.script_count <= room_s && req.object_count <= room_o) {
            scripts->resize(req.script_count);
            objects->resize(req.object_count);
            close(fd);
            return true;
        }
        room_s = req.script_count > room_s ? req.script_count + 16 : room_s;
        room_o = req.object_count > room_o ? req.object_count + 64 : room_o;
    }
}

int kernel_command(const std::string& command, int argc, char** argv)
{
    if (command == "list" || command == "stats") {
        std::vector<ks_ioc_script> scripts;
        std::vector<ks_ioc_object> objects;
        if (!list_scripts(&scripts, &objects))
            return kExitNoInput;
        const char* want = command == "stats" && argc > 2 ? argv[2] : nullptr;
        bool found = false;
        for (const ks_ioc_script& s : scripts) {
            std::string name(s.name, strnlen(s.name, sizeof(s.name)));
            std::string list;
            char text[KS_IOC_OBJECT_TEXT];
            for (uint32_t i = s.first_object; i < s.first_object + s.objects && i < objects.size(); i++) {
                ks_ioc_object_text(&objects[i], text, sizeof(text));
                list += ' ';
                list += text;
            }
            if (!want) {
                // NAME, memory held (pages), calls, objects.
                printf("%-24s %10llu bytes %10llu calls%s\n", name.c_str(), (unsigned long long)s.held,
                    (unsigned long long)s.calls, list.c_str());
                found = true;
            } else if (name == want) {
                printf("%s: holds %llu bytes of pages (objects %llu bytes, peak %llu, quota %llu), calls %llu, "
                       "exceptions %llu, collections %llu, handler calls %llu, handler errors %llu;%s\n",
                    name.c_str(), (unsigned long long)s.held, (unsigned long long)s.memory_used,
                    (unsigned long long)s.memory_peak, (unsigned long long)s.memory_quota,
                    (unsigned long long)s.calls, (unsigned long long)s.exceptions,
                    (unsigned long long)s.collections, (unsigned long long)s.handler_calls,
                    (unsigned long long)s.handler_errors, list.c_str());
                found = true;
            }
        }
        if (want && !found) {
            fprintf(stderr, "kscript: no script '%s'\n", want);
            return 1;
        }
        return 0;
    }
    int fd = open("/dev/kscript", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kscript: cannot open /dev/kscript: %s\n", strerror(errno));
        return kExitNoInput;
    }
    if (command == "unload") {
        if (argc != 3) {
            usage();
            return kExitUsage;
        }
        ks_ioc_name req {};
        snprintf(req.name, sizeof(req.name), "%s", argv[2]);
        if (ioctl(fd, KS_IOC_UNLOAD, &req) < 0) {
            fprintf(stderr, "kscript: cannot unload '%s': %s\n", argv[2], strerror(errno));
            close(fd);
            return 1;
        }
        close(fd);
        return 0;
    }
    // load FILE [--name N] [--memory B] [--budget N] [--depth N]
    ks_ioc_load req {};
    const char* path = nullptr;
    for (int i = 2; i < argc; i++) {
        std::string arg = argv[i];
        long long n;
        if (arg == "--name" && i + 1 < argc) {
            snprintf(req.name, sizeof(req.name), "%s", argv[++i]);
        } else if ((arg == "--memory" || arg == "--budget" || arg == "--depth") && i + 1 < argc
            && parse_number(argv[i + 1], &n)) {
            if (arg == "--memory")
                req.memory_quota = (uint64_t)n;
            else if (arg == "--budget")
                req.budget = n;
            else
                req.max_depth = (uint32_t)n;
            i++;
        } else if (!path) {
            path = argv[i];
        } else {
            usage();
            return kExitUsage;
        }
    }
    std::string source;
    if (!path || !read_file(path, &source)) {
        fprintf(stderr, "kscript: cannot read %s\n", path ? path : "(no file)");
        close(fd);
        return path ? kExitNoInput : kExitUsage;
    }
    if (!req.name[0]) {
        // The script is named after its file: "/x/hello.k" -> "hello".
        std::string base = path;
        size_t slash = base.rfind('/');
        if (slash != std::string::npos)
            base = base.substr(slash + 1);
        if (base.size() > 2 && base.compare(base.size() - 2, 2, ".k") == 0)
            base = base.substr(0, base.size() - 2);
        else if (base.size() > 4 && base.compare(base.size() - 4, 4, ".kbc") == 0)
            base = base.substr(0, base.size() - 4);
        snprintf(req.name, sizeof(req.name), "%s", base.c_str());
    }
    static char diagnostics[8192];
    req.source = (uint64_t)(uintptr_t)source.data();
    req.length = source.size();
    req.diagnostics = (uint64_t)(uintptr_t)diagnostics;
    req.diagnostics_size = sizeof(diagnostics);
    int rc = ioctl(fd, KS_IOC_LOAD, &req);
    int err = errno;
    close(fd);
    print_kernel_diagnostics(path, req.name, diagnostics);
    if (rc == 0) {
        printf("%s: loaded\n", req.name);
        return 0;
    }
    if (err == EINVAL && diagnostics[0])
        return kExitCompile;
    if (err == EIO)
        return kExitRuntime;
    fprintf(stderr, "kscript: cannot load %s: %s\n", path, strerror(err));
    return err == ENOMEM ? kExitNoMemory : 1;
}

void usage(FILE* out)
{
    fprintf(out,
        "usage: kscript run [--transcript] [--slabinfo] [--stats] [--budget N] [--memory BYTES]\n"
        "                   [--depth N] [--slab-debug] FILE.k [ARGS...]   (ARGS: the script's SCRIPT_ARGV)\n"
        "         --budget N      stop after about N instructions (default: unlimited)\n"
        "         --memory BYTES  memory quota of the script (default 64 MiB)\n"
        "         --depth N       script call depth limit (default 2000)\n"
        "         --transcript    conformance transcript output (LINE<n>: ...)\n"
        "         --stats         print memory and execution statistics, and the time of\n"
        "                         loading (compile or read, then verify), to stderr\n"
        "         --slabinfo      print the slab caches after the run\n"
        "         --slab-debug    red zones, poisoning and double-free detection\n"
        "         --device-read NAME, --device-write NAME=TEXT, --proc-read NAME, --proc-write NAME=TEXT\n"
        "                         after the run, open the script's device or /proc file, read or write it, close it\n"
        "         --timer-run N   after the run, fire the script's timers N times\n"
        "         --kprobe SYM[=A0,A1,..]     after the run, hit the script's kprobes on SYM\n"
        "         --kretprobe SYM=RET[,A0,..] after the run, hit its kretprobes on SYM\n"
        "         --packet [in:|out:]udp:SRC:PORT->DST:PORT[:PAYLOAD]  (or tcp:, icmp:SRC->DST)\n"
        "                         after the run, pass an IPv4 packet through its netfilter hooks\n"
        "         --kernel-string ADDR=TEXT   kernel memory that Linux.readKernel* can read\n"
        "         --hook-budget N budget of each hook event (default 100000)\n"
        "       kscript check FILE.k\n"
        "       kscript disasm FILE.k\n"
        "       kscript compile FILE.k [-o FILE.kbc]   write a bytecode file\n"
        "       (run, check and disasm also take a FILE.kbc)\n"
        "with kscript.ko loaded:\n"
        "       kscript load FILE.k|FILE.kbc [--name NAME] [--memory BYTES] [--budget N] [--depth N]\n"
        "       kscript unload NAME\n"
        "       kscript list\n"
        "       kscript stats NAME\n"
        "       kscript --help | --version\n"
        "         --no-caret      (run, check, disasm, compile) one line per error, without the source line\n"
        "exit status: 0 ok; 1 a kernel command (load, unload, stats) failed; 64 usage error (also a\n"
        "       --device-*/--proc-* NAME the script did not make); 65 compile errors or a refused bytecode\n"
        "       file; 66 cannot read the input; 70 uncaught exception (also in a simulated handler);\n"
        "       71 out of memory; 73 cannot create the output file; 74 cannot write it, or a simulated\n"
        "       write that the kernel would fail (EPERM, EIO)\n");
}

// After a diagnostic, as clang and rustc do: the source line [line] and a
// caret under column [column] (1-based, counted in bytes as the lexer
// counts; a tab in front of the column is copied so the caret lines up).
// Nothing for a line past the end (a bytecode file has no source lines).
// A long line is shown around the column, at most 160 bytes of it.
void print_source_line(const std::string& source, unsigned line, unsigned column)
{
    if (line == 0 || source.compare(0, 4, "\x7fKSB") == 0)
        return;
    size_t start = 0;
    for (unsigned l = 1; l < line; l++) {
        start = source.find('\n', start);
        if (start == std::string::npos)
            return;
        start++;
    }
    size_t end = source.find('\n', start);
    if (end == std::string::npos)
        end = source.size();
    if (end > start && source[end - 1] == '\r')
        end--;
    // [column] counts characters (UTF-8 sequences), as the lexer does: the
    // window and the caret step over whole characters, never into one.
    auto next_char = [&](size_t i) {
        i++;
        while (i < end && ((unsigned char)source[i] & 0xC0) == 0x80)
            i++;
        return i;
    };
    size_t at = start;
    size_t before = 0;   // characters between the start of the line and [at]
    while (at < end && before + 1 < column) {
        at = next_char(at);
        before++;
    }
    constexpr size_t kWidth = 160;   // characters shown, 40 of them after the caret at least
    size_t from = start;
    for (size_t skip = before > kWidth - 40 ? before - (kWidth - 40) : 0; skip > 0; skip--)
        from = next_char(from);
    size_t to = from;
    for (size_t shown = 0; to < end && shown < kWidth; shown++)
        to = next_char(to);
    std::string text = source.substr(from, to - from), under;
    for (size_t i = from; i < at; i = next_char(i))
        under += source[i] == '\t' ? '\t' : ' ';
    for (char& c : text)
        if ((unsigned char)c < 0x20 && c != '\t')
            c = ' ';
    fprintf(stderr, "  %s\n  %s^\n", text.c_str(), under.c_str());
}

// Reads the file at [path] ("-": standard input) whole into [out]. A
// regular file's size is known first, so that its text is read in one
// read() straight into the string, not copied in through a buffer (for a
// 200 KB script that copy into fresh pages was a twentieth of `kscript
// check`'s time).
bool read_file(const char* path, std::string* out)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        out->resize((size_t)st.st_size);
    size_t have = 0;
    char probe[4096];   // Once the string is full: whether there is more (there seldom is).
    for (;;) {
        bool full = have == out->size();
        ssize_t n = full ? read(fd, probe, sizeof(probe)) : read(fd, &(*out)[have], out->size() - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = errno;
            out->resize(have);
            if (fd != 0)
                close(fd);
            errno = saved;
            return n == 0;
        }
        if (full) {
            // Not a regular file, or one that grew: room for more.
            out->resize(have + (have > 65536 ? have : 65536));
            memcpy(&(*out)[have], probe, (size_t)n);
        }
        have += (size_t)n;
    }
}

bool parse_number(const char* s, long long* out)
{
    char* end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || *end || v < 0)
        return false;
    *out = v;
    return true;
}

}

int main(int argc, char** argv)
{
    std::string command = argc > 1 ? argv[1] : "";
    // --help and --version answer wherever they stand, before anything else.
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("kscript %s (bytecode files of engine version 1)\n", KS_VERSION);
            return 0;
        }
    }
    if (command == "load" || command == "unload" || command == "list" || command == "stats")
        return kernel_command(command, argc, argv);
    if (argc < 3) {
        usage();
        return kExitUsage;
    }
    if (command != "run" && command != "check" && command != "disasm" && command != "compile") {
        usage();
        return kExitUsage;
    }
    ks_config config;
    ks_config_init(&config);
    // At the command line a script may run as long as it likes unless
    // --budget says otherwise; the kernel module keeps the engine's default.
    config.budget = 1ll << 62;
    bool slabinfo = false;
    bool stats = false;
    bool caret = true;
    std::vector<std::pair<std::string, std::string>> actions;
    const char* path = nullptr;
    std::string output_path;
    for (int i = 2; i < argc; i++) {
        std::string arg = argv[i];
        long long n;
        int rc;
        if (arg == "-o" && command == "compile" && i + 1 < argc) {
            output_path = argv[++i];
        } else if (arg == "--transcript") {
            config.transcript = 1;
        } else if (arg == "--slabinfo") {
            slabinfo = true;
        } else if (arg == "--stats") {
            stats = true;
        } else if (arg == "--no-caret") {
            caret = false;
        } else if (arg == "--slab-debug") {
            config.slab_debug = 1;
        } else if ((arg == "--device-read" || arg == "--device-write" || arg == "--proc-read"
                       || arg == "--proc-write" || arg == "--timer-run") && i + 1 < argc) {
            if (arg == "--timer-run" && (!parse_number(argv[i + 1], &n) || n < 1 || n > 1000000)) {
                fprintf(stderr, "kscript: --timer-run %s: expected a number of rounds, 1 to 1000000\n", argv[i + 1]);
                return kExitUsage;
            }
            std::string verb = arg.substr(2);
            if (verb.compare(0, 7, "device-") == 0)
                verb = verb.substr(7);
            actions.push_back({ verb, argv[++i] });
        } else if (cli::is_event_action(arg) && i + 1 < argc) {
            actions.push_back({ arg.substr(2), argv[++i] });
        } else if (i + 1 < argc && (rc = cli::event_option(arg, argv[i + 1], &config)) != 0) {
            if (rc < 0)
                return kExitUsage;
            i++;
        } else if ((arg == "--budget" || arg == "--memory" || arg == "--depth") && i + 1 < argc) {
            if (!parse_number(argv[i + 1], &n) || n < 1) {
                fprintf(stderr, "kscript: %s needs a positive number, not '%s'\n", arg.c_str(), argv[i + 1]);
                return kExitUsage;
            }
            if (arg == "--budget")
                config.budget = n;
            else if (arg == "--memory")
                config.memory_quota = (unsigned long)n;
            else
                config.max_depth = (unsigned)n;
            i++;
        } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
            fprintf(stderr, "kscript: unknown option '%s'\n", arg.c_str());
            usage();
            return kExitUsage;
        } else if (!path) {
            path = argv[i];
            // After the script's file name, `kscript run` passes the rest to
            // the script (SCRIPT_ARGV).
            if (command == "run" && i + 1 < argc) {
                config.script_args = argv + i + 1;
                config.script_arg_count = (unsigned)(argc - i - 1);
                break;
            }
        } else {
            usage();
            return kExitUsage;
        }
    }
    if (!path) {
        usage();
        return kExitUsage;
    }
    std::string source;
    if (!read_file(path, &source)) {
        fprintf(stderr, "kscript: cannot read %s: %s\n", path, strerror(errno));
        return kExitNoInput;
    }
    // SCRIPT_ARGV is compiled into the program: a bytecode file has the
    // empty one it was compiled with, so arguments after it would be lost.
    bool is_bytecode_file = ks_is_bytecode(source.data(), source.size());
    if (config.script_arg_count && is_bytecode_file) {
        fprintf(stderr, "kscript: %s is a bytecode file: its SCRIPT_ARGV was fixed when it was compiled, "
                        "so it takes no arguments (run the source to pass them)\n", path);
        return kExitUsage;
    }
    Output output;
    config.write = write_hook;
    config.info = info_hook;
    config.comm = comm_hook;
    config.created = created_hook;
    config.stopped = stopped_hook;
    config.read = cli::read_hook;
    config.ctx = &output;
    // The user's own files, in the user's own process: bytecode is welcome.
    config.bytecode = 1;
    ks_state* state = ks_open(&config);
    current_state = state;
    if (!state) {
        fprintf(stderr, "kscript: out of memory\n");
        return kExitNoMemory;
    }
    int status = ks_load(state, source.data(), source.size(), path);
    bool transcript = config.transcript && command == "run";
    unsigned count = ks_diagnostic_count(state);
    bool blocking = false;
    for (unsigned i = 0; i < count; i++) {
        ks_diagnostic d;
        ks_get_diagnostic(state, i, &d);
        if (transcript) {
            if (!d.deferred) {
                printf("LINE%u: (%s) \n", d.line, d.is_info ? "info" : d.is_warning ? "warning" : "error");
                output.printed = true;
                blocking = blocking || !d.is_warning;
            }
            continue;
        }
        fprintf(stderr, "%s:%u:%u: %s: %s\n", path, d.line, d.column,
            d.is_info ? "info" : d.is_warning ? "warning" : "error",
            d.message);
        if (caret)
            print_source_line(source, d.line, d.column);
    }
    int exit_code = 0;
    if (status == KS_ENOMEM) {
        fprintf(stderr, "%s: error: out of memory while compiling\n", path);
        exit_code = kExitNoMemory;
    } else if (status == KS_ETOOBIG) {
        fprintf(stderr, "%s: error: source is larger than the limit\n", path);
        exit_code = kExitCompile;
    } else if (status != KS_OK || blocking) {
        exit_code = kExitCompile;
    } else if (command == "disasm") {
        ks_disassemble(state);
    } else if (command == "compile") {
        exit_code = write_bytecode_file(state, path, output_path);
    } else if (command == "run") {
        fflush(stdout);
        int run = ks_run(state);
        if (run == KS_EEXCEPTION) {
            std::string message = cli::exception_message(state);
            if (transcript) {
                printf("LINE%u: %s\n", ks_exception_line(state), ks_exception_name(state));
                output.printed = true;
            } else {
                fflush(stdout);
                fprintf(stderr, "%s:%u: error: uncaught %s%s", path, ks_exception_line(state),
                    ks_exception_name(state), message.empty() ? "" : ": ");
                fwrite(message.data(), 1, message.size(), stderr);
                fputc('\n', stderr);
                cli::print_trace(state, path);
            }
            exit_code = kExitRuntime;
        }
        for (const auto& [action, spec] : actions) {
            if (exit_code != 0)
                break;
            if (action == "timer-run") {
                if (!run_timers(path, atoi(spec.c_str())))
                    exit_code = kExitRuntime;
            } else if (cli::is_event_action("--" + action)) {
                // False: the option names nothing the script made, or is
                // malformed (hook exceptions are reported, not failures).
                if (!cli::run_event(state, path, action, spec))
                    exit_code = kExitUsage;
            } else {
                ActionResult r = device_action(path, action, spec);
                exit_code = r == ActionResult::Ok  ? 0
                    : r == ActionResult::NoSuchFile ? kExitUsage
                    : r == ActionResult::IoError    ? kExitIo
                                                    : kExitRuntime;
            }
        }
    }
    if (transcript && output.printed)
        printf("Q.E.D.\n");
    fflush(stdout);
    if (stats) {
        ks_stats st;
        ks_get_stats(state, &st);
        fprintf(stderr,
            "memory used %lu, peak %lu, quota %lu; pages %lu; budget charged %llu; calls %llu; exceptions %llu; "
            "collections %llu; live objects %lu\n",
            st.memory_used, st.memory_peak, st.memory_quota, st.pages, st.instructions, st.calls, st.exceptions,
            st.collections, st.live_objects);
        fprintf(stderr, "load: %s %u us, verify %u us\n", is_bytecode_file ? "read" : "compile",
            st.load_us, st.verify_us);
    }
    if (slabinfo)
        ks_slabinfo(state);
    fflush(stdout);
    ks_close(state);
    if (ks_leaked_bytes()) {
        fprintf(stderr, "kscript: internal error: %llu bytes leaked by the engine\n", ks_leaked_bytes());
        return exit_code ? exit_code : 1;
    }
    return exit_code;
}
