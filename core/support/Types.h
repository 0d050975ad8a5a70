// Basic types for the freestanding core. No libc or libstdc++ header is
// included anywhere in core/ or slab/: everything comes from the compiler.
#pragma once

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using i8 = __INT8_TYPE__;
using i16 = __INT16_TYPE__;
using i32 = __INT32_TYPE__;
using i64 = __INT64_TYPE__;
using usize = __SIZE_TYPE__;
using isize = __PTRDIFF_TYPE__;
using uptr = __UINTPTR_TYPE__;

#define KS_LIKELY(x) __builtin_expect(!!(x), 1)
#define KS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define KS_NOINLINE __attribute__((noinline))
#define KS_ALWAYS_INLINE inline __attribute__((always_inline))

constexpr i64 KS_INT_MAX = 0x7fffffffffffffffLL;
constexpr i64 KS_INT_MIN = -KS_INT_MAX - 1;

// Placement new with a tag of our own, so the core never needs <new> and
// never clashes with it when a unit test includes both.
struct KsPlace {};
inline void* operator new(usize, KsPlace, void* where) noexcept { return where; }
inline void operator delete(void*, KsPlace, void*) noexcept {}

namespace ks {

template<typename T> struct RemoveReference { using Type = T; };
template<typename T> struct RemoveReference<T&> { using Type = T; };
template<typename T> struct RemoveReference<T&&> { using Type = T; };

template<typename T>
constexpr typename RemoveReference<T>::Type&& move(T&& value) noexcept
{
    return static_cast<typename RemoveReference<T>::Type&&>(value);
}

template<typename T>
constexpr T min(T a, T b) { return a < b ? a : b; }
template<typename T>
constexpr T max(T a, T b) { return a > b ? a : b; }

// Zero bytes may come from or go to a null pointer (an empty Bytes or
// String has no buffer): memcpy's own contract forbids that even for 0.
inline void mem_copy(void* to, const void* from, usize n)
{
    if (n)
        __builtin_memcpy(to, from, n);
}
inline void mem_move(void* to, const void* from, usize n)
{
    if (n)
        __builtin_memmove(to, from, n);
}
inline void mem_set(void* to, int byte, usize n) { __builtin_memset(to, byte, n); }
// [p] with its first [n] bytes zeroed, or null if [p] is null (allocators'
// alloc_zeroed()).
inline void* zero_filled(void* p, usize n)
{
    if (p)
        mem_set(p, 0, n);
    return p;
}
inline int mem_compare(const void* a, const void* b, usize n) { return __builtin_memcmp(a, b, n); }

inline usize str_length(const char* s)
{
    usize n = 0;
    while (s[n])
        n++;
    return n;
}

inline bool str_equal(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

// Multiplication that reports overflow instead of wrapping: for sizes.
inline bool size_mul(usize a, usize b, usize* out) { return !__builtin_mul_overflow(a, b, out); }
inline bool size_add(usize a, usize b, usize* out) { return !__builtin_add_overflow(a, b, out); }

inline u64 hash_bytes(const void* data, usize n)
{
    // FNV-1a, 64 bit.
    const u8* p = static_cast<const u8*>(data);
    u64 h = 0xcbf29ce484222325ULL;
    for (usize i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

}
