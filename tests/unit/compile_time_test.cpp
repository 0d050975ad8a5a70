// Compile time of pathological source shapes: each generated script (up to
// about 1 MiB, the kernel's limit on a script's source) must compile, or be
// refused with a clean error, in well under two seconds. Before the symbol
// tables were hashed each of these took from several seconds to minutes
// (quadratic scans per declaration or per use), with the CPU never yielded:
// in the kernel, a soft lockup. And the compiler's poll hook: called as work
// goes on, and able to stop the compile.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "include/kscript.h"

namespace {

// Sanitizer builds run several times slower.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kSlowdown = 4;
#else
constexpr double kSlowdown = 1;
#endif
#else
constexpr double kSlowdown = 1;
#endif

// Generous: the new code takes a tenth of this, the old one many times it.
constexpr double kLimitSeconds = 2.0 * kSlowdown;

struct Compiled {
    int status = -1;
    double seconds = 0;
    std::vector<std::string> diagnostics;   // Errors only.
    unsigned polls = 0;
};

struct PollState {
    unsigned calls = 0;
    unsigned stop_at = 0;   // 0: never stop.
};

int count_poll(void* ctx)
{
    PollState* p = static_cast<PollState*>(ctx);
    p->calls++;
    return !(p->stop_at && p->calls >= p->stop_at);
}

// Loads (compiles) [source] in a fresh state, by default with a 128 MiB
// quota: the front end holds several dozen bytes per byte of source.
Compiled compile(const std::string& source, PollState* poll = nullptr, unsigned long quota = 128ul << 20)
{
    ks_config config;
    ks_config_init(&config);
    config.memory_quota = quota;
    config.max_source = 8ul << 20;
    if (poll) {
        config.poll = count_poll;
        config.ctx = poll;
    }
    Compiled c;
    ks_state* s = ks_open(&config);
    if (!s)
        return c;
    auto start = std::chrono::steady_clock::now();
    c.status = ks_load(s, source.data(), source.size(), "shape.k");
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (unsigned i = 0; i < ks_diagnostic_count(s); i++) {
        ks_diagnostic d;
        if (ks_get_diagnostic(s, i, &d) == KS_OK && !d.is_warning)
            c.diagnostics.push_back(d.message);
    }
    if (poll)
        c.polls = poll->calls;
    ks_close(s);
    std::printf("[ compiled ] %.3f s, status %d\n", c.seconds, c.status);
    return c;
}

std::string n(long i) { return std::to_string(i); }

#define EXPECT_FAST(c)                                                                                 \
    EXPECT_LT((c).seconds, kLimitSeconds) << "compile took " << (c).seconds << " s"

#define EXPECT_COMPILES(c)                                                                             \
    do {                                                                                               \
        EXPECT_EQ((c).status, KS_OK) << ((c).diagnostics.empty() ? "" : (c).diagnostics[0]);           \
        EXPECT_FAST(c);                                                                                \
    } while (0)

// --------------------------------------------------------------- Symbols

// Each field was checked against every earlier one (and looked up by a scan).
TEST(CompileTime, ManyFieldsInOneClass)
{
    std::string s = "class C {\n";
    for (int i = 0; i < 50000; i++)
        s += "  int f" + n(i) + "\n";
    s += "  void m() {\n";
    for (int i = 0; i < 20000; i++)
        s += "    f" + n(i * 2) + "++\n";
    s += "  }\n}\nC c = new C()\nc.m()\nSystem.p(c.f0 + c.f49999)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Top-level variables only the main program uses are its locals: each was
// checked against all before it, and each use scanned them from the newest.
TEST(CompileTime, ManyTopLevelVariablesAndUses)
{
    std::string s;
    for (int i = 0; i < 40000; i++)
        s += "int g" + n(i) + " = " + n(i) + "\n";
    for (int i = 0; i < 20000; i++)
        s += "g0++\n";
    s += "System.p(g0)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

TEST(CompileTime, ManyLocalsInOneFunction)
{
    std::string s = "void f() {\n";
    for (int i = 0; i < 45000; i++)
        s += "  int v" + n(i) + " = " + n(i) + "\n";
    // Shadowing in inner scopes, and uses of the oldest.
    for (int i = 0; i < 10000; i++)
        s += "  { int v" + n(i) + " = v0 + 1; v0 = v" + n(i) + " }\n";
    s += "  System.p(v0)\n}\nf()\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Each class was checked against every earlier one, and every type name
// resolved by a scan over the classes.
TEST(CompileTime, ManyClassesAndFunctions)
{
    std::string s;
    for (int i = 0; i < 25000; i++)
        s += "class C" + n(i) + " {}\n";
    for (int i = 0; i < 20000; i++)
        s += std::string("C") + n(i) + " f" + n(i) + "() { return new C" + n(i) + "() }\n";
    s += "System.p(1)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Each method was checked against every earlier one, and each call searched
// the methods in order.
TEST(CompileTime, ManyMethodsInOneClass)
{
    std::string s = "class C {\n";
    for (int i = 0; i < 20000; i++)
        s += "  int m" + n(i) + "() { return m19999() + m19998() + m19997() + " + n(i) + " }\n";
    s += "}\nC o = new C()\nint t = 0\n";
    for (int i = 0; i < 5000; i++)
        s += "t = t + o.m" + n(i * 4 + 3) + "()\n";
    s += "System.p(t)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// String literals and int constants: the constant pool was scanned for each.
TEST(CompileTime, ManyDistinctConstants)
{
    std::string s;
    for (int a = 0; a < 6; a++) {
        s += "String[] s" + n(a) + " = [";
        for (int i = 0; i < 10000; i++)
            s += (i ? ", \"" : "\"") + n(a * 10000 + i) + "\"";
        s += "]\n";
    }
    for (int a = 0; a < 4; a++) {
        s += "int[] k" + n(a) + " = [";
        for (int i = 0; i < 10000; i++)
            s += (i ? ", " : "") + n(10000000000L + a * 10000 + i);   // Over 32 bits: from the pool.
        s += "]\n";
    }
    // And many equal ones.
    s += "String[] same = [";
    for (int i = 0; i < 10000; i++)
        s += i ? ", \"7\"" : "\"7\"";
    s += "]\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Each use of a function as a value scanned every function and added a
// constant to a scanned pool.
TEST(CompileTime, ManyFunctionValues)
{
    std::string s;
    for (int i = 0; i < 20000; i++)
        s += "int f" + n(i) + "(int x) { return x }\n";
    for (int a = 0; a < 6; a++) {
        s += "Func[int, int][] v" + n(a) + " = [";
        for (int i = 0; i < 12000; i++)
            s += (i ? ", f" : "f") + n((a * 12000 + i) % 20000);
        s += "]\n";
    }
    s += "System.p(v0[0](1))\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Array, map and function types were interned through one list scanned per
// lookup, a list that holds every class type.
TEST(CompileTime, ManyTypes)
{
    std::string s;
    for (int i = 0; i < 10000; i++)
        s += "class C" + n(i) + " {}\n";
    for (int i = 0; i < 10000; i++) {
        s += "C" + n(i) + "[] a" + n(i) + " = new C" + n(i) + "[1]\n";
        s += "Map[String, C" + n(i) + "] m" + n(i) + " = new Map[String, C" + n(i) + "]()\n";
        s += "C" + n(i) + " f" + n(i) + "(C" + n(i) + " x) { return x }\n";
    }
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// --------------------------------------------------------------- Class chains

std::string chain(int depth, bool reversed)
{
    std::string s;
    if (reversed) {
        // Each class extends the next one: a superclass always comes later.
        for (int i = 0; i < depth - 1; i++)
            s += "class C" + n(i) + " extends C" + n(i + 1) + " {}\n";
        s += "class C" + n(depth - 1) + " { int m() { return 1 } }\n";
    } else {
        s += "class C0 { int m() { return 1 } }\n";
        for (int i = 1; i < depth; i++)
            s += "class C" + n(i) + " extends C" + n(i - 1) + " {}\n";
    }
    return s;
}

// Resolving the chain searched it for cycles at each step, and the vtables
// were built in passes over all classes, one class of the chain per pass.
TEST(CompileTime, LongChainOfClassesDeclaredSubclassFirst)
{
    std::string s = chain(30000, true);
    s += "System.p(new C0().m())\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Calls, assignments to a superclass and `?:` on classes deep in a chain
// each walked it to the top.
TEST(CompileTime, UsesOfClassesDeepInAChain)
{
    std::string s = chain(20000, false);
    s += "class D extends C0 {}\n";
    s += "C19999 o = new C19999()\nD d = new D()\nC0 b = o\nboolean k = true\nint t = 0\n";
    for (int i = 0; i < 10000; i++) {
        s += "t = t + o.m()\n";
        s += "b = o\n";
        s += "b = k ? o : d\n";
    }
    s += "System.p(t)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// A chain with many fields needs memory quadratic in its length (each class
// holds its superclasses' fields): it runs out of memory, and soon (the
// compiler went on resolving the rest of the chain, class by class, after
// memory had run out).
TEST(CompileTime, LongChainOfClassesWithFieldsIsRefused)
{
    std::string s;
    for (int i = 0; i < 30000; i++)
        s += "class C" + n(i) + " extends C" + n(i + 1) + " { int a" + n(i) + " }\n";
    s += "class C30000 { int z }\n";
    Compiled c = compile(s, nullptr, 32ul << 20);
    EXPECT_EQ(c.status, KS_ENOMEM);
    EXPECT_FAST(c);
}

// --------------------------------------------------------------- Code

// Each return through a finally block adds a cut to the handler range of
// each try statement it leaves; the handler entries were made by a search
// over all cuts per piece.
TEST(CompileTime, ManyReturnsThroughFinally)
{
    std::string s = "void f(boolean b) {\n try {\n  try {\n";
    for (int i = 0; i < 50000; i++)
        s += "    if (b) return\n";
    s += "  } finally {\n    System.p(1)\n  }\n } finally {\n  System.p(0)\n }\n}\nf(false)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// Code after a return is compiled and dropped statement by statement. Each
// drop went over every exception handler of the function, every jump out of
// the enclosing loops and every cut of the enclosing try statements (a
// return inside 20 of them leaves cuts in all).
TEST(CompileTime, UnreachableCodeInsideNestedTryStatements)
{
    std::string s = "int x = 0\nvoid f(boolean b) {\n";
    for (int d = 0; d < 20; d++)
        s += "try {\n";
    s += "while (true) {\n";
    for (int i = 0; i < 1000; i++)
        s += "if(b)return\nif(b)break\ntry{x++}catch(Exception e){}\n";
    s += "return\n";
    for (int i = 0; i < 100000; i++)
        s += "x++\n";
    s += "}\n";
    for (int d = 0; d < 20; d++)
        s += "} finally { System.p(" + n(d) + ") }\n";
    s += "}\nf(true)\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// A finally block is compiled again at every jump out of its try statement.
// Blocks that emit no code never reach the function size limit, and copies of
// nested finally blocks multiply: the compile work is bounded instead.
TEST(CompileTime, FinallyBlockCopiedAtManyReturnsIsRefused)
{
    std::string s = "void f(boolean b) {\n  try {\n";
    for (int i = 0; i < 20000; i++)
        s += "    if (b) return\n";
    s += "  } finally {\n";
    for (int i = 0; i < 20000; i++)
        s += "{}";
    s += "\n  }\n}\nf(false)\n";
    Compiled c = compile(s);
    EXPECT_EQ(c.status, KS_ECOMPILE);
    ASSERT_FALSE(c.diagnostics.empty());
    EXPECT_NE(c.diagnostics.back().find("too much work"), std::string::npos) << c.diagnostics.back();
    EXPECT_FAST(c);
}

TEST(CompileTime, NestedFinallyBlocksWithReturnsAreRefused)
{
    std::string body = "System.p(0)\n";
    for (int d = 0; d < 12; d++) {
        std::string rets;
        for (int r = 0; r < 3; r++)
            rets += "if (x == " + n(d * 10 + r) + ") return " + n(r) + "\n";
        body = "try {\n" + rets + body + "} finally {\n" + rets + "System.p(" + n(d) + ")\n}\n";
    }
    Compiled c = compile("int f(int x) {\n" + body + "return 0\n}\nSystem.p(f(1))\n");
    EXPECT_EQ(c.status, KS_ECOMPILE);
    EXPECT_FAST(c);
}

// A few finally copies, as real programs have, are fine.
TEST(CompileTime, OrdinaryFinallyBlocksCompile)
{
    std::string s = "int f(int x) {\n  try {\n";
    for (int i = 0; i < 200; i++)
        s += "    if (x == " + n(i) + ") return " + n(i) + "\n";
    s += "  } finally {\n";
    for (int i = 0; i < 200; i++)
        s += "    System.p(" + n(i) + ")\n";
    s += "  }\n  return 0\n}\nSystem.p(f(300))\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// --------------------------------------------------------------- Hash flooding

// 2^k names ("q" and k blocks of four characters) whose 64-bit FNV-1a hashes
// agree in the low 32 bits: the low bits of FNV depend only on low bits, so
// blocks that collide after a common prefix can be chained. Under an unkeyed
// hash every one of these names lands in one probe chain.
std::vector<std::string> fnv_colliding_names(int k)
{
    auto step = [](uint64_t h, const std::string& block) {
        for (unsigned char ch : block) {
            h ^= ch;
            h *= 0x100000001b3ULL;
        }
        return h;
    };
    static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    const uint64_t radix = sizeof(kChars) - 1;
    uint64_t state = step(0xcbf29ce484222325ULL, "q");
    std::vector<std::pair<std::string, std::string>> pairs;
    for (int b = 0; b < k; b++) {
        // A birthday search over random blocks: about 2^16 until two
        // collide (blocks taken in order collide far later: FNV's low bits
        // are a T-function of the input's).
        std::unordered_map<uint32_t, std::string> seen;
        std::string block = "aaaa";
        uint64_t random = 0x9e3779b97f4a7c15ULL + b;
        for (int i = 0; i < 4000000; i++) {
            random = random * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t v = random >> 16;
            for (char& ch : block) {
                ch = kChars[v % radix];
                v /= radix;
            }
            uint32_t low = (uint32_t)step(state, block);
            auto it = seen.find(low);
            if (it != seen.end() && it->second != block) {
                pairs.emplace_back(it->second, block);
                state = step(state, block);   // Either: the low bits are what matter.
                break;
            }
            seen.emplace(low, block);
        }
        if ((int)pairs.size() != b + 1)
            return {};
    }
    std::vector<std::string> names;
    for (uint32_t bits = 0; bits < (1u << k); bits++) {
        std::string name = "q";
        for (int b = 0; b < k; b++)
            name += (bits >> b & 1) ? pairs[b].second : pairs[b].first;
        names.push_back(name);
    }
    return names;
}

TEST(CompileTime, NamesChosenToCollide)
{
    // 32,768 functions and 16,384 calls: a 3 MiB script (over the kernel's
    // limit, but a quarter of the size already took a second).
    std::vector<std::string> names = fnv_colliding_names(15);
    ASSERT_EQ(names.size(), 1u << 15);
    std::string s;
    for (const std::string& name : names)
        s += "void " + name + "() {}\n";
    for (size_t i = 0; i < names.size(); i += 2)
        s += names[i] + "()\n";
    Compiled c = compile(s);
    EXPECT_COMPILES(c);
}

// --------------------------------------------------------------- Lazy bodies

// Bodies whose braces never balance (a '{' the parser's recovery steps
// over): skipping each once scanned the rest of the file for its '}', 65,000
// times in a 1 MB script (78 s, 31 s between polls). Now the first body
// whose '}' the file lacks is parsed at once, and so is every body after
// it.
TEST(CompileTime, UnbalancedBodiesAreNotRescanned)
{
    std::string s;
    for (int i = 0; i < 60000; i++)
        s += "void f" + n(i) + "() { a b { }\n";
    Compiled c = compile(s);
    EXPECT_EQ(c.status, KS_ECOMPILE);
    EXPECT_FAST(c);
}

// A body whose syntax errors make the parser step over its '}' (`switch
// (1) }`): parsed lazily, each ran on to the end of the file, once more for
// every such body (3,000 of them in 1 MB: 38 s). A lazy body ends at its
// '}' now.
TEST(CompileTime, LazyBodiesStopAtTheirBrace)
{
    std::string s;
    for (int i = 0; i < 3000; i++)
        s += "void f" + n(i) + "() { switch (1) }\n";
    s += "class Big {\n";
    for (int i = 0; i < 440; i++) {
        s += "  void m" + n(i) + "() {";
        for (int j = 0; j < 1000; j++)
            s += "{}";
        s += "}\n";
    }
    s += "}\nSystem.p(1)\n";
    Compiled c = compile(s);
    EXPECT_EQ(c.status, KS_ECOMPILE);
    EXPECT_FAST(c);
}

// The first pass keeps none of a skipped body's tokens: it lexes the body
// only to find its '}', and the body is lexed again when it is compiled. The
// 10,000-line program of bench/suite (990 functions of ten lines, then the
// calls) needed a quota of 2.9 MB with the bodies' tokens kept through the
// compile; 1.2 MB now.
TEST(CompileTime, SkippedBodiesKeepNoTokens)
{
    std::string s;
    for (int i = 0; i < 990; i++)
        s += "int f" + n(i) + "(int x) {\n  int a = x * 3 + " + n(i)
            + "\n  int b = a % 7 + x\n  if (a > b) a = a - b\n  else b = b - a\n"
              "  int c = (a ^ b) & 255\n  while (c > 10) c = c / 2\n  int d = c << 2\n"
              "  return a + b + c + d\n}\n";
    s += "int sum = 0\n";
    for (int i = 0; i < 99; i++) {
        s += "sum = sum";
        for (int j = 0; j < 10; j++)
            s += " + f" + n(i * 10 + j) + "(" + n(i + j) + ")";
        s += "\n";
    }
    Compiled c = compile(s, nullptr, 2ul << 20);
    EXPECT_COMPILES(c);
}

// Thousands of bodies on one line (a 1 MiB script of one line): lexing a
// body again began by looking back for the start of its line and counting
// the line's characters up to it, once per body: 17 s for ASCII names, 41 s
// for UTF-8 ones, 25 s between polls. Columns now count on from the '{'.
TEST(CompileTime, ManyBodiesOnOneLine)
{
    for (std::string prefix : { "f", "\xc3\xa9" }) {
        std::string s;
        for (int i = 0; s.size() < (1u << 20) - 100; i++)
            s += "int " + prefix + n(i) + "(){return " + n(i) + ";} ";
        s += "\nSystem.p(" + prefix + "7())\n";
        Compiled c = compile(s);
        EXPECT_COMPILES(c);
    }
}

// --------------------------------------------------------------- The poll hook

std::string big_program()
{
    std::string s;
    for (int i = 0; i < 10000; i++)
        s += "int f" + n(i) + "(int x) {\n  int a = x * 3 + " + n(i) + "\n  if (a > 7) a = a - 7\n  return a\n}\n";
    s += "int sum = 0\n";
    for (int i = 0; i < 10000; i++)
        s += "sum += f" + n(i) + "(" + n(i) + ")\n";
    s += "System.p(sum)\n";
    return s;
}

TEST(CompilePoll, CalledDuringABigCompile)
{
    PollState poll;
    Compiled c = compile(big_program(), &poll);
    EXPECT_EQ(c.status, KS_OK);
    // About one call per 65,536 units of work (tokens, nodes, declarations).
    EXPECT_GE(c.polls, 5u);
}

TEST(CompilePoll, NotCalledForASmallScript)
{
    PollState poll;
    Compiled c = compile("System.p(1)\n", &poll);
    EXPECT_EQ(c.status, KS_OK);
    EXPECT_EQ(c.polls, 0u);
}

TEST(CompilePoll, FalseStopsTheCompile)
{
    for (unsigned stop_at : { 1u, 2u, 4u }) {
        PollState poll;
        poll.stop_at = stop_at;
        Compiled c = compile(big_program(), &poll);
        EXPECT_EQ(c.status, KS_ECOMPILE) << "stopping at call " << stop_at;
        EXPECT_EQ(c.diagnostics.size(), 1u);
        EXPECT_EQ(poll.calls, stop_at);
        ASSERT_FALSE(c.diagnostics.empty());
        EXPECT_EQ(c.diagnostics.back(), "compilation interrupted");
    }
}

// The interruption is reported even when the diagnostics are full.
TEST(CompilePoll, InterruptionReportedPastManyErrors)
{
    std::string s;
    for (int i = 0; i < 1000; i++)
        s += "System.p(undefined" + n(i) + ")\n";
    s += big_program();
    PollState poll;
    poll.stop_at = 3;
    Compiled c = compile(s, &poll);
    EXPECT_EQ(c.status, KS_ECOMPILE);
    ASSERT_FALSE(c.diagnostics.empty());
    EXPECT_EQ(c.diagnostics.back(), "compilation interrupted");
}

// A stopped compile leaves nothing behind: the state can be closed cleanly.
TEST(CompilePoll, StoppedCompileLeaksNothing)
{
    unsigned long long leaked = ks_leaked_bytes();
    for (unsigned stop_at = 1; stop_at <= 6; stop_at++) {
        PollState poll;
        poll.stop_at = stop_at;
        compile(big_program() + chain(2000, true), &poll);
    }
    EXPECT_EQ(ks_leaked_bytes(), leaked);
}

}
