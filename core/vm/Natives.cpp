// Built-in methods. Each checks its arguments (indexes, null receivers) and
// raises a script exception for anything invalid; none of them calls back
// into the VM or collects garbage, so intermediate objects need no rooting.
#include "Natives.h"

#include "../../include/kscript_platform.h"
#include "Vm.h"

namespace ks {

namespace {

inline StringObj* str(u64 v) { return reinterpret_cast<StringObj*>(as_obj(v)); }
inline ArrayObj* arr(u64 v) { return reinterpret_cast<ArrayObj*>(as_obj(v)); }
inline MapObj* map(u64 v) { return reinterpret_cast<MapObj*>(as_obj(v)); }
inline BytesObj* bytes(u64 v) { return reinterpret_cast<BytesObj*>(as_obj(v)); }

bool ret_string(Vm& vm, const char* s, usize n, u64* out)
{
    StringObj* r = vm.new_string(s, n);
    if (!r)
        return false;
    *out = from_obj(r);
    return true;
}

// Budget for work a native is about to do or has just done, checked (see
// Vm::charge_checked(): false means stop, the exception is pending). Bytes
// read or moved at memcmp/memmove speed cost one unit per 16, as allocation
// does; bytes looked at one by one (UTF-8 walks, parsing, case mapping,
// hashing, substring search) one unit per 4, about a VM instruction's time.
inline bool pay_scan(Vm& vm, u64 bytes) { return vm.charge_checked(bytes >> 4); }
inline bool pay_bytewise(Vm& vm, u64 bytes) { return vm.charge_checked(bytes >> 2); }

// Byte offset of character [index] of [s] (the end if there is none), found
// from character [from_char] at byte [from_byte] (index >= from_char). Other
// than ASCII strings need a walk, which is charged; false when the budget
// ran out.
bool char_offset(Vm& vm, StringObj* s, u64 index, usize* out, usize from_byte = 0, u64 from_char = 0)
{
    if (s->header.flags & ObjAscii) {
        *out = (usize)index;
        return true;
    }
    usize offset = from_byte;
    u64 chars = from_char;
    for (; offset < s->byte_length; offset++) {
        if (((u8)s->bytes[offset] & 0xc0) != 0x80) {
            if (chars == index)
                break;
            chars++;
        }
    }
    *out = offset;
    return pay_bytewise(vm, offset - from_byte);
}

// Character index of byte [byte] of [s], counting on from character
// [from_char] at byte [from_byte] (byte >= from_byte). Charged like
// char_offset().
bool byte_to_char(Vm& vm, StringObj* s, usize byte, i64* out, usize from_byte = 0, i64 from_char = 0)
{
    if (s->header.flags & ObjAscii) {
        *out = (i64)byte;
        return true;
    }
    i64 chars = from_char;
    for (usize i = from_byte; i < byte; i++)
        if (((u8)s->bytes[i] & 0xc0) != 0x80)
            chars++;
    *out = chars;
    return pay_bytewise(vm, byte - from_byte);
}

bool substring_chars(Vm& vm, StringObj* s, u64 begin, u64 end, u64* out)
{
    usize b, e;
    if (!char_offset(vm, s, begin, &b) || !char_offset(vm, s, end, &e, b, begin))
        return false;
    return ret_string(vm, s->bytes + b, e - b, out);
}

// A string's hash, computed once (and charged then: a key made of many
// megabytes costs its bytes the first time it is hashed). Out of line, so
// that map lookups with cached hashes stay as lean as before.
KS_NOINLINE u64 compute_string_hash(Vm& vm, StringObj* s)
{
    s->hash = hash_bytes(s->bytes, s->byte_length) | 1ull << 63;  // Non-zero; the low bits pick the index slot.
    vm.charge_units(s->byte_length >> 2);
    return s->hash;
}

inline u64 string_hash(Vm& vm, StringObj* s) { return KS_LIKELY(s->hash) ? s->hash : compute_string_hash(vm, s); }

bool value_equal(u64 a, u64 b, u8 kind)
{
    if (a == b)
        return true;
    if (kind != KindRef)
        return false;
    ObjHeader* x = as_obj(a);
    ObjHeader* y = as_obj(b);
    if (x->kind != ObjKind::String || y->kind != ObjKind::String)
        return false;
    StringObj* s = str(a);
    StringObj* t = str(b);
    return s->byte_length == t->byte_length && mem_compare(s->bytes, t->bytes, s->byte_length) == 0;
}

bool check_mutable(Vm& vm, u64 v)
{
    if (as_obj(v)->flags & ObjNull)
        return vm.raise(ClassNullReferenceException, "modification of a null value");
    return true;
}

// ---------------------------------------------------------------- Substring search

constexpr usize kNotFound = ~(usize)0;
// Searches charge the budget at least every this many haystack bytes, so
// that a long search polls the host and stops in time.
constexpr usize kSearchChunk = 64 * 1024;

constexpr u64 kOnes = 0x0101010101010101ull;
constexpr u64 kHighs = 0x8080808080808080ull;

// Whether one of the eight bytes of [w] is zero.
inline bool has_zero_byte(u64 w) { return ((w - kOnes) & ~w & kHighs) != 0; }

// First byte [c] in [p, p + n), eight bytes at a time; kNotFound if none.
usize scan_byte(const u8* p, usize n, u8 c)
{
    u64 pattern = kOnes * c;
    usize i = 0;
    for (; i + 8 <= n; i += 8) {
        u64 w;
        mem_copy(&w, p + i, 8);
        if (has_zero_byte(w ^ pattern))
            break;
    }
    for (; i < n; i++)
        if (p[i] == c)
            return i;
    return kNotFound;
}

// Last byte [c] in [p, p + n), eight bytes at a time; kNotFound if none.
usize scan_byte_reverse(const u8* p, usize n, u8 c)
{
    u64 pattern = kOnes * c;
    usize i = n;
    for (; i >= 8; i -= 8) {
        u64 w;
        mem_copy(&w, p + i - 8, 8);
        if (has_zero_byte(w ^ pattern))
            break;
    }
    while (i-- > 0)
        if (p[i] == c)
            return i;
    return kNotFound;
}

// Substring search in time linear in the lengths of both strings, where
// trying the needle at every position costs their product on inputs such
// as "aaa...a" and "aa...ab": Crochemore and Perrin's Two-Way algorithm (as
// in glibc's memmem, without its shift table, so without memory beyond this
// object). The needle is cut at a critical factorization u.v; v is compared
// left to right, then u right to left, and a mismatch shifts the window by
// as much as the factorization allows, remembering for periodic needles how
// much of the period is known to match. With [Reverse] both strings are
// read from their ends: positions count from the end, and the first match
// found is the last one.
template<bool Reverse>
class Searcher {
public:
    // Prepares the search for [needle]; its O(m) setup is charged.
    bool init(Vm& vm, StringObj* needle)
    {
        m_needle = reinterpret_cast<const u8*>(needle->bytes);
        m_length = needle->byte_length;
        if (m_length < 2)
            return true;
        m_suffix = critical_factorization(&m_period);
        m_periodic = true;
        for (usize k = 0; k < m_suffix; k++) {
            if (at(k) != at(k + m_period)) {
                m_periodic = false;
                break;
            }
        }
        if (!m_periodic)
            m_period = max(m_suffix, m_length - m_suffix) + 1;
        return pay_bytewise(vm, 3 * (u64)m_length);
    }

