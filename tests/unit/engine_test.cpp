// The embedding API end to end: load, run, exceptions, limits, statistics,
// and the engine under page-allocation failure.
#include <gtest/gtest.h>

#include <string>

#include "include/kscript.h"

namespace {

struct Capture {
    std::string out;
};

void capture(void* ctx, int, const char* text, unsigned long length)
{
    static_cast<Capture*>(ctx)->out.append(text, length);
}

struct ScriptRun {
    int load = -1;
    int run = -1;
    std::string out;
    std::string exception;
    unsigned line = 0;
    unsigned diagnostics = 0;
};

ScriptRun run_script(const std::string& source, void (*adjust)(ks_config*) = nullptr)
{
    Capture cap;
    ks_config config;
    ks_config_init(&config);
    config.write = capture;
    config.ctx = &cap;
    if (adjust)
        adjust(&config);
    ScriptRun r;
    ks_state* s = ks_open(&config);
    if (!s)
        return r;
    r.load = ks_load(s, source.data(), source.size(), "test.k");
    r.diagnostics = ks_diagnostic_count(s);
    if (r.load == KS_OK) {
        r.run = ks_run(s);
        if (r.run == KS_EEXCEPTION) {
            r.exception = ks_exception_name(s);
            r.line = ks_exception_line(s);
        }
    }
    r.out = cap.out;
    ks_close(s);
    return r;
}

TEST(Engine, HelloWorld)
{
    ScriptRun r = run_script("System.p(\"Hello World!\")");
    EXPECT_EQ(r.load, KS_OK);
    EXPECT_EQ(r.run, KS_OK);
    EXPECT_EQ(r.out, "Hello World!\n");
}

TEST(Engine, CompileErrorsAreAllReported)
{
    ScriptRun r = run_script("int a = \"x\"\nString b = 1\nfoo()\n");
    EXPECT_EQ(r.load, KS_ECOMPILE);
    EXPECT_EQ(r.diagnostics, 3u);
}

TEST(Engine, UncaughtExceptionHasNameAndLine)
{
    ScriptRun r = run_script("int z = 0\n\nint q = 1 / z\n");
    EXPECT_EQ(r.run, KS_EEXCEPTION);
    EXPECT_EQ(r.exception, "ZeroDividedException");
    EXPECT_EQ(r.line, 3u);
}

TEST(Engine, LoadTwiceIsRefused)
{
    ks_config config;
    ks_config_init(&config);
    ks_state* s = ks_open(&config);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(ks_load(s, "int a = 1", 9, "a.k"), KS_OK);
    EXPECT_EQ(ks_load(s, "int a = 1", 9, "a.k"), KS_ESTATE);
    ks_close(s);
}

TEST(Engine, RunBeforeLoadIsRefused)
{
    ks_config config;
    ks_config_init(&config);
    ks_state* s = ks_open(&config);
    EXPECT_EQ(ks_run(s), KS_ESTATE);
    ks_close(s);
}

TEST(Engine, SourceSizeLimit)
{
    ScriptRun r = run_script(std::string(5000, ' '), [](ks_config* c) { c->max_source = 4096; });
    EXPECT_EQ(r.load, KS_ETOOBIG);
}

TEST(Engine, BudgetStopsInfiniteLoop)
{
    ScriptRun r = run_script("while (true) {}", [](ks_config* c) { c->budget = 1000000; });
    EXPECT_EQ(r.exception, "BudgetExceededException");
}

int stop_polls = 0;
int stop_after_three(void*)
{
    return ++stop_polls < 3;
}

TEST(Engine, PollHookCanInterrupt)
{
    stop_polls = 0;
    ScriptRun r = run_script("while (true) {}", [](ks_config* c) {
        c->poll = stop_after_three;
        c->poll_interval = 1000;
    });
    EXPECT_EQ(r.exception, "BudgetExceededException");
    EXPECT_EQ(stop_polls, 3);
}

TEST(Engine, StatsCountWork)
{
    Capture cap;
    ks_config config;
    ks_config_init(&config);
    config.write = capture;
    config.ctx = &cap;
    ks_state* s = ks_open(&config);
    std::string src = "int f(int n) { return n; }\nfor (int i = 0; i < 100; i++) f(i)\n"
                      "try { throw new Exception(\"x\"); } catch (Exception e) {}\n";
    ASSERT_EQ(ks_load(s, src.data(), src.size(), "s.k"), KS_OK);
    ASSERT_EQ(ks_run(s), KS_OK);
    ks_stats st;
    ks_get_stats(s, &st);
    EXPECT_GE(st.calls, 101u);
    EXPECT_EQ(st.exceptions, 1u);
    EXPECT_GT(st.instructions, 100u);
    EXPECT_GT(st.memory_used, 0u);
    EXPECT_LE(st.memory_used, st.memory_quota);
    ks_close(s);
}

TEST(Engine, QuotaTooSmallToCompileFailsCleanly)
{
    ScriptRun r = run_script("int[] a = [1, 2, 3]\nSystem.p(a)", [](ks_config* c) { c->memory_quota = 2000; });
    EXPECT_EQ(r.load, KS_ENOMEM);
}

TEST(Engine, EveryQuotaFailsCleanly)
{
    // Walk the quota up from tiny: each run must either fail with a clean
    // status or an exception, never crash or leak (ASan checks the leaks).
    std::string src = "class P { int x; String s = \"p\"; }\n"
                      "P[] ps = []\nfor (int i = 0; i < 50; i++) { P p = new P(); p.x = i; ps.add(p); }\n"
                      "Map[String, int] m = new Map[String, int]()\nm[\"k\"] = 1\nSystem.p(ps.size())\n";
    bool succeeded = false;
    for (unsigned long quota = 1000; quota < 400000; quota = quota * 5 / 4) {
        static unsigned long q;
        q = quota;
        ScriptRun r = run_script(src, [](ks_config* c) { c->memory_quota = q; });
        if (r.load == KS_OK && r.run == KS_OK) {
            EXPECT_EQ(r.out, "50\n");
            succeeded = true;
        } else if (r.load == KS_OK) {
            EXPECT_EQ(r.exception, "OutOfMemoryException");
        } else {
            EXPECT_EQ(r.load, KS_ENOMEM);
        }
    }
    EXPECT_TRUE(succeeded);
}

TEST(Engine, TranscriptMode)
{
    ScriptRun r = run_script("System.p(\"a\")\nint x = \"b\"\n", [](ks_config* c) { c->transcript = 1; });
    EXPECT_EQ(r.load, KS_OK);
    EXPECT_EQ(r.out, "LINE1: 'a'\nLINE2: (error) \n");
}

TEST(Engine, DisassembleListsUserFunctions)
{
    Capture cap;
    ks_config config;
    ks_config_init(&config);
    config.write = capture;
    config.ctx = &cap;
    ks_state* s = ks_open(&config);
    std::string src = "int twice(int n) { return n * 2; }";
    ASSERT_EQ(ks_load(s, src.data(), src.size(), "d.k"), KS_OK);
    ASSERT_EQ(ks_disassemble(s), KS_OK);
    EXPECT_NE(cap.out.find("function twice"), std::string::npos);
    EXPECT_NE(cap.out.find("Mul"), std::string::npos);
    EXPECT_EQ(cap.out.find("Exception.getMessage"), std::string::npos);
    ks_close(s);
}

TEST(Engine, SlabDebugModeRunsScripts)
{
    ScriptRun r = run_script("String s = \"\"\nfor (int i = 0; i < 300; i++) s += i\nSystem.p(s.length())",
        [](ks_config* c) { c->slab_debug = 1; });
    EXPECT_EQ(r.out, "790\n");
}

}

