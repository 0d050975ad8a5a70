// The System library: System.* functions (System.p is compiled inline).
#include "SystemLib.h"

namespace ks::lib {

// The collection charges its work; a script that does nothing but collect
// stops here once that has spent the budget.
// System.gc(): a full collection (deferred in a hook: atomic mode never
// collects).
bool sys_gc(Vm& vm, u64*, u64*)
{
    if (vm.may_collect())
        vm.collect_garbage();
    return vm.charge_checked(0);
}

}
