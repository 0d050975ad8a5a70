// libFuzzer target for bytecode files: valid files, compiled at start from
// the seed programs below, are mutated and loaded (read, verified) through
// ks_load() with the bytecode switch on; whatever the verifier accepts is
// run under ASan+UBSan with small limits.
//
// Input: byte 0 picks the seed, byte 1 the mode, the rest are mutations.
//   mode even: structure-aware. The file is read into a Program, and each
//     6-byte record [kind][function][position u16][value u16] changes one
//     thing in it (an opcode, a register, a jump, a constant index, a
//     handler, the register map, the counts); the program is written out
//     again and loaded. The mutations stay inside what the verifier proves
//     today (docs/internals.md, "Verifier"), which does not include the
//     sort of an object: a register that held an int never becomes a
//     reference register, a reference register never becomes another
//     reference register, jumps change only to offsets that must be refused
//     (a new valid target would join paths where a register holds objects
//     of different sorts), opcodes change only to opcodes of
//     the same operand format, vtables and method call counts are left
//     alone (and the arguments of natives typed by the receiver's elements or
//     keys), class, function and native indexes only leave their tables,
//     handlers only shrink or break (a handler moved elsewhere hands its
//     exception to code that expects another sort).
//     So an accepted program must run without any memory error.
//   mode odd: raw. Each 3-byte record [offset u16][xor] flips bits of the
//     file's payload, the header is made to agree (as a forger would), and
//     the file is only loaded: the reader and verifier must refuse it or
//     accept it without a memory error, but what they accept is not run,
//     since raw edits reach past what the verifier proves yet.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "../../core/vm/Bytecode.h"
#include "../../core/vm/Natives.h"
#include "../../core/vm/Verify.h"
#include "../../core/vm/Vm.h"
#include "../../include/kscript.h"

using namespace ks;

namespace {

const char* const kSeeds[] = {
    R"(class A { int n; String s
  A(int n) { this.n = n; this.s = "a" }
  int get() { return n }
}
class B extends A { B() { super(2) } int get() { return n + 1 } }
int g = 0
String label(int n) { return "n" + n }
int f(int n) {
  A a = new B()
  int s = a.get()
  String t = label(n)
  int[] xs = new int[n]
  int[] ys = [1, 2]
  Map[String, int] m = new Map[String, int]()
  m["k"] = s
  try { s += 10 / n } catch (ZeroDividedException e) { s += 1 }
  if (t == "x") s++
  s = s / 7 + s % 5 + 100000
  g = s
  System.p(t)
  return s + t.length() + ys[0] + xs[0] + m["k"]
}
System.p(f(3))
)",
    R"(int fib(int n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2) }
int total = 0
for (int i = 0; i < 20; i++) {
  if (i % 3 == 0) continue
  total += fib(i & 7) * 3 - (i << 2) + (i >> 1) ^ 5 | 1
  if (total > 1000000) break
}
boolean b = total != 7 && !(total <= 3)
System.p(total)
System.p(b)
)",
    R"(class Node { int v; Node next
  Node(int v, Node next) { this.v = v; this.next = next }
}
int sum(Node n) { int s = 0; while (n != null) { s += n.v; n = n.next } return s }
Node list = null
for (int i = 0; i < 50; i++) list = new Node(i, list)
String text = ""
try {
  for (int i = 0; i < 5; i++) text = text + i + ","
  throw new Exception("boom")
} catch (Exception e) {
  text = text + e.message
} finally {
  text = text + "!"
}
System.p(sum(list))
System.p(text)
int[] a = [5, 3, 9]
a[1] = a[0] + a[2]
System.p(a[1])
)",
};
constexpr u32 kSeedCount = sizeof(kSeeds) / sizeof(kSeeds[0]);

void discard(void*, int, const char*, unsigned long) {}

void append_bytes(void* ctx, const char* data, unsigned long length)
{
    static_cast<std::string*>(ctx)->append(data, length);
}

