// Checks a program before it runs, whether compiled from source or loaded
// from a bytecode file (see Verify.cpp).
#pragma once

#include "../support/Memory.h"
#include "Program.h"

namespace ks {

// Where and why verification failed. [function] and [pc] are ~0u when the
// fault is not in one function (a class, a global) or not at one
// instruction (a handler, the register map).
struct VerifyError {
    u32 function;
    u32 pc;
    const char* reason;   // Static text: "a reference register is read before it is set", ...
};

constexpr u32 kVerifyNone = ~0u;
// Instructions per function: the compiler's limit and the verifier's.
constexpr u32 kMaxFunctionCode = 1u << 20;
// The data-flow pass may process each instruction (and handler edge) this
// many times over, plus 2^20, before it refuses a function as too complex.
constexpr u32 kVerifyWorkPerInstruction = 64;

// True if the program may run: every table is consistent, every operand of
// every instruction is in range and of the kind its opcode's format
// (Opcodes.h) says, and no path reads a reference register before setting
// it. Otherwise false and [error] says where. Scratch memory comes from
// [memory]; when it runs out the reason is "out of memory".
bool verify_program(const Program& program, Memory* memory, VerifyError* error);

}
