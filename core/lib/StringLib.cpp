// The String library: methods of String values and the String.* functions.
// Strings are immutable UTF-8 with a cached character count; indexes count
// characters, found by a walk (charged) unless the string is ASCII.
#include "StringLib.h"

namespace ks::lib {

// Byte offset of character [index] of [s] (the end if there is none), found
// from character [from_char] at byte [from_byte] (index >= from_char). Other
// than ASCII strings need a walk, which is charged; false when the budget
// ran out.
static bool char_offset(Vm& vm, StringObj* s, u64 index, usize* out, usize from_byte = 0, u64 from_char = 0)
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
static bool byte_to_char(Vm& vm, StringObj* s, usize byte, i64* out, usize from_byte = 0, i64 from_char = 0)
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

static bool substring_chars(Vm& vm, StringObj* s, u64 begin, u64 end, u64* out)
{
    usize b, e;
    if (!char_offset(vm, s, begin, &b) || !char_offset(vm, s, end, &e, b, begin))
        return false;
    return ret_string(vm, s->bytes + b, e - b, out);
}

// Substring search

static constexpr usize kNotFound = ~(usize)0;
// Searches charge the budget at least every this many haystack bytes, so
// that a long search polls the host and stops in time.
static constexpr usize kSearchChunk = 64 * 1024;

static constexpr u64 kOnes = 0x0101010101010101ull;
static constexpr u64 kHighs = 0x8080808080808080ull;

// Whether one of the eight bytes of [w] is zero.
static inline bool has_zero_byte(u64 w) { return ((w - kOnes) & ~w & kHighs) != 0; }

// First byte [c] in [p, p + n), eight bytes at a time; kNotFound if none.
static usize scan_byte(const u8* p, usize n, u8 c)
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
static usize scan_byte_reverse(const u8* p, usize n, u8 c)
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
namespace {

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
    usize m_suffix = 0;
    usize m_period = 1;
    bool m_periodic = false;
};

}   // namespace

// First byte offset at or after [from] where [needle] occurs in [s], or
// kNotFound, into [*found]; false when the budget ran out.
static bool find_first(Vm& vm, StringObj* s, StringObj* needle, usize from, usize* found)
{
    Searcher<false> searcher;
    return searcher.init(vm, needle)
        && searcher.find(vm, reinterpret_cast<const u8*>(s->bytes), s->byte_length, from, found);
}


bool s_length(Vm&, u64* a, u64* r) { *r = str(a[0])->char_length; return true; }

bool s_char_at(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    if (a[1] >= s->char_length)
        return vm.raise_index("string index out of bounds", (i64)a[1], (i64)s->char_length);
    return substring_chars(vm, s, a[1], a[1] + 1, r);
}

bool s_char_code_at(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    if (a[1] >= s->char_length)
        return vm.raise_index("string index out of bounds", (i64)a[1], (i64)s->char_length);
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

// Writes code point [c] as UTF-8 into [buf]; returns its length in bytes,
// or 0 when [c] is not a code point. fromCharCode and String.format's %c
// both encode through here.
static usize encode_utf8(i64 c, char buf[4])
{
    usize n;
    if (c < 0 || c > 0x10ffff)
        return 0;
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
    return n;
}

bool s_from_char_code(Vm& vm, u64* a, u64* r)
{
    char buf[4];
    usize n = encode_utf8((i64)a[0], buf);
    if (!n)
        return vm.raise(ClassOutOfBoundsException, "character code out of range");
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
    if (b < 0 || e > (i64)s->char_length || b > e) {
        // The message gives the range and the length, as raise_index() does.
        StringBuilder sb(&vm.memory());
        sb.append("substring range out of bounds: begin ");
        sb.append_int(b);
        sb.append(", end ");
        sb.append_int(e);
        sb.append(", length ");
        sb.append_int((i64)s->char_length);
        return sb.has_failed() ? vm.raise_out_of_memory() : vm.raise(ClassOutOfBoundsException, sb.data());
    }
    return substring_chars(vm, s, (u64)b, (u64)e, r);
}

bool s_substring1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], str(a[0])->char_length };
    return s_substring2(vm, args, r);
}

// substr(start, length), as Konoha and JavaScript have it: a negative
// start counts from the end; the range clamps to the string instead of
// raising (a negative length is an empty string).
bool s_substr2(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    i64 n = s->char_length;
    i64 start = clamp_index((i64)a[1], n);
    i64 len = (i64)a[2];
    if (len < 0)
        len = 0;
    i64 end = len > n - start ? n : start + len;
    return substring_chars(vm, s, (u64)start, (u64)end, r);
}

