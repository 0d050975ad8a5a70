// The bytecode verifier accepts what the compiler builds and refuses code
// whose operands would reach outside a frame, the constants or the code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/compiler/Compiler.h"
#include "core/compiler/Diagnostics.h"
#include "core/support/Arena.h"
#include "core/vm/Heap.h"
#include "core/vm/Verify.h"
#include "core/vm/Vm.h"

using namespace ks;

namespace {

class VerifyTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        memory.init(64u << 20, false);
        heap.init(&memory);
        const char* src = "int f(int n) {\n  int s = 0\n  for (int i = 0; i < n; i++) {\n"
                          "    try { s += 10 / i + i % 7 } catch (ZeroDividedException e) { s++ }\n  }\n  return s\n}\n"
                          "System.p(f(5))\n";
        Arena arena(&memory);
        Diagnostics diagnostics(&memory, &arena);
        CompileOptions options { CompileMode::Normal, 200, 1u << 20 };
        ASSERT_TRUE(compile_program(&memory, &heap, src, strlen(src), options, &diagnostics, &arena, &program));
        for (u32 i = 0; i < program.function_count; i++)
            if (program.functions[i]->name && strcmp(program.functions[i]->name, "f") == 0)
                f = program.functions[i];
        ASSERT_NE(f, nullptr);
        ASSERT_GT(f->handler_count, 0u);
    }
    void TearDown() override
    {
        free_program(&memory, &program);
        heap.destroy();
        memory.destroy();
    }
    bool verifies()
    {
        VerifyError e;
        bool ok = verify_program(program, &memory, &e);
        bad_function = e.function;
        bad_pc = e.pc;
        reason = e.reason;
        return ok;
    }
    // The first instruction of [op] in f.
    Insn* find(Op op)
    {
        for (u32 pc = 0; pc < f->code_size; pc++)
            if (f->code[pc].op == op)
                return &f->code[pc];
        return nullptr;
    }

    Memory memory;
    Heap heap;
    Program program {};
    Function* f = nullptr;
    u32 bad_function = 0;   // Where verifies() found the fault.
    u32 bad_pc = 0;
    const char* reason = "";
};

}

TEST_F(VerifyTest, CompiledCodeVerifies) { EXPECT_TRUE(verifies()); }

TEST_F(VerifyTest, RegisterOutsideTheFrame)
{
    Insn* add = find(Op::AddI);
    ASSERT_NE(add, nullptr);
    add->b = f->register_count;
    EXPECT_FALSE(verifies());
    EXPECT_EQ(program.functions[bad_function], f);
    EXPECT_EQ(bad_pc, (u32)(add - f->code)) << "the corrupted instruction is the one reported";
}

TEST_F(VerifyTest, JumpOutsideTheCode)
{
    Insn* j = find(Op::JumpLt);
    ASSERT_NE(j, nullptr);
    j->set_off((i32)f->code_size);
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, HandlerOutsideTheCode)
{
    f->handlers[0].target = f->code_size;
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, ConstantOutsideThePool)
{
    Insn* div = find(Op::Div);
    Insn* k = nullptr;
    for (u32 pc = 0; pc < f->code_size && !k; pc++)
        if (f->code[pc].op == Op::LoadI || f->code[pc].op == Op::LoadK)
            k = &f->code[pc];
    ASSERT_NE(div, nullptr);
    ASSERT_NE(k, nullptr);
    k->op = Op::LoadK;
    k->b = (u16)program.constant_count;
    k->c = 0;
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, RunningOffTheEnd)
{
    f->code[f->code_size - 1].op = Op::Nop;
    EXPECT_FALSE(verifies());
}

TEST_F(VerifyTest, DivisionByConstantZero)
{
    Insn* mod = find(Op::ModK);
    ASSERT_NE(mod, nullptr);
    u32 zero = program.constant_count;
    for (u32 k = 0; k < program.constant_count; k++)
        if (program.constant_kinds[k] == KindInt && program.constants[k] == 0)
            zero = k;
    if (zero == program.constant_count) {
        // No 0 in the pool: make the ModK's own constant 0.
        program.constants[mod->c] = 0;
    } else {
        mod->c = (u16)zero;
    }
    EXPECT_FALSE(verifies());
}

