// The instruction set of the register VM.
//
// Every instruction is 8 bytes:   | op:8 | x:8 | a:16 | b:16 | c:16 |
// imm = b | c << 16 (signed 32 bits); sc = c as a signed 16-bit number;
// off = x | c << 8 (signed 24 bits: the offset of compare-and-jumps).
// R[n] is register n of the current frame, K[n] the program's constant pool,
// G[n] a global. A taken backward jump charges the budget with its distance,
// so every loop pays for each round trip. Calls are followed by ceil(argc / 4) ARGS words, each with
// four 16-bit register numbers (a, b, c and x:a's high byte unused: see
// call_arg()). Jump offsets count instructions from the next instruction.
//
// One X-macro list generates the enum, the names for the disassembler and the
// dispatch table (Wren's approach).
#pragma once

#include "../support/Types.h"

namespace ks {

// X(name, operand format, documentation)
#define KS_OPCODES(X)                                                                   \
    X(Nop, "", "no operation")                                                          \
    X(Move, "ab", "R[a] := R[b]")                                                       \
    X(LoadI, "ai", "R[a] := imm")                                                       \
    X(LoadK, "ak", "R[a] := K[imm]")                                                    \
    X(GetGlobal, "ag", "R[a] := G[imm]")                                                \
    X(SetGlobal, "ag", "G[imm] := R[a]")                                                \
    X(Add, "abc", "R[a] := R[b] + R[c] (wraps)")                                        \
    X(Sub, "abc", "R[a] := R[b] - R[c] (wraps)")                                        \
    X(Mul, "abc", "R[a] := R[b] * R[c] (wraps)")                                        \
    X(Div, "abc", "R[a] := R[b] / R[c]; ZeroDividedException when R[c] = 0")            \
    X(Mod, "abc", "R[a] := R[b] % R[c]; ZeroDividedException when R[c] = 0")            \
    X(BitAnd, "abc", "R[a] := R[b] & R[c]")                                             \
    X(BitOr, "abc", "R[a] := R[b] | R[c]")                                              \
    X(BitXor, "abc", "R[a] := R[b] ^ R[c]")                                             \
    X(Shl, "abc", "R[a] := R[b] << (R[c] & 63)")                                        \
    X(Shr, "abc", "R[a] := R[b] >> (R[c] & 63) (arithmetic)")                           \
    X(AddI, "abs", "R[a] := R[b] + sc")                                                 \
    X(AddK, "abK", "R[a] := R[b] + K[c] (wraps)")                                       \
    X(SubK, "abK", "R[a] := R[b] - K[c] (wraps)")                                       \
    X(MulK, "abK", "R[a] := R[b] * K[c] (wraps)")                                       \
    X(DivK, "abK", "R[a] := R[b] / K[c]; K[c] is neither 0 nor -1")                     \
    X(ModK, "abK", "R[a] := R[b] % K[c]; K[c] is neither 0 nor -1")                     \
    X(BitAndK, "abK", "R[a] := R[b] & K[c]")                                            \
    X(BitOrK, "abK", "R[a] := R[b] | K[c]")                                             \
    X(BitXorK, "abK", "R[a] := R[b] ^ K[c]")                                            \
    X(ShlK, "abK", "R[a] := R[b] << (K[c] & 63)")                                       \
    X(ShrK, "abK", "R[a] := R[b] >> (K[c] & 63) (arithmetic)")                          \
    X(Neg, "ab", "R[a] := -R[b]")                                                       \
    X(Not, "ab", "R[a] := !R[b]")                                                       \
    X(BitNot, "ab", "R[a] := ~R[b]")                                                    \
    X(Eq, "abc", "R[a] := R[b] == R[c] (ints, booleans, references)")                   \
    X(Ne, "abc", "R[a] := R[b] != R[c]")                                                \
    X(Lt, "abc", "R[a] := R[b] < R[c]")                                                 \
    X(Le, "abc", "R[a] := R[b] <= R[c]")                                                \
    X(EqStr, "abc", "R[a] := string R[b] equals string R[c]")                           \
    X(NeStr, "abc", "R[a] := string R[b] differs from string R[c]")                     \
    X(IsNull, "ab", "R[a] := R[b] is a null value")                                     \
    X(Jump, "j", "pc += imm")                                                           \
    X(Loop, "j", "pc += imm (backwards); charges the budget with -imm")                 \
    X(JumpIf, "aj", "if R[a] then pc += imm")                                           \
    X(JumpIfNot, "aj", "if not R[a] then pc += imm")                                    \
    X(JumpLt, "abo", "if R[a] < R[b] then pc += off")                                   \
    X(JumpLe, "abo", "if R[a] <= R[b] then pc += off")                                  \
    X(JumpGe, "abo", "if R[a] >= R[b] then pc += off")                                  \
    X(JumpGt, "abo", "if R[a] > R[b] then pc += off")                                   \
    X(JumpEq, "abo", "if R[a] == R[b] then pc += off")                                  \
    X(JumpNe, "abo", "if R[a] != R[b] then pc += off")                                  \
    X(JumpLtK, "aLo", "if R[a] < K[b] then pc += off")                                  \
    X(JumpLeK, "aLo", "if R[a] <= K[b] then pc += off")                                 \
    X(JumpGeK, "aLo", "if R[a] >= K[b] then pc += off")                                 \
    X(JumpGtK, "aLo", "if R[a] > K[b] then pc += off")                                  \
    X(JumpEqK, "aLo", "if R[a] == K[b] then pc += off")                                 \
    X(JumpNeK, "aLo", "if R[a] != K[b] then pc += off")                                 \
    X(Call, "afn", "R[a] := F[b](args)")                                                \
    X(CallMethod, "avn", "R[a] := vtable(args[0])[b](args)")                            \
    X(CallValue, "abn", "R[a] := (R[b] as Func)(args)")                                 \
    X(Call1, "afc", "R[a] := F[b](R[c]): one argument, no Args word")                   \
    X(CallMethod1, "avc", "R[a] := vtable(R[c])[b](R[c]): a method without arguments")  \
    X(CallNative, "aNn", "R[a] := native[b](args)")                                     \
    X(Args, "", "argument registers of the call before")                                \
    X(Return, "a", "return R[a]")                                                       \
    X(ReturnVoid, "", "return")                                                         \
    X(NewObject, "aC", "R[a] := new instance of class b, fields at their defaults")     \
    X(GetField, "abx", "R[a] := R[b].field[c]")                                         \
    X(SetField, "ayc", "R[a].field[b] := R[c]; NullReferenceException on null")         \
    X(NewArray, "abk", "R[a] := new array of R[b] elements of kind x, each K[c]")      \
    X(NewMap, "ak", "R[a] := new map; x: key kind | value kind << 4; K[imm]: default")  \
    X(ArrayLiteral, "an", "R[a] := array of kind x from the argument registers")        \
    X(ArrayGet, "abc", "R[a] := R[b][R[c]]; OutOfBoundsException")                      \
    X(ArraySet, "abc", "R[a][R[b]] := R[c]; OutOfBoundsException")                      \
    X(Concat, "abc", "R[a] := R[b] + string of R[c] (x: value kind of R[c])")          \
    X(ToString, "ab", "R[a] := string of R[b] (x: value kind)")                         \
    X(InstanceOf, "ab", "R[a] := R[b] is an instance of class c")                      \
    X(Cast, "ab", "R[a] := R[b] checked as class c")                                   \
    X(Throw, "a", "raise the exception R[a]")                                           \
    X(Raise, "ak", "raise builtin exception class a with message K[imm]")               \
    X(Print, "a", "print R[a] as a line (x: value kind)")                               \
    X(Assert, "a", "AssertionException unless R[a]")                                    \
    X(Report, "k", "transcript mode: report diagnostic K[imm] once")

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
const char* opcode_format(Op op);

}
