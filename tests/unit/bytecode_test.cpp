// Bytecode files: the round trip through ks_write_bytecode() and ks_load(),
// and malformed files of every kind (truncated, another version, a bad
// checksum, lengths that overflow, indexes that point outside their
// tables, any byte changed), each refused with a clear message, never a
// crash.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/support/Memory.h"
#include "core/vm/Bytecode.h"
#include "core/vm/Heap.h"
#include "core/vm/Verify.h"
#include "core/vm/Vm.h"
#include "include/kscript.h"

using namespace ks;

namespace {

const char* kProgram = R"(class Shape {
  String name
  Shape(String name) { this.name = name }
  int area() { return 0 }
  String toString() { return name + ":" + area() }
}
class Rect extends Shape {
  int w; int h
  Rect(int w, int h) { super("rect"); this.w = w; this.h = h }
  int area() { return w * h }
}
int counter = 0
void bump() { counter += 1 }
int[] squares(int n) {
  int[] a = new int[n]
  for (int i = 0; i < n; i++) a[i] = i * i
  return a
}
Map[String, int] m = new Map[String, int]()
m["x"] = 41
m["x"] += 1
Shape s = new Rect(3, 4)
System.p(s)
bump(); bump()
System.p(counter)
System.p(squares(5)[4])
System.p(m["x"])
try { int z = 0; System.p(10 / z) } catch (ZeroDividedException e) { System.p("caught " + e.message) }
int double(int x) { return 2 * x }
Func[int, int] twice = double
System.p(twice(21))
)";

void append_output(void* ctx, int, const char* text, unsigned long length)
{
    static_cast<std::string*>(ctx)->append(text, length);
}

void append_bytes(void* ctx, const char* data, unsigned long length)
{
    static_cast<std::string*>(ctx)->append(data, length);
}

struct Loaded {
    int load = -1;
    int run = -1;
    std::string out;
    std::string diagnostic;
};

// Loads [text] (source or bytecode) in a fresh state and runs it.
Loaded load_and_run(const std::string& text, bool accept_bytecode = true)
{
    Loaded r;
    ks_config config;
    ks_config_init(&config);
    config.write = append_output;
    config.ctx = &r.out;
    config.bytecode = accept_bytecode;
    ks_state* s = ks_open(&config);
    r.load = ks_load(s, text.data(), text.size(), "t");
    if (ks_diagnostic_count(s)) {
        ks_diagnostic d;
        ks_get_diagnostic(s, 0, &d);
        r.diagnostic = d.message;
    }
    if (r.load == KS_OK)
        r.run = ks_run(s);
    ks_close(s);
    return r;
}

// The bytecode file of [source].
std::string compile(const std::string& source)
{
    ks_config config;
    ks_config_init(&config);
    ks_state* s = ks_open(&config);
    std::string file;
    EXPECT_EQ(ks_load(s, source.data(), source.size(), "t"), KS_OK);
    EXPECT_EQ(ks_write_bytecode(s, append_bytes, &file), KS_OK);
    ks_close(s);
    return file;
}

u32 le32(const std::string& f, size_t at)
{
    return (u32)(u8)f[at] | (u32)(u8)f[at + 1] << 8 | (u32)(u8)f[at + 2] << 16 | (u32)(u8)f[at + 3] << 24;
}

void put32(std::string& f, size_t at, u32 v)
{
    for (int i = 0; i < 4; i++)
        f[at + i] = (char)(v >> (8 * i));
}

// Makes the header agree with a payload that was changed on purpose.
void fix_header(std::string& f)
{
    u64 payload = f.size() - kBytecodeHeaderSize;
    put32(f, 16, (u32)payload);
    put32(f, 20, (u32)(payload >> 32));
    put32(f, 24, bytecode_checksum(reinterpret_cast<const u8*>(f.data()) + kBytecodeHeaderSize, payload));
}

// A bytecode file read into a program of its own, freed with it.
struct ReadFile {
    Memory memory;
    Heap heap;
    Program program {};
    const char* error = nullptr;   // The reader's message when read() failed.

    ReadFile()
    {
        memory.init(64u << 20, false);
        heap.init(&memory);
    }
    ~ReadFile()
    {
        free_program(&memory, &program);
        heap.destroy();
        memory.destroy();
    }
    bool read(const std::string& f)
    {
        bool oom = false;
        return read_bytecode(&memory, &heap, reinterpret_cast<const u8*>(f.data()), f.size(), &program, &error,
            &oom);
    }
};