// One hand-made bad program per rule of the verifier: a compiled program
// that verifies, with one table entry or instruction broken; the verifier
// must refuse it for that rule.
namespace {

const char* kRulesSource = R"(class A { int n; String s
  A(int n) { this.n = n; this.s = "a" }
  int get() { return n }
}
class B extends A { B() { super(2) } int get() { return n + 1 } }
int g = 0
String gs = "s"
boolean gb = false
void bump() { g += 3 }
void touch() { gs = "t"; gb = true }
String label(int n) { return "n" + n }
int f(int n) {
  A a = new B()
  int s = a.get()
  String t = label(n)
  int[] xs = new int[n]
  int[] ys = [1, 2]
  Map[String, int] m = new Map[String, int]()
  try { s += 10 / n } catch (ZeroDividedException e) { s += 1 }
  if (t == "x") s++
  s = s / 7 + s % 5 + 100000
  g = s
  System.p(t)
  return s + t.length() + ys[0] + xs[0]
}
System.p(f(3))
String[] names() { return ["a"] }
)";

// A compiled program (compile()) to break by hand, and what to find in it.
class VerifyProgram : public ::testing::Test {
protected:
    void SetUp() override
    {
        memory.init(64u << 20, false);
        heap.init(&memory);
    }
    // Compiles [src]; it must verify as compiled.
    void compile(const char* src)
    {
        Arena arena(&memory);
        Diagnostics diagnostics(&memory, &arena);
        CompileOptions options { CompileMode::Normal, 200, 1u << 20 };
        ASSERT_TRUE(compile_program(&memory, &heap, src, strlen(src), options, &diagnostics, &arena, &program));
        VerifyError e;
        ASSERT_TRUE(verify_program(program, &memory, &e)) << e.reason;
    }
    void TearDown() override
    {
        free_program(&memory, &program);
        heap.destroy();
        memory.destroy();
    }
    Function* fn(const char* name)
    {
        for (u32 i = 0; i < program.function_count; i++)
            if (program.functions[i] && strcmp(program.functions[i]->name, name) == 0)
                return program.functions[i];
        return nullptr;
    }
    u32 index_of(const Function* g)
    {
        for (u32 i = 0; i < program.function_count; i++)
            if (program.functions[i] == g)
                return i;
        return ~0u;
    }
    // The [nth] instruction of [op] in [in].
    Insn* find(Function* in, Op op, u32 nth = 0)
    {
        for (u32 pc = 0; pc < in->code_size; pc++)
            if (in->code[pc].op == op && nth-- == 0)
                return &in->code[pc];
        ADD_FAILURE() << "no " << opcode_name(op) << " in " << in->name;
        static Insn none {};
        return &none;
    }
    RtClass* klass(const char* name)
    {
        for (u32 i = 0; i < program.class_count; i++)
            if (strcmp(program.classes[i]->name, name) == 0)
                return program.classes[i];
        return nullptr;
    }
    u32 global(const char* name)
    {
        for (u32 i = 0; i < program.global_count; i++)
            if (strcmp(program.global_names[i], name) == 0)
                return i;
        ADD_FAILURE() << "no global " << name;
        return 0;
    }
    u32 string_constant()
    {
        for (u32 k = 0; k < program.constant_count; k++)
            if (program.constant_kinds[k] == KindRef && as_obj(program.constants[k])->kind == ObjKind::String)
                return k;
        return ~0u;
    }
    u32 int_constant()
    {
        for (u32 k = 0; k < program.constant_count; k++)
            if (program.constant_kinds[k] == KindInt)
                return k;
        return ~0u;
    }
    // The first type of the table of [sort] (with element [elem] for an
    // array, when given).
    u32 type_of(TypeSort sort, i64 elem = -1)
    {
        for (u32 t = 0; t < program.type_count; t++)
            if (program.types[t].sort == sort
                && (elem < 0 || program.types[program.types[t].a].sort == (TypeSort)elem))
                return t;
        ADD_FAILURE() << "no type of sort " << (int)sort;
        return 0;
    }
    // The verifier's reason for refusing the program, "" if it accepts it.
    std::string refusal()
    {
        VerifyError e;
        if (verify_program(program, &memory, &e))
            return "";
        where_function = e.function;
        where_pc = e.pc;
        return e.reason;
    }

    Memory memory;
    Heap heap;
    Program program {};
    u32 where_function = 0;
    u32 where_pc = 0;
};

// kRulesSource, compiled: f and the main function.
class VerifyRules : public VerifyProgram {
protected:
    void SetUp() override
    {
        VerifyProgram::SetUp();
        compile(kRulesSource);
        ASSERT_FALSE(HasFatalFailure());
        f = fn("f");
        main = program.functions[program.main_function];
        ASSERT_NE(f, nullptr);
    }