// The seeds' bytecode files, made once.
std::vector<std::string>& seed_files()
{
    static std::vector<std::string> files;
    if (files.empty()) {
        for (u32 i = 0; i < kSeedCount; i++) {
            ks_config config;
            ks_config_init(&config);
            ks_state* s = ks_open(&config);
            std::string file;
            if (ks_load(s, kSeeds[i], strlen(kSeeds[i]), "seed.k") != KS_OK
                || ks_write_bytecode(s, append_bytes, &file) != KS_OK)
                __builtin_trap();   // The seeds are valid programs.
            ks_close(s);
            files.push_back(file);
        }
    }
    return files;
}

// Loads [file] and, if [run] and it was accepted, runs it.
void load(const std::string& file, bool run)
{
    ks_config config;
    ks_config_init(&config);
    config.memory_quota = 8u << 20;
    config.budget = 100000;
    config.max_depth = 100;
    config.write = discard;
    config.bytecode = 1;
    ks_state* s = ks_open(&config);
    if (!s)
        return;
    if (ks_load(s, file.data(), file.size(), "fuzz.kbc") == KS_OK) {
        if (run)
            ks_run(s);
        ks_disassemble(s);
    }
    ks_close(s);
}

bool is_ref(const Function* f, u32 r)
{
    for (u32 i = 0; i < f->ref_register_count; i++)
        if (f->ref_registers[i] == r)
            return true;
    return false;
}

u16* field_of(Insn& in, u32 pos)
{
    switch (pos) {
    case 0: return &in.a;
    case 1: return &in.b;
    default: return &in.c;
    }
}

// Replaces register [*slot] of [f] by [value] within the rules of the file's
// comment: the new one is an int register or outside the frame.
void swap_register(const Function* f, u16* slot, u16 value)
{
    u16 r = (u16)(value % (f->register_count + 3u));
    if (!is_ref(f, r))
        *slot = r;
}

// Whether the verifier proves the kind of operand [letter] of [op] (see
// docs/internals.md, "Verifier"): not the value a field or array access
// moves (the object's class or element kind is not known statically), nor
// the result of a call whose callee is found at run time.
bool proved(Op op, char letter)
{
    if ((letter == 'v' || letter == 'V')
        && (op == Op::GetField || op == Op::SetField || op == Op::ArrayGet || op == Op::ArraySet))
        return false;
    if (letter == 'Q' && (op == Op::CallMethod || op == Op::CallMethod1 || op == Op::CallValue))
        return false;
    return true;
}

