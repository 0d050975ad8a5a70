// Checks a compiled program before it runs (see Verify.cpp).
#pragma once

#include "Program.h"

namespace ks {

// True if every instruction's registers, constants, globals, functions,
// classes and jump targets are in range, every handler lies inside its
// function, and no function can run off its end. Otherwise false, with the
// function index and instruction of the first problem.
bool verify_program(const Program& program, u32* bad_function, u32* bad_pc);

}