    Function* f = nullptr;
    Function* main = nullptr;
};

// In f the reference registers are r1 r2 r5 r6 r8 r9 r10, the int ones r0
// r3 r4 r7 (see the disassembly of kRulesSource).
constexpr u16 kRef = 2, kInt = 4;

}

#define RULE(name, reason, ...)                    \
    TEST_F(VerifyRules, name)                      \
    {                                              \
        __VA_ARGS__;                               \
        EXPECT_EQ(refusal(), std::string(reason)); \
    }

RULE(UnknownOpcode, "an unknown opcode", find(f, Op::AddI)->op = Op::Count)
RULE(ArgsWithoutACall, "an Args word that follows no call", find(f, Op::AddI)->op = Op::Args)
RULE(UnusedFieldNotZero, "an unused operand field is not 0", find(f, Op::Return)->b = 1)
RULE(ConstantOutsideThePool, "a constant index outside the pool",
    find(f, Op::LoadK)->set_imm((i32)program.constant_count))
RULE(IntConstantThatIsAString, "the constant is not an int", find(f, Op::AddK)->c = (u16)string_constant())
RULE(DivisorZero, "a constant divisor of 0 or -1", program.constants[find(f, Op::DivK)->c] = 0)
RULE(DivisorMinusOne, "a constant divisor of 0 or -1", program.constants[find(f, Op::ModK)->c] = (u64)-1)
RULE(RaiseWithoutAString, "the constant is not a string",
    *find(main, Op::Print) = Insn { Op::Raise, 0, ClassException, 0, 0 };
    find(main, Op::Raise)->set_imm((i32)int_constant()))
RULE(DefaultOfAnotherKind, "the default value's kind differs from the elements'",
    find(f, Op::NewArray)->c = (u16)string_constant())
RULE(GlobalOutsideTheGlobals, "a global index outside the globals",
    find(f, Op::SetGlobal)->set_imm((i32)program.global_count))
RULE(IncGlobalOutsideTheGlobals, "a global index outside the globals",
    find(fn("bump"), Op::IncGlobal)->b = (u16)program.global_count)
RULE(IncGlobalOfAString, "the global is not an int", find(fn("bump"), Op::IncGlobal)->b = (u16)global("gs"))
RULE(IncGlobalOfABoolean, "the global is not an int", find(fn("bump"), Op::IncGlobal)->b = (u16)global("gb"))
RULE(IncGlobalOutsideTheFrame, "a register outside the frame",
    find(fn("bump"), Op::IncGlobal)->a = fn("bump")->register_count)
RULE(IncGlobalIntoAReferenceRegister, "an int operand in a reference register",
    *find(f, Op::AddI) = Insn { Op::IncGlobal, 0, kRef, (u16)global("g"), 1 })
RULE(ClassOutsideTheClasses, "a class index outside the classes", find(f, Op::NewObject)->b = (u16)program.class_count)
RULE(FieldOutsideTheClass, "a field index outside the object's class", find(fn("A.get"), Op::GetField)->c = 200)
RULE(SlotOutsideEveryVtable, "a method slot outside every class's vtable", find(f, Op::CallMethod1)->b = 1000)
RULE(FunctionOutsideTheFunctions, "a function index outside the functions",
    find(f, Op::Call1)->b = (u16)program.function_count)
RULE(NativeOutsideTheNatives, "a native index outside the natives", find(f, Op::CallNative)->b = 60000)
RULE(NativeArgumentCount, "the argument count differs from the native's signature", find(f, Op::CallNative)->c = 2)
RULE(NativeResultFlag, "the native's result flag differs from its signature", find(f, Op::CallNative)->x = 0)
RULE(NativeArgumentKind, "an argument's kind differs from the native's signature",
    (find(f, Op::CallNative) + 1)->a = kInt)
RULE(FlagNeitherZeroNorOne, "a flag that is neither 0 nor 1", find(f, Op::CallNative)->x = 2)
RULE(JumpOutsideTheFunction, "a jump outside the function", find(f, Op::Jump)->set_imm((i32)f->code_size))
RULE(JumpBackwards, "a jump in the direction its opcode does not charge for", find(f, Op::Jump)->set_imm(-3))
RULE(LoopForwards, "a jump in the direction its opcode does not charge for",
    *find(f, Op::Jump) = Insn { Op::Loop, 0, 0, 0, 0 })