    // Position of the first match in [hay] (length [n]) at or after
    // position [from], or kNotFound, into [*found]. Charges the haystack
    // bytes it covers as it goes; false when the budget ran out.
    bool find(Vm& vm, const u8* hay, usize n, usize from, usize* found) const
    {
        *found = kNotFound;
        usize m = m_length;
        if (from > n || n - from < m)
            return true;
        if (m == 0) {
            *found = from;
            return true;
        }
        if (m == 1)
            return find_byte(vm, hay, n, from, found);
        usize j = from;
        usize paid = from;
        usize memory = 0;
        while (j <= n - m) {
            if (KS_UNLIKELY(j - paid >= kSearchChunk)) {
                if (!pay_bytewise(vm, j - paid))
                    return false;
                paid = j;
            }
            usize i = m_periodic && memory > m_suffix ? memory : m_suffix;
            while (i < m && at(i) == hay_at(hay, n, i + j))
                i++;
            if (i < m) {
                j += i - m_suffix + 1;
                memory = 0;
                continue;
            }
            // The right part matches: compare the left part, down to what
            // the last shift is known to have kept matching.
            usize low = m_periodic ? memory : 0;
            i = m_suffix;
            while (i > low && at(i - 1) == hay_at(hay, n, i - 1 + j))
                i--;
            if (i <= low) {
                *found = j;
                return pay_bytewise(vm, j + m - paid);
            }
            j += m_period;
            if (m_periodic)
                memory = m - m_period;
        }
        return pay_bytewise(vm, n - paid);
    }

private:
    u8 at(usize i) const { return Reverse ? m_needle[m_length - 1 - i] : m_needle[i]; }
    static u8 hay_at(const u8* hay, usize n, usize i) { return Reverse ? hay[n - 1 - i] : hay[i]; }

    // One byte: a word-at-a-time scan, charged per chunk like the search.
    bool find_byte(Vm& vm, const u8* hay, usize n, usize from, usize* found) const
    {
        u8 c = m_needle[0];
        for (usize j = from; j < n;) {
            usize chunk = min(n - j, kSearchChunk);
            usize k = Reverse ? scan_byte_reverse(hay + (n - j - chunk), chunk, c) : scan_byte(hay + j, chunk, c);
            if (k != kNotFound) {
                usize pos = Reverse ? j + (chunk - 1 - k) : j + k;
                *found = pos;
                return pay_scan(vm, pos + 1 - j);
            }
            if (!pay_scan(vm, chunk))
                return false;
            j += chunk;
        }
        return true;
    }

    // The critical factorization of the needle (length >= 2): the start of
    // the right part v, the shorter of the maximal suffixes for the byte
    // order and its reverse, and the period of v into [*period].
    usize critical_factorization(usize* period) const
    {
        if (m_length < 3) {
            *period = 1;
            return m_length - 1;
        }
        usize p1, p2;
        usize s1 = maximal_suffix(false, &p1);
        usize s2 = maximal_suffix(true, &p2);
        // Maximal suffixes start after s (kNotFound + 1 wraps to 0).
        if (s2 + 1 < s1 + 1) {
            *period = p1;
            return s1 + 1;
        }
        *period = p2;
        return s2 + 1;
    }

    // The maximal suffix of the needle for the byte order (or its reverse):
    // returns the position before it (kNotFound for the whole needle) and
    // its period into [*period].
    usize maximal_suffix(bool reversed, usize* period) const
    {
        usize ms = kNotFound;
        usize j = 0;
        usize k = 1;
        usize p = 1;
        while (j + k < m_length) {
            u8 a = at(j + k);
            u8 b = at(ms + k);
            if (reversed ? b < a : a < b) {
                j += k;
                k = 1;
                p = j - ms;
            } else if (a == b) {
                if (k != p) {
                    k++;
                } else {
                    j += p;
                    k = 1;
                }
            } else {
                ms = j++;
                k = p = 1;
            }
        }
        *period = p;
        return ms;
    }

