// The boundary between scripts, the engine and the host: every native and
// every host entry point given every wrong type (issue 14, class 1), and
// the host-object layer's rules (classes, limits, quota, rollback).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/api/StateImpl.h"
#include "core/vm/Natives.h"

namespace {

void no_output(void*, int, const char*, unsigned long) {}

// A state with [source] loaded (not run); null if it did not compile.
ks_state* load(const std::string& source, ks_config* adjust = nullptr)
{
    ks_config config;
    ks_config_init(&config);
    if (adjust)
        config = *adjust;
    config.write = no_output;
    ks_state* s = ks_open(&config);
    if (ks_load(s, source.data(), source.size(), "test.k") != KS_OK) {
        ks_close(s);
        return nullptr;
    }
    return s;
}

// Compiles and runs [source]; the load status (KS_OK, KS_ECOMPILE...).
int compile_and_run(const std::string& source)
{
    ks_config config;
    ks_config_init(&config);
    config.write = no_output;
    config.budget = 1000000;
    ks_state* s = ks_open(&config);
    int rc = ks_load(s, source.data(), source.size(), "test.k");
    if (rc == KS_OK)
        ks_run(s);
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);
    return rc;
}

// A value of each type a script can write, as an expression, and the
// signature letters it satisfies.
struct Sample {
    const char* expr;
    const char* fits;
};
const Sample kSamples[] = {
    { "1", "i" },
    { "true", "b" },
    { "\"text\"", "s" },
    { "new Bytes(2)", "y" },
    { "new int[2]", "" },
    { "new String[2]", "S" },
    { "new Map[String, int]()", "" },
    { "new Object()", "o" },
    { "new Pair()", "o" },
    { "null", "sySoF" },   // F: a comparator; the one-element receiver never calls it.
};

// The receiver expression of a native's owner ("String", "Array"...), or
// null for namespaces ("System", "Linux", "String.", "Bytes.").
const char* receiver_of(const char* owner)
{
    std::string o = owner;
    if (o == "String")
        return "\"receiver\"";
    if (o == "Array")
        return "new int[1]";
    if (o == "Map")
        return "new Map[int, int]()";
    if (o == "Bytes")
        return "new Bytes(3)";
    return nullptr;
}

// Every native with every argument position given a value of every type:
// the checker refuses each wrong one, so that no native ever receives a
// value of a type it does not expect; right ones compile and run. Internal
// (__) natives are refused whatever their arguments. Under the ASan build a
// native reading a value as the wrong type would be caught.
TEST(Host, EveryNativeWithEveryWrongType)
{
    u32 count;
    const NativeInfo* natives = native_table(&count);
    int refused = 0, accepted = 0;
    for (u32 n = 0; n < count; n++) {
        const NativeInfo& info = natives[n];
        std::string owner = info.owner;
        if (str_equal(info.name, "new"))
            continue;   // Bytes.new is `new Bytes(n)`, checked like any constructor.
        const char* receiver = receiver_of(info.owner);
        std::string prefix;
        if (receiver)
            prefix = std::string("(") + receiver + ").";
        else
            prefix = (owner.back() == '.' ? owner.substr(0, owner.size() - 1) : owner) + ".";
        const char* params = info.signature + 1;
        size_t argc = std::string(params).size();
        for (size_t position = 0; position < argc; position++) {
            char want = params[position];
            for (const Sample& sample : kSamples) {
                std::string call = prefix + info.name + "(";
                for (size_t i = 0; i < argc; i++) {
                    if (i)
                        call += ", ";
                    if (i == position) {
                        call += sample.expr;
                        continue;
                    }
                    // The others get a fitting value (E and K of int containers are ints).
                    char c = params[i];
                    call += c == 's' ? "\"x\"" : c == 'y' ? "new Bytes(1)" : c == 'b' ? "true" : c == 'o' ? "new Object()"
                        : c == 'S' ? "new String[1]" : "0";
                }
                call += ")";
                std::string source = "class Pair { int a; }\n" + call + "\n";
                int rc = compile_and_run(source);
                bool internal = info.name[0] == '_' && info.name[1] == '_';
                std::string expr = sample.expr;
                bool fits = std::string(sample.fits).find(want) != std::string::npos
                    || ((want == 'E' || want == 'K') && expr == "1")
                    || (want == 'R' && (expr == "new int[2]" || expr == "null"));
                if (internal || !fits) {
                    EXPECT_EQ(rc, KS_ECOMPILE) << source;
                    refused++;
                } else {
                    EXPECT_EQ(rc, KS_OK) << source;
                    accepted++;
                }
            }
        }
    }
    EXPECT_GT(refused, 500);
    EXPECT_GT(accepted, 50);
}