RULE(CompareJumpBeforeTheStart, "a jump outside the function", find(f, Op::JumpIfNot)->set_imm(-100))
RULE(ArgsPastTheEnd, "the Args words run past the end of the function", find(f, Op::ArrayLiteral)->c = 60000)
RULE(CallWithoutArgsWords, "a call is not followed by its Args words", (find(f, Op::CallNative) + 1)->op = Op::Nop)
RULE(ValueKindOutOfRange, "a value kind that is not int, boolean or reference", find(f, Op::Print)->x = 3)
RULE(MapKindsOutOfRange, "NewMap's type is not a map of its kinds", find(f, Op::NewMap)->x = 0x33)
RULE(RegisterOutsideTheFrame, "a register outside the frame", find(f, Op::AddI)->a = f->register_count)
RULE(IntOperandInAReferenceRegister, "an int operand in a reference register", find(f, Op::Div)->b = kRef)
RULE(ReferenceOperandInAnIntRegister, "a reference operand in an int register", find(f, Op::EqStr)->b = kInt)
RULE(MoveAcrossKinds, "the two registers differ in kind", find(f, Op::Move)->b = kInt)
RULE(ConstantIntoARegisterOfAnotherKind, "the register's kind differs from the value's",
    find(f, Op::LoadK)->a = kInt)
RULE(GlobalIntoARegisterOfAnotherKind, "the register's kind differs from the value's",
    find(f, Op::SetGlobal)->a = kRef)
RULE(PrintOfAnotherKind, "the register's kind differs from the x field's", find(f, Op::Print)->x = KindInt)
RULE(ValueFromAVoidFunction, "a value returned from a void function",
    *find(main, Op::ReturnVoid) = Insn { Op::Return, 0, 0, 0, 0 })
RULE(ReturnOfAnotherKind, "the returned register's kind differs from the function's", find(f, Op::Return)->a = kRef)
RULE(NoValueReturned, "no value returned from a function that returns one",
    *find(f, Op::Return) = Insn { Op::ReturnVoid, 0, 0, 0, 0 })
RULE(CallArgumentCount, "the argument count differs from the callee's parameters",
    find(main, Op::Call1)->b = (u16)program.main_function)
RULE(CallArgumentKind, "an argument's kind differs from the callee's parameter", find(f, Op::Call1, 1)->c = kRef)
RULE(CallResultKind, "the call's result kind differs from its register's", find(f, Op::Call1, 1)->a = kInt)
RULE(ReceiverInAnIntRegister, "a method's receiver is not a reference register", find(f, Op::CallMethod1)->c = kInt)
RULE(ElementOfAnotherKind, "ArrayLiteral's type is not an array of its kind", find(f, Op::ArrayLiteral)->x = KindRef)
RULE(RunningOffTheEnd, "control runs off the end of the function",
    f->code[f->code_size - 1] = Insn { Op::Nop, 0, 0, 0, 0 })
RULE(HandlerTargetInArgsWords, "an exception handler's target is not an instruction",
    f->handlers[0].target = (u32)(find(f, Op::CallNative) - f->code) + 1)
RULE(JumpIntoArgsWords, "a jump into the Args words of a call",
    Insn* j = find(f, Op::Jump);
    j->set_imm((i32)((find(f, Op::CallNative) + 1) - (j + 1))))
RULE(ReferenceReadBeforeSet, "a reference register is read before it is set",
    f->code[0] = Insn { Op::IsNull, 0, kInt, kRef, 0 })
RULE(ReferenceSetOnOnlyOnePath, "a reference register is read before it is set",
    // Jump over the instruction that sets r6 (the array literal, ys) and
    // its Args word; ys[0] reads r6 later.
    Insn* set = find(f, Op::ArrayLiteral);
    *(set - 1) = Insn { Op::JumpIf, 0, 0, 0, 0 };
    (set - 1)->set_imm(2))
RULE(HandlerReadsWhatTheTryMayNotHaveSet, "a reference register is read before it is set",
    // The handler prints r5, which is set inside the try only (its first
    // instruction, 12, instead of by NewArray, 6).
    f->code[12] = Insn { Op::Move, 0, 5, 1, 0 };
    f->code[19] = Insn { Op::Print, KindRef, 5, 0, 0 };
    f->code[6] = Insn { Op::Nop, 0, 0, 0, 0 })
RULE(NoCode, "the function has no code or too much", f->code_size = 0)
RULE(MoreParametersThanRegisters, "more parameters than registers", f->param_count = (u16)(f->register_count + 1))
RULE(ReturnKindOutOfRange, "the return kind is not a value kind", f->return_kind = 9)
RULE(RegisterMapLargerThanTheFrame, "the register map is larger than the frame",
    f->ref_register_count = (u16)(f->register_count + 1))
