// The embedding API end to end: load, run, exceptions, limits, statistics,
// and the engine under page-allocation failure.
#include <gtest/gtest.h>
#include <time.h>

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

// ---------------------------------------------------------------- Budget of natives

#include <chrono>
#include <random>
#include <vector>

namespace {

// Substring search (Two-Way, forwards and backwards) against std::string on
// small random inputs over small alphabets, where every kind of partial
// match and period occurs: indexOf with and without a start, lastIndexOf,
// contains, replace and split, with multi-byte characters in some cases.
std::string utf8_chars_before(const std::string& s, size_t byte)
{
    long n = 0;
    for (size_t i = 0; i < byte; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return std::to_string(n);
}

std::string split_reference(const std::string& s, const std::string& sep)
{
    std::vector<std::string> parts;
    if (sep.empty()) {
        for (size_t i = 0; i < s.size();) {
            size_t j = i + 1;
            while (j < s.size() && ((unsigned char)s[j] & 0xc0) == 0x80)
                j++;
            parts.push_back(s.substr(i, j - i));
            i = j;
        }
    } else {
        size_t start = 0;
        for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
            parts.push_back(s.substr(start, at - start));
        parts.push_back(s.substr(start));
    }
    std::string out = "[";
    for (size_t i = 0; i < parts.size(); i++)
        out += (i ? ", \"" : "\"") + parts[i] + "\"";   // Strings in an array print quoted.
    return out + "]";
}

TEST(Engine, SubstringSearchMatchesReference)
{
    std::mt19937 rng(1234);
    const std::vector<std::vector<std::string>> alphabets = { { "a", "b" }, { "a", "b", "c" }, { "a", "\xc3\xa9" } };
    std::string src;
    std::string expected;
    for (int t = 0; t < 1500; t++) {
        const auto& alphabet = alphabets[t % alphabets.size()];
        auto random_text = [&](size_t n) {
            std::string s;
            for (size_t i = 0; i < n; i++)
                s += alphabet[rng() % alphabet.size()];
            return s;
        };
        std::string hay = random_text(rng() % (t < 1000 ? 40 : 300));
        std::string needle;
        switch (rng() % 4) {
        case 0:
            needle = random_text(rng() % 6);
            break;
        case 1: {   // Periodic: a short word repeated, often found.
            std::string w = random_text(1 + rng() % 3);
            for (size_t k = 1 + rng() % 6; k > 0; k--)
                needle += w;
            break;
        }
        default: {  // A piece of the haystack (whole characters).
            std::vector<size_t> starts;
            for (size_t i = 0; i <= hay.size(); i++)
                if (i == hay.size() || ((unsigned char)hay[i] & 0xc0) != 0x80)
                    starts.push_back(i);
            size_t a = starts[rng() % starts.size()];
            size_t b = starts[rng() % starts.size()];
            if (a > b)
                std::swap(a, b);
            needle = hay.substr(a, b - a);
            break;
        }
        }
        long chars = std::stol(utf8_chars_before(hay, hay.size()));
        long from = (long)(rng() % (chars + 3)) - 1;
        std::string h = "\"" + hay + "\"", n = "\"" + needle + "\"";
        src += "System.p(" + h + ".indexOf(" + n + "))\n";
        src += "System.p(" + h + ".indexOf(" + n + ", " + std::to_string(from) + "))\n";
        src += "System.p(" + h + ".lastIndexOf(" + n + "))\n";
        src += "System.p(" + h + ".contains(" + n + "))\n";
        src += "System.p(" + h + ".replace(" + n + ", \"<>\"))\n";
        src += "System.p(" + h + ".split(" + n + "))\n";
        size_t at = hay.find(needle);
        expected += (at == std::string::npos ? "-1" : utf8_chars_before(hay, at)) + "\n";
        if (from > chars) {
            expected += "-1\n";
        } else {
            size_t start = 0;   // Byte offset of character [from].
            for (long c = 0; c < from; c++)
                do
                    start++;
                while (start < hay.size() && ((unsigned char)hay[start] & 0xc0) == 0x80);
            size_t found = hay.find(needle, start);
            expected += (found == std::string::npos ? "-1" : utf8_chars_before(hay, found)) + "\n";
        }
        size_t last = hay.rfind(needle);
        expected += (last == std::string::npos ? "-1" : utf8_chars_before(hay, last)) + "\n";
        expected += std::string(at != std::string::npos ? "true" : "false") + "\n";
        std::string replaced = hay;
        if (!needle.empty()) {
            replaced.clear();
            size_t i = 0;
            for (size_t m; (m = hay.find(needle, i)) != std::string::npos; i = m + needle.size())
                replaced += hay.substr(i, m - i) + "<>";
            replaced += hay.substr(i);
        }
        expected += replaced + "\n";
        expected += split_reference(hay, needle) + "\n";
    }
    ScriptRun r = run_script(src);
    ASSERT_EQ(r.load, KS_OK);
    ASSERT_EQ(r.run, KS_OK) << r.exception << " at line " << r.line;
    // Compare line by line, to show the first case that differs.
    size_t line = 0, p = 0, q = 0;
    while (p < r.out.size() || q < expected.size()) {
        size_t pe = r.out.find('\n', p), qe = expected.find('\n', q);
        std::string got = r.out.substr(p, pe - p), want = expected.substr(q, qe - q);
        ASSERT_EQ(got, want) << "output line " << line + 1 << " of\n" << src.substr(0, 0) << [&] {
            size_t s = 0;
            for (size_t k = 0; k < line; k++)
                s = src.find('\n', s) + 1;
            return src.substr(s, src.find('\n', s) - s);
        }();
        if (pe == std::string::npos || qe == std::string::npos)
            break;
        p = pe + 1;
        q = qe + 1;
        line++;
    }
}

// Strings made from bytes: every mix of ASCII, lead and continuation bytes
// around the eight-byte steps of the character count.
TEST(Engine, StringCharacterCountsOfAnyBytes)
{
    std::mt19937 rng(99);
    std::string src = "Bytes b = new Bytes(0)\n";
    std::string expected;
    const unsigned char pool[] = { 'a', 'z', 0x00, 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0xf0, 0xff };
    for (int t = 0; t < 300; t++) {
        size_t n = rng() % 40;
        src += "b.clear()\n";
        long chars = 0;
        bool ascii = true;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = pool[rng() % sizeof(pool)];
            if (t % 3 == 0)
                c = 'a' + rng() % 26;
            src += "b.push(" + std::to_string(c) + ")\n";
            if ((c & 0xc0) != 0x80)
                chars++;
            if (c >= 0x80)
                ascii = false;
        }
        (void)ascii;
        src += "System.p(b.toString().length())\n";
        expected += std::to_string(chars) + "\n";
    }
    ScriptRun r = run_script(src);
    ASSERT_EQ(r.run, KS_OK) << r.exception;
    EXPECT_EQ(r.out, expected);
}

// The collector marks a heap shaped to overflow its mark stack at every
// node (a chain of wide nodes, each child holding references, the next node
// last; maps with removed entries; cycles) completely: what the script can
// reach before five collections is all still there after them.
TEST(Engine, CollectorKeepsWideAndDeepHeaps)
{
    const char* src = R"(
class Node {
  int id
  Node next
  Object[] kids
  Map[String, Node] byName
  Map[int, Node] back
  String label
}
Node mk(int id) { Node n = new Node(); n.id = id; n.label = "n" + id; n.kids = []; n.byName = new Map[String, Node](); n.back = new Map[int, Node](); return n; }
Node root = mk(0)
Node cur = root
for (int d = 1; d < 300; d++) {
  for (int j = 0; j < 70; j++) {
    Node leaf = mk(d * 1000 + j)
    leaf.next = cur
    leaf.back[j] = cur
    cur.kids.add(leaf)
    if (j % 3 == 0) cur.byName["k" + j] = leaf
  }
  for (int j = 0; j < 70; j += 2) cur.byName.remove("k" + j)
  Node nx = mk(d)
  cur.kids.add(nx)
  cur.byName["next"] = nx
  cur.next = nx
  cur = nx
}
int check(Node r) {
  int sum = 0
  Node c = r
  while (!c.isNull()) {
    sum += c.id + c.label.length()
    for (Object o : c.kids) { Node k = o as Node; sum += k.id + k.label.length() + k.next.id + k.back[k.id % 1000].id }
    for (String key : c.byName.keys()) sum += c.byName[key].id + key.length()
    c = c.next
  }
  return sum
}
int before = check(root)
for (int g = 0; g < 5; g++) {
  System.gc()
  for (int t = 0; t < 3000; t++) { Node junk = mk(-t) }
}
System.p(check(root) == before)
)";
    ScriptRun r = run_script(src);
    ASSERT_EQ(r.run, KS_OK) << r.exception << " at line " << r.line;
    EXPECT_EQ(r.out, "true\n");
}