// A host object of each kind, made by a script while it loads.
const char* kThreeObjects =
    "class D extends Device { D() { super(\"dev\", 0644); }\n"
    "  @Override void read(OutputStream out) { out.print(\"device\"); }\n"
    "  @Override int write(Bytes b) { return b.size() + 1000; } }\n"
    "class P extends Proc { P() { super(\"proc\", false); }\n"
    "  @Override void read(OutputStream out) { out.print(\"proc\"); } }\n"
    "int runs = 0\n"
    "class T extends Timer { T() { super(5, true); } @Override void run() { runs++; } }\n"
    "new D()\nnew P()\nnew T()\n";

// Every host entry point with every kind of object: the right ones call
// their handler, the others are refused without calling anything.
TEST(Host, EveryEntryPointWithEveryKind)
{
    ks_state* s = load(kThreeObjects);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(ks_run(s), KS_OK);
    ASSERT_EQ(ks_object_count(s), 3u);
    ks_object* device = ks_object_find(s, KS_OBJECT_DEVICE, "dev");
    ks_object* proc = ks_object_find(s, KS_OBJECT_PROC, "proc");
    ks_object* timer = ks_object_get(s, 2);
    ASSERT_TRUE(device && proc && timer);
    EXPECT_EQ(timer->kind, KS_OBJECT_TIMER);
    EXPECT_EQ(ks_object_find(s, KS_OBJECT_PROC, "dev"), nullptr);
    EXPECT_EQ(device->mode, 0644u);
    EXPECT_EQ(proc->mode, 0444u);
    EXPECT_FALSE(proc->writable);
    EXPECT_EQ(timer->interval_ms, 5u);
    EXPECT_TRUE(timer->periodic);

    const void* data;
    unsigned long length;
    long long consumed;
    ASSERT_EQ(ks_object_read(s, device, &data, &length), KS_OK);
    EXPECT_EQ(std::string(static_cast<const char*>(data), length), "device");
    ASSERT_EQ(ks_object_read(s, proc, &data, &length), KS_OK);
    EXPECT_EQ(std::string(static_cast<const char*>(data), length), "proc");
    EXPECT_EQ(ks_object_read(s, timer, &data, &length), KS_ENOENT);
    EXPECT_EQ(length, 0u);

    ASSERT_EQ(ks_object_write(s, device, "abc", 3, &consumed), KS_OK);
    EXPECT_EQ(consumed, 1003);
    EXPECT_EQ(ks_object_write(s, timer, "abc", 3, &consumed), KS_ENOENT);

    EXPECT_EQ(ks_object_run(s, device), KS_ENOENT);
    EXPECT_EQ(ks_object_run(s, proc), KS_ENOENT);
    EXPECT_EQ(ks_object_run(s, timer), KS_OK);
    // open/release: the device's (built-in, empty) handlers; a /proc file has
    // none; a timer's slot 0 is run(), which open must not reach.
    EXPECT_EQ(ks_object_open(s, device), KS_OK);
    EXPECT_EQ(ks_object_release(s, device), KS_OK);
    EXPECT_EQ(ks_object_open(s, proc), KS_OK);
    EXPECT_EQ(ks_object_open(s, timer), KS_ENOENT);
    EXPECT_EQ(ks_object_release(s, timer), KS_ENOENT);
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);
}