RULE(RegisterMapNotAscending, "the register map is not ascending inside the frame",
    u16 t = f->ref_registers[0];
    f->ref_registers[0] = f->ref_registers[1];
    f->ref_registers[1] = t)
RULE(RegisterMapDisagreesWithParameters, "the register map disagrees with the parameters", f->ref_param_count = 1)
RULE(HandlerOutsideTheFunction, "an exception handler lies outside the function",
    f->handlers[0].end = f->code_size + 1)
RULE(EmptyHandlerRange, "an exception handler lies outside the function",
    f->handlers[0].end = f->handlers[0].start)
RULE(HandlerTargetInsideItsRange, "an exception handler's target is not after its range",
    f->handlers[0].target = f->handlers[0].end - 1)
RULE(HandlerRegisterNotAReference, "an exception handler's register is not a reference register",
    f->handlers[0].reg = kInt)
RULE(BuiltinClassesMissing, "the built-in classes are missing", program.class_count = 3)
RULE(ClassMisnumbered, "a class is missing or misnumbered", klass("B")->id++)
RULE(BrokenSuperclassChain, "a class's superclass chain is broken", klass("B")->depth = 7)
RULE(FieldKindOutOfRange, "a field's kind is not int, boolean or reference", klass("A")->field_kinds[0] = 7)
RULE(FewerFieldsThanTheSuperclass, "a class has fewer fields or methods than its superclass",
    klass("B")->field_count = 1)
RULE(InheritedFieldChangedKind, "an inherited field changed its kind", klass("B")->field_kinds[1] = KindInt)
RULE(VtableEntryNotAFunction, "a vtable entry is not a function", klass("A")->vtable[0] = program.function_count)
RULE(MethodWithoutReceiver, "a method does not take its receiver first",
    klass("B")->vtable[klass("B")->vtable_size - 1] = index_of(main))
RULE(OverrideChangedSignature, "an override changed the signature of its method",
    klass("B")->vtable[klass("B")->vtable_size - 1] = index_of(fn("A.<init>")))
RULE(ToStringNotAStringMethod, "a class's toString slot is not a String method",
    klass("B")->to_string_slot = (i32)klass("B")->vtable_size - 1)
RULE(MessageFieldNotAReference, "an exception's message field is not a reference field",
    klass("A")->message_field = 0)
RULE(MainTakesParameters, "the main function is missing or takes parameters",
    program.main_function = index_of(fn("label")))
RULE(FunctionMissing, "a function is missing", program.functions[index_of(fn("label"))] = nullptr)
RULE(ConstantKindOutOfRange, "a constant's kind is not int, boolean or reference", program.constant_kinds[0] = 9)
RULE(GlobalKindOutOfRange, "a global's kind is not int, boolean or reference", program.global_kinds[0] = 9)

// The sort of every reference, proved by the data flow. In f: r1 holds an
// A (a B), r2 the String t, r5 and r6 int arrays, r8 a Map[String, int],
// r9 a temporary of many sorts (see the disassembly of kRulesSource).
RULE(FieldOfANonInstance, "the register does not hold an instance of a class",
    *find(f, Op::Print) = Insn { Op::GetField, 0, 3, 2, 0 })
RULE(FieldValueOfAnotherType, "the value's type differs from the field's",
    // A's constructor stores a B where its String field s goes.
    *find(fn("A.<init>"), Op::LoadK) = Insn { Op::NewObject, 0, 3, (u16)klass("B")->id, 0 })
RULE(StringCompareOfANonString, "a string comparison of a register that is not a String",
    find(f, Op::EqStr)->b = 5)
RULE(ConcatToANonString, "a concatenation to a register that is not a String",
    *find(f, Op::Print) = Insn { Op::Concat, KindRef, 9, 5, 2 })
RULE(ThrowOfANonException, "a thrown register does not hold an Exception", find(f, Op::Throw)->a = 2)
RULE(RaiseOfANonException, "a raised class is not an Exception",
    *find(main, Op::Print) = Insn { Op::Raise, 0, (u16)klass("B")->id, 0, 0 };
    find(main, Op::Raise)->set_imm((i32)string_constant()))
RULE(MethodOfANonInstance, "the register does not hold an instance of a class",
    *find(f, Op::Print) = Insn { Op::CallMethod1, 0, 3, 0, 2 })
