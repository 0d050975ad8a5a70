// The peephole passes over emitted code: merges made as an instruction is
// emitted (fuse_global_increment(), from emit()), and the jump threading of
// a finished function (thread_jumps(), from finish_function()).
#include "CompilerInternal.h"

namespace ks::compiler {

// Peephole for `g += k`, `g++` and `g = g + k` on an int global (the
// counting handler of a hook, a hot shape): about to emit SetGlobal r, g
// after GetGlobal r, g and AddI r, r, k, the three become one IncGlobal r,
// g, k (a third of the dispatches). Only when no jump can land on the AddI
// or the SetGlobal (no position past the GetGlobal was handed out by
// here()), the value stays in r as before, and g fits the 16-bit field.
// Returns true when the SetGlobal was merged (and is not to be emitted).
bool Compiler::fuse_global_increment(u32 reg, u32 global)
{
    FunctionState* fs = m_fs;
    u32 n = fs->code.size();
    if (n < 2 || fs->label_high > n - 2 || global > 0xffff)
        return false;
    const Insn& get = fs->code[n - 2];
    const Insn& add = fs->code[n - 1];
    if (get.op != Op::GetGlobal || (u32)get.imm() != global || get.a != reg || add.op != Op::AddI || add.a != reg
        || add.b != reg)
        return false;
    fs->code[n - 2] = Insn { Op::IncGlobal, 0, (u16)reg, (u16)global, add.c };
    fs->code.shrink(n - 1);
    fs->lines.shrink(n - 1);
    return true;
}

// Jump threading: a jump to a jump goes to the final target, and a jump to a
// return becomes that return (the arms of `return c ? a : b`, the ends of
// if/else before a return). A move into the register that the next
// instruction returns becomes a return of the source (the instruction after
// stays: other jumps may lead to it).
void thread_jumps(Vector<Insn>& code)
{
    for (u32 i = 0; i < code.size(); i++) {
        if (code[i].op != Op::Jump)
            continue;
        i64 target = (i64)i + 1 + code[i].imm();
        for (u32 hops = 0; hops < 8 && target >= 0 && target < code.size() && code[(u32)target].op == Op::Jump;
             hops++)
            target += 1 + code[(u32)target].imm();
        if (target < 0 || target >= code.size())
            continue;
        Op op = code[(u32)target].op;
        if (op == Op::Return || op == Op::ReturnVoid) {
            code[i] = code[(u32)target];
        } else {
            code[i].set_imm((i32)(target - i - 1));
        }
    }
    for (u32 i = 0; i + 1 < code.size(); i++) {
        if (code[i].op == Op::Move && code[i + 1].op == Op::Return && code[i + 1].a == code[i].a)
            code[i] = Insn { Op::Return, 0, code[i].b, 0, 0 };
    }
}

}   // namespace ks::compiler
