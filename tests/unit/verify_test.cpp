// The bytecode verifier accepts what the compiler builds and refuses code
// whose operands would reach outside a frame, the constants or the code.
#include <gtest/gtest.h>

#include <cstring>

#include "core/compiler/Compiler.h"
#include "core/compiler/Diagnostics.h"
#include "core/support/Arena.h"
#include "core/vm/Heap.h"
#include "core/vm/Verify.h"
#include "core/vm/Vm.h"

using namespace ks;

namespace {

class VerifyTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        memory.init(64u << 20, false);
        heap.init(&memory);
        const char* src = "int f(int n) {\n  int s = 0\n  for (int i = 0; i < n; i++) {\n"
                          "    try { s += 10 / i + i % 7 } catch (ZeroDividedException e) { s++ }\n  }\n  return s\n}\n"
                          "System.p(f(5))\n";
        Arena arena(&memory);
        Diagnostics diagnostics(&memory, &arena);
        CompileOptions options { CompileMode::Normal, 200, 1u << 20 };
        ASSERT_TRUE(compile_program(&memory, &heap, src, strlen(src), options, &diagnostics, &arena, &program));
        for (u32 i = 0; i < program.function_count; i++)
            if (program.functions[i]->name && strcmp(program.functions[i]->name, "f") == 0)
                f = program.functions[i];
        ASSERT_NE(f, nullptr);
        ASSERT_GT(f->handler_count, 0u);
    }
    void TearDown() override
    {
        free_program(&memory, &program);
        heap.destroy();
        memory.destroy();
    }
    bool verifies()
    {
        VerifyError e;
        bool ok = verify_program(program, &memory, &e);
        bad_function = e.function;
        bad_pc = e.pc;
        reason = e.reason;
        return ok;
    }
    // The first instruction of [op] in f.
    Insn* find(Op op)
    {
        for (u32 pc = 0; pc < f->code_size; pc++)
            if (f->code[pc].op == op)
                return &f->code[pc];
        return nullptr;
    }

    Memory memory;
    Heap heap;
    Program program {};
    Function* f = nullptr;
    u32 bad_function = 0;   // Where verifies() found the fault.
    u32 bad_pc = 0;
    const char* reason = "";
};

}

TEST_F(VerifyTest, CompiledCodeVerifies) { EXPECT_TRUE(verifies()); }

TEST_F(VerifyTest, RegisterOutsideTheFrame)
{
    Insn* add = find(Op::AddI);
    ASSERT_NE(add, nullptr);
    add->b = f->register_count;
    EXPECT_FALSE(verifies());
    EXPECT_EQ(program.functions[bad_function], f);
    EXPECT_EQ(bad_pc, (u32)(add - f->code)) << "the corrupted instruction is the one reported";
}

TEST_F(VerifyTest, JumpOutsideTheCode)
{
    Insn* j = find(Op::JumpLt);
    ASSERT_NE(j, nullptr);
    j->set_off((i32)f->code_size);
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, HandlerOutsideTheCode)
{
    f->handlers[0].target = f->code_size;
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, ConstantOutsideThePool)
{
    Insn* div = find(Op::Div);
    Insn* k = nullptr;
    for (u32 pc = 0; pc < f->code_size && !k; pc++)
        if (f->code[pc].op == Op::LoadI || f->code[pc].op == Op::LoadK)
            k = &f->code[pc];
    ASSERT_NE(div, nullptr);
    ASSERT_NE(k, nullptr);
    k->op = Op::LoadK;
    k->b = (u16)program.constant_count;
    k->c = 0;
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, RunningOffTheEnd)
{
    f->code[f->code_size - 1].op = Op::Nop;
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, DivisionByConstantZero)
{
    Insn* mod = find(Op::ModK);
    ASSERT_NE(mod, nullptr);
    u32 zero = program.constant_count;
    for (u32 k = 0; k < program.constant_count; k++)
        if (program.constant_kinds[k] == KindInt && program.constants[k] == 0)
            zero = k;
    if (zero == program.constant_count) {
        // No 0 in the pool: make the ModK's own constant 0.
        program.constants[mod->c] = 0;
    } else {
        mod->c = (u16)zero;
    }
    EXPECT_FALSE(verifies());
}