RULE(MethodSlotOutsideTheReceiversClass, "a method slot outside the receiver's class",
    // An Object has no methods; slot 0 is A's get().
    *find(f, Op::SetGlobal) = Insn { Op::NewObject, 0, 9, ClassObject, 0 };
    *find(f, Op::Print) = Insn { Op::CallMethod1, 0, 3, 0, 9 })
RULE(ArgumentOfAnotherType, "an argument's type differs from the callee's parameter",
    // A String as B's constructor's receiver.
    *find(f, Op::Print) = Insn { Op::Call1, 0, 0, (u16)index_of(fn("B.<init>")), 2 })
RULE(CallOfANonFunction, "the called register does not hold a function",
    *find(f, Op::Print) = Insn { Op::CallValue, 0, 3, 2, 0 })
RULE(NativeReceiverOfAnotherSort, "a native's receiver is not of its owner's sort",
    (find(f, Op::CallNative) + 1)->a = 5)
RULE(ArrayGetOfANonArray, "the register does not hold an array", find(f, Op::ArrayGet)->b = 2)
RULE(ArrayElementIntoARegisterOfAnotherKind, "the value's kind differs from its register's",
    find(f, Op::ArrayGet)->a = 9)
RULE(ArraySetOfAnotherType, "the value's type differs from the array's elements",
    *find(f, Op::Print) = Insn { Op::ArraySet, 0, 5, 3, 2 })
RULE(ReturnOfAnotherType, "the returned value's type differs from the function's",
    *find(fn("label"), Op::LoadK) = Insn { Op::NewObject, 0, 1, (u16)klass("B")->id, 0 };
    *find(fn("label"), Op::Concat) = Insn { Op::Nop, 0, 0, 0, 0 })
RULE(PathsThatDisagreeOnASort, "a native's receiver is not of its owner's sort",
    // On one path to String#length, r2 holds an int[]: the join is any
    // reference, which is not a String.
    *find(f, Op::AddI, 1) = Insn { Op::Move, 0, 2, 5, 0 })
RULE(HandlerTargetOnAnotherValidInstruction, "a string comparison of a register that is not a String",
    // The handler's register r9 holds an Exception where EqStr reads it.
    f->handlers[0].target = (u32)(find(f, Op::EqStr) - f->code))
RULE(HandlerRegisterJoinedWithAnotherPath, "a thrown register does not hold an Exception",
    // A jump on n reaches the handler with the Map in its register r9 (where
    // NewMap now puts it); the other path enters the try, whose throw
    // reaches it with an Exception. On the first path the rethrow at the
    // end of the handler throws a Map. (Found by the bytecode fuzzer: the
    // handler's edge overwrote the join.)
    find(f, Op::NewMap)->a = 9;
    Insn* j = find(f, Op::NewMap) + 1;
    *j = Insn { Op::JumpIf, 0, 0, 0, 0 };
    j->set_imm((i32)(f->handlers[0].target - (u32)(j - f->code) - 1)))
RULE(NewMapOfANonMapType, "NewMap's type is not a map of its kinds",
    find(f, Op::NewMap)->set_imm((i32)type_of(TypeSort::Array)))
RULE(TypeIndexOutsideTheTable, "a type index outside the type table",
    find(f, Op::NewMap)->set_imm((i32)program.type_count))
RULE(TypeContainingItself, "the type table is not well formed",
    u32 t = type_of(TypeSort::Array);
    program.types[t].a = t)
RULE(MapKeyOfAnotherSort, "the type table is not well formed",
    u32 t = type_of(TypeSort::Map);
    program.types[t].a = type_of(TypeSort::Array))
RULE(ConstantOfAnotherType, "a constant is not of its type",
    program.constant_types[string_constant()] = type_of(TypeSort::Array))
RULE(GlobalOfAnotherType, "a global is not of its type", program.global_types[0] = type_of(TypeSort::String))
RULE(InheritedFieldChangedType, "an inherited field changed its type",
    klass("B")->field_types[1] = type_of(TypeSort::Array))
RULE(ParameterTypeOfAnotherKind, "a parameter's type is not in the type table or not of its register's kind",
    f->param_types[0] = type_of(TypeSort::String))
RULE(MethodReceiverOfAnotherClass, "a method's receiver does not take its class",
    fn("B.get")->param_types[0] = type_of(TypeSort::Map))

// IsType and CastType (instanceof and `as` from an Object to a String,
// Bytes, array, map or function type): the VM checks the value's full
// type; the verifier checks the operands and gives the result the type.
RULE(CastTypeToAClass, "a type test or cast to a type that is not a String, Bytes, array, map or function type",
    *find(f, Op::Print) = Insn { Op::CastType, 0, 9, 2, (u16)type_of(TypeSort::Class) })
