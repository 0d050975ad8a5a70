// A readable listing of a compiled program (kscript disasm).
#pragma once

#include "../support/StringBuilder.h"
#include "Program.h"

namespace ks {

void disassemble(const Program& program, StringBuilder& out);

}
