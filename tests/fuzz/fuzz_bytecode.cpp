// libFuzzer target for bytecode files: valid files, compiled at start from
// the seed programs below, are mutated and loaded (read, verified) through
// ks_load() with the bytecode switch on; whatever the verifier accepts is
// run under ASan+UBSan with small limits.
//
// Input: byte 0 picks the seed, byte 1 the mode, the rest are mutations.
//   mode even: structure-aware. The file is read into a Program, and each
//     6-byte record [kind][function][position u16][value u16] changes one
//     thing in it: an opcode (to one of the same operand format, any other,
//     or none), a register (to any register of the frame or past it), a
//     jump (to any offset, valid targets included), a constant, class,
//     global, function, native, field, slot or type index (inside its table
//     or past it), a handler (range, target, register), the register map,
//     the frame, the argument counts, the type table and every type index
//     of the tables (parameters, results, fields, constants, globals),
//     vtables and superclasses. The program is written out again and
//     loaded; an accepted program must run without any memory error.
//   mode odd: raw. Each 3-byte record [offset u16][xor] flips bits of the
//     file's payload, the header is made to agree (as a forger would), and
//     the file is loaded and, if accepted, run.
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
    // Type tests and casts from Object (IsType, CastType) of arrays, maps,
    // functions and Bytes.
    R"(int inc(int n) { return n + 1 }
Object[] things = [[1, 2], "s", inc, new Map[String, int](), Bytes.fromString("b"), ["x"], null]
int total = 0
for (int i = 0; i < things.size(); i++) {
  Object o = things[i]
  if (o instanceof int[]) total += (o as int[])[1]
  if (o instanceof String[]) total += (o as String[]).size()
  if (o instanceof Func[int, int]) { Func[int, int] f = o as Func[int, int]; total += f(total) }
  if (o instanceof Map[String, int]) { Map[String, int] m = o as Map[String, int]; m["k"] = total; total += m.size() }
  if (o instanceof Bytes) total += (o as Bytes).size() + (o to String).length()
  try { int[] bad = o as int[]; total += bad.size() } catch (TypeCastException e) { total++ }
}
System.p(total)
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

u16* field_of(Insn& in, u32 pos)
{
    switch (pos) {
    case 0: return &in.a;
    case 1: return &in.b;
    default: return &in.c;
    }
}

// Any register of [f]'s frame, or one just past it.
u16 any_register(const Function* f, u16 value) { return (u16)(value % (f->register_count + 3u)); }

