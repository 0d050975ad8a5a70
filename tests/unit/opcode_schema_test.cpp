// The operand schema of Opcodes.h against what the compiler emits: every
// golden script and example is compiled, and each instruction's fields are
// checked letter by letter with rules written here from the legend, apart
// from the verifier's code (which reads the same schema, so it cannot be
// the judge of it). Every opcode must be seen at least once.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/compiler/Compiler.h"
#include "core/compiler/Diagnostics.h"
#include "core/support/Arena.h"
#include "core/vm/Heap.h"
#include "core/vm/Natives.h"
#include "core/vm/Vm.h"

using namespace ks;

namespace {

const char kLetters[] = "-=iIrRsSoOyYMuvVwTQpAkKDZdgGCftFNzhjJ<>nxXem";

// Is register [r] of [f] in its reference map?
bool ref_register(const Function* f, u32 r)
{
    for (u32 i = 0; i < f->ref_register_count; i++)
        if (f->ref_registers[i] == r)
            return true;
    return false;
}

struct SchemaChecker {
    const Program& p;
    std::set<u32> seen;
    std::vector<std::string> problems;

    void problem(const Function* f, u32 pc, const std::string& what)
    {
        if (problems.size() < 20)
            problems.push_back(std::string(f->name ? f->name : "?") + " @" + std::to_string(pc) + " "
                + opcode_name(f->code[pc].op) + ": " + what);
    }

    // The rules of one letter at [pos] of the instruction at [pc].
    void letter(const Function* f, u32 pc, u32 pos)
    {
        const Insn& in = f->code[pc];
        const char* fmt = opcode_format(in.op);
        char l = fmt[pos];
        u32 fields[4] = { in.a, in.b, in.c, in.x };
        i64 v = operand_value(in, fmt, pos);
        u32 regs = f->register_count;
        switch (l) {
        case '-':
            if (fields[pos])
                problem(f, pc, "unused field " + std::to_string(pos) + " is not 0");
            break;
        case 'i':
        case 'I':
            if (v >= regs || ref_register(f, (u32)v))
                problem(f, pc, "not an int register");
            break;
        case 'r': case 'R': case 's': case 'S': case 'o': case 'O': case 'y': case 'Y': case 'M': case 'u':
            if (v >= regs || !ref_register(f, (u32)v))
                problem(f, pc, "not a reference register");
            break;
        case 'w':
            if (v >= regs || ref_register(f, (u32)v) != (in.x == KindRef))
                problem(f, pc, "register kind differs from x");
            break;
        case 'T':
            if (v >= regs || ref_register(f, (u32)v) != (f->return_kind == KindRef))
                problem(f, pc, "returned register kind differs from the return kind");
            break;
        case 'k': case 'K': case 'D': case 'Z': case 'd':
            if (v < 0 || v >= p.constant_count)
                problem(f, pc, "constant index out of the pool");
            else if ((l == 'K' || l == 'D') && p.constant_kinds[v] != KindInt)
                problem(f, pc, "constant is not an int");
            else if (l == 'Z' && as_obj(p.constants[v])->kind != ObjKind::String)
                problem(f, pc, "constant is not a string");
            break;
        case 'g':
            if (v < 0 || v >= p.global_count)
                problem(f, pc, "global out of range");
            break;
        case 'G':
            if (v < 0 || v >= p.global_count || p.global_kinds[v] != KindInt)
                problem(f, pc, "not an int global");
            break;
        case 'C':
            if (v < 0 || v >= p.class_count)
                problem(f, pc, "class out of range");
            break;
        case 'F':
            if (v < 0 || v >= p.function_count)
                problem(f, pc, "function out of range");
            break;
        case 'N': {
            u32 n;
            native_table(&n);
            if (v < 0 || v >= n)
                problem(f, pc, "native out of range");
            break;
        }
        case 'j': case 'J': case '<': case '>':
            if (pc + 1 + v < 0 || pc + 1 + v >= f->code_size)
                problem(f, pc, "jump outside the function");
            if ((l == '<' && v >= 0) || (l == '>' && v < 0))
                problem(f, pc, "jump in the wrong direction");
            break;
        case 'n':
            for (u32 w = 1; w <= call_arg_words((u32)v); w++)
                if (pc + w >= f->code_size || f->code[pc + w].op != Op::Args)
                    problem(f, pc, "missing Args word");
            break;
        case 'x':
            if (v > KindRef)
                problem(f, pc, "x is not a value kind");
            break;
        case 'm':
            if (v < 0 || v >= p.type_count)
                problem(f, pc, "type out of the type table");
            else if (in.op == Op::NewMap && p.types[v].sort != TypeSort::Map)
                problem(f, pc, "NewMap's type is not a map");
            else if (in.op == Op::ArrayLiteral && p.types[v].sort != TypeSort::Array)
                problem(f, pc, "ArrayLiteral's type is not an array");
            break;
        case 'e':
            if (v > 1)
                problem(f, pc, "flag is not 0 or 1");
            break;
        default: break;
        }
    }