    const u8* m_needle;
    usize m_length;
    usize m_suffix;
    usize m_period;
    bool m_periodic;
};

// First byte offset at or after [from] where [needle] occurs in [s], or
// kNotFound, into [*found]; false when the budget ran out.
bool find_first(Vm& vm, StringObj* s, StringObj* needle, usize from, usize* found)
{
    Searcher<false> searcher;
    return searcher.init(vm, needle)
        && searcher.find(vm, reinterpret_cast<const u8*>(s->bytes), s->byte_length, from, found);
}

// ---------------------------------------------------------------- String

bool s_length(Vm&, u64* a, u64* r) { *r = str(a[0])->char_length; return true; }

bool s_char_at(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    if (a[1] >= s->char_length)
        return vm.raise(ClassOutOfBoundsException, "string index out of bounds");
    return substring_chars(vm, s, a[1], a[1] + 1, r);
}

bool s_char_code_at(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    if (a[1] >= s->char_length)
        return vm.raise(ClassOutOfBoundsException, "string index out of bounds");
    usize offset;
    if (!char_offset(vm, s, a[1], &offset))
        return false;
    const u8* p = reinterpret_cast<const u8*>(s->bytes + offset);
    u32 c = p[0];
    u32 extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (extra)
        c &= (0x3f >> extra);
    const u8* end = reinterpret_cast<const u8*>(s->bytes + s->byte_length);
    for (u32 i = 1; i <= extra && p + i < end; i++)
        c = (c << 6) | (p[i] & 0x3f);
    *r = c;
    return true;
}

bool s_from_char_code(Vm& vm, u64* a, u64* r)
{
    i64 c = (i64)a[0];
    char buf[4];
    usize n;
    if (c < 0 || c > 0x10ffff)
        return vm.raise(ClassOutOfBoundsException, "character code out of range");
    if (c < 0x80) {
        buf[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        buf[0] = (char)(0xc0 | (c >> 6));
        buf[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        buf[0] = (char)(0xe0 | (c >> 12));
        buf[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        buf[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        buf[0] = (char)(0xf0 | (c >> 18));
        buf[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        buf[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        buf[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    return ret_string(vm, buf, n, r);
}

bool s_index_of(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    usize at;
    i64 chars = -1;
    if (!find_first(vm, s, str(a[1]), 0, &at) || (at != kNotFound && !byte_to_char(vm, s, at, &chars)))
        return false;
    *r = (u64)chars;
    return true;
}

bool s_index_of_from(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    i64 from = (i64)a[2];
    if (from < 0)
        from = 0;
    if ((u64)from > s->char_length) {
        *r = (u64)-1;
        return true;
    }
    usize start, at;
    i64 chars = -1;
    if (!char_offset(vm, s, (u64)from, &start) || !find_first(vm, s, str(a[1]), start, &at)
        || (at != kNotFound && !byte_to_char(vm, s, at, &chars, start, from)))
        return false;
    *r = (u64)chars;
    return true;
}

bool s_last_index_of(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    StringObj* n = str(a[1]);
    Searcher<true> searcher;
    usize at;
    if (!searcher.init(vm, n) || !searcher.find(vm, reinterpret_cast<const u8*>(s->bytes), s->byte_length, 0, &at))
        return false;
    i64 chars = -1;
    // [at] counts from the end: the match starts n->byte_length bytes before it.
    if (at != kNotFound && !byte_to_char(vm, s, s->byte_length - at - n->byte_length, &chars))
        return false;
    *r = (u64)chars;
    return true;
}

bool s_substring2(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    i64 b = (i64)a[1];
    i64 e = (i64)a[2];
    if (b < 0 || e > (i64)s->char_length || b > e)
        return vm.raise(ClassOutOfBoundsException, "substring range out of bounds");
    return substring_chars(vm, s, (u64)b, (u64)e, r);
}

bool s_substring1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], str(a[0])->char_length };
    return s_substring2(vm, args, r);
}

bool s_substr2(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    i64 start = (i64)a[1];
    i64 len = (i64)a[2];
    if (start < 0 || start > (i64)s->char_length || len < 0)
        return vm.raise(ClassOutOfBoundsException, "substr range out of bounds");
    i64 end = len > (i64)s->char_length - start ? (i64)s->char_length : start + len;
    return substring_chars(vm, s, (u64)start, (u64)end, r);
}

bool s_substr1(Vm& vm, u64* a, u64* r) { return s_substring1(vm, a, r); }

// slice: negative indexes count from the end; out-of-range indexes clamp.
i64 clamp_index(i64 i, i64 n)
{
    if (i < 0)
        i = i + n < 0 ? 0 : i + n;
    return i > n ? n : i;
}

bool s_slice2(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    i64 n = s->char_length;
    i64 b = clamp_index((i64)a[1], n);
    i64 e = clamp_index((i64)a[2], n);
    if (e < b)
        e = b;
    return substring_chars(vm, s, (u64)b, (u64)e, r);
}

bool s_slice1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], str(a[0])->char_length };
    return s_slice2(vm, args, r);
}

bool s_concat(Vm& vm, u64* a, u64* r)
{
    StringObj* x = str(a[0]);
    StringObj* y = str(a[1]);
    StringBuilder sb(&vm.memory());
    sb.append(x->bytes, x->byte_length);
    sb.append(y->bytes, y->byte_length);
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return ret_string(vm, sb.data(), sb.size(), r);
}

// [a[0]] itself when an operation leaves a string as it is (strings are
// immutable), saving a copy of what may be megabytes; not the null string,
// whose result stays an ordinary empty one.
bool ret_unchanged(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    if (s->header.flags & ObjNull)
        return ret_string(vm, s->bytes, s->byte_length, r);
    *r = a[0];
    return true;
}

// Each occurrence found costs a unit besides the bytes searched, so that
// millions of one-byte matches are not free.
bool s_replace(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    StringObj* from = str(a[1]);
    StringObj* to = str(a[2]);
    if (from->byte_length == 0) {
        *r = a[0];
        return true;
    }
    Searcher<false> searcher;
    if (!searcher.init(vm, from))
        return false;
    const u8* hay = reinterpret_cast<const u8*>(s->bytes);
    StringBuilder sb(&vm.memory());
    usize i = 0;
    for (;;) {
        usize at;
        if (!searcher.find(vm, hay, s->byte_length, i, &at))
            return false;
        if (at == kNotFound && i == 0)
            return ret_unchanged(vm, a, r);
        if (at == kNotFound)
            break;
        sb.append(s->bytes + i, at - i);
        sb.append(to->bytes, to->byte_length);
        if (sb.has_failed())
            return vm.raise_out_of_memory();
        if (!vm.charge_checked(1))
            return false;
        i = at + from->byte_length;
    }
    sb.append(s->bytes + i, s->byte_length - i);
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return ret_string(vm, sb.data(), sb.size(), r);
}

// The parts are allocations, charged as they are made, and cost a unit
// each besides. The result array is not reachable before the native
// returns, and natives never collect: when the budget stops the split, it
// is simply garbage.
bool s_split(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    StringObj* sep = str(a[1]);
    ArrayObj* out = vm.heap().new_array(0, KindRef, 0);
    if (!out)
        return vm.raise_out_of_memory();
    *r = from_obj(out);
    auto push = [&](const char* p, usize n) -> bool {
        if (!vm.charge_checked(1) || !vm.charge_allocations_checked())
            return false;
        StringObj* part = vm.new_string(p, n);
        if (!part)
            return false;
        if (!vm.heap().array_reserve(out, out->size + 1))
            return vm.raise_out_of_memory();
        out->items[out->size++] = from_obj(part);
        return true;
    };
    if (sep->byte_length == 0) {
        // Split into characters.
        usize i = 0;
        while (i < s->byte_length) {
            usize j = i + 1;
            while (j < s->byte_length && ((u8)s->bytes[j] & 0xc0) == 0x80)
                j++;
            if (!push(s->bytes + i, j - i))
                return false;
            i = j;
        }
        return true;
    }
    Searcher<false> searcher;
    if (!searcher.init(vm, sep))
        return false;
    const u8* hay = reinterpret_cast<const u8*>(s->bytes);
    usize start = 0;
    for (;;) {
        usize at;
        if (!searcher.find(vm, hay, s->byte_length, start, &at))
            return false;
        if (at == kNotFound)
            break;
        if (!push(s->bytes + start, at - start))
            return false;
        start = at + sep->byte_length;
    }
    return push(s->bytes + start, s->byte_length - start);
}

bool s_starts_with(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    StringObj* p = str(a[1]);
    if (p->byte_length > s->byte_length) {
        *r = false;
        return true;
    }
    if (!pay_scan(vm, p->byte_length))
        return false;
    *r = mem_compare(s->bytes, p->bytes, p->byte_length) == 0;
    return true;
}

bool s_ends_with(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    StringObj* p = str(a[1]);
    if (p->byte_length > s->byte_length) {
        *r = false;
        return true;
    }
    if (!pay_scan(vm, p->byte_length))
        return false;
    *r = mem_compare(s->bytes + s->byte_length - p->byte_length, p->bytes, p->byte_length) == 0;
    return true;
}

bool s_contains(Vm& vm, u64* a, u64* r)
{
    usize at;
    if (!find_first(vm, str(a[0]), str(a[1]), 0, &at))
        return false;
    *r = at != kNotFound;
    return true;
}

bool change_case(Vm& vm, u64* a, u64* r, bool upper)
{
    StringObj* s = str(a[0]);
    if (!pay_bytewise(vm, s->byte_length))
        return false;
    StringObj* out = vm.new_string(s->bytes, s->byte_length);
    if (!out)
        return false;
    for (u32 i = 0; i < out->byte_length; i++) {
        char c = out->bytes[i];
        if (upper && c >= 'a' && c <= 'z')
            out->bytes[i] = (char)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            out->bytes[i] = (char)(c + 32);
    }
    *r = from_obj(out);
    return true;
}

bool s_upper(Vm& vm, u64* a, u64* r) { return change_case(vm, a, r, true); }
bool s_lower(Vm& vm, u64* a, u64* r) { return change_case(vm, a, r, false); }

bool s_trim(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    usize b = 0, e = s->byte_length;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (b < e && space(s->bytes[b]))
        b++;
    while (e > b && space(s->bytes[e - 1]))
        e--;
    if (!pay_bytewise(vm, b + (s->byte_length - e)))
        return false;
    if (b == 0 && e == s->byte_length)
        return ret_unchanged(vm, a, r);
    return ret_string(vm, s->bytes + b, e - b, r);
}

bool s_to_string(Vm&, u64* a, u64* r)
{
    *r = a[0];
    return true;
}

bool s_equals(Vm& vm, u64* a, u64* r)
{
    if (!pay_scan(vm, str(a[0])->byte_length))
        return false;
    *r = value_equal(a[0], a[1], KindRef);
    return true;
}

// Parses a decimal or 0x hexadecimal int; the bytes it walks (blanks,
// digits, '_' separators) are charged.
bool s_to_int(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    const char* p = s->bytes;
    const char* end = p + s->byte_length;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    bool negative = false;
    if (p < end && (*p == '-' || *p == '+'))
        negative = *p++ == '-';
    u64 base = 10;
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    u64 value = 0;
    bool any = false;
    bool overflow = false;
    for (; p < end; p++) {
        char c = *p;
        u64 d;
        if (c >= '0' && c <= '9')
            d = (u64)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (u64)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (u64)(c - 'A' + 10);
        else if (c == '_' && any)
            continue;
        else
            break;
        if (__builtin_mul_overflow(value, base, &value) || __builtin_add_overflow(value, d, &value)) {
            overflow = true;
            break;
        }
        any = true;
    }
    if (!overflow)
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    if (!pay_bytewise(vm, (u64)(p - s->bytes)))
        return false;
    // The messages quote the string (its first 40 bytes).
    if (overflow)
        return vm.raise_quoting(ClassRuntimeScriptException, "number out of range", s->bytes, s->byte_length);
    if (!any || p != end)
        return vm.raise_quoting(ClassRuntimeScriptException, "not a number", s->bytes, s->byte_length);
    if ((!negative && value > (u64)KS_INT_MAX) || (negative && value > (u64)KS_INT_MAX + 1))
        return vm.raise_quoting(ClassRuntimeScriptException, "number out of range", s->bytes, s->byte_length);
    *r = negative ? (u64)0 - value : value;
    return true;
}

bool s_to_boolean(Vm&, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    *r = s->byte_length == 4 && mem_compare(s->bytes, "true", 4) == 0;
    return true;
}

// ---------------------------------------------------------------- Array

bool a_size(Vm&, u64* a, u64* r) { *r = arr(a[0])->size; return true; }

bool a_get(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise(ClassOutOfBoundsException, "array index out of bounds");
    *r = x->items[a[1]];
    return true;
}

bool a_set(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise(ClassOutOfBoundsException, "array index out of bounds");
    x->items[a[1]] = a[2];
    return true;
}

bool a_push(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    if (x->size >= 0x3fffffff || !vm.heap().array_reserve(x, x->size + 1))
        return vm.raise_out_of_memory();
    x->items[x->size++] = a[1];
    return true;
}

bool a_insert(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    if (a[1] > x->size)
        return vm.raise(ClassOutOfBoundsException, "insert position out of bounds");
    if (!pay_scan(vm, (u64)(x->size - a[1]) * sizeof(u64)))
        return false;
    if (x->size >= 0x3fffffff || !vm.heap().array_reserve(x, x->size + 1))
        return vm.raise_out_of_memory();
    mem_move(x->items + a[1] + 1, x->items + a[1], (x->size - a[1]) * sizeof(u64));
    x->items[a[1]] = a[2];
    x->size++;
    return true;
}

bool a_pop(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (!x->size)
        return vm.raise(ClassOutOfBoundsException, "pop from an empty array");
    *r = x->items[--x->size];
    return true;
}

bool a_remove_at(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (a[1] >= x->size)
        return vm.raise(ClassOutOfBoundsException, "array index out of bounds");
    if (!pay_scan(vm, (u64)(x->size - a[1]) * sizeof(u64)))
        return false;
    *r = x->items[a[1]];
    mem_move(x->items + a[1], x->items + a[1] + 1, (x->size - a[1] - 1) * sizeof(u64));
    x->size--;
    return true;
}

bool a_clear(Vm&, u64* a, u64*)
{
    arr(a[0])->size = 0;
    return true;
}

// A new array of the same element kind as [model]. The null array is shared
// by all array types, so it cannot serve as a model.
bool make_array_from(Vm& vm, ArrayObj* model, const u64* items, u32 n, u64* r)
{
    if (model->header.flags & ObjNull)
        return vm.raise(ClassNullReferenceException, "operation on a null array");
    ArrayObj* out = vm.heap().new_array(n, model->header.elem_kind, 0);
    if (!out)
        return vm.raise_out_of_memory();
    if (n)
        mem_copy(out->items, items, n * sizeof(u64));
    *r = from_obj(out);
    return true;
}

bool a_concat(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    ArrayObj* y = arr(a[1]);
    u64 total = (u64)x->size + y->size;
    if (total > 0x3fffffff)
        return vm.raise_out_of_memory();
    if (!make_array_from(vm, x, x->items, x->size, r))
        return false;
    ArrayObj* out = arr(*r);
    if (!vm.heap().array_reserve(out, (u32)total))
        return vm.raise_out_of_memory();
    if (y->size)
        mem_copy(out->items + x->size, y->items, y->size * sizeof(u64));
    out->size = (u32)total;
    return true;
}

bool a_slice2(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    i64 n = x->size;
    i64 b = clamp_index((i64)a[1], n);
    i64 e = clamp_index((i64)a[2], n);
    if (e < b)
        e = b;
    return make_array_from(vm, x, x->items + b, (u32)(e - b), r);
}

bool a_slice1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], arr(a[0])->size };
    return a_slice2(vm, args, r);
}

// splice(start, count): removes count elements at start, returns them.
// The copy out is allocation; moving the tail down is charged, before the
// array is touched.
bool a_splice(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    i64 n = x->size;
    i64 b = clamp_index((i64)a[1], n);
    i64 count = (i64)a[2];
    if (count < 0)
        count = 0;
    if (count > n - b)
        count = n - b;
    if (!pay_scan(vm, (u64)(n - b - count) * sizeof(u64)))
        return false;
    if (!make_array_from(vm, x, x->items + b, (u32)count, r))
        return false;
    mem_move(x->items + b, x->items + b + count, (usize)(n - b - count) * sizeof(u64));
    x->size -= (u32)count;
    return true;
}

// One unit per element looked at; comparing strings of equal length costs
// their bytes as well, charged before each comparison: an array of a
// million references to one long string, searched for an equal-length
// other string, compares n * m bytes, so it must be able to stop midway.
bool a_index_of(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    u64 probe = a[1];
    StringObj* text = x->header.elem_kind == KindRef && as_obj(probe)->kind == ObjKind::String ? str(probe) : nullptr;
    u32 i = 0;
    for (; i < x->size; i++) {
        u64 item = x->items[i];
        if (item == probe)
            break;
        if (!text || as_obj(item)->kind != ObjKind::String || str(item)->byte_length != text->byte_length)
            continue;
        if (!pay_scan(vm, text->byte_length))
            return false;
        if (mem_compare(str(item)->bytes, text->bytes, text->byte_length) == 0)
            break;
    }
    if (!vm.charge_checked(i))
        return false;
    *r = i < x->size ? (u64)i : (u64)-1;
    return true;
}

// One unit per element, checked as it goes (an element may format to
// nothing); the text itself is charged as allocation.
bool a_join(Vm& vm, u64* a, u64* r)
{
    ArrayObj* x = arr(a[0]);
    StringObj* sep = str(a[1]);
    StringBuilder sb(&vm.memory());
    for (u32 i = 0; i < x->size; i++) {
        if (!vm.charge_checked(1))
            return false;
        if (i)
            sb.append(sep->bytes, sep->byte_length);
        vm.format_value(sb, x->items[i], x->header.elem_kind, 1);
        if (sb.has_failed())
            return vm.raise_out_of_memory();
    }
    return ret_string(vm, sb.data(), sb.size(), r);
}

bool to_string_any(Vm& vm, u64* a, u64* r)
{
    StringBuilder sb(&vm.memory());
    vm.format_value(sb, a[0], KindRef, 0);
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return ret_string(vm, sb.data(), sb.size(), r);
}

bool a_reverse(Vm& vm, u64* a, u64*)
{
    ArrayObj* x = arr(a[0]);
    if (!pay_scan(vm, (u64)x->size * sizeof(u64)))
        return false;
    for (u32 i = 0, j = x->size; i + 1 < j; i++, j--) {
        u64 t = x->items[i];
        x->items[i] = x->items[j - 1];
        x->items[j - 1] = t;
    }
    return true;
}

// ---------------------------------------------------------------- Map

// An int key is its own hash (with the top bit set, so that no hash is 0),
// and its first index slot is the hash modulo index_size - 1, an odd number,
// as in Lua: nearby keys land in nearby slots, so sequential and clustered
// keys (the common case) probe memory that is already cached, while strides
// of powers of two still spread over every slot. Strings hash with FNV-1a.
u64 key_hash(Vm& vm, MapObj* m, u64 key)
{
    if (m->header.aux == KindRef)
        return string_hash(vm, str(key));
    return key | 1ull << 63;
}

u32 first_slot(u64 h, u32 index_size) { return ((u32)h ^ (u32)(h >> 32)) % (index_size - 1); }

// Puts entry number [entry] into the first free index slot for hash [h]
// (each probe past the first costs budget, as in map_find).
void index_insert(Vm& vm, i32* index, u32 index_size, u64 h, u32 entry)
{
    u32 mask = index_size - 1;
    u32 j = first_slot(h, index_size);
    while (index[j] >= 0) {
        j = (j + 1) & mask;
        vm.charge_units(1);
    }
    index[j] = (i32)entry;
}

// Two different key objects of equal hash: equal strings, compared (and
// charged) byte for byte. Int keys are equal only when identical.
KS_NOINLINE bool key_bytes_equal(Vm& vm, MapObj* m, u64 a, u64 b)
{
    if (m->header.aux != KindRef)
        return false;
    StringObj* s = str(a);
    StringObj* t = str(b);
    if (s->byte_length != t->byte_length)
        return false;
    vm.charge_bytes(s->byte_length);
    return mem_compare(s->bytes, t->bytes, s->byte_length) == 0;
}

// Keys chosen to collide make probe sequences long: each probe costs a unit
// of budget, so that such a script is stopped like any other long loop.
// String keys with equal hashes are compared, which costs their bytes
// (a long key looked up with an equal copy is compared in full each time).
i64 map_find(Vm& vm, MapObj* m, u64 key, u64 h)
{
    if (!m->index_size)
        return -1;
    u32 mask = m->index_size - 1;
    u32 probes = 0;
    for (u32 i = first_slot(h, m->index_size);; i = (i + 1) & mask, probes++) {
        i32 e = m->index[i];
        if (e < 0)
            break;
        MapEntry& entry = m->entries[e];
        if (entry.hash == h && (entry.key == key || key_bytes_equal(vm, m, entry.key, key))) {
            vm.charge_units(probes);
            return e;
        }
    }
    vm.charge_units(probes);
    return -1;
}

bool map_rebuild(Vm& vm, MapObj* m, u32 capacity)
{
    u32 index_size = 8;
    while (index_size < capacity * 2)
        index_size *= 2;
    MapEntry* entries = static_cast<MapEntry*>(vm.memory().alloc(sizeof(MapEntry) * capacity));
    i32* index = static_cast<i32*>(vm.memory().alloc(sizeof(i32) * index_size));
    if (!entries || !index) {
        vm.memory().free(entries);
        vm.memory().free(index);
        return false;
    }
    mem_set(index, 0xff, sizeof(i32) * index_size);
    u32 n = 0;
    for (u32 i = 0; i < m->used; i++) {
        if (!m->entries[i].hash)
            continue;
        entries[n] = m->entries[i];
        index_insert(vm, index, index_size, entries[n].hash, n);
        n++;
    }
    vm.memory().free(m->entries);
    vm.memory().free(m->index);
    m->entries = entries;
    m->index = index;
    m->capacity = capacity;
    m->index_size = index_size;
    m->used = n;
    m->count = n;
    return true;
}

bool m_get(Vm& vm, u64* a, u64* r)
{
    MapObj* m = map(a[0]);
    i64 e = map_find(vm, m, a[1], key_hash(vm, m, a[1]));
    if (e >= 0) {
        *r = m->entries[e].value;
        return true;
    }
    // A missing key gives the value type's default. The null map is shared
    // by all map types and cannot know it.
    if (m->header.flags & ObjNull)
        return vm.raise(ClassNullReferenceException, "get from a null map");
    *r = m->missing;
    return true;
}

bool m_set(Vm& vm, u64* a, u64*)
{
    MapObj* m = map(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    u64 h = key_hash(vm, m, a[1]);
    i64 e = map_find(vm, m, a[1], h);
    if (e >= 0) {
        m->entries[e].value = a[2];
        return true;
    }
    if (m->used == m->capacity) {
        u32 capacity = m->count * 2 < 8 ? 8 : m->count * 2;
        if (m->count >= 0x1fffffff || !map_rebuild(vm, m, capacity))
            return vm.raise_out_of_memory();
    }
    u32 slot = m->used++;
    m->entries[slot] = MapEntry { a[1], a[2], h };
    index_insert(vm, m->index, m->index_size, h, slot);
    m->count++;
    return true;
}

bool m_has(Vm& vm, u64* a, u64* r)
{
    MapObj* m = map(a[0]);
    *r = map_find(vm, m, a[1], key_hash(vm, m, a[1])) >= 0;
    return true;
}

bool m_remove(Vm& vm, u64* a, u64* r)
{
    MapObj* m = map(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    i64 e = map_find(vm, m, a[1], key_hash(vm, m, a[1]));
    *r = e >= 0;
    if (e >= 0) {
        // The index keeps pointing at the dead entry; lookups skip it
        // (its hash is 0) and the next rebuild drops it.
        m->entries[e].hash = 0;
        m->entries[e].key = 0;
        m->entries[e].value = 0;
        m->count--;
    }
    return true;
}

bool m_size(Vm&, u64* a, u64* r) { *r = map(a[0])->count; return true; }

bool m_clear(Vm& vm, u64* a, u64*)
{
    MapObj* m = map(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    vm.memory().free(m->entries);
    vm.memory().free(m->index);
    m->entries = nullptr;
    m->index = nullptr;
    m->count = m->used = m->capacity = m->index_size = 0;
    return true;
}

// The walk covers removed entries too (they stay until the next rebuild).
bool map_column(Vm& vm, u64* a, u64* r, bool keys)
{
    MapObj* m = map(a[0]);
    if (m->header.flags & ObjNull)
        return vm.raise(ClassNullReferenceException, "keys or values of a null map");
    if (!pay_scan(vm, (u64)m->used * sizeof(MapEntry)))
        return false;
    ArrayObj* out = vm.heap().new_array(m->count, keys ? (u8)m->header.aux : m->header.elem_kind, 0);
    if (!out)
        return vm.raise_out_of_memory();
    u32 n = 0;
    for (u32 i = 0; i < m->used; i++)
        if (m->entries[i].hash)
            out->items[n++] = keys ? m->entries[i].key : m->entries[i].value;
    *r = from_obj(out);
    return true;
}

bool m_keys(Vm& vm, u64* a, u64* r) { return map_column(vm, a, r, true); }
bool m_values(Vm& vm, u64* a, u64* r) { return map_column(vm, a, r, false); }

// ---------------------------------------------------------------- Bytes

bool b_new(Vm& vm, u64* a, u64* r)
{
    i64 n = (i64)a[0];
    if (n < 0)
        return vm.raise(ClassOutOfBoundsException, "negative Bytes size");
    if (n > 0x3fffffff)
        return vm.raise_out_of_memory();
    BytesObj* b = vm.heap().new_bytes((u32)n);
    if (!b)
        return vm.raise_out_of_memory();
    *r = from_obj(b);
    return true;
}

bool b_from_string(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    BytesObj* b = vm.heap().new_bytes(s->byte_length);
    if (!b)
        return vm.raise_out_of_memory();
    if (s->byte_length)
        mem_copy(b->data, s->bytes, s->byte_length);
    *r = from_obj(b);
    return true;
}

bool b_size(Vm&, u64* a, u64* r) { *r = bytes(a[0])->size; return true; }

bool b_get(Vm& vm, u64* a, u64* r)
{
    BytesObj* b = bytes(a[0]);
    if (a[1] >= b->size)
        return vm.raise(ClassOutOfBoundsException, "Bytes index out of bounds");
    *r = b->data[a[1]];
    return true;
}

bool b_set(Vm& vm, u64* a, u64*)
{
    BytesObj* b = bytes(a[0]);
    if (a[1] >= b->size)
        return vm.raise(ClassOutOfBoundsException, "Bytes index out of bounds");
    b->data[a[1]] = (u8)a[2];
    return true;
}

bool b_push(Vm& vm, u64* a, u64*)
{
    BytesObj* b = bytes(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    if (b->size >= 0x3fffffff || !vm.heap().bytes_reserve(b, b->size + 1))
        return vm.raise_out_of_memory();
    b->data[b->size++] = (u8)a[1];
    return true;
}

bool b_to_string(Vm& vm, u64* a, u64* r)
{
    BytesObj* b = bytes(a[0]);
    return ret_string(vm, reinterpret_cast<const char*>(b->data), b->size, r);
}

// The copy is charged: it allocates nothing once the buffer is large
// enough (a loop of clear() and append() would copy megabytes for free).
bool append_raw(Vm& vm, u64 target, const void* data, usize n)
{
    BytesObj* b = bytes(target);
    if (!check_mutable(vm, target))
        return false;
    if (!pay_scan(vm, n))
        return false;
    // The source may be the target's own contents (b.appendBytes(b)), which
    // growing the target frees: then copy from where they went.
    const u8* from = static_cast<const u8*>(data);
    bool own = n && from >= b->data && from < b->data + b->size;
    usize offset = own ? (usize)(from - b->data) : 0;
    if (n > 0x3fffffff - (usize)b->size || !vm.heap().bytes_reserve(b, b->size + (u32)n))
        return vm.raise_out_of_memory();
    if (own)
        from = b->data + offset;
    if (n)
        mem_copy(b->data + b->size, from, n);
    b->size += (u32)n;
    return true;
}

bool b_append(Vm& vm, u64* a, u64*)
{
    StringObj* s = str(a[1]);
    return append_raw(vm, a[0], s->bytes, s->byte_length);
}

bool b_append_bytes(Vm& vm, u64* a, u64*)
{
    BytesObj* other = bytes(a[1]);
    return append_raw(vm, a[0], other->data, other->size);
}

bool b_clear(Vm&, u64* a, u64*)
{
    bytes(a[0])->size = 0;
    return true;
}

// ---------------------------------------------------------------- System, Linux

// The collection charges its work; a script that does nothing but collect
// stops here once that has spent the budget.
// System.gc(): a full collection (deferred in a hook: atomic mode never
// collects).
bool sys_gc(Vm& vm, u64*, u64*)
{
    if (!vm.atomic())
        vm.collect_garbage();
    return vm.charge_checked(0);
}

bool linux_printk(Vm& vm, u64* a, u64*)
{
    StringObj* s = str(a[0]);
    if (vm.hooks().write) {
        StringBuilder sb(&vm.memory());
        sb.append(s->bytes, s->byte_length);
        sb.append("\n");
        if (!sb.has_failed())
            vm.hooks().write(vm.hooks().context, 1, sb.data(), sb.size());
    }
    return true;
}

i64 host_info(Vm& vm, int what)
{
    return vm.hooks().info ? vm.hooks().info(vm.hooks().context, what) : 0;
}

bool linux_jiffies(Vm& vm, u64*, u64* r) { *r = (u64)host_info(vm, InfoJiffies); return true; }
bool linux_pid(Vm& vm, u64*, u64* r) { *r = (u64)host_info(vm, InfoPid); return true; }
bool linux_uid(Vm& vm, u64*, u64* r) { *r = (u64)host_info(vm, InfoUid); return true; }
// Device, Proc and Timer ask the host-object layer (core/api/Host.cpp) for
// their kernel objects: the layer checks the object's class, the name and
// the numbers, records the object and tells the host. A refusal raises
// RuntimeScriptException saying what and why. Only the prelude's classes
// can call these natives (the compiler refuses `Linux.__*` elsewhere).
bool host_request(Vm& vm, HostRequestArgs& args, const char* what)
{
    const VmHooks& h = vm.hooks();
    const char* reason = "not supported by this host";
    i64 rc = h.request ? h.request(h.context, args, &reason) : -38;
    if (rc == 0)
        return true;
    StringBuilder sb(&vm.memory());
    sb.append("cannot create ");
    sb.append(what);
    // The name as the script gave it, control and non-ASCII bytes escaped:
    // the message may end up in a log.
    static const char hex[] = "0123456789abcdef";
    for (usize i = 0; i < args.name_length; i++) {
        u8 c = (u8)args.name[i];
        if (c >= 0x20 && c < 0x7f) {
            sb.append_char((char)c);
        } else {
            char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
            sb.append(esc, 4);
        }
    }
    sb.append(": ");
    sb.append(reason);
    sb.append(" (error ");
    sb.append_int(rc);
    sb.append(")");
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return vm.raise(ClassRuntimeScriptException, sb.data());
}

// Linux.__deviceCreate(Device, String name, int mode), as Device's constructor calls it.
bool linux_device_create(Vm& vm, u64* a, u64*)
{
    StringObj* name = str(a[1]);
    HostRequestArgs args { HostDeviceCreate, a[0], name->bytes, name->byte_length, (i64)a[2], false, 0, 0 };
    return host_request(vm, args, "device /dev/");
}

// Linux.__procCreate(Proc, String name, boolean writable).
bool linux_proc_create(Vm& vm, u64* a, u64*)
{
    StringObj* name = str(a[1]);
    HostRequestArgs args { HostProcCreate, a[0], name->bytes, name->byte_length, 0, a[2] != 0, 0, 0 };
    return host_request(vm, args, "/proc/kscript/");
}

// Linux.__timerCreate(Timer, int interval_ms, boolean periodic).
bool linux_timer_create(Vm& vm, u64* a, u64*)
{
    HostRequestArgs args { HostTimerCreate, a[0], "", 0, (i64)a[1], a[2] != 0, 0, 0 };
    return host_request(vm, args, "timer");
}

// Linux.__timerStop(Timer).
bool linux_timer_stop(Vm& vm, u64* a, u64*)
{
    HostRequestArgs args { HostTimerStop, a[0], "", 0, 0, false, 0, 0 };
    return host_request(vm, args, "timer");
}

// Linux.__probeCreate(Kprobe or Kretprobe, String symbol, boolean kretprobe).
bool linux_probe_create(Vm& vm, u64* a, u64*)
{
    StringObj* symbol = str(a[1]);
    HostRequestArgs args { HostProbeCreate, a[0], symbol->bytes, symbol->byte_length, 0, a[2] != 0, 0, 0 };
    return host_request(vm, args, a[2] ? "kretprobe on " : "kprobe on ");
}

// Linux.__netfilterCreate(Netfilter, int family, int hook point, int priority).
bool linux_netfilter_create(Vm& vm, u64* a, u64*)
{
    HostRequestArgs args { HostNetfilterCreate, a[0], "", 0, (i64)a[1], false, (i64)a[2], (i64)a[3] };
    return host_request(vm, args, "netfilter hook");
}

// The most bytes one readKernel(), readKernelString() or Packet.bytes()
// copies: enough for any structure or header, small enough for a hook.
constexpr i64 kMaxHostRead = 4096;

// Copies [n] bytes through the host's read hook into a new Bytes (or, for
// strings, up to [n] bytes before a NUL into a String). Failures raise:
// OutOfBoundsException for a bad count or a range outside the packet,
// RuntimeScriptException with the host's reason otherwise.
bool host_read(Vm& vm, int what, u64 packet, i64 where, i64 n, u64* r, const char* name)
{
    if (n < 0 || n > kMaxHostRead) {
        StringBuilder sb(&vm.memory());
        sb.append(name);
        sb.append(": count ");
        sb.append_int(n);
        sb.append(" is not 0 to 4096");
        return sb.has_failed() ? vm.raise_out_of_memory() : vm.raise(ClassOutOfBoundsException, sb.data());
    }
    if (!vm.charge_checked(16 + ((u64)n >> 4)))
        return false;
    // Read straight into the result (a Bytes, or a scratch buffer for a
    // String): no large native stack in a hook. A string's buffer has room
    // for the NUL the host writes after it.
    i64 room = what == ReadKernelString ? n + 1 : n;
    BytesObj* b = vm.heap().new_bytes((u32)room);
    if (!b)
        return vm.raise_out_of_memory();
    const char* reason = "not supported by this host";
    const VmHooks& h = vm.hooks();
    // An empty Bytes has no buffer: the host still checks the address (or
    // offset) with zero bytes to copy, into somewhere valid.
    u8 none = 0;
    void* out = b->data ? static_cast<void*>(b->data) : &none;
    i64 got = h.read ? h.read(h.context, what, packet, (u64)where, out, (usize)room, &reason) : -38;
    if (got < 0 || got > n) {
        StringBuilder sb(&vm.memory());
        sb.append(name);
        sb.append(": ");
        sb.append(reason);
        sb.append(" (error ");
        sb.append_int(got);
        sb.append(")");
        if (sb.has_failed())
            return vm.raise_out_of_memory();
        return vm.raise(what == ReadPacket && got == -34 ? ClassOutOfBoundsException : ClassRuntimeScriptException,
            sb.data());
    }
    if (what == ReadKernelString)
        return ret_string(vm, reinterpret_cast<const char*>(b->data), (usize)got, r);
    b->size = (u32)got;
    *r = from_obj(b);
    return true;
}

// Linux.readKernel(int address, int n): n bytes of kernel memory, copied
// without faulting (an unmapped or user address raises).
bool linux_read_kernel(Vm& vm, u64* a, u64* r)
{
    return host_read(vm, ReadKernel, 0, (i64)a[0], (i64)a[1], r, "Linux.readKernel");
}

// Linux.readKernelString(int address, int max): the NUL-terminated string
// at [address], at most [max] bytes of it.
bool linux_read_kernel_string(Vm& vm, u64* a, u64* r)
{
    return host_read(vm, ReadKernelString, 0, (i64)a[0], (i64)a[1], r, "Linux.readKernelString");
}

// Linux.__packetBytes(Packet, int offset, int n), as Packet.bytes() calls it.
bool linux_packet_bytes(Vm& vm, u64* a, u64* r)
{
    if ((i64)a[1] < 0)
        return vm.raise(ClassOutOfBoundsException, "Packet.bytes: negative offset");
    return host_read(vm, ReadPacket, a[0], (i64)a[1], (i64)a[2], r, "Packet.bytes");
}

// The host's clock when it keeps one (the CLI's simulated timers), else the
// platform's monotonic clock.
bool linux_ktime(Vm& vm, u64*, u64* r)
{
    i64 host = host_info(vm, InfoKtimeNs);
    *r = host > 0 ? (u64)host : ksp_clock_ns();
    return true;
}
bool linux_random(Vm&, u64*, u64* r) { *r = ksp_random_u64() & (u64)KS_INT_MAX; return true; }

bool linux_comm(Vm& vm, u64*, u64* r)
{
    char name[32];
    usize n = vm.hooks().comm ? vm.hooks().comm(vm.hooks().context, name) : 0;
    if (n > 16)
        n = 16;
    return ret_string(vm, name, n, r);
}

const NativeInfo kNatives[] = {
    { "String", "length", "i", s_length },
    { "String", "size", "i", s_length },
    { "String", "get", "si", s_char_at },
    { "String", "charAt", "si", s_char_at },
    { "String", "charCodeAt", "ii", s_char_code_at },
    { "String", "indexOf", "is", s_index_of },
    { "String", "indexOf", "isi", s_index_of_from },
    { "String", "lastIndexOf", "is", s_last_index_of },
    { "String", "substring", "si", s_substring1 },
    { "String", "substring", "sii", s_substring2 },
    { "String", "substr", "si", s_substr1 },
    { "String", "substr", "sii", s_substr2 },
    { "String", "slice", "si", s_slice1 },
    { "String", "slice", "sii", s_slice2 },
    { "String", "concat", "ss", s_concat },
    { "String", "replace", "sss", s_replace },
    { "String", "split", "Ss", s_split },
    { "String", "startsWith", "bs", s_starts_with },
    { "String", "endsWith", "bs", s_ends_with },
    { "String", "contains", "bs", s_contains },
    { "String", "toUpperCase", "s", s_upper },
    { "String", "toLowerCase", "s", s_lower },
    { "String", "trim", "s", s_trim },
    { "String", "toString", "s", s_to_string },
    { "String", "equals", "bs", s_equals },
    { "String", "toInt", "i", s_to_int },
    { "String", "toBoolean", "b", s_to_boolean },
    { "String.", "fromCharCode", "si", s_from_char_code },
    { "Array", "size", "i", a_size },
    { "Array", "getSize", "i", a_size },
    { "Array", "length", "i", a_size },
    { "Array", "get", "Ei", a_get },
    { "Array", "set", "viE", a_set },
    { "Array", "add", "vE", a_push },
    { "Array", "push", "vE", a_push },
    { "Array", "insert", "viE", a_insert },
    { "Array", "pop", "E", a_pop },
    { "Array", "removeAt", "Ei", a_remove_at },
    { "Array", "clear", "v", a_clear },
    { "Array", "concat", "RR", a_concat },
    { "Array", "slice", "Ri", a_slice1 },
    { "Array", "slice", "Rii", a_slice2 },
    { "Array", "splice", "Rii", a_splice },
    { "Array", "indexOf", "iE", a_index_of },
    { "Array", "join", "ss", a_join },
    { "Array", "toString", "s", to_string_any },
    { "Array", "reverse", "v", a_reverse },
    { "Map", "get", "EK", m_get },
    { "Map", "set", "vKE", m_set },
    { "Map", "has", "bK", m_has },
    { "Map", "remove", "bK", m_remove },
    { "Map", "size", "i", m_size },
    { "Map", "clear", "v", m_clear },
    { "Map", "keys", "k", m_keys },
    { "Map", "values", "e", m_values },
    { "Map", "toString", "s", to_string_any },
    { "Bytes.", "new", "yi", b_new },
    { "Bytes.", "fromString", "ys", b_from_string },
    { "Bytes", "size", "i", b_size },
    { "Bytes", "length", "i", b_size },
    { "Bytes", "get", "ii", b_get },
    { "Bytes", "set", "vii", b_set },
    { "Bytes", "push", "vi", b_push },
    { "Bytes", "add", "vi", b_push },
    { "Bytes", "clear", "v", b_clear },
    { "Bytes", "append", "vs", b_append },
    { "Bytes", "appendBytes", "vy", b_append_bytes },
    { "Bytes", "toString", "s", b_to_string },
    { "System", "gc", "v", sys_gc },
    { "Linux", "printk", "vs", linux_printk },
    { "Linux", "jiffies", "i", linux_jiffies },
    { "Linux", "ktimeNs", "i", linux_ktime },
    { "Linux", "pid", "i", linux_pid },
    { "Linux", "comm", "s", linux_comm },
    { "Linux", "uid", "i", linux_uid },
    { "Linux", "random", "i", linux_random },
    { "Linux", "__deviceCreate", "vosi", linux_device_create },
    { "Linux", "__procCreate", "vosb", linux_proc_create },
    { "Linux", "__timerCreate", "voib", linux_timer_create },
    { "Linux", "__timerStop", "vo", linux_timer_stop },
    { "Linux", "__probeCreate", "vosb", linux_probe_create },
    { "Linux", "__netfilterCreate", "voiii", linux_netfilter_create },
    { "Linux", "__packetBytes", "yoii", linux_packet_bytes },
    { "Linux", "readKernel", "yii", linux_read_kernel },
    { "Linux", "readKernelString", "sii", linux_read_kernel_string },
};

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

}