struct NativeCase {
    const char* name;      // The native (and the input that made it slow).
    const char* setup;     // Builds the large input.
    const char* body;      // One call, repeated until the budget is spent.
    long long budget;
};

// Every native, on its largest input, in a loop under a small budget and a
// 32 MiB quota: the script must stop with BudgetExceededException, and
// quickly. Before natives were charged for their work (startsWith, trim,
// charCodeAt and substring on non-ASCII text, splice, Bytes.append, map
// lookups with long keys, join...) or searched in linear time (indexOf,
// lastIndexOf, contains, replace, split: n * m), and before collections
// marked in linear time, the marked cases ran for minutes: each call did
// megabytes of work and paid a few units. The natives whose work was
// already paid for (allocation, or a charge of their own) or is O(1) are
// here too, so that the table covers all of them.
// The CPU time this thread has used, in seconds.
static double thread_cpu_seconds()
{
    timespec t {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

TEST(Engine, BudgetStopsEveryNativeOnLargeInputs)
{
#define KS_MIB2 "2097152"
#define KS_ZEROS "String z = (new Bytes(" KS_MIB2 ")).toString()\n"
#define KS_NEEDLE "Bytes nb = new Bytes(65537)\nnb[65536] = 1\nString nd = nb.toString()\n"
#define KS_WIDE "String u = \"\xc3\xa9\" + (new Bytes(" KS_MIB2 ")).toString()\n"
#define KS_TWO "String z2 = (new Bytes(" KS_MIB2 ")).toString()\n"
#define KS_SPACES "String sp = \"                                                                \"\nfor (int i = 0; i < 15; i++) sp = sp + sp\n"
#define KS_INTS "int[] a = new int[1048576]\n"   // 8 MiB: room to grow and copy in 32 MiB
#define KS_STRINGMAP KS_ZEROS KS_TWO "Map[String, int] m = new Map[String, int]()\nm[z] = 1\n"
#define KS_HOLES "Map[int, int] m = new Map[int, int]()\nfor (int i = 0; i < 150000; i++) m[i] = i\nfor (int i = 1; i < 150000; i++) m.remove(i)\n"
    const long long B = 3000000;
    const NativeCase cases[] = {
        // String
        { "length", KS_ZEROS, "int n = z.length()", B },
        { "size", KS_ZEROS, "int n = z.size()", B },
        { "get (not ASCII)", KS_WIDE, "String c = u.get(" KS_MIB2 ")", B },
        { "charAt (not ASCII)", KS_WIDE, "String c = u.charAt(" KS_MIB2 ")", B },
        { "charCodeAt (not ASCII)", KS_WIDE, "int c = u.charCodeAt(" KS_MIB2 ")", B },
        { "indexOf (n * m)", KS_ZEROS KS_NEEDLE, "int k = z.indexOf(nd)", B },
        { "indexOf from (n * m)", KS_ZEROS KS_NEEDLE, "int k = z.indexOf(nd, 1)", B },
        { "lastIndexOf (n * m)", KS_ZEROS KS_NEEDLE, "int k = z.lastIndexOf(nd)", B },
        { "substring (not ASCII)", KS_WIDE, "String t = u.substring(" KS_MIB2 ")", B },
        { "substring 2 (not ASCII)", KS_WIDE, "String t = u.substring(2097151, " KS_MIB2 ")", B },
        { "substr (not ASCII)", KS_WIDE, "String t = u.substr(" KS_MIB2 ")", B },
        { "substr 2 (not ASCII)", KS_WIDE, "String t = u.substr(2097151, 1)", B },
        { "slice (not ASCII)", KS_WIDE, "String t = u.slice(" KS_MIB2 ")", B },
        { "slice 2 (not ASCII)", KS_WIDE, "String t = u.slice(-2, -1)", B },
        { "concat", KS_ZEROS, "String t = z.concat(\"x\")", B },
        { "replace (n * m)", KS_ZEROS KS_NEEDLE, "String t = z.replace(nd, \"x\")", B },
        { "replace (many matches)", KS_ZEROS, "String t = z.replace(String.fromCharCode(0), \"\")", B },
        { "split (n * m)", KS_ZEROS KS_NEEDLE, "String[] t = z.split(nd)", B },
        { "split (characters)", "String z = (new Bytes(262144)).toString()\n", "String[] t = z.split(\"\")", B },
        { "startsWith", KS_ZEROS KS_TWO, "boolean b = z.startsWith(z2)", B },
        { "endsWith", KS_ZEROS KS_TWO, "boolean b = z.endsWith(z2)", B },
        { "contains (n * m)", KS_ZEROS KS_NEEDLE, "boolean b = z.contains(nd)", B },
        { "toUpperCase", KS_ZEROS, "String t = z.toUpperCase()", B },
        { "toLowerCase", KS_ZEROS, "String t = z.toLowerCase()", B },
        { "trim", KS_SPACES, "String t = sp.trim()", B },
        { "toString", KS_ZEROS, "String t = z.toString()", B },
        { "equals", KS_ZEROS KS_TWO, "boolean b = z.equals(z2)", B },
        { "toInt (2 MiB of digit separators)",
            "String d = \"1________________________________________________________________\"\n"
            "for (int i = 0; i < 15; i++) d = d + d.substring(1)\n",
            "int v = d.toInt()", B },
        { "toBoolean", KS_ZEROS, "boolean b = z.toBoolean()", B },
        { "fromCharCode", "", "String c = String.fromCharCode(233)", B },
        // Array
        { "Array.size", KS_INTS, "int n = a.size()", B },
        { "Array.getSize", KS_INTS, "int n = a.getSize()", B },
        { "Array.length", KS_INTS, "int n = a.length()", B },
        { "Array.get", KS_INTS, "int n = a.get(5)", B },
        { "Array.set", KS_INTS, "a.set(5, 1)", B },
        { "Array.add, pop", KS_INTS, "a.add(1); int x = a.pop()", B },
        { "Array.push, removeAt", KS_INTS, "a.push(1); int x = a.removeAt(0)", B },
        { "Array.insert", KS_INTS, "a.insert(0, 1); int x = a.pop()", B },
        { "Array.clear", KS_INTS, "a.clear(); a.add(1)", B },
        { "Array.concat", "int[] a = new int[500000]\n", "int[] b = a.concat(a)", B },
        { "Array.slice", "int[] a = new int[500000]\n", "int[] b = a.slice(1)", B },
        { "Array.slice 2", "int[] a = new int[500000]\n", "int[] b = a.slice(1, -1)", B },
        { "Array.splice (moves the tail)", KS_INTS, "int[] t = a.splice(0, 1); a.add(0)", B },
        { "Array.indexOf", KS_INTS, "int k = a.indexOf(1)", B },
        { "Array.indexOf (long equal-length strings)",
            KS_ZEROS "Bytes pb = new Bytes(" KS_MIB2 ")\npb[2097151] = 1\nString probe = pb.toString()\n"
            "String[] arr = new String[20000]\nfor (int i = 0; i < 20000; i++) arr[i] = z\n",
            "int k = arr.indexOf(probe)", B },
        { "Array.join (a million empty strings)", "String[] e = new String[1000000]\n", "String j = e.join(\"\")", B },
        { "Array.toString", "String[] e = new String[1000000]\n", "String j = e.toString()", B },
        { "Array.reverse", KS_INTS, "a.reverse()", B },
        // Map
        { "Map.get (long equal keys)", KS_STRINGMAP, "int v = m[z2]", B },
        { "Map.set (long equal keys)", KS_STRINGMAP, "m[z2] = 2", B },
        { "Map.has (long equal keys)", KS_STRINGMAP, "boolean b = m.has(z2)", B },
        { "Map.remove (long equal keys)", KS_STRINGMAP, "boolean b = m.remove(z2); m[z] = 1", B },
        { "Map.size", KS_STRINGMAP, "int n = m.size()", B },
        { "Map.clear", KS_STRINGMAP, "m.clear(); m[z] = 1", B },
        { "Map.keys (removed entries)", KS_HOLES, "int[] k = m.keys()", 5000000 },
        { "Map.values (removed entries)", KS_HOLES, "int[] k = m.values()", 5000000 },
        { "Map.toString (removed entries)", KS_HOLES, "String s = m.toString()", 5000000 },
        // Bytes
        { "Bytes.new", "", "Bytes b = new Bytes(" KS_MIB2 ")", B },
        { "Bytes.fromString", KS_ZEROS, "Bytes b = Bytes.fromString(z)", B },
        { "Bytes.size, length", "Bytes b = new Bytes(" KS_MIB2 ")\n", "int n = b.size() + b.length()", B },
        { "Bytes.get, set", "Bytes b = new Bytes(" KS_MIB2 ")\n", "b.set(7, b.get(6) + 1)", B },
        { "Bytes.push, add, clear", "Bytes b = new Bytes(" KS_MIB2 ")\n", "b.push(1); b.add(2); b.clear()", B },
        { "Bytes.append (4 MiB, no allocation)", "String z = (new Bytes(4194304)).toString()\nBytes b = new Bytes(0)\n",
            "b.clear(); b.append(z)", B },
        { "Bytes.appendBytes (4 MiB, no allocation)", "Bytes z = new Bytes(4194304)\nBytes b = new Bytes(0)\n",
            "b.clear(); b.appendBytes(z)", B },
        { "Bytes.toString", "Bytes b = new Bytes(" KS_MIB2 ")\n", "String s = b.toString()", B },
        // System, Linux
        { "System.gc (wide chain: mark stack overflow at every node)",
            "class Leaf { Leaf next; }\nObject[] first = []\nObject[] cur = first\n"
            "for (int n = 0; n < 1000; n++) {\n"
            "  for (int j = 0; j < 69; j++) cur.add(new Leaf())\n"
            "  Object[] next = []\n  cur.add(next)\n  cur = next\n}\n",
            "System.gc()", B },
        { "Linux.printk", KS_ZEROS, "Linux.printk(z)", B },
        { "Linux.jiffies, ktimeNs, pid, uid, random",
            "", "int x = Linux.jiffies() + Linux.ktimeNs() + Linux.pid() + Linux.uid() + Linux.random()", B },
        { "Linux.comm", "", "String c = Linux.comm()", B },
    };
#undef KS_MIB2
#undef KS_ZEROS
#undef KS_NEEDLE
#undef KS_WIDE
#undef KS_TWO
#undef KS_SPACES
#undef KS_INTS
#undef KS_STRINGMAP
#undef KS_HOLES
    // Generous: a second is hundreds of times what a case needs in an
    // optimized build; sanitizers make memcmp and the allocator slower.
#if defined(__SANITIZE_ADDRESS__)
    const double limit = 8.0;
#else
    const double limit = 2.0;
#endif
    for (const NativeCase& c : cases) {
        static long long budget;
        budget = c.budget;
        std::string src = std::string(c.setup) + "System.p(\"ready\")\nwhile (true) { " + c.body + " }\n";
        // CPU time of this thread, not wall time: on a shared machine the
        // wall clock also counts time other processes had.
        double start = thread_cpu_seconds();
        ScriptRun r = run_script(src, [](ks_config* k) {
            k->budget = budget;
            k->memory_quota = 32ul << 20;
        });
        double seconds = thread_cpu_seconds() - start;
        EXPECT_EQ(r.load, KS_OK) << c.name;
        EXPECT_EQ(r.exception, "BudgetExceededException") << c.name;
        EXPECT_LT(seconds, limit) << c.name;
        // The loop ran out of budget, not the setup (Linux.printk writes more).
        EXPECT_EQ(r.out.compare(0, 6, "ready\n"), 0) << c.name << ": the setup must fit in the budget";
    }
}

}

// instanceof and casts walk up the class chain, which may be tens of
// thousands of classes deep: the walk is charged to the budget (200 tests
// across 1,500 classes cost 300,000 units; uncharged they cost ~1,500).
TEST(Engine, ClassChainWalksAreCharged)
{
    std::string src = "class C0 {}\n";
    for (int i = 1; i < 1500; i++)
        src += "class C" + std::to_string(i) + " extends C" + std::to_string(i - 1) + " {}\n";
    src += "Object o = new C1499()\nint n = 0\n"
           "for (int i = 0; i < 200; i++) { if (o instanceof C0) n++ }\nSystem.p(n)\n";
    ScriptRun fits = run_script(src, [](ks_config* c) { c->budget = 1000000; });
    EXPECT_EQ(fits.run, KS_OK);
    EXPECT_EQ(fits.out, "200\n");
    ScriptRun stopped = run_script(src, [](ks_config* c) { c->budget = 100000; });
    EXPECT_EQ(stopped.exception, "BudgetExceededException");
    std::string cast = src + "for (int i = 0; i < 200; i++) { C0 c = o as C0 }\n";
    ScriptRun cast_fits = run_script(cast, [](ks_config* c) { c->budget = 1000000; });
    EXPECT_EQ(cast_fits.run, KS_OK);
    ScriptRun cast_stopped = run_script(cast, [](ks_config* c) { c->budget = 400000; });
    EXPECT_EQ(cast_stopped.exception, "BudgetExceededException");
}

// A throw searches its frame's handler table: the search is charged, a
// unit a handler (100 throws caught in a function of 2,000 handlers cost
// 200,000 units; the function is called once), and running out there
// stops the script.
TEST(Engine, HandlerSearchesAreCharged)
{
    std::string src = "int n = 0\nint caught = 0\nvoid f() {\n"
                      "  for (int i = 0; i < 100; i++) { try { throw new Exception(\"x\") } catch (Exception e) { caught++ } }\n";
    for (int i = 0; i < 2000; i++)
        src += "  try { n = n + 1 } catch (ZeroDividedException e) { n = 0 }\n";
    src += "}\nf()\nSystem.p(caught)\n";
    ScriptRun fits = run_script(src, [](ks_config* c) { c->budget = 1000000; });
    EXPECT_EQ(fits.run, KS_OK);
    EXPECT_EQ(fits.out, "100\n");
    ScriptRun stopped = run_script(src, [](ks_config* c) { c->budget = 150000; });
    EXPECT_EQ(stopped.exception, "BudgetExceededException");
}

// A call charges the callee's length: a loop of calls to a long
// straight-line function pays for the instructions it runs (1,000 calls of
// 2,000 statements; charged one unit a call they cost ~5,000).
TEST(Engine, CallsChargeTheCalleesLength)
{
    std::string src = "int n = 0\nvoid f() {\n";
    for (int i = 0; i < 2000; i++)
        src += "  n = n + 1\n";
    src += "}\nfor (int i = 0; i < 1000; i++) { f() }\nSystem.p(n)\n";
    ScriptRun stopped = run_script(src, [](ks_config* c) { c->budget = 500000; });
    EXPECT_EQ(stopped.exception, "BudgetExceededException");
    ScriptRun fits = run_script(src, [](ks_config* c) { c->budget = 20000000; });
    EXPECT_EQ(fits.out, "2000000\n");
}

// A callback a built-in method runs (a sort comparator) is charged its
// length too: 2,000 elements sorted with a 3,000-statement comparator run
// ~66M statements, which 1,000,000 units do not pay for.
TEST(Engine, CallbacksChargeTheirLength)
{
    std::string src = "int n = 0\nint cmp(int a, int b) {\n";
    for (int i = 0; i < 3000; i++)
        src += "  n = n + 1\n";
    src += "  return a - b\n}\nint[] xs = new int[2000]\nfor (int i = 0; i < 2000; i++) xs[i] = (i * 7919) % 2000\n"
           "xs.sort(cmp)\nSystem.p(n)\n";
    ScriptRun stopped = run_script(src, [](ks_config* c) { c->budget = 1000000; });
    EXPECT_EQ(stopped.exception, "BudgetExceededException");
}