    void function(const Function* f)
    {
        for (u32 pc = 0; pc < f->code_size; pc++) {
            const Insn& in = f->code[pc];
            seen.insert((u32)in.op);
            if (in.op == Op::Args)
                continue;   // Checked with its call ('n').
            for (u32 pos = 0; pos < 4; pos++)
                letter(f, pc, pos);
            if (opcode_format(in.op)[2] == 'n') {
                pc += call_arg_words(in.c);
                if (in.c)
                    seen.insert((u32)Op::Args);
            }
        }
    }
};

// Compiles [source] (transcript mode when [transcript]) and checks its
// instructions; false when it does not compile (error tests).
bool check_source(const std::string& source, bool transcript, SchemaChecker** out, std::set<u32>* seen,
    std::vector<std::string>* problems)
{
    Memory memory;
    memory.init(256u << 20, false);
    Heap heap;
    heap.init(&memory);
    Program program {};
    bool ok;
    {
        Arena arena(&memory);
        Diagnostics diagnostics(&memory, &arena);
        CompileOptions options { transcript ? CompileMode::Transcript : CompileMode::Normal, 200, 1u << 20 };
        ok = compile_program(&memory, &heap, source.data(), source.size(), options, &diagnostics, &arena, &program);
    }
    if (ok) {
        SchemaChecker check { program, {}, {} };
        for (u32 i = 0; i < program.function_count; i++)
            check.function(program.functions[i]);
        seen->insert(check.seen.begin(), check.seen.end());
        problems->insert(problems->end(), check.problems.begin(), check.problems.end());
    }
    (void)out;
    free_program(&memory, &program);
    heap.destroy();
    memory.destroy();
    return ok;
}

}

TEST(OpcodeSchema, FormatsUseTheLegend)
{
    for (u32 op = 0; op < (u32)Op::Count; op++) {
        const char* fmt = opcode_format((Op)op);
        ASSERT_EQ(strlen(fmt), 4u) << opcode_name((Op)op);
        for (u32 pos = 0; pos < 4; pos++)
            EXPECT_NE(strchr(kLetters, fmt[pos]), nullptr) << opcode_name((Op)op) << " letter " << fmt[pos];
        // '=' continues b (imm: b+c) or c (off: c+x), nothing else.
        EXPECT_NE(fmt[0], '=') << opcode_name((Op)op);
        EXPECT_NE(fmt[1], '=') << opcode_name((Op)op);
        if (fmt[2] == '=') {
            EXPECT_NE(strchr("zj<>kgdZKm", fmt[1]), nullptr) << opcode_name((Op)op);
        }
        if (fmt[3] == '=') {
            EXPECT_EQ(fmt[2], 'J') << opcode_name((Op)op);
        }
        // The class operand of InstanceOf and Cast is in the format.
        if ((Op)op == Op::InstanceOf || (Op)op == Op::Cast) {
            EXPECT_EQ(fmt[2], 'C');
        }
    }
}

TEST(OpcodeSchema, OperandValuesFollowTheFields)
{
    Insn in { Op::JumpLt, 0xfe, 1, 2, 0xffff };   // off = 0xffff << 8 | 0xfe = -2
    EXPECT_EQ(operand_value(in, opcode_format(Op::JumpLt), 2), -2);
    Insn k { Op::LoadK, 0, 3, 0x1234, 0x0001 };
    EXPECT_EQ(operand_value(k, opcode_format(Op::LoadK), 1), 0x11234);
    Insn add { Op::AddI, 0, 3, 4, 0xffff };
    EXPECT_EQ(operand_value(add, opcode_format(Op::AddI), 2), -1);
    Insn args { Op::Args, 0, 7, 8, 9 };
    Insn call[2] = { Insn { Op::Call, 0, 0, 0, 3 }, args };
    EXPECT_EQ(call_arg(call, 0), 7);
    EXPECT_EQ(call_arg(call, 2), 9);
    EXPECT_EQ(call_arg_words(3), 1u);
    EXPECT_EQ(call_arg_words(4), 2u);
}

TEST(OpcodeSchema, EmittedCodeMatchesTheSchema)
{
    namespace fs = std::filesystem;
    std::set<u32> seen;
    std::vector<std::string> problems;
    u32 compiled = 0;
    for (const char* dir : { "tests/scripts", "examples" }) {
        for (const auto& entry : fs::recursive_directory_iterator(fs::path(KS_SOURCE_DIR) / dir)) {
            if (entry.path().extension() != ".k")
                continue;
            std::ifstream file(entry.path(), std::ios::binary);
            std::stringstream text;
            text << file.rdbuf();
            std::string source = text.str();
            bool transcript = source.find("--transcript") != std::string::npos;
            if (check_source(source, transcript, nullptr, &seen, &problems))
                compiled++;
        }
    }
    // What the corpus happens not to contain: register shifts, large
    // constants, every comparison in a condition.
    const char* extra = R"(int f(int a, int b) {
  int s = a | b
  s = s << b
  s = s >> b
  s = s + 100000
  s = s - 100000
  if (a == b) { s++ }
  if (a != b) { s-- }
  if (a == 7) { s++ }
  if (a != 7) { s++ }
  if (a >= b) { s++ }
  if (a > b) { s++ }
  while (a < b) { a++ }
  while (a <= b) { a++ }
  while (a >= b) { b++ }
  while (a > b) { b++ }
  while (a == b) { b++ }
  while (a != 9) { a++ }
  return s
}
System.p(f(1, 2))
)";
    EXPECT_TRUE(check_source(extra, false, nullptr, &seen, &problems));
    EXPECT_GT(compiled, 200u);
    for (const std::string& p : problems)
        ADD_FAILURE() << p;
    // Nop is what a function that outgrew its limit gets (never run).
    for (u32 op = 0; op < (u32)Op::Count; op++)
        if ((Op)op != Op::Nop) {
            EXPECT_TRUE(seen.count(op)) << opcode_name((Op)op) << " is never emitted by the corpus";
        }
}