RULE(IsTypeOfInt, "a type test or cast to a type that is not a String, Bytes, array, map or function type",
    *find(f, Op::Print) = Insn { Op::IsType, 0, 3, 2, (u16)type_of(TypeSort::Int) })
RULE(CastTypeOutsideTheTable, "a type index outside the type table",
    *find(f, Op::Print) = Insn { Op::CastType, 0, 9, 2, (u16)program.type_count })
RULE(CastTypeIntoAnIntRegister, "a reference operand in an int register",
    *find(f, Op::Print) = Insn { Op::CastType, 0, 3, 2, (u16)type_of(TypeSort::Array) })
RULE(CastTypeOfAnIntRegister, "a reference operand in an int register",
    *find(f, Op::Print) = Insn { Op::CastType, 0, 9, 4, (u16)type_of(TypeSort::Array) })
RULE(CastTypeOfAnUnsetRegister, "a reference register is read before it is set",
    // r10 is set in the handler only.
    *find(f, Op::Print) = Insn { Op::CastType, 0, 9, 10, (u16)type_of(TypeSort::String) })
RULE(CastTypeGivesItsTarget, "a native's receiver is not of its owner's sort",
    // r2, a String, cast to a map: the String#length after it gets a map.
    *find(f, Op::Print) = Insn { Op::CastType, 0, 2, 2, (u16)type_of(TypeSort::Map) })
RULE(CastTypeToAnArrayOfAnotherElement, "the value's kind differs from its register's",
    // r2 cast to String[] into r6: its element is a reference, not the int
    // that the first ArrayGet's register r4 takes.
    *find(f, Op::Print) = Insn { Op::CastType, 0, 6, 2, (u16)type_of(TypeSort::Array, (i64)TypeSort::String) })

TEST_F(VerifyRules, CastTypeToItsOwnSortVerifies)
{
    *find(f, Op::Print) = Insn { Op::CastType, 0, 2, 2, (u16)type_of(TypeSort::String) };
    EXPECT_EQ(refusal(), "");
}

// A function built so that the data flow settles one 64-block word per
// sweep (a chain of backward jumps, entered at its far end): refused once
// the work passes its bound, instead of taking time quadratic in its size.
TEST_F(VerifyRules, TooComplexToVerify)
{
    const u32 n = 700000;
    Insn* code = static_cast<Insn*>(program.arena.alloc(sizeof(Insn) * n));
    u32* lines = static_cast<u32*>(program.arena.alloc_zeroed(sizeof(u32) * n));
    ASSERT_TRUE(code && lines);
    code[0] = Insn { Op::Jump, 0, 0, 0, 0 };
    code[0].set_imm((i32)n - 2);
    for (u32 pc = 1; pc < n; pc++) {
        code[pc] = Insn { Op::Loop, 0, 0, 0, 0 };
        code[pc].set_imm(-2);
    }
    f->code = code;
    f->lines = lines;
    f->code_size = n;
    f->handler_count = 0;
    EXPECT_EQ(refusal(), "the function is too complex to verify");
    // The same chain, short: verified.
    f->code_size = 1000;
    code[0].set_imm(1000 - 2);
    EXPECT_EQ(refusal(), "");
}

TEST_F(VerifyRules, ErrorsNameTheFunctionAndInstruction)
{
    Insn* add = find(f, Op::Div);
    add->b = kRef;
    EXPECT_EQ(refusal(), "an int operand in a reference register");
    EXPECT_EQ(program.functions[where_function], f);
    EXPECT_EQ(where_pc, (u32)(add - f->code));
}