// Reads (and, when that succeeds, verifies) [f] with the engine's own
// functions; returns the reader's or the verifier's message, "" if both
// accept it.
std::string read_and_verify(const std::string& f)
{
    ReadFile r;
    if (!r.read(f))
        return r.error ? r.error : "?";
    VerifyError e;
    return verify_program(r.program, &r.memory, &e) ? "" : e.reason;
}

constexpr size_t kPayload = kBytecodeHeaderSize;

}

// The file checksum is CRC-32 (IEEE): the standard check value, and the
// eight-bytes-at-a-time loop against the byte-at-a-time definition for
// every length around its eight-byte steps and at odd alignments.
TEST(Bytecode, ChecksumIsCrc32)
{
    const char* check = "123456789";
    EXPECT_EQ(bytecode_checksum(reinterpret_cast<const u8*>(check), 9), 0xcbf43926u);
    EXPECT_EQ(bytecode_checksum(nullptr, 0), 0u);
    u8 data[80];
    u32 seed = 12345;
    for (u8& b : data) {
        seed = seed * 1103515245u + 12345u;
        b = (u8)(seed >> 16);
    }
    for (u32 start = 0; start < 8; start++)
        for (u32 length = 0; start + length <= sizeof(data); length++) {
            u32 c = 0xffffffffu;
            for (u32 i = 0; i < length; i++) {
                c ^= data[start + i];
                for (u32 k = 0; k < 8; k++)
                    c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            EXPECT_EQ(bytecode_checksum(data + start, length), c ^ 0xffffffffu) << start << " " << length;
        }
}

TEST(Bytecode, RoundTripGivesTheSameOutput)
{
    Loaded source = load_and_run(kProgram);
    ASSERT_EQ(source.load, KS_OK) << source.diagnostic;
    ASSERT_EQ(source.run, KS_OK);
    std::string file = compile(kProgram);
    ASSERT_TRUE(is_bytecode(file.data(), file.size()));
    Loaded bytecode = load_and_run(file);
    ASSERT_EQ(bytecode.load, KS_OK) << bytecode.diagnostic;
    EXPECT_EQ(bytecode.run, KS_OK);
    EXPECT_EQ(bytecode.out, source.out);
    EXPECT_EQ(source.out, "rect:12\n2\n16\n42\ncaught division by zero\n42\n");
    // Written again from the loaded file: the same bytes.
    ks_config config;
    ks_config_init(&config);
    config.bytecode = 1;
    ks_state* s = ks_open(&config);
    ASSERT_EQ(ks_load(s, file.data(), file.size(), "t"), KS_OK);
    std::string again;
    ASSERT_EQ(ks_write_bytecode(s, append_bytes, &again), KS_OK);
    EXPECT_EQ(again, file);
    ks_close(s);
}

// Transcript mode: a function with a compile error keeps its deferred
// report (Report, Raise, the diagnostic line) through the file.
TEST(Bytecode, TranscriptProgramsRoundTrip)
{
    const char* source = "void f() {\n  System.p(\"in f\")\n  int y = \"wrong\"\n}\nSystem.p(\"start\")\nf()\n";
    std::string file;
    std::string outputs[2];
    int runs[2];
    for (int round = 0; round < 2; round++) {
        ks_config config;
        ks_config_init(&config);
        config.transcript = 1;
        config.write = append_output;
        config.ctx = &outputs[round];
        config.bytecode = 1;
        ks_state* s = ks_open(&config);
        const std::string& text = round == 0 ? std::string(source) : file;
        ASSERT_EQ(ks_load(s, text.data(), text.size(), "t"), KS_OK);
        if (round == 0) {
            ASSERT_EQ(ks_write_bytecode(s, append_bytes, &file), KS_OK);
        }
        runs[round] = ks_run(s);
        ks_close(s);
    }
    EXPECT_EQ(runs[0], KS_EEXCEPTION);
    EXPECT_EQ(runs[1], runs[0]);
    EXPECT_EQ(outputs[1], outputs[0]);
    EXPECT_NE(outputs[0].find("LINE3: (error)"), std::string::npos) << outputs[0];
}

TEST(Bytecode, WrittenOnlyBeforeRunning)
{
    ks_config config;
    ks_config_init(&config);
    ks_state* s = ks_open(&config);
    std::string file;
    EXPECT_EQ(ks_write_bytecode(s, append_bytes, &file), KS_ESTATE);
    const char* source = "int g = 1\ng = 2\n";
    ASSERT_EQ(ks_load(s, source, strlen(source), "t"), KS_OK);
    ASSERT_EQ(ks_run(s), KS_OK);
    EXPECT_EQ(ks_write_bytecode(s, append_bytes, &file), KS_ESTATE);
    EXPECT_TRUE(file.empty());
    ks_close(s);
}

TEST(Bytecode, HostThatTakesNoBytecodeRefusesIt)
{
    std::string file = compile(kProgram);
    Loaded r = load_and_run(file, false);
    EXPECT_EQ(r.load, KS_ECOMPILE);
    EXPECT_EQ(r.diagnostic, "bytecode: this host does not load bytecode files");
}

TEST(Bytecode, HeaderProblemsAreNamed)
{
    std::string good = compile(kProgram);
    ASSERT_EQ(read_and_verify(good), "");
    std::string f = good;
    f[1] = 'X';
    EXPECT_EQ(read_and_verify(f), "not a bytecode file");
    f = good;
    f[4] = kBytecodeFormat + 1;   // A format version from the future.
    EXPECT_EQ(read_and_verify(f), "a bytecode format this engine does not read");
    f = good;
    put32(f, 8, kEngineVersion + 1);
    EXPECT_NE(read_and_verify(f).find("another engine version"), std::string::npos);
    f = good;
    put32(f, 12, le32(f, 12) ^ 1);   // Another opcode or native table.
    EXPECT_NE(read_and_verify(f).find("another engine version"), std::string::npos);
    f = good;
    f[f.size() - 1] ^= 0x40;
    EXPECT_EQ(read_and_verify(f), "bad checksum: the file is damaged");
    f = good;
    put32(f, 20, 0x80000000u);   // A payload of 2^63 bytes.
    EXPECT_EQ(read_and_verify(f), "the file is truncated");
    f = good + "x";
    EXPECT_EQ(read_and_verify(f), "bytes after the payload");
    f = good;
    put32(f, 28, 1);
    EXPECT_EQ(read_and_verify(f), "a reserved header field is not 0");
    f = good;
    f += "xyz";
    fix_header(f);
    EXPECT_EQ(read_and_verify(f), "bytes after the last table");
}

TEST(Bytecode, EveryTruncationIsRefused)
{
    std::string good = compile(kProgram);
    for (size_t n = 0; n < good.size(); n++) {
        std::string f = good.substr(0, n);
        EXPECT_NE(read_and_verify(f), "") << n;
        // The same cut with a header that agrees: the tables themselves
        // run past the end.
        if (n >= kPayload) {
            fix_header(f);
            EXPECT_NE(read_and_verify(f), "") << n;
        }
    }
}

TEST(Bytecode, CountsLongerThanTheFileAreRefused)
{
    std::string good = compile(kProgram);
    // class, function, constant and global counts, in that order.
    for (size_t at = kPayload; at < kPayload + 16; at += 4) {
        for (u32 count : { 0xffffffffu, 0x10000000u, le32(good, at) + 100000 }) {
            std::string f = good;
            put32(f, at, count);
            fix_header(f);
            EXPECT_EQ(read_and_verify(f), "a table is longer than the file") << at << " " << count;
        }
    }
}

TEST(Bytecode, IndexesOutsideTheirTablesAreRefused)
{
    std::string good = compile(kProgram);
    u32 classes = le32(good, kPayload);
    // The first class, after the type table (count, 11-byte entries, the
    // parameter run): name length, name, superclass.
    size_t types_end = kPayload + 20 + 4 + 11 * (size_t)le32(good, kPayload + 20);
    size_t classes_at = types_end + 4 + 4 * (size_t)le32(good, types_end);
    size_t super_at = classes_at + 4 + le32(good, classes_at);
    std::string f = good;
    put32(f, super_at, classes + 3);
    fix_header(f);
    EXPECT_EQ(read_and_verify(f), "a superclass that does not exist");
    // Object (class 0) given a superclass: the chain is broken.
    f = good;
    put32(f, super_at, 1);
    fix_header(f);
    EXPECT_EQ(read_and_verify(f), "a class's superclass chain is broken");
    // The main function index.
    f = good;
    put32(f, kPayload + 16, le32(good, kPayload + 4));
    fix_header(f);
    EXPECT_EQ(read_and_verify(f), "the main function is missing or takes parameters");
}

// Any single byte of the payload changed (the checksum made to agree, as a
// forger would): the reader and the verifier refuse the file or accept a
// program, and never read or write outside what they own (ASan watches).
TEST(Bytecode, AnyChangedByteIsReadSafely)
{
    std::string good = compile(kProgram);
    size_t refused = 0;
    for (size_t at = kPayload; at < good.size(); at++) {
        for (u8 delta : { (u8)1, (u8)0x80, (u8)0xff }) {
            std::string f = good;
            f[at] = (char)((u8)f[at] ^ delta);
            fix_header(f);
            if (read_and_verify(f) != "")
                refused++;
        }
    }
    // Most changes break something the reader or verifier checks.
    EXPECT_GT(refused, (good.size() - kPayload));
}

// An empty script loaded from its bytecode file holds no more pages than
// compiled from source (and under 16 KiB, as Engine.EmptyScriptHoldsUnder16KiB
// asks of source): the reader shares inherited field names and allocates
// nothing for empty tables.
TEST(Bytecode, EmptyScriptHoldsAsLittleAsSource)
{
    for (const char* src : { "", "int x = 1\n" }) {
        std::string file = compile(src);
        unsigned long pages[2];
        for (int from_file = 0; from_file < 2; from_file++) {
            ks_config config;
            ks_config_init(&config);
            config.bytecode = 1;
            ks_state* s = ks_open(&config);
            const std::string text = from_file ? file : std::string(src);
            ASSERT_EQ(ks_load(s, text.data(), text.size(), "empty"), KS_OK);
            ASSERT_EQ(ks_run(s), KS_OK);
            ks_stats st;
            ks_get_stats(s, &st);
            pages[from_file] = st.pages;
            ks_close(s);
        }
        EXPECT_LE(pages[1], pages[0]) << "'" << src << "'";
        EXPECT_LT(pages[1] * 4096, 16u * 1024) << "'" << src << "'";
    }
}

// An int register the code reads before writing it (the verifier tracks
// only reference registers as set) reads 0, never what an earlier frame
// left in that stack slot: here h() returns, unwritten, the register in
// which g(), called just before from the same place, kept 24690. (Found by
// an attack: it read string addresses and freed strings' bytes that way.)
TEST(Bytecode, UnwrittenIntRegistersReadZero)
{
    std::string file = compile("int g() {\n  int a = 12345\n  int b = a * 2\n  return b\n}\n"
                               "int h() { return 7 }\nSystem.p(g())\nSystem.p(h())\n");
    std::string forged;
    {
        ReadFile r;
        ASSERT_TRUE(r.read(file));
        Program& program = r.program;
        Function* g = nullptr;
        Function* h = nullptr;
        for (u32 i = 0; i < program.function_count; i++) {
            if (strcmp(program.functions[i]->name, "g") == 0)
                g = program.functions[i];
            if (strcmp(program.functions[i]->name, "h") == 0)
                h = program.functions[i];
        }
        ASSERT_TRUE(g && h);
        u16 kept = 0xffff;
        for (u32 pc = 0; pc < g->code_size && kept == 0xffff; pc++)
            if (g->code[pc].op == Op::Return)
                kept = g->code[pc].a;   // The first one: the later ones are not reached.
        ASSERT_NE(kept, 0xffff);
        if (h->register_count <= kept)
            h->register_count = (u16)(kept + 1);
        h->code[0] = Insn { Op::Return, 0, kept, 0, 0 };
        StringBuilder out(&r.memory);
        ASSERT_TRUE(write_bytecode(program, out));
        forged.assign(out.data(), out.size());
    }
    EXPECT_EQ(read_and_verify(forged), "");
    Loaded r = load_and_run(forged);
    ASSERT_EQ(r.load, KS_OK) << r.diagnostic;
    EXPECT_EQ(r.out, "24690\n0\n");
}