// One structural mutation of [p].
void mutate(Program& p, u8 kind, u8 which, u16 pos, u16 value)
{
    Function* f = p.functions[which % p.function_count];
    if (!f || !f->code_size)
        return;
    Insn& in = f->code[pos % f->code_size];
    if (in.op >= Op::Count)
        return;
    const char* fmt = opcode_format(in.op);
    u32 field = value & 3;
    switch (kind % 14) {
    case 0: {   // A jump offset that the verifier must refuse: outside the
                // function, or against the direction its opcode charges for.
                // (A valid new target would merge paths on which registers
                // hold different sorts of objects: not proved yet.)
        i64 here = pos % f->code_size;
        i64 offset;
        switch (value & 3) {
        case 0: offset = (i64)f->code_size - here - 1 + (value >> 2) % 4; break;   // Past the end.
        case 1: offset = -here - 2 - (value >> 2) % 4; break;                       // Before the start.
        default:
            if (in.op == Op::Jump)
                offset = -1 - (value >> 2) % 4;   // Backwards without charging.
            else if (in.op == Op::Loop)
                offset = (value >> 2) % 4;        // Forwards, giving budget back.
            else
                offset = (i64)f->code_size + 5;
            break;
        }
        if (is_jump_letter(fmt[1]))
            in.set_imm((i32)offset);
        else if (fmt[2] == 'J')
            in.set_off((i32)offset);
        break;
    }
    case 1:   // A register operand (registers only move to int registers).
        if (field < 3 && is_register_letter(fmt[field]) && in.op != Op::Args && proved(in.op, fmt[field]))
            swap_register(f, field_of(in, field), value >> 2);
        break;
    case 2: {   // An opcode of the same operand format, or no opcode at all.
        if (in.op == Op::Args)
            break;
        if (value & 1) {
            in.op = (Op)((u32)Op::Count + (value >> 1) % (256 - (u32)Op::Count));
            break;
        }
        Op candidates[(u32)Op::Count];
        u32 n = 0;
        for (u32 op = 0; op < (u32)Op::Count; op++)
            if (strcmp(opcode_format((Op)op), fmt) == 0 && (Op)op != Op::Args)
                candidates[n++] = (Op)op;
        in.op = candidates[(value >> 1) % n];
        break;
    }
    case 3:   // An unused field.
        if (field < 3 && fmt[field] == '-')
            *field_of(in, field) = value;
        else if (fmt[3] == '-')
            in.x = (u8)value;
        break;
    case 4:   // The x field, where it is a kind or flag of the instruction alone.
        if ((fmt[3] == 'x' || fmt[3] == 'e') && in.op != Op::NewArray && in.op != Op::ArrayLiteral)
            in.x = (u8)value;
        break;
    case 5:   // An int constant index.
        for (u32 i = 1; i < 3; i++)
            if (fmt[i] == 'K' || fmt[i] == 'D'
                || (fmt[i] == 'k' && (u32)in.imm() < p.constant_count && p.constant_kinds[in.imm()] != KindRef)) {
                u32 k = value % (p.constant_count + 2);
                if (fmt[i + 1] == '=')
                    in.set_imm((i32)k);
                else
                    *field_of(in, i) = (u16)k;
                break;
            }
        break;
    case 6:   // A handler: its range shrinks or breaks, its target leaves the
              // code, its register becomes an int one. (Elsewhere, the
              // exception would meet code that expects another sort.)
        if (f->handler_count) {
            Handler& h = f->handlers[pos % f->handler_count];
            u32 v = value >> 2;
            if (field == 0)
                h.start = h.start + v % 4 <= h.end ? h.start + v % 4 : h.end + v % 4;
            else if (field == 1)
                h.end = v % 4 <= h.end ? h.end - v % 4 : 0;
            else if (field == 2)
                h.target = f->code_size + v % 4;
            else
                swap_register(f, &h.reg, (u16)v);
        }
        break;
    case 7:   // The register map.
        if (f->ref_register_count) {
            if (field == 0)
                f->ref_registers[pos % f->ref_register_count] = (u16)(value % (f->register_count + 2u));
            else if (field == 1)
                f->ref_param_count = (u16)(value % (f->ref_register_count + 1u));
            else
                f->ref_register_count = (u16)(value % (f->ref_register_count + 1u));
        }
        break;
    case 8:   // The frame.
        if (field == 0)
            f->register_count = (u16)(value % 300);
        else if (field == 1)
            f->param_count = (u16)(value % 8);
        else
            f->return_kind = (u8)(value & 7);
        break;
    case 9:   // The main function.
        p.main_function = value % (p.function_count + 1);
        break;
    case 10: {   // An argument register in an Args word, of a call whose callee is known.
        u32 at = pos % f->code_size;
        while (at > 0 && f->code[at].op == Op::Args)
            at--;
        const Insn& call = f->code[at];
        if (in.op != Op::Args || call.op == Op::CallMethod || call.op == Op::CallValue)
            break;
        if (call.op == Op::CallNative) {
            // Not an argument typed by the receiver's elements or keys
            // (E, K): their kind is the receiver's, known at run time.
            u32 count;
            const NativeInfo& n = native_table(&count)[call.b % count];
            u32 i = (pos % f->code_size - at - 1) * 3 + field % 3;
            bool receiver = n.owner[str_length(n.owner) - 1] != '.' && strcmp(n.owner, "System") != 0
                && strcmp(n.owner, "Linux") != 0;
            u32 letter = receiver ? (i == 0 ? 'R' : i < strlen(n.signature) ? n.signature[i] : 0)
                                  : i + 1 < strlen(n.signature) ? n.signature[i + 1] : 0;
            if (letter == 'E' || letter == 'K')
                break;
        }
        swap_register(f, field_of(in, field % 3), value >> 2);
        break;
    }
    case 11:   // The argument count of a call whose callee is known, or of an array literal.
        if (in.op == Op::Call || in.op == Op::CallNative || in.op == Op::ArrayLiteral)
            in.c = (u16)(value % 10);
        break;
    case 12:   // The code size (cut the end off).
        f->code_size = 1 + value % f->code_size;
        break;
    default:   // A class, global, function or native index: outside its table (another
               // entry could be of another sort: not proved yet), or another int global.
        for (u32 i = 0; i < 3; i++) {
            u32 size = fmt[i] == 'C' ? p.class_count : fmt[i] == 'g' ? p.global_count
                : fmt[i] == 'F' ? p.function_count : fmt[i] == 'N' ? 100000 : 0;
            if (!size)
                continue;
            u32 index = size + (value & 3);
            if (fmt[i] == 'g' && (u32)in.imm() < p.global_count && p.global_kinds[in.imm()] != KindRef && (value & 4)) {
                u32 other = (value >> 3) % p.global_count;
                if (p.global_kinds[other] != KindRef)
                    index = other;
            }
            if (fmt[i + 1] == '=')
                in.set_imm((i32)index);
            else
                *field_of(in, i) = (u16)index;
            break;
        }
        break;
    }
}

