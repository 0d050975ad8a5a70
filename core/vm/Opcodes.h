// The instruction set of the register VM, and the operand schema that the
// verifier, the disassembler and the bytecode file all read.
//
// Every instruction is 8 bytes:   | op:8 | x:8 | a:16 | b:16 | c:16 |
// Two operands take two fields: imm = b | c << 16 (signed 32 bits) and
// off = c << 8 | x (signed 24 bits: the offset of compare-and-jumps).
// R[n] is register n of the current frame, K[n] the program's constant pool,
// G[n] a global, F[n] a function. Jump offsets count instructions from the
// next instruction. A taken backward jump charges the budget with its
// distance, so every loop pays for each round trip.
//
// Calls and ArrayLiteral are followed by ceil(n / 3) Args words, each with
// three 16-bit register numbers in a, b and c (x unused), the unused ones of
// the last word 0: see call_arg().
//
// Operand format (as Lua's lopcodes.h documents its formats): each opcode's
// format is four letters, one per field in the order a, b, c, x. A letter
// says what the field holds; '=' says the field continues the operand to its
// left (b+c is imm, c+x is off). The verifier checks every letter, the
// disassembler prints by letter, tests/unit/opcode_schema_test.cpp checks
// the letters against what the compiler emits.
//
//   -  unused: always 0
//   =  continues the operand to its left (imm or off)
//
//   Registers; a lowercase letter is read, an uppercase one written:
//   i I  an int or boolean
//   r R  a reference (any object, null values included)
//   s S  a String
//   o O  a class instance
//   y Y  an array
//     M  a map (written by NewMap)
//   u    a function value (CallValue's callee)
//   v V  the value the instruction moves, of the kind of its other end: the
//        source register (Move), the constant (LoadK), the global, the field
//        or the array element
//   w    read, of the value kind that the x field names (Print, Concat)
//   T    read, of the function's own return kind (Return)
//   Q    a call's result: written with the callee's return kind (not at all
//        for a void callee; CallNative only when its x flag is 1)
//   p    a call's single argument: the callee's first parameter (Call1,
//        CallMethod1: the receiver)
//   A    an argument register in an Args word, checked with its call
//   (s, o, y, M and u say the sort the VM assumes; the verifier proves it
//   from the program's type table: docs/internals.md, "Verifier")
//
//   Indexes:
//   k    a constant of any kind          K  an int constant
//   D    an int constant other than 0 and -1 (DivK and ModK do not check)
//   Z    a String constant               d  a constant of the element kind
//                                           that the x field gives
//   g    a global                        C  a class
//   G    an int global (16 bits), read and written as an int (IncGlobal)
//   f    a field of the class instance in the instruction's 'o' register
//   t    a method slot (vtable index) of the receiver
//   F    a function                      N  a native (Natives.h)
//   m    a type of the program's type table (Program::types)
//
//   Immediates:
//   z    imm, a 32-bit int (b+c)         h  a signed 16-bit int
//   j    a jump offset, 32 bits (b+c)    J  a jump offset, 24 bits (c+x);
//        both charge the budget when they are taken backwards
//   >    a forward jump offset (b+c), 0 or more: Jump, which charges nothing
//   <    a backward jump offset (b+c), below 0: Loop, which charges its
//        distance (so no loop runs without paying for it)
//   n    an argument or element count: that many registers in Args words
//   x    a value kind (ValueKind)        X  map kinds: key | value << 4
//   e    a flag, 0 or 1 (CallNative: the result is stored)
//
// One X-macro list generates the enum, the names and formats, and the
// dispatch table (Wren's approach).
#pragma once

#include "../support/Types.h"