namespace {

TEST(Engine, NothingLeaksAcrossAllRuns)
{
    // Runs above included compile errors, exceptions, quota failures.
    ScriptRun r = run_script("class A { int[] xs = [1, 2]; }\nA[] all = []\nfor (int i = 0; i < 100; i++) all.add(new A())\n"
                             "Map[String, A] m = new Map[String, A]()\nm[\"a\"] = all[5]\nthrow new Exception(\"end\")\n");
    EXPECT_EQ(r.exception, "Exception");
    EXPECT_EQ(ks_leaked_bytes(), 0u);
}

}

// Compare-and-jump instructions reach past 32,767 instructions (their offset
// has 24 bits), forwards and backwards, taken and not taken.
TEST(Engine, LongCompareJumps)
{
    for (int taken = 0; taken < 2; taken++) {
        std::string body;
        for (int i = 0; i < 12000; i++)
            body += "  x = x + y * " + std::to_string(i % 9) + "\n";   // 4 instructions
        std::string src = "int x = " + std::string(taken ? "9" : "0") + "\nint y = 5\nint n = 0\n"
            + "if (x < y) {\n" + body + "}\nSystem.p(x)\n"
            + "do {\n  n++\n" + body + "} while (n < 2)\nSystem.p(x)\nSystem.p(n)\n";
        ScriptRun r = run_script(src);
        ASSERT_EQ(r.load, KS_OK);
        ASSERT_EQ(r.run, KS_OK);
        long long per_body = 0;
        for (int i = 0; i < 12000; i++)
            per_body += 5 * (i % 9);
        long long x = (taken ? 9 : per_body) + 2 * per_body;
        EXPECT_EQ(r.out, std::to_string(taken ? 9 : per_body) + "\n" + std::to_string(x) + "\n2\n");
    }
}

// Every loop charges the budget, also when its condition jumps straight back
// (a compare with a constant, a boolean, && and ||).
TEST(Engine, BudgetStopsEveryLoopShape)
{
    const char* loops[] = {
        "int i = 0\nwhile (i < 10) { i = i - 1 }",
        "int i = 0\nint n = 10\nwhile (i < n) { i = i - 1 }",
        "boolean b = true\nwhile (b) { }",
        "int i = 0\ndo { i-- } while (i < 5 && i > -1000000000000)",
        "int i = 0\nfor (;;) { i++ }",
        "int[] a = [1]\nfor (int x : a) { a.add(x) }",
    };
    for (const char* src : loops) {
        ScriptRun r = run_script(src, [](ks_config* c) { c->budget = 1000000; c->memory_quota = 64 << 20; });
        EXPECT_EQ(r.run, KS_EEXCEPTION) << src;
        EXPECT_EQ(r.exception, "BudgetExceededException") << src;
    }
}

// An empty script, loaded and run, holds under 16 KiB in all: the state's
// own page and the slab pages of its objects and compiled code. (In slab
// debug mode every slab is a page, so only the normal mode is held to it.)
TEST(Engine, EmptyScriptHoldsUnder16KiB)
{
    for (const char* src : { "", "// nothing\n", "int x = 1\n" }) {
        ks_config config;
        ks_config_init(&config);
        ks_state* s = ks_open(&config);
        ASSERT_EQ(ks_load(s, src, strlen(src), "empty.k"), KS_OK);
        ASSERT_EQ(ks_run(s), KS_OK);
        ks_stats st;
        ks_get_stats(s, &st);
        EXPECT_LT(st.pages * 4096, 16u * 1024) << "'" << src << "': " << st.pages << " pages";
        ks_close(s);
    }
}