// Natives typed by their receiver: Array.sort takes a comparator of the
// array's elements (letter F: Func[int, E, E]), so a String in its place is
// refused; the same call with the function value verifies.
TEST(VerifyNatives, ComparatorOfTheElements)
{
    Memory memory;
    memory.init(64u << 20, false);
    Heap heap;
    heap.init(&memory);
    const char* src = "int cmp(int a, int b) { return b - a }\nint[] a = [3, 1, 2]\nString t = \"x\"\n"
                      "a.sort(cmp)\nSystem.p(a[0])\nSystem.p(t)\n";
    Program program {};
    {
        Arena arena(&memory);
        Diagnostics diagnostics(&memory, &arena);
        CompileOptions options { CompileMode::Normal, 200, 1u << 20 };
        ASSERT_TRUE(compile_program(&memory, &heap, src, strlen(src), options, &diagnostics, &arena, &program));
    }
    VerifyError e;
    EXPECT_TRUE(verify_program(program, &memory, &e)) << e.reason;
    Function* main = program.functions[program.main_function];
    Insn* sort = nullptr;
    u16 string_reg = 0;
    for (u32 pc = 0; pc < main->code_size; pc++) {
        if (main->code[pc].op == Op::CallNative && !sort)
            sort = &main->code[pc];
        if (main->code[pc].op == Op::Print && main->code[pc].x == KindRef)
            string_reg = main->code[pc].a;   // t, printed last.
    }
    ASSERT_NE(sort, nullptr);
    ASSERT_EQ(sort->c, 2u);
    (sort + 1)->b = string_reg;
    EXPECT_FALSE(verify_program(program, &memory, &e));
    EXPECT_STREQ(e.reason, "an argument's type differs from the native's signature");
    free_program(&memory, &program);
    heap.destroy();
    memory.destroy();
}

// Hand-made bad programs found by an attack on the verifier (each a
// compiled program of its own source, broken in one place).
namespace {

class VerifyAttack : public VerifyProgram {};

}

// CallValue of a null function throws at the instruction, before its frame
// is pushed: a handler that covers the CallValue but not its Args word is
// reached, so its block is checked (here it throws the Func parameter).
TEST_F(VerifyAttack, HandlerOfACallValueWithoutItsArgsWord)
{
    compile("int go(Func[int, int] g) {\n  int r = 0\n  try { r = g(1) } catch (Exception e) { r = 2 }\n"
            "  return r\n}\nint inc(int x) { return x + 1 }\nSystem.p(go(inc))\n");
    Function* go = fn("go");
    ASSERT_TRUE(go && go->handler_count == 1);
    u32 call = (u32)(find(go, Op::CallValue) - go->code);
    go->handlers[0].start = call;
    go->handlers[0].end = call + 1;
    go->code[go->handlers[0].target] = Insn { Op::Throw, 0, 0, 0, 0 };   // r0: the Func g
    EXPECT_EQ(refusal(), "a thrown register does not hold an Exception");
}

// A subclass may come before its superclass (the compiler numbers Dog
// first here): a broken vtable entry of the superclass is found before the
// subclass's overrides are compared with it, never read past the table.
TEST_F(VerifyAttack, SuperclassVtableCheckedBeforeItsSubclassUsesIt)
{
    compile("class Dog extends Animal {\n  int legs() { return 3 }\n}\nclass Animal {\n  int legs() { return 4 }\n}\n"
            "Animal a = new Dog()\nSystem.p(a.legs())\n");
    RtClass* dog = klass("Dog");
    RtClass* animal = klass("Animal");
    ASSERT_TRUE(dog && animal);
    ASSERT_LT(dog->id, animal->id);
    ASSERT_GT(animal->vtable_size, 0u);
    animal->vtable[0] = 0x40000000u;
    EXPECT_EQ(refusal(), "a vtable entry is not a function");
}

// Signatures are compared parameter by parameter, so their length is
// bounded as the compiler bounds it.
TEST_F(VerifyAttack, TooManyParameters)
{
    compile("int f(int x) { return x }\nSystem.p(f(1))\n");
    Function* f = fn("f");
    ASSERT_TRUE(f);
    f->register_count = kMaxFunctionParams + 10;
    f->param_count = kMaxFunctionParams + 1;
    EXPECT_EQ(refusal(), "more parameters than a function may take");
}

// The VM reads a boxed value from field 0 of the box classes.
TEST_F(VerifyAttack, BoxClassWithoutItsValue)
{
    compile("Object o = 1\nSystem.p(o)\n");
    program.classes[ClassBoxInt]->field_count = 0;
    EXPECT_EQ(refusal(), "a box class does not hold one value of its type");
}

TEST_F(VerifyAttack, BoxClassValueOfAnotherType)
{
    compile("Object o = true\nString s = \"x\"\nSystem.p(o)\nSystem.p(s)\n");
    u32 string_type = program.type_count;
    for (u32 t = 0; t < program.type_count; t++)
        if (program.types[t].sort == TypeSort::String)
            string_type = t;
    ASSERT_LT(string_type, program.type_count);
    RtClass* box = program.classes[ClassBoxBoolean];
    box->field_kinds[0] = KindRef;
    box->field_types[0] = string_type;
    EXPECT_EQ(refusal(), "a box class does not hold one value of its type");
}