namespace ks {

// X(name, operand format: fields a b c x, semantics)
#define KS_OPCODES(X)                                                                          \
    X(Nop, "----", "no operation")                                                             \
    X(Move, "Vv--", "R[a] := R[b]")                                                            \
    X(LoadI, "Iz=-", "R[a] := imm")                                                            \
    X(LoadK, "Vk=-", "R[a] := K[imm]")                                                         \
    X(GetGlobal, "Vg=-", "R[a] := G[imm]")                                                     \
    X(SetGlobal, "vg=-", "G[imm] := R[a]")                                                     \
    X(IncGlobal, "IGh-", "R[a] := G[b] + c (wraps); G[b] := R[a]: `g += c` in one dispatch")   \
    X(Add, "Iii-", "R[a] := R[b] + R[c] (wraps)")                                              \
    X(Sub, "Iii-", "R[a] := R[b] - R[c] (wraps)")                                              \
    X(Mul, "Iii-", "R[a] := R[b] * R[c] (wraps)")                                              \
    X(Div, "Iii-", "R[a] := R[b] / R[c]; ZeroDividedException when R[c] = 0")                  \
    X(Mod, "Iii-", "R[a] := R[b] % R[c]; ZeroDividedException when R[c] = 0")                  \
    X(BitAnd, "Iii-", "R[a] := R[b] & R[c]")                                                   \
    X(BitOr, "Iii-", "R[a] := R[b] | R[c]")                                                    \
    X(BitXor, "Iii-", "R[a] := R[b] ^ R[c]")                                                   \
    X(Shl, "Iii-", "R[a] := R[b] << (R[c] & 63)")                                              \
    X(Shr, "Iii-", "R[a] := R[b] >> (R[c] & 63) (arithmetic)")                                 \
    X(AddI, "Iih-", "R[a] := R[b] + c (wraps)")                                                \
    X(AddK, "IiK-", "R[a] := R[b] + K[c] (wraps)")                                             \
    X(SubK, "IiK-", "R[a] := R[b] - K[c] (wraps)")                                             \
    X(MulK, "IiK-", "R[a] := R[b] * K[c] (wraps)")                                             \
    X(DivK, "IiD-", "R[a] := R[b] / K[c]")                                                     \
    X(ModK, "IiD-", "R[a] := R[b] % K[c]")                                                     \
    X(BitAndK, "IiK-", "R[a] := R[b] & K[c]")                                                  \
    X(BitOrK, "IiK-", "R[a] := R[b] | K[c]")                                                   \
    X(BitXorK, "IiK-", "R[a] := R[b] ^ K[c]")                                                  \
    X(ShlK, "IiK-", "R[a] := R[b] << (K[c] & 63)")                                             \
    X(ShrK, "IiK-", "R[a] := R[b] >> (K[c] & 63) (arithmetic)")                                \
    X(Neg, "Ii--", "R[a] := -R[b]")                                                            \
    X(Not, "Ii--", "R[a] := !R[b]")                                                            \
    X(BitNot, "Ii--", "R[a] := ~R[b]")                                                         \
    X(Eq, "Ivv-", "R[a] := R[b] == R[c] (ints, booleans, references)")                         \
    X(Ne, "Ivv-", "R[a] := R[b] != R[c]")                                                      \
    X(Lt, "Iii-", "R[a] := R[b] < R[c]")                                                       \
    X(Le, "Iii-", "R[a] := R[b] <= R[c]")                                                      \
    X(EqStr, "Iss-", "R[a] := string R[b] equals string R[c]")                                 \
    X(NeStr, "Iss-", "R[a] := string R[b] differs from string R[c]")                           \
    X(IsNull, "Ir--", "R[a] := R[b] is a null value")                                          \
    X(Jump, "->=-", "pc += imm (forwards)")                                                               \
    X(Loop, "-<=-", "pc += imm (backwards); charges the budget with -imm")                     \
    X(JumpIf, "ij=-", "if R[a] then pc += imm")                                                \
    X(JumpIfNot, "ij=-", "if not R[a] then pc += imm")                                         \
    X(JumpLt, "iiJ=", "if R[a] < R[b] then pc += off")                                         \
    X(JumpLe, "iiJ=", "if R[a] <= R[b] then pc += off")                                        \
    X(JumpGe, "iiJ=", "if R[a] >= R[b] then pc += off")                                        \
    X(JumpGt, "iiJ=", "if R[a] > R[b] then pc += off")                                         \
    X(JumpEq, "iiJ=", "if R[a] == R[b] then pc += off (ints, booleans)")                       \
    X(JumpNe, "iiJ=", "if R[a] != R[b] then pc += off")                                        \
    X(JumpLtK, "iKJ=", "if R[a] < K[b] then pc += off")                                        \
    X(JumpLeK, "iKJ=", "if R[a] <= K[b] then pc += off")                                       \
    X(JumpGeK, "iKJ=", "if R[a] >= K[b] then pc += off")                                       \
    X(JumpGtK, "iKJ=", "if R[a] > K[b] then pc += off")                                        \
    X(JumpEqK, "iKJ=", "if R[a] == K[b] then pc += off")                                       \
    X(JumpNeK, "iKJ=", "if R[a] != K[b] then pc += off")                                       \
    X(Call, "QFn-", "R[a] := F[b](c arguments)")                                               \
    X(CallMethod, "Qtn-", "R[a] := vtable(argument 0)[b](c arguments)")                        \
    X(CallValue, "Qun-", "R[a] := (R[b] as Func)(c arguments)")                                \
    X(Call1, "QFp-", "R[a] := F[b](R[c]): one argument, no Args word")                         \
    X(CallMethod1, "Qtp-", "R[a] := vtable(R[c])[b](R[c]): a method without arguments")        \
    X(CallNative, "QNne", "R[a] := native[b](c arguments); R[a] is stored only when x is 1")   \
    X(Args, "AAA-", "argument registers of the call before")                                   \
    X(Return, "T---", "return R[a]")                                                           \
    X(ReturnVoid, "----", "return")                                                            \
    X(NewObject, "OC--", "R[a] := new instance of class b, fields at their defaults")          \
    X(GetField, "Vof-", "R[a] := R[b].field[c]")                                               \
    X(SetField, "ofv-", "R[a].field[b] := R[c]; NullReferenceException on null")               \
    X(NewArray, "Yidx", "R[a] := new array of R[b] elements of kind x, each K[c]")             \
    X(NewMap, "Mm=X", "R[a] := new map of type imm (kinds x), missing keys give the value type's default")  \
    X(ArrayLiteral, "Ymnx", "R[a] := array of type b, kind x, of the c argument registers")     \
    X(ArrayGet, "Vyi-", "R[a] := R[b][R[c]]; OutOfBoundsException")                           \
    X(ArraySet, "yiv-", "R[a][R[b]] := R[c]; OutOfBoundsException")                           \
    X(Concat, "Sswx", "R[a] := R[b] + string of R[c] (x: value kind of R[c])")                 \
    X(ToString, "Sw-x", "R[a] := string of R[b] (x: value kind of R[b])")                      \
    X(InstanceOf, "IrC-", "R[a] := R[b] is an instance of class c")                            \
    X(Cast, "OrC-", "R[a] := R[b] checked as class c; TypeCastException")                      \
    X(Throw, "o---", "raise the exception R[a]")                                               \
    X(Raise, "CZ=-", "raise built-in exception class a with message K[imm]")                  \
    X(Print, "w--x", "print R[a] as a line (x: value kind)")                                   \
    X(Assert, "i---", "AssertionException unless R[a]")                                        \
    X(Report, "-K=-", "transcript mode: print the diagnostic K[imm] (line; kind << 32: error, warning, info)") \
    X(IsType, "Irm-", "R[a] := R[b] is not null and of type c (String, Bytes, an array, map or function type: Vm::has_type())") \
    X(CastType, "Rrm-", "R[a] := R[b] checked as type c (as IsType); TypeCastException; a null gives c's null") \
    X(TypeId, "Ir--", "R[a] := Konoha's type id of the value R[b] (Vm::type_id())")

enum class Op : u8 {
#define KS_OPCODE_ENUM(name, format, doc) name,
    KS_OPCODES(KS_OPCODE_ENUM)
#undef KS_OPCODE_ENUM
        Count
};

struct Insn {
    Op op;
    u8 x;
    u16 a;
    u16 b;
    u16 c;