// An index into a table of [size] entries, or just past it.
u32 any_index(u32 size, u16 value) { return value % (size + 2u); }

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
    u16 v = value >> 2;
    switch (kind % 17) {
    case 0: {   // A jump offset: to any instruction or a little outside.
        i64 here = pos % f->code_size;
        i64 offset = (i64)(v % (f->code_size + 4)) - here - 3;
        if (is_jump_letter(fmt[1]))
            in.set_imm((i32)offset);
        else if (fmt[2] == 'J')
            in.set_off((i32)offset);
        break;
    }
    case 1:   // A register operand, of any kind or sort.
        if (field < 3 && (is_register_letter(fmt[field]) || in.op == Op::Args))
            *field_of(in, field) = any_register(f, v);
        else if (in.op == Op::CallMethod1 || in.op == Op::Call1)
            in.c = any_register(f, v);
        break;
    case 2: {   // An opcode: of the same operand format, any, or none at all.
        if ((value & 3) == 1) {
            in.op = (Op)((u32)Op::Count + v % (256 - (u32)Op::Count));
            break;
        }
        if ((value & 3) == 2) {
            in.op = (Op)(v % (u32)Op::Count);
            break;
        }
        Op candidates[(u32)Op::Count];
        u32 n = 0;
        for (u32 op = 0; op < (u32)Op::Count; op++)
            if (strcmp(opcode_format((Op)op), fmt) == 0)
                candidates[n++] = (Op)op;
        in.op = candidates[v % n];
        break;
    }
    case 3:   // An unused field.
        if (field < 3 && fmt[field] == '-')
            *field_of(in, field) = value;
        else if (fmt[3] == '-')
            in.x = (u8)value;
        break;
    case 4:   // The x field.
        in.x = (u8)v;
        break;
    case 5:   // A constant index.
        for (u32 i = 1; i < 3; i++)
            if (is_constant_letter(fmt[i])) {
                u32 k = any_index(p.constant_count, v);
                if (fmt[i + 1] == '=')
                    in.set_imm((i32)k);
                else
                    *field_of(in, i) = (u16)k;
                break;
            }
        break;
    case 6:   // A handler: its range, its target, its register.
        if (f->handler_count) {
            Handler& h = f->handlers[pos % f->handler_count];
            if (field == 0)
                h.start = any_index(f->code_size, v);
            else if (field == 1)
                h.end = any_index(f->code_size, v);
            else if (field == 2)
                h.target = any_index(f->code_size, v);
            else
                h.reg = any_register(f, v);
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
    case 8:   // The frame (the parameter count stays within its types).
        if (field == 0)
            f->register_count = (u16)(value % 300);
        else if (field == 1 && f->param_count)
            f->param_count = (u16)(v % f->param_count);
        else
            f->return_kind = (u8)(value & 7);
        break;
    case 9:   // The main function.
        p.main_function = any_index(p.function_count, v);
        break;
    case 10:   // An argument count.
        if (fmt[2] == 'n')
            in.c = (u16)(v % 10);
        break;
    case 11:   // The code size (cut the end off).
        f->code_size = 1 + value % f->code_size;
        break;
    case 12:   // A class, global, function, native, field, slot or type index.
        for (u32 i = 0; i < 3; i++) {
            u32 size = fmt[i] == 'C' ? p.class_count : fmt[i] == 'g' ? p.global_count
                : fmt[i] == 'F' ? p.function_count : fmt[i] == 'N' ? 100
                : fmt[i] == 'f' || fmt[i] == 't' ? 8 : fmt[i] == 'm' ? p.type_count : 0;
            if (!size)
                continue;
            u32 index = any_index(size, v);
            if (fmt[i + 1] == '=')
                in.set_imm((i32)index);
            else
                *field_of(in, i) = (u16)index;
            break;
        }
        break;
    case 13:   // An entry of the type table.
        if (p.type_count) {
            TypeEntry& t = p.types[pos % p.type_count];
            if (field == 0)
                t.sort = (TypeSort)(v % ((u32)TypeSort::Count + 1));
            else if (field == 1)
                t.a = any_index(p.type_count > p.class_count ? p.type_count : p.class_count, v);
            else if (field == 2)
                t.b = any_index(p.type_count, v);
            else if (p.type_param_count)
                p.type_params[pos % p.type_param_count] = any_index(p.type_count, v);
        }
        break;
    case 14: {   // A type index of the tables.
        u32 t = any_index(p.type_count, v);
        switch (field) {
        case 0:
            if (f->param_count)
                f->param_types[pos % f->param_count] = t;
            else
                f->return_type = t;
            break;
        case 1: {
            RtClass* c = p.classes[pos % p.class_count];
            if (c->field_count)
                c->field_types[(pos >> 8) % c->field_count] = t;
            break;
        }
        case 2:
            if (p.constant_count)
                p.constant_types[pos % p.constant_count] = t;
            break;
        default:
            if (p.global_count)
                p.global_types[pos % p.global_count] = t;
            else
                f->return_type = t;
            break;
        }
        break;
    }
    case 15: {   // A vtable entry, or a class's toString slot or message field.
        RtClass* c = p.classes[pos % p.class_count];
        if (field == 0 && c->vtable_size)
            c->vtable[(pos >> 8) % c->vtable_size] = any_index(p.function_count, v);
        else if (field == 1)
            c->to_string_slot = (i32)(v % (c->vtable_size + 2)) - 1;
        else if (field == 2)
            c->message_field = (i32)(v % (c->field_count + 2)) - 1;
        break;
    }
    default: {   // A superclass (the depth follows, or not).
        RtClass* c = p.classes[pos % p.class_count];
        if (c->super) {
            c->super = p.classes[v % p.class_count];
            if (field & 1)
                c->depth = c->super->depth + 1;
        }
        break;
    }
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

// Raw: flip payload bits, fix the header, load and run.
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
    load(file, true);
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