// The layer itself given objects of every wrong class (as a compiler bug
// or a corrupted program could pass them): refused, nothing recorded.
TEST(Host, RequestsWithWrongObjectsAreRefused)
{
    ks_state* s = load(std::string(kThreeObjects) + "class Other { int x; }\n");
    ASSERT_NE(s, nullptr);
    Program& p = s->program;
    RtClass* other = nullptr;
    for (u32 i = 0; i < p.class_count; i++)
        if (str_equal(p.classes[i]->name, "Other"))
            other = p.classes[i];
    ASSERT_NE(other, nullptr);
    std::vector<u64> wrong = {
        from_obj(s->heap.new_instance(other)),
        from_obj(s->heap.new_instance(p.classes[ClassOutputStream])),
        from_obj(s->heap.new_instance(p.classes[ClassObject])),
        from_obj(p.classes[ClassDevice]->null_instance),
        from_obj(s->heap.new_string("s", 1)),
        from_obj(s->heap.new_bytes(4)),
        p.null_array,
        p.null_map,
        0,
    };
    u64 device = from_obj(s->heap.new_instance(p.classes[ClassDevice]));
    u64 timer = from_obj(s->heap.new_instance(p.classes[ClassTimer]));
    s->running_main = true;
    usize used = s->memory.used();
    for (int request : { HostDeviceCreate, HostProcCreate, HostTimerCreate, HostProbeCreate, HostNetfilterCreate }) {
        std::vector<u64> objects = wrong;
        objects.push_back(request == HostDeviceCreate ? timer : device);   // a host class, but the wrong one
        for (u64 object : objects) {
            i64 number = request == HostDeviceCreate ? 0444 : request == HostNetfilterCreate ? 2 : 10;
            HostRequestArgs args { request, object, "name", 4, number, false, 1, 0 };
            const char* reason = nullptr;
            EXPECT_EQ(host_request(s, args, &reason), -22) << request;
            EXPECT_STREQ(reason, "not an object of the built-in class");
        }
    }
    EXPECT_EQ(ks_object_count(s), 0u);
    EXPECT_EQ(s->memory.used(), used);
    // And the right one is accepted.
    HostRequestArgs args { HostDeviceCreate, device, "name", 4, 0444, false, 0, 0 };
    const char* reason = nullptr;
    EXPECT_EQ(host_request(s, args, &reason), 0);
    EXPECT_EQ(ks_object_count(s), 1u);
    s->running_main = false;
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);
}

int refuse_all(void*, ks_object*) { return -17; }

// Each object charges its host cost to the quota; one past the quota is
// refused; a host that refuses an object leaves nothing recorded or charged.
TEST(Host, ObjectsAreChargedAndRolledBack)
{
    ks_config config;
    ks_config_init(&config);
    config.object_cost[KS_OBJECT_TIMER] = 100000;
    config.object_limit[KS_OBJECT_TIMER] = 1000;
    config.memory_quota = 1 << 20;
    const char* source = "class T extends Timer { T() { super(10, false); } }\n"
                         "int made = 0\n"
                         "try { while (true) { new T(); made++ } } catch (RuntimeScriptException e) { System.p(e.getMessage()) }\n"
                         "System.p(made)\n";
    std::string out;
    config.write = [](void* ctx, int, const char* text, unsigned long n) { static_cast<std::string*>(ctx)->append(text, n); };
    config.ctx = &out;
    ks_state* s = ks_open(&config);
    ASSERT_EQ(ks_load(s, source, str_length(source), "t.k"), KS_OK);
    usize before = s->memory.used();
    ASSERT_EQ(ks_run(s), KS_OK);
    u32 made = ks_object_count(s);
    EXPECT_GE(made, 5u);
    EXPECT_LE(made, 10u);
    EXPECT_GE(s->memory.used() - before, made * 100000ul);
    EXPECT_NE(out.find("over the quota"), std::string::npos) << out;
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);

    ks_config_init(&config);
    config.created = refuse_all;
    config.write = no_output;
    s = ks_open(&config);
    source = "try { new Device(\"taken\", 0444) } catch (RuntimeScriptException e) { System.p(e.getMessage()) }\n";
    ASSERT_EQ(ks_load(s, source, str_length(source), "t.k"), KS_OK);
    before = s->memory.used();
    ASSERT_EQ(ks_run(s), KS_OK);
    EXPECT_EQ(ks_object_count(s), 0u);
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);
}

TEST(Host, OneNameRule)
{
    EXPECT_TRUE(ks_valid_name("hello", 5));
    EXPECT_TRUE(ks_valid_name("a.b-c_d9", 8));
    EXPECT_TRUE(ks_valid_name("abcdefghijklmnopqrstuvwxyz01234", 31));
    EXPECT_FALSE(ks_valid_name("abcdefghijklmnopqrstuvwxyz012345", 32));
    EXPECT_FALSE(ks_valid_name("", 0));
    EXPECT_FALSE(ks_valid_name(".", 1));
    EXPECT_FALSE(ks_valid_name("..", 2));
    EXPECT_FALSE(ks_valid_name("-x", 2));
    EXPECT_FALSE(ks_valid_name("a b", 3));
    EXPECT_FALSE(ks_valid_name("a\nb", 3));
    EXPECT_FALSE(ks_valid_name("a/b", 3));
    EXPECT_FALSE(ks_valid_name("k\0h", 3));
    EXPECT_FALSE(ks_valid_name("\377\376", 2));
}

}