    i32 imm() const { return (i32)((u32)b | ((u32)c << 16)); }
    void set_imm(i32 value)
    {
        b = (u16)((u32)value & 0xffff);
        c = (u16)((u32)value >> 16);
    }
    i16 sc() const { return (i16)c; }
    i32 off() const { return (i32)((u32)c << 16 | (u32)x << 8) >> 8; }
    void set_off(i32 offset)
    {
        x = (u8)((u32)offset & 0xff);
        c = (u16)(((u32)offset >> 8) & 0xffff);
    }
};

// Compare-and-jump instructions keep their offset in off().
inline bool is_compare_jump(Op op) { return op >= Op::JumpLt && op <= Op::JumpNeK; }
constexpr i32 kMaxCompareJump = (1 << 23) - 1;
static_assert(sizeof(Insn) == 8, "instructions are 8 bytes");

// Value kinds carried in the x byte and in array/map headers: what a 64-bit
// slot holds. References know their own object kind.
enum ValueKind : u8 {
    KindInt = 0,
    KindBool = 1,
    KindRef = 2,
    KindVoid = 3,
};

// Argument register [i] of the call at [call].
inline u16 call_arg(const Insn* call, u32 i)
{
    const Insn* word = call + 1 + i / 3;
    switch (i % 3) {
    case 0: return word->a;
    case 1: return word->b;
    default: return word->c;
    }
}
inline u32 call_arg_words(u32 argc) { return (argc + 2) / 3; }

const char* opcode_name(Op op);

// The four letters of [op]'s operands (fields a, b, c, x; see the legend).
// Inline: the verifier asks it several times per instruction.
struct OpcodeFormats {
    const char* format[(u32)Op::Count];
};
inline constexpr OpcodeFormats kOpcodeFormats = { {
#define KS_OPCODE_FORMAT(name, format, doc) format,
    KS_OPCODES(KS_OPCODE_FORMAT)
#undef KS_OPCODE_FORMAT
} };
inline const char* opcode_format(Op op)
{
    return (u32)op < (u32)Op::Count ? kOpcodeFormats.format[(u32)op] : "";
}

// The operand at [position] (0 a, 1 b, 2 c, 3 x) of [in], whose format is
// [format]: b+c or c+x when the next letter is '=', sign-extended for the
// letters of signed values ('h', and the two-field ones).
inline i64 operand_value(const Insn& in, const char* format, u32 position)
{
    bool wide = position < 3 && format[position + 1] == '=';
    switch (position) {
    case 0: return in.a;
    case 1: return wide ? (i64)in.imm() : (i64)in.b;
    case 2: return wide ? (i64)in.off() : format[2] == 'h' ? (i64)in.sc() : (i64)in.c;
    default: return in.x;
    }
}

// The letter classes of the legend above, as lists, and a table of them
// per letter (built at compile time from the lists) so that the verifier's
// per-instruction questions are a load and a test, not a string scan.
namespace letters {
constexpr const char kRegister[] = "iIrRsSoOyYMuvVwTQpA";   // Register operands
constexpr const char kRegisterWrite[] = "IRSOYMVQ";        // and those the instruction writes.
constexpr const char kJump[] = "jJ<>";                     // Jump offsets.
constexpr const char kConstant[] = "kKDZd";                // Constant pool indexes.
constexpr const char kType[] = "m";                        // Indexes into the type table.
constexpr const char kFree[] = "zh=";                      // Any value (immediates, a wide operand's second field).

enum : u8 { Register = 1, RegisterWrite = 2, Jump = 4, Constant = 8, Type = 16, Free = 32 };

struct Table {
    u8 bits[128];
};

constexpr Table make_table()
{
    Table t {};
    struct { const char* list; u8 bit; } classes[] = {
        { kRegister, Register }, { kRegisterWrite, RegisterWrite }, { kJump, Jump }, { kConstant, Constant },
        { kType, Type }, { kFree, Free },
    };
    for (auto& c : classes)
        for (const char* l = c.list; *l; l++)
            t.bits[(u8)*l] |= c.bit;
    return t;
}

inline constexpr Table kTable = make_table();

constexpr bool has(char letter, u8 bit) { return (u8)letter < 128 && (kTable.bits[(u8)letter] & bit); }
}

inline bool is_register_letter(char letter) { return letters::has(letter, letters::Register); }
inline bool is_register_write(char letter) { return letters::has(letter, letters::RegisterWrite); }
inline bool is_jump_letter(char letter) { return letters::has(letter, letters::Jump); }
inline bool is_constant_letter(char letter) { return letters::has(letter, letters::Constant); }
inline bool is_type_letter(char letter) { return letters::has(letter, letters::Type); }

// What the verifier asks of an instruction on each of its passes, read off
// the opcode's format once, at compile time, so that a pass over the code
// tests a mask instead of scanning four letters per instruction.
struct OpcodeShape {
    u8 registers;   // Bit p: field p (0 a, 1 b, 2 c, 3 x) is a register (an 'A' aside).
    u8 reads;       // Bit p: field p is a register the instruction reads.
    u8 operands;    // Bit p: field p starts an operand that is neither a register nor free (unused '-' included).
    u8 jump;        // The field of the jump offset: 1 (imm, b+c), 2 (off, c+x); 0 for none.
    bool args;      // Args words follow: field c counts their registers ('n').
};

namespace letters {
// The shape of [format] (a register letter is never wide: it is its field).
constexpr OpcodeShape make_shape(const char* format)
{
    OpcodeShape s {};
    for (u32 pos = 0; pos < 4; pos++) {
        char letter = format[pos];
        if (has(letter, Register) && letter != 'A') {
            s.registers |= (u8)(1u << pos);
            if (!has(letter, RegisterWrite))
                s.reads |= (u8)(1u << pos);
        }
        if (has(letter, Jump))
            s.jump = (u8)pos;
        if (!has(letter, Register) && !has(letter, Free))
            s.operands |= (u8)(1u << pos);
    }
    s.args = format[2] == 'n';
    return s;
}

// The shapes of all opcodes, and a check that each jump offset is the wide
// operand of its field (operand_value() reads it so).
struct OpcodeShapes {
    OpcodeShape shape[(u32)Op::Count];
    bool jumps_wide;
};

constexpr OpcodeShapes make_shapes()
{
    OpcodeShapes t {};
    t.jumps_wide = true;
    for (u32 op = 0; op < (u32)Op::Count; op++) {
        const char* format = kOpcodeFormats.format[op];
        t.shape[op] = make_shape(format);
        u32 j = t.shape[op].jump;
        u32 jumps = 0;
        for (u32 pos = 0; pos < 4; pos++)
            jumps += has(format[pos], Jump) ? 1 : 0;
        if (jumps > 1 || (jumps == 1 && ((j != 1 && j != 2) || format[j + 1] != '=')) || (jumps == 0 && j != 0))
            t.jumps_wide = false;
    }
    return t;
}

inline constexpr OpcodeShapes kShapes = make_shapes();
static_assert(kShapes.jumps_wide, "a jump offset is one wide operand, in field b (imm) or c (off)");
}

// The shape of [op] (which is a valid opcode).
inline const OpcodeShape& opcode_shape(Op op) { return letters::kShapes.shape[(u32)op]; }

// The jump offset of [in], whose shape [s] has one.
inline i32 jump_offset(const Insn& in, const OpcodeShape& s) { return s.jump == 1 ? in.imm() : in.off(); }

// Field [pos] (0 a, 1 b, 2 c, 3 x) of [in] as a register number.
inline u32 field_value(const Insn& in, u32 pos)
{
    switch (pos) {
    case 0: return in.a;
    case 1: return in.b;
    case 2: return in.c;
    default: return in.x;
    }
}

}
