// The System library: System.* functions (System.p is compiled inline).
#pragma once

#include "Library.h"

// The System natives, in table order (see Library.h).
#define KS_SYSTEM_NATIVES(NATIVE) \
    NATIVE("System", "gc", "v", sys_gc)

namespace ks::lib {
KS_SYSTEM_NATIVES(KS_DECLARE_NATIVE)
}