// Hooks: ks_object_hit() runs only hooks, in atomic mode (its own budget,
// no collection, no large allocation), and leaves the state as it was.
TEST(Host, HooksRunInAtomicModeAndLeaveNoTrace)
{
    static const char kHooks[] = R"(
int garbage = 0
class Dev extends Device {
  Dev() { super("dev", 0444); }
  @Override void read(OutputStream out) {
    Bytes big = new Bytes(200000)
    int i = 0
    while (i < 1000000) { i++ }
    out.print("" + big.size())
  }
}
class Probe extends Kprobe {
  Probe() { super("fn"); }
  @Override void hit(Regs r) {
    int i = 0
    while (i < r.arg(0)) { i++ }
    for (int j = 0; j < r.arg(1); j++) { String s = "garbage " + j; garbage++ }
    if (r.arg(2) == 1) { Bytes b = new Bytes(100000) }
  }
}
class Filter extends Netfilter {
  Filter() { super(NFPROTO_IPV4, NF_INET_LOCAL_IN, 0); }
  @Override int hook(Packet p) {
    if (p.dport == 1) { int z = 0; return 5 / z; }
    return p.dport == 9999 ? NF_DROP : NF_ACCEPT
  }
}
new Dev()
new Probe()
new Filter()
)";
    ks_config config;
    ks_config_init(&config);
    config.hook_budget = 50000;
    config.memory_quota = 8 << 20;
    ks_state* s = load(kHooks, &config);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(ks_run(s), KS_OK);
    ks_object* dev = ks_object_find(s, KS_OBJECT_DEVICE, "dev");
    ks_object* probe = ks_object_get(s, 1);
    ks_object* filter = ks_object_get(s, 2);
    ASSERT_TRUE(dev && probe && filter);
    EXPECT_EQ(probe->kind, KS_OBJECT_KPROBE);
    EXPECT_STREQ(probe->symbol, "fn");
    EXPECT_EQ(probe->line, 13u);   // super("fn"): the script line that made it
    EXPECT_EQ(filter->kind, KS_OBJECT_NETFILTER);
    EXPECT_EQ(filter->family, 2);
    EXPECT_EQ(filter->hooknum, 1);

    // Only hooks take events; hooks take no file or timer calls.
    ks_event e {};
    int verdict = -1;
    EXPECT_EQ(ks_object_hit(s, dev, &e, &verdict, nullptr), KS_ENOENT);
    const void* data;
    unsigned long length;
    long long consumed;
    EXPECT_EQ(ks_object_open(s, probe), KS_ENOENT);
    EXPECT_EQ(ks_object_read(s, probe, &data, &length), KS_ENOENT);
    EXPECT_EQ(ks_object_write(s, filter, "x", 1, &consumed), KS_ENOENT);
    EXPECT_EQ(ks_object_release(s, filter), KS_ENOENT);
    EXPECT_EQ(ks_object_run(s, probe), KS_ENOENT);

    // The hook's budget, not the state's: 1,000 loop turns fit in 50,000
    // units (a turn costs its few instructions and the call of r.arg(),
    // charged its length), 60,000 do not.
    e.arg[0] = 1000;
    EXPECT_EQ(ks_object_hit(s, probe, &e, &verdict, nullptr), KS_OK);
    EXPECT_EQ(verdict, 0);
    e.arg[0] = 60000;
    ASSERT_EQ(ks_object_hit(s, probe, &e, &verdict, nullptr), KS_EEXCEPTION);
    EXPECT_STREQ(ks_exception_name(s), "BudgetExceededException");
    // A large allocation fails in a hook...
    e.arg[0] = 0;
    e.arg[2] = 1;
    ASSERT_EQ(ks_object_hit(s, probe, &e, &verdict, nullptr), KS_EEXCEPTION);
    EXPECT_STREQ(ks_exception_name(s), "OutOfMemoryException");
    // ... and works, with the full budget, in process context afterwards.
    ASSERT_EQ(ks_object_read(s, dev, &data, &length), KS_OK);
    EXPECT_EQ(std::string(static_cast<const char*>(data), length), "200000");

    // Garbage made in hooks is not collected there; ks_collect() does it.
    ks_stats before, after;
    ks_get_stats(s, &before);
    e.arg[2] = 0;
    e.arg[1] = 400;
    // ks_object_hit()'s [collect] says what ks_collect_due() says.
    int collect = 0;
    for (int i = 0; i < 200 && !collect; i++) {
        ASSERT_EQ(ks_object_hit(s, probe, &e, &verdict, &collect), KS_OK) << ks_exception_name(s) << " at " << i;
        ASSERT_EQ(collect, ks_collect_due(s)) << " at " << i;
    }
    ks_get_stats(s, &after);
    EXPECT_TRUE(collect);
    EXPECT_TRUE(ks_collect_due(s));
    EXPECT_EQ(after.collections, before.collections);
    ks_collect(s);
    ks_get_stats(s, &after);
    EXPECT_EQ(after.collections, before.collections + 1);
    EXPECT_FALSE(ks_collect_due(s));

    // Verdicts: the handler's NF_DROP; NF_ACCEPT for anything else and
    // after an exception.
    e = ks_event {};
    e.dport = 9999;
    EXPECT_EQ(ks_object_hit(s, filter, &e, &verdict, nullptr), KS_OK);
    EXPECT_EQ(verdict, 0);
    e.dport = 53;
    EXPECT_EQ(ks_object_hit(s, filter, &e, &verdict, nullptr), KS_OK);
    EXPECT_EQ(verdict, 1);
    e.dport = 1;
    EXPECT_EQ(ks_object_hit(s, filter, &e, &verdict, nullptr), KS_EEXCEPTION);
    EXPECT_EQ(verdict, 1);
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);
}

