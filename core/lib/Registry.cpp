// The registry (Registry.h) and the native table (vm/Natives.h): every
// library's list expanded into one table, in library order.
#include "Registry.h"

#include "../vm/Program.h"
#include "ArrayLib.h"
#include "BytesLib.h"
#include "LinuxLib.h"
#include "MapLib.h"
#include "Prelude.gen.h"
#include "StringLib.h"
#include "SystemLib.h"

namespace ks {

namespace {

#define KS_NATIVE_ENTRY(owner, name, signature, fn) { owner, name, signature, lib::fn },

// The order is part of the bytecode format (Library.h).
const NativeInfo kNatives[] = {
    KS_STRING_NATIVES(KS_NATIVE_ENTRY)
    KS_ARRAY_NATIVES(KS_NATIVE_ENTRY)
    KS_MAP_NATIVES(KS_NATIVE_ENTRY)
    KS_BYTES_NATIVES(KS_NATIVE_ENTRY)
    KS_SYSTEM_NATIVES(KS_NATIVE_ENTRY)
    KS_LINUX_NATIVES(KS_NATIVE_ENTRY)
};

#undef KS_NATIVE_ENTRY

const Library kLibraries[] = {
    { "String", "String", "String." },
    { "Array", "Array", nullptr },
    { "Map", "Map", nullptr },
    { "Bytes", "Bytes", "Bytes." },
    { "System", nullptr, "System" },
    { "Linux", nullptr, "Linux" },
};

const BuiltinConstant kBuiltinConstants[] = {
    { "INT_MAX", 0x7fffffffffffffffLL },
    { "INT_MIN", -0x7fffffffffffffffLL - 1 },
    { "BUFSIZ", 1024 },   // Konoha's (and C's) buffer size.
    // Netfilter verdicts, protocol families and inet hook points.
    { "NF_DROP", 0 },
    { "NF_ACCEPT", 1 },
    { "NFPROTO_IPV4", 2 },
    { "NFPROTO_IPV6", 10 },
    { "NF_INET_PRE_ROUTING", 0 },
    { "NF_INET_LOCAL_IN", 1 },
    { "NF_INET_FORWARD", 2 },
    { "NF_INET_LOCAL_OUT", 3 },
    { "NF_INET_POST_ROUTING", 4 },
    // IP protocol numbers (Packet.protocol).
    { "IPPROTO_ICMP", 1 },
    { "IPPROTO_TCP", 6 },
    { "IPPROTO_UDP", 17 },
    { "IPPROTO_ICMPV6", 58 },
};

// Whether two strings are equal, at compile time.
constexpr bool same_name(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

// The VM raises and the host layer checks built-in classes by the ids of
// BuiltinClass (vm/Program.h); the compiler numbers classes in the order
// the prelude declares them. The two must agree, name for name.
static_assert(BuiltinClassCount == kPreludeClassCount, "BuiltinClass and the prelude's classes differ in number");
#define KS_CHECK_BUILTIN_CLASS(name) \
    static_assert(same_name(kPreludeClassNames[Class##name], #name), "BuiltinClass: Class" #name " is not the prelude's class of that id");
KS_BUILTIN_CLASSES(KS_CHECK_BUILTIN_CLASS)
#undef KS_CHECK_BUILTIN_CLASS

}   // namespace

const NativeInfo* native_table(u32* count)
{
    *count = sizeof(kNatives) / sizeof(kNatives[0]);
    return kNatives;
}

i32 find_native(const char* owner, const char* name, u32 param_count)
{
    u32 n = sizeof(kNatives) / sizeof(kNatives[0]);
    for (u32 i = 0; i < n; i++)
        if (str_equal(kNatives[i].owner, owner) && str_equal(kNatives[i].name, name)
            && str_length(kNatives[i].signature) - 1 == param_count)
            return (i32)i;
    return -1;
}

const Library* libraries(u32* count)
{
    *count = sizeof(kLibraries) / sizeof(kLibraries[0]);
    return kLibraries;
}

const Library* find_library(const char* name)
{
    for (const Library& l : kLibraries)
        if (str_equal(l.name, name))
            return &l;
    return nullptr;
}

const char* prelude_class_name(u32 id)
{
    return id < kPreludeClassCount ? kPreludeClassNames[id] : nullptr;
}

const char* prelude_source(usize* length)
{
    *length = sizeof(kPreludeSource) - 1;
    return kPreludeSource;
}

const BuiltinConstant* builtin_constants(u32* count)
{
    *count = sizeof(kBuiltinConstants) / sizeof(kBuiltinConstants[0]);
    return kBuiltinConstants;
}

}