// Structure-aware: read, mutate, write, load, run.
void structural(const std::string& seed, const uint8_t* data, size_t size)
{
    Memory memory;
    memory.init(64u << 20, false);
    Heap heap;
    heap.init(&memory);
    Program p;
    const char* error;
    bool oom;
    std::string file;
    if (read_bytecode(&memory, &heap, reinterpret_cast<const u8*>(seed.data()), seed.size(), &p, &error, &oom)) {
        for (size_t i = 0; i + 6 <= size; i += 6)
            mutate(p, data[i], data[i + 1], (u16)(data[i + 2] | data[i + 3] << 8), (u16)(data[i + 4] | data[i + 5] << 8));
        StringBuilder out(&memory);
        if (write_bytecode(p, out))
            file.assign(out.data(), out.size());
    }
    free_program(&memory, &p);
    heap.destroy();
    memory.destroy();
    // KS_FUZZ_DUMP=FILE saves the mutated program (to disassemble a crash).
    if (const char* dump = getenv("KS_FUZZ_DUMP")) {
        if (FILE* out = fopen(dump, "wb")) {
            fwrite(file.data(), 1, file.size(), out);
            fclose(out);
        }
    }
    if (!file.empty())
        load(file, true);
}

// Raw: flip payload bits, fix the header, load without running.
void raw(std::string file, const uint8_t* data, size_t size)
{
    size_t payload = file.size() - kBytecodeHeaderSize;
    for (size_t i = 0; i + 3 <= size; i += 3) {
        size_t at = kBytecodeHeaderSize + (data[i] | data[i + 1] << 8) % payload;
        file[at] = (char)(file[at] ^ data[i + 2]);
    }
    u32 crc = bytecode_checksum(reinterpret_cast<const u8*>(file.data()) + kBytecodeHeaderSize, payload);
    for (int i = 0; i < 4; i++)
        file[24 + i] = (char)(crc >> (8 * i));
    load(file, false);
}

}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2)
        return 0;
    const std::string& seed = seed_files()[data[0] % kSeedCount];
    if (data[1] & 1)
        raw(seed, data + 2, size - 2);
    else
        structural(seed, data + 2, size - 2);
    return 0;
}