// A handler that never reads its Regs does not get it filled in (nothing
// can see it); every way of reading it does: directly, through a copy,
// passed on, and stored for a later read.
TEST(Host, HookArgumentFilledWhenTheHandlerReadsIt)
{
    static const char kProbes[] = R"(
int hits = 0
int seen = 0
Regs kept = null
class Counter extends Kprobe {
  Counter() { super("a"); }
  @Override void hit(Regs r) { hits++; }
}
class Copy extends Kprobe {
  Copy() { super("b"); }
  @Override void hit(Regs r) { Regs q = r; seen = q.a1 + q.ret(); }
}
int third(Regs r) { return r.arg(2) }
class Passed extends Kprobe {
  Passed() { super("c"); }
  @Override void hit(Regs r) { seen = third(r); }
}
class Stored extends Kprobe {
  Stored() { super("d"); }
  @Override void hit(Regs r) { kept = r; }
}
class Report extends Proc {
  Report() { super("report", false); }
  @Override void read(OutputStream out) {
    out.print("" + hits + " " + seen + " " + (kept == null ? -1 : kept.a3))
  }
}
new Counter()
new Copy()
new Passed()
new Stored()
new Report()
)";
    ks_state* s = load(kProbes);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(ks_run(s), KS_OK);
    auto report = [&]() {
        const void* data;
        unsigned long length;
        EXPECT_EQ(ks_object_read(s, ks_object_get(s, 4), &data, &length), KS_OK);
        return std::string(static_cast<const char*>(data), length);
    };
    ks_event e {};
    int verdict;
    auto hit = [&](unsigned int object, long long base) {
        for (long long i = 0; i < 6; i++)
            e.arg[i] = base * (i + 1);
        e.ret = base / 2;
        EXPECT_EQ(ks_object_hit(s, ks_object_get(s, object), &e, &verdict, nullptr), KS_OK);
    };
    hit(0, 10);
    EXPECT_EQ(report(), "1 0 -1");
    hit(1, 10);                      // a1 + ret: 20 + 5
    EXPECT_EQ(report(), "1 25 -1");
    hit(2, 100);                     // arg(2)
    EXPECT_EQ(report(), "1 300 -1");
    hit(0, 7);
    hit(3, 1000);                    // kept: its own Regs, a3
    EXPECT_EQ(report(), "2 300 4000");
    hit(0, 9);                       // another hook's event leaves it alone
    EXPECT_EQ(report(), "3 300 4000");
    hit(3, 2);
    EXPECT_EQ(report(), "3 300 8");
    ks_close(s);
    EXPECT_EQ(ks_leaked_bytes(), 0u);
}