// substr(start): from [start] (negative: from the end, clamped) to the end.
bool s_substr1(Vm& vm, u64* a, u64* r)
{
    u64 args[3] = { a[0], a[1], str(a[0])->char_length };
    return s_substr2(vm, args, r);
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
    return ret_built(vm, sb, r);
}

// [a[0]] itself when an operation leaves a string as it is (strings are
// immutable), saving a copy of what may be megabytes; not the null string,
// whose result stays an ordinary empty one.
static bool ret_unchanged(Vm& vm, u64* a, u64* r)
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
    return ret_built(vm, sb, r);
}

// The parts are allocations, charged as they are made, and cost a unit
// each besides. The result array is not reachable before the native
// returns, and natives never collect: when the budget stops the split, it
// is simply garbage.
bool s_split(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    StringObj* sep = str(a[1]);
    ArrayObj* out = vm.heap().new_array(0, KindRef, 0, Program::kStringTypeCode);
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

static bool change_case(Vm& vm, u64* a, u64* r, bool upper)
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

// ---------------------------------------------------------------- Comparison and building

// compareTo(other) and localeCompare(other): -1, 0 or 1 as the receiver
// sorts before, with or after [other] in code point order (there is no
// locale in a kernel).
bool s_compare_to(Vm& vm, u64* a, u64* r)
{
    int c;
    if (!compare_strings(vm, str(a[0]), str(a[1]), &c))
        return false;
    *r = (u64)(i64)(c < 0 ? -1 : c > 0 ? 1 : 0);
    return true;
}

bool s_is_empty(Vm&, u64* a, u64* r)
{
    *r = str(a[0])->byte_length == 0;
    return true;
}

// repeat(n): the string [n] times. A negative count raises
// OutOfBoundsException; a result past the memory quota (or 4 GiB, the
// longest string) OutOfMemoryException.
bool s_repeat(Vm& vm, u64* a, u64* r)
{
    StringObj* s = str(a[0]);
    i64 n = (i64)a[1];
    if (n < 0)
        return vm.raise(ClassOutOfBoundsException, "repeat: negative count");
    u64 total;
    if (__builtin_mul_overflow((u64)s->byte_length, (u64)n, &total) || total > 0xffffffffu)
        return vm.raise_out_of_memory();
    if (!pay_scan(vm, total) || !vm.charge_checked((u64)n >> 4))
        return false;
    if (total == 0)   // "".repeat(n) or repeat(0): nothing to loop over
        return ret_string(vm, "", 0, r);
    StringBuilder sb(&vm.memory());
    for (i64 i = 0; i < n && !sb.has_failed(); i++)
        sb.append(s->bytes, s->byte_length);
    return ret_built(vm, sb, r);
}

// split() with no separator: Konoha's one-element array of the string.
bool s_split0(Vm& vm, u64* a, u64* r)
{
    ArrayObj* out = vm.heap().new_array(1, KindRef, a[0], Program::kStringTypeCode);
    if (!out)
        return vm.raise_out_of_memory();
    if (is_null(a[0]) && !ret_string(vm, "", 0, &out->items[0]))
        return false;
    *r = from_obj(out);
    return true;
}

// ---------------------------------------------------------------- String.format

// Appends [c] as UTF-8; false when it is not a code point.
static bool append_code_point(StringBuilder& sb, i64 c)
{
    char buf[4];
    usize n = encode_utf8(c, buf);
    if (!n)
        return false;
    sb.append(buf, n);
    return true;
}

// Characters (not bytes) of UTF-8 text, for padding to a width.
static usize utf8_chars(const char* p, usize n)
{
    usize chars = 0;
    for (usize i = 0; i < n; i++)
        if (((u8)p[i] & 0xc0) != 0x80)
            chars++;
    return chars;
}

// Raises RuntimeScriptException "String.format: [what]" (with the
// argument number when [arg] is not 0).
static bool format_error(Vm& vm, const char* what, u32 arg)
{
    StringBuilder sb(&vm.memory());
    sb.append("String.format: ");
    sb.append(what);
    if (arg) {
        sb.append(" (argument ");
        sb.append_int(arg);
        sb.append(")");
    }
    if (sb.has_failed())
        return vm.raise_out_of_memory();
    return vm.raise(ClassRuntimeScriptException, sb.data());
}

// String.format(format, args...), which the compiler calls as
// String.__format(format, int[] pairs, String[] texts): argument i is
// pairs[2i] (0 int, 1 boolean, 2 any other value) with its int or boolean
// value in pairs[2i + 1], and its display text in texts[i] (other values).
// Conversions: %d (decimal int), %x and %X (hexadecimal, the 64 bits as
// unsigned, as Java and C print a negative number), %s (the text of any
// value), %c (the character of an int code point), %% (a '%'); each but
// %% takes a width ("%8d"), right-aligned, '-' aligns left and '0' pads
// numbers with zeros after their sign. A missing argument, a conversion of
// the wrong type or an unknown one raise RuntimeScriptException; extra
// arguments are ignored, as in Java and C. Every byte written is charged.
bool s_format(Vm& vm, u64* a, u64* r)
{
    StringObj* f = str(a[0]);
    ArrayObj* pairs = arr(a[1]);
    ArrayObj* texts = arr(a[2]);
    u32 argc = texts->size;
    if (pairs->size != 2 * argc)
        return format_error(vm, "malformed call", 0);
    StringBuilder sb(&vm.memory());
    u32 next = 0;
    const char* p = f->bytes;
    const char* end = p + f->byte_length;
    if (!pay_bytewise(vm, f->byte_length))
        return false;
    while (p < end) {
        const char* pct = p;
        while (pct < end && *pct != '%')
            pct++;
        sb.append(p, (usize)(pct - p));
        if (pct == end)
            break;
        p = pct + 1;
        bool left = false;
        bool zero = false;
        for (; p < end && (*p == '-' || *p == '0'); p++) {
            if (*p == '-')
                left = true;
            else
                zero = true;
        }
        u64 width = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            width = width * 10 + (u64)(*p - '0');
            if (width > 0xffffff)
                return format_error(vm, "width too large", 0);
        }
        if (p == end)
            return format_error(vm, "the format ends inside a conversion", 0);
        char conv = *p++;
        if (conv == '%') {
            sb.append_char('%');
            continue;
        }
        if (conv != 'd' && conv != 'x' && conv != 'X' && conv != 's' && conv != 'c')
            return format_error(vm, "unknown conversion (use %d %x %X %s %c %%)", 0);
        if (next >= argc)
            return format_error(vm, "more conversions than arguments", 0);
        u32 index = next++;
        u64 kind = pairs->items[2 * index];
        i64 value = (i64)pairs->items[2 * index + 1];
        // The conversion's text (sign apart, for zero padding) into body.
        char digits[24];
        const char* body = digits;
        usize body_length = 0;
        bool negative = false;
        StringBuilder ch(&vm.memory());
        if (conv == 'd' || conv == 'x' || conv == 'X') {
            if (kind != 0)
                return format_error(vm, "%d, %x and %X take an int", index + 1);
            if (conv == 'd') {
                negative = value < 0;
                u64 v = negative ? (u64)0 - (u64)value : (u64)value;
                usize n = 0;
                char tmp[24];
                do {
                    tmp[n++] = (char)('0' + v % 10);
                    v /= 10;
                } while (v);
                while (n)
                    digits[body_length++] = tmp[--n];
            } else {
                const char* hex = conv == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
                u64 v = (u64)value;
                char tmp[24];
                usize n = 0;
                do {
                    tmp[n++] = hex[v & 15];
                    v >>= 4;
                } while (v);
                while (n)
                    digits[body_length++] = tmp[--n];
            }
        } else if (conv == 'c') {
            if (kind != 0 || !append_code_point(ch, value))
                return format_error(vm, "%c takes an int that is a character code", index + 1);
            body = ch.data();
            body_length = ch.size();
        } else if (kind == 0) {
            body_length = StringBuilder::format_int(value, digits);
        } else if (kind == 1) {
            body = value ? "true" : "false";
            body_length = value ? 4 : 5;
        } else {
            StringObj* t = str(texts->items[index]);
            body = t->bytes;
            body_length = t->byte_length;
            if (t->header.flags & ObjNull) {   // as `+` writes it
                body = "null";
                body_length = 4;
            }
        }
        usize shown = utf8_chars(body, body_length) + (negative ? 1 : 0);
        usize pad = width > shown ? (usize)width - shown : 0;
        if (!pay_scan(vm, pad + body_length))
            return false;
        bool numeric = conv == 'd' || conv == 'x' || conv == 'X';
        if (!left && !(zero && numeric))
            for (usize i = 0; i < pad; i++)
                sb.append_char(' ');
        if (negative)
            sb.append_char('-');
        if (!left && zero && numeric)
            for (usize i = 0; i < pad; i++)
                sb.append_char('0');
        sb.append(body, body_length);
        if (left)
            for (usize i = 0; i < pad; i++)
                sb.append_char(' ');
        if (sb.has_failed() || ch.has_failed())
            return vm.raise_out_of_memory();
    }
    return ret_built(vm, sb, r);
}

}
