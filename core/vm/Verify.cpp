// The bytecode verifier: a program is checked before it may run, whether the
// compiler built it or it came from a bytecode file (one path for both).
//
// The interpreter trusts its operands (that is what makes it fast); this pass
// makes that trust safe. It reads each opcode's operand format (Opcodes.h)
// rather than knowing opcodes one by one, in three steps:
//
//   1. The tables: classes (superclass chain, fields, vtables whose slots
//      keep the overridden method's signature), functions (register map,
//      parameters, handlers), globals and constants.
//   2. Each instruction alone: every operand letter in range (registers in
//      the frame, indexes in their tables, jumps onto instructions and not
//      into Args words, unused fields 0) and every register of the kind its
//      letter says, against the function's register map: the map the
//      collector scans (Function::ref_registers) is the typing that is
//      proved, so an int register never holds a reference and the reverse.
//   3. A data-flow pass over the control-flow graph (basic blocks, with the
//      edges into exception handlers): the set of reference registers set on
//      every path, joined by intersection where paths meet, so that no
//      reference register is read while it still holds the 0 that frame
//      entry left in it.
//
// Step 3 also proves sorts: the state of a reference register is a type of
// the program's type table (Program::types: String, Bytes, an array of T, a
// map K -> V, a function signature, an instance of class C), or "any
// reference" (Object: what two different sorts join to), or unset. Types
// come from the tables (parameters, fields, globals, constants, returns) and
// from what instructions make; every operand is checked against the sort its
// letter asks for (a field of the receiver's static class, a vtable slot of
// it, the callee's parameters, the element type of the array...).
#include "Verify.h"

#include "Natives.h"

namespace ks {

namespace {

constexpr u32 kUnset = kVerifyNone;   // A reference register's state: not set on every path.

// What the functions' checks share about the program's types. Types are
// compared as "normalized" indexes: a table entry, except String, Bytes and
// classes, which get fixed indexes after the table (so that two entries for
// one class or for String are the same type), and class 0 (Object) is "any
// reference": the compiler lets Object hold every reference.
struct TypeFacts {
    const Program* p;
    u32 string_t;        // = type_count
    u32 bytes_t;         // = type_count + 1
    u32 class_base;      // Class c is class_base + c.
    u32 count;           // class_base + class_count: the size of the maps below.
    u32* norm;           // Per table entry: its normalized type.
    u32* array_of;       // Per normalized type: an array entry with that element, or kVerifyNone.
    u32* comparator_of;  // Per normalized type E: a Func[int, E, E] entry, or kVerifyNone.
    u32 int_array;       // An int[] entry, or kVerifyNone.
    u32* pre;            // Per class: its place in a preorder walk of the class tree,
    u32* last;           // and the largest place among its subclasses.
    u32* jump;           // Per class: an ancestor further up (skew-binary jump pointers), so
                         // that a common superclass is found in logarithmic steps.

    bool is_class(u32 t) const { return t >= class_base && t < count; }
    u32 class_of(u32 t) const { return t - class_base; }
    u32 object() const { return class_base + ClassObject; }
    const TypeEntry* entry(u32 t) const { return t < p->type_count ? &p->types[t] : nullptr; }
    bool is_sort(u32 t, TypeSort sort) const { return t < p->type_count && p->types[t].sort == sort; }
    // ValueKind of normalized type [t]: KindInt for int and boolean.
    u8 kind(u32 t) const
    {
        if (t >= p->type_count)
            return KindRef;
        switch (p->types[t].sort) {
        case TypeSort::Int:
        case TypeSort::Bool: return KindInt;
        case TypeSort::Void: return KindVoid;
        default: return KindRef;
        }
    }
    // True if class [c] is [d] or extends it.
    bool extends(u32 c, u32 d) const { return pre[d] <= pre[c] && pre[c] <= last[d]; }
    // True if a register of type [from] may go where [to] is expected:
    // the same type, a subclass, or anything set where Object is expected.
    bool assignable(u32 to, u32 from) const
    {
        if (from == kUnset)
            return false;
        if (to == from || to == object())
            return true;
        return is_class(to) && is_class(from) && extends(class_of(from), class_of(to));
    }
};

// The type entries: known sorts, parts before the whole (so no type
// contains itself), void only as a result, map keys int, boolean or String.
bool check_types(const Program& p)
{
    for (u32 i = 0; i < p.type_count; i++) {
        const TypeEntry& t = p.types[i];
        bool plain = t.param_count == 0 && !t.unused;
        switch (t.sort) {
        case TypeSort::Void:
        case TypeSort::Int:
        case TypeSort::Bool:
        case TypeSort::String:
        case TypeSort::Bytes:
            if (t.a || t.b || !plain)
                return false;
            break;
        case TypeSort::Class:
            if (t.a >= p.class_count || t.b || !plain)
                return false;
            break;
        case TypeSort::Array:
            if (t.a >= i || t.b || !plain || p.types[t.a].sort == TypeSort::Void)
                return false;
            break;
        case TypeSort::Map: {
            if (t.a >= i || t.b >= i || !plain)
                return false;
            TypeSort key = p.types[t.a].sort;
            if ((key != TypeSort::Int && key != TypeSort::Bool && key != TypeSort::String)
                || p.types[t.b].sort == TypeSort::Void)
                return false;
            break;
        }
        case TypeSort::Func:
            if (t.unused || t.a >= i || (u64)t.b + t.param_count > p.type_param_count || (t.param_count && !p.type_params))
                return false;
            for (u32 k = 0; k < t.param_count; k++)
                if (p.type_params[t.b + k] >= i || p.types[p.type_params[t.b + k]].sort == TypeSort::Void)
                    return false;
            break;
        default: return false;
        }
    }
    return true;
}

// Numbers the class tree (preorder, iteratively: a chain of a million
// classes must not recurse) into [facts]; the superclass chains are sound
// by now (check_classes), so every class is reached from Object once.
bool number_classes(const Program& p, Memory* memory, TypeFacts* facts)
{
    u32 n = p.class_count;
    u32* child = static_cast<u32*>(memory->alloc(sizeof(u32) * n * 3));
    if (!child)
        return false;
    u32* sibling = child + n;
    u32* stack = sibling + n;
    for (u32 c = 0; c < n; c++)
        child[c] = sibling[c] = kVerifyNone;
    for (u32 c = n; c-- > 1;) {
        u32 s = p.classes[c]->super->id;
        sibling[c] = child[s];
        child[s] = c;
    }
    u32 next = 0, depth = 0;
    stack[depth++] = ClassObject;
    facts->jump[ClassObject] = ClassObject;
    facts->pre[ClassObject] = next++;
    // Down to the first unvisited child, else up, closing [last].
    while (depth) {
        u32 c = stack[depth - 1];
        u32 k = child[c];
        if (k != kVerifyNone) {
            child[c] = sibling[k];
            facts->pre[k] = next++;
            stack[depth++] = k;
            // Its jump pointer, from its superclass's (numbered before it).
            u32 j = facts->jump[c];
            u32 dc = p.classes[c]->depth, dj = p.classes[j]->depth, djj = p.classes[facts->jump[j]]->depth;
            facts->jump[k] = c != ClassObject && dc - dj == dj - djj ? facts->jump[j] : c;
        } else {
            facts->last[c] = next - 1;
            depth--;
        }
    }
    memory->free(child);
    return next == n;
}

// Whether register [r] is one of [f]'s reference registers (its
// ref_registers are ascending: a binary search).
bool map_has_ref(const Function* f, u32 from, u32 to, u32 r)
{
    while (from < to) {
        u32 mid = from + (to - from) / 2;
        if (f->ref_registers[mid] == r)
            return true;
        if (f->ref_registers[mid] < r)
            from = mid + 1;
        else
            to = mid;
    }
    return false;
}

// True if parameter [i] of [f] is a reference.
bool param_is_ref(const Function* f, u32 i) { return map_has_ref(f, 0, f->ref_param_count, i); }

// True if [a] and [b] take the same arguments and return the same kind: an
// override must keep the signature of the method it overrides, since a
// call through the vtable is checked against the slot's first holder.
bool same_signature(const Function* a, const Function* b)
{
    if (a->param_count != b->param_count || a->return_kind != b->return_kind
        || a->ref_param_count != b->ref_param_count)
        return false;
    for (u32 i = 0; i < a->ref_param_count; i++)
        if (a->ref_registers[i] != b->ref_registers[i])
            return false;
    return true;
}

// Natives of a type (String, Array, Map, Bytes) take their receiver as
// argument 0; those of a namespace (System, Linux, "String.") do not.
bool native_has_receiver(const NativeInfo& n)
{
    usize len = str_length(n.owner);
    return len && n.owner[len - 1] != '.' && !str_equal(n.owner, "System") && !str_equal(n.owner, "Linux");
}

// The kind a native's signature letter stands for: 0 int, 1 reference, 2
// unknown (E and K: the receiver's element or key, any kind), 3 void.
u32 native_letter_kind(char c)
{
    switch (c) {
    case 'i':
    case 'b': return 0;
    case 'E':
    case 'K': return 2;
    case 'v': return 3;
    default: return 1;
    }
}

class FunctionVerifier {
public:
    FunctionVerifier(const Program& p, const TypeFacts& facts, Memory* memory, u32 index, VerifyError* error,
        u32 native_count, const NativeInfo* natives, u32 max_vtable)
        : m_p(p)
        , m_t(facts)
        , m_memory(memory)
        , m_index(index)
        , m_f(p.functions[index])
        , m_error(error)
        , m_native_count(native_count)
        , m_natives(natives)
        , m_max_vtable(max_vtable)
    {
    }
    ~FunctionVerifier()
    {
        m_memory->free(m_role);
        m_memory->free(m_block_of);
        m_memory->free(m_block_start);
        m_memory->free(m_states);
        m_memory->free(m_work);
        m_memory->free(m_ref_index);
        m_memory->free(m_cover_start);
        m_memory->free(m_cover);
    }

    bool run() { return frame() && decode() && flow(); }

private:
    // Per instruction: what it is to the control flow.
    enum Role : u8 {
        RoleInsn = 1,      // An instruction (not an Args word).
        RolePayload = 2,   // An Args word of the call before.
        RoleLeader = 4,    // Starts a basic block.
    };

    bool fail(u32 pc, const char* reason)
    {
        m_error->function = m_index;
        m_error->pc = pc;
        m_error->reason = reason;
        return false;
    }

    bool is_ref(u32 r) const { return m_ref_index[r] != kVerifyNone; }
    bool is_int(u32 r) const { return m_ref_index[r] == kVerifyNone; }

    // The frame: parameters, the register map (which registers hold
    // references: the collector's roots), the handlers' ranges.
    bool frame()
    {
        const Function* f = m_f;
        if (!f->code || !f->lines || f->code_size == 0 || f->code_size > kMaxFunctionCode)
            return fail(kVerifyNone, "the function has no code or too much");
        if (f->param_count > f->register_count)
            return fail(kVerifyNone, "more parameters than registers");
        if (f->return_kind > KindVoid)
            return fail(kVerifyNone, "the return kind is not a value kind");
        if (f->return_type >= m_p.type_count || m_t.kind(m_t.norm[f->return_type]) != (f->return_kind == KindBool ? (u8)KindInt : f->return_kind))
            return fail(kVerifyNone, "the return type is not in the type table or not of the return kind");
        if (f->param_count && !f->param_types)
            return fail(kVerifyNone, "the parameter types are missing");
        if (f->ref_register_count > f->register_count || f->ref_param_count > f->ref_register_count
            || (f->ref_register_count && !f->ref_registers))
            return fail(kVerifyNone, "the register map is larger than the frame");
        m_ref_index = static_cast<u32*>(m_memory->alloc(sizeof(u32) * (f->register_count + 1u)));
        if (!m_ref_index)
            return fail(kVerifyNone, "out of memory");
        for (u32 r = 0; r <= f->register_count; r++)
            m_ref_index[r] = kVerifyNone;
        for (u32 i = 0; i < f->ref_register_count; i++) {
            u32 r = f->ref_registers[i];
            if (r >= f->register_count || (i && r <= f->ref_registers[i - 1]))
                return fail(kVerifyNone, "the register map is not ascending inside the frame");
            // The first ref_param_count are parameters (the VM keeps them);
            // the others are cleared on entry, so must not be parameters.
            if ((i < f->ref_param_count) != (r < f->param_count))
                return fail(kVerifyNone, "the register map disagrees with the parameters");
            m_ref_index[r] = i;
        }
        for (u32 i = 0; i < f->param_count; i++)
            if (f->param_types[i] >= m_p.type_count
                || (m_t.kind(m_t.norm[f->param_types[i]]) == KindRef) != is_ref(i)
                || m_t.kind(m_t.norm[f->param_types[i]]) == KindVoid)
                return fail(kVerifyNone, "a parameter's type is not in the type table or not of its register's kind");
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            if (h.start >= h.end || h.end > f->code_size || h.target >= f->code_size)
                return fail(kVerifyNone, "an exception handler lies outside the function");
            // Catching is a jump that charges nothing: forward only, past
            // the whole range, or a handler inside its own range would
            // catch its own throw forever.
            if (h.target < h.end)
                return fail(kVerifyNone, "an exception handler's target is not after its range");
            if (h.reg >= f->register_count || !is_ref(h.reg))
                return fail(kVerifyNone, "an exception handler's register is not a reference register");
        }
        return true;
    }

    // A call's result register [r]: with a void callee it is not written
    // but must still be a slot of the frame or the one above it (the VM
    // keeps it), where an unused result goes. [kind] is the callee's return
    // kind, or KindVoid + 1 when unknown.
    bool call_result(u32 pc, u32 r, u32 kind)
    {
        if (kind == KindVoid)
            return r < (m_f->register_count ? m_f->register_count : 1u) || fail(pc, "a register outside the frame");
        if (r >= m_f->register_count)
            return fail(pc, "a register outside the frame");
        if (kind <= KindRef && (kind == KindRef) != is_ref(r))
            return fail(pc, "the call's result kind differs from its register's");
        return true;
    }

    // The arguments of the call at [pc]: [count] registers in Args words,
    // or the single register [single]; checked against [callee]'s
    // parameters when it is known.
    bool call_args(u32 pc, const Insn& in, u32 count, bool single, const Function* callee)
    {
        if (callee && count != callee->param_count)
            return fail(pc, "the argument count differs from the callee's parameters");
        for (u32 i = 0; i < count; i++) {
            u32 r = single ? in.c : call_arg(&in, i);
            if (r >= m_f->register_count)
                return fail(pc, "an argument register outside the frame");
            if (callee && param_is_ref(callee, i) != is_ref(r))
                return fail(pc, "an argument's kind differs from the callee's parameter");
        }
        return true;
    }

    // Step 2 for the instruction at [pc]: every letter of its format.
    // [words] receives the count of Args words that follow it.
    bool check(u32 pc, u32* words)
    {
        const Insn& in = m_f->code[pc];
        *words = 0;
        if ((u32)in.op >= (u32)Op::Count)
            return fail(pc, "an unknown opcode");
        if (in.op == Op::Args)
            return fail(pc, "an Args word that follows no call");
        const char* fmt = opcode_format(in.op);
        // The other end of a 'v'/'V' operand: the kind it must have
        // (0 int, 1 reference, 2 unknown).
        u32 value_kind = 2;
        const Function* callee = nullptr;
        const NativeInfo* native = nullptr;
        u32 result_kind = KindVoid + 1;
        const OpcodeShape& shape = opcode_shape(in.op);
        // The operands other than registers and free values ('z', 'h'),
        // unused fields among them, in field order.
        for (u32 fields = shape.operands; fields; fields &= fields - 1) {
            u32 pos = (u32)__builtin_ctz(fields);
            char letter = fmt[pos];
            i64 v = operand_value(in, fmt, pos);
            switch (letter) {
            case '-':
                if (v)
                    return fail(pc, "an unused operand field is not 0");
                break;
            case 'k':
            case 'K':
            case 'D':
            case 'Z':
            case 'd': {
                if (v < 0 || (u64)v >= m_p.constant_count)
                    return fail(pc, "a constant index outside the pool");
                u8 kind = m_p.constant_kinds[v];
                if (letter == 'k')
                    value_kind = kind == KindRef ? 1 : 0;
                if ((letter == 'K' || letter == 'D') && kind != KindInt)
                    return fail(pc, "the constant is not an int");
                // DivK and ModK do not check their divisor at run time.
                if (letter == 'D' && (m_p.constants[v] == 0 || (i64)m_p.constants[v] == -1))
                    return fail(pc, "a constant divisor of 0 or -1");
                if (letter == 'Z' && (kind != KindRef || !is_string_constant(m_p.constants[v])))
                    return fail(pc, "the constant is not a string");
                if (letter == 'd') {
                    u32 elem = in.op == Op::NewMap ? in.x >> 4 : in.x;
                    if ((kind == KindRef) != (elem == KindRef))
                        return fail(pc, "the default value's kind differs from the elements'");
                }
                break;
            }
            case 'g':
                if (v < 0 || (u64)v >= m_p.global_count)
                    return fail(pc, "a global index outside the globals");
                value_kind = m_p.global_kinds[v] == KindRef ? 1 : 0;
                break;
            case 'G':
                if (v < 0 || (u64)v >= m_p.global_count)
                    return fail(pc, "a global index outside the globals");
                if (m_p.global_kinds[v] != KindInt)
                    return fail(pc, "the global is not an int");
                break;
            case 'C':
                if (v < 0 || (u64)v >= m_p.class_count)
                    return fail(pc, "a class index outside the classes");
                if (in.op == Op::Raise && !m_t.extends((u32)v, ClassException))
                    return fail(pc, "a raised class is not an Exception");
                break;
            case 'f':
                // Against the object's class: in the data flow.
                if (v >= (1 << 20))
                    return fail(pc, "a field index outside every class");
                break;
            case 'm': {
                if ((u64)v >= m_p.type_count)
                    return fail(pc, "a type index outside the type table");
                const TypeEntry& t = m_p.types[v];
                if (in.op == Op::NewMap
                    && (t.sort != TypeSort::Map || (in.x & 15) != value_kind_of(t.a) || (in.x >> 4) != value_kind_of(t.b)))
                    return fail(pc, "NewMap's type is not a map of its kinds");
                if (in.op == Op::ArrayLiteral && (t.sort != TypeSort::Array || in.x != value_kind_of(t.a)))
                    return fail(pc, "ArrayLiteral's type is not an array of its kind");
                // The VM checks these sorts in full (Vm::has_type()); classes
                // go through InstanceOf and Cast, ints and booleans are no
                // references.
                if ((in.op == Op::IsType || in.op == Op::CastType) && t.sort != TypeSort::String
                    && t.sort != TypeSort::Bytes && t.sort != TypeSort::Array && t.sort != TypeSort::Map
                    && t.sort != TypeSort::Func)
                    return fail(pc, "a type test or cast to a type that is not a String, Bytes, array, map or function type");
                break;
            }
            case 't':
                if ((u64)v >= m_max_vtable)
                    return fail(pc, "a method slot outside every class's vtable");
                break;
            case 'F':
                if ((u64)v >= m_p.function_count)
                    return fail(pc, "a function index outside the functions");
                callee = m_p.functions[v];
                result_kind = callee->return_kind;
                break;
            case 'N': {
                if ((u64)v >= m_native_count)
                    return fail(pc, "a native index outside the natives");
                const NativeInfo& n = m_natives[v];
                u32 params = (u32)str_length(n.signature) - 1 + (native_has_receiver(n) ? 1 : 0);
                if (in.c != params)
                    return fail(pc, "the argument count differs from the native's signature");
                u32 rk = native_letter_kind(n.signature[0]);
                if ((rk == 3) != (in.x == 0))
                    return fail(pc, "the native's result flag differs from its signature");
                result_kind = rk == 3 ? KindVoid : rk == 1 ? KindRef : rk == 0 ? KindInt : KindVoid + 1;
                native = &n;
                break;
            }
            case 'j':
            case 'J':
            case '<':
            case '>': {
                i64 target = (i64)pc + 1 + v;
                if (target < 0 || target >= (i64)m_f->code_size)
                    return fail(pc, "a jump outside the function");
                // Jump does not charge the budget: backwards it would be a
                // loop that never pays; Loop charges -imm: forwards it would
                // give budget back.
                if ((letter == '>' && v < 0) || (letter == '<' && v >= 0))
                    return fail(pc, "a jump in the direction its opcode does not charge for");
                break;
            }
            case 'n': {
                u32 count = (u32)v;
                *words = call_arg_words(count);
                if ((u64)pc + *words >= m_f->code_size)
                    return fail(pc, "the Args words run past the end of the function");
                for (u32 w = 1; w <= *words; w++) {
                    const Insn& word = m_f->code[pc + w];
                    if (word.op != Op::Args || word.x)
                        return fail(pc + w, "a call is not followed by its Args words");
                    // The unused slots of the last word are 0.
                    u32 used = count - (w - 1) * 3;
                    if ((used < 2 && word.b) || (used < 3 && word.c))
                        return fail(pc + w, "an unused operand field is not 0");
                }
                break;
            }
            case 'x':
                if (v > KindRef)
                    return fail(pc, "a value kind that is not int, boolean or reference");
                break;
            case 'X':
                if ((v & 15) > KindRef || (v >> 4) > KindRef)
                    return fail(pc, "map kinds that are not int, boolean or reference");
                break;
            case 'e':
                if (v > 1)
                    return fail(pc, "a flag that is neither 0 nor 1");
                break;
            default: break;
            }
        }
        // Registers, now that the other ends are known.
        for (u32 fields = shape.registers; fields; fields &= fields - 1) {
            u32 pos = (u32)__builtin_ctz(fields);
            char letter = fmt[pos];
            u32 r = field_value(in, pos);
            switch (letter) {
            case 'Q': {
                if (in.op == Op::CallMethod || in.op == Op::CallMethod1 || in.op == Op::CallValue) {
                    // The callee is found at run time: its result goes into a
                    // register of the frame, of that register's kind.
                    if (!call_result(pc, r, KindVoid + 1))
                        return false;
                } else if (!call_result(pc, r, result_kind)) {
                    return false;
                }
                continue;
            }
            case 'p':
                if (!call_args(pc, in, 1, true, callee))
                    return false;
                if (in.op == Op::CallMethod1 && !is_ref(in.c))
                    return fail(pc, "a method's receiver is not a reference register");
                continue;
            default: break;
            }
            if (r >= m_f->register_count)
                return fail(pc, "a register outside the frame");
            switch (letter) {
            case 'i':
            case 'I':
                if (!is_int(r))
                    return fail(pc, "an int operand in a reference register");
                break;
            case 'v':
            case 'V':
                if (in.op == Op::Move || in.op == Op::Eq || in.op == Op::Ne) {
                    // Both ends are registers: of one kind.
                    u32 other = in.op == Op::Move ? (pos == 0 ? in.b : in.a) : (pos == 1 ? in.c : in.b);
                    if (other >= m_f->register_count || is_ref(other) != is_ref(r))
                        return fail(pc, "the two registers differ in kind");
                } else if (value_kind < 2 && (value_kind == 1) != is_ref(r)) {
                    return fail(pc, "the register's kind differs from the value's");
                }
                break;
            case 'w':
                if ((in.x == KindRef) != is_ref(r))
                    return fail(pc, "the register's kind differs from the x field's");
                break;
            case 'T':
                if (m_f->return_kind == KindVoid)
                    return fail(pc, "a value returned from a void function");
                if ((m_f->return_kind == KindRef) != is_ref(r))
                    return fail(pc, "the returned register's kind differs from the function's");
                break;
            default:
                // r R s S o O y Y M u: references.
                if (!is_ref(r))
                    return fail(pc, "a reference operand in an int register");
                break;
            }
        }
        switch (in.op) {
        case Op::ReturnVoid:
            if (m_f->return_kind != KindVoid)
                return fail(pc, "no value returned from a function that returns one");
            break;
        case Op::Call:
        case Op::CallMethod:
        case Op::CallValue:
            if (!call_args(pc, in, in.c, false, callee))
                return false;
            if (in.op == Op::CallMethod && (in.c == 0 || !is_ref(call_arg(&in, 0))))
                return fail(pc, "a method's receiver is not a reference register");
            break;
        case Op::CallNative:
            // Arguments (their Args words are checked by now): the receiver
            // is a reference, the others as the signature says (E and K:
            // either kind).
            for (u32 i = 0; i < in.c; i++) {
                u32 r = call_arg(&in, i);
                if (r >= m_f->register_count)
                    return fail(pc, "an argument register outside the frame");
                bool receiver = native_has_receiver(*native);
                u32 want = receiver ? (i == 0 ? 1 : native_letter_kind(native->signature[i]))
                                    : native_letter_kind(native->signature[i + 1]);
                if (want < 2 && (want == 1) != is_ref(r))
                    return fail(pc, "an argument's kind differs from the native's signature");
            }
            break;
        case Op::ArrayLiteral:
            for (u32 i = 0; i < in.c; i++) {
                u32 r = call_arg(&in, i);
                if (r >= m_f->register_count)
                    return fail(pc, "an argument register outside the frame");
                if ((in.x == KindRef) != is_ref(r))
                    return fail(pc, "an element's kind differs from the array's");
            }
            break;
        default: break;
        }
        return true;
    }

    // The ValueKind of table entry [t] (int, boolean, reference, void).
    u8 value_kind_of(u32 t) const
    {
        switch (m_p.types[t].sort) {
        case TypeSort::Int: return KindInt;
        case TypeSort::Bool: return KindBool;
        case TypeSort::Void: return KindVoid;
        default: return KindRef;
        }
    }

    // True if [value] is one of the program's string constants.
    static bool is_string_constant(u64 value)
    {
        ObjHeader* o = as_obj(value);
        return o && o->kind == ObjKind::String;
    }

    // Step 2 over the whole function, marking instructions, Args words and
    // the leaders of basic blocks.
    bool decode()
    {
        const Function* f = m_f;
        m_role = static_cast<u8*>(m_memory->alloc_zeroed(f->code_size));
        // Until flow() numbers the blocks: the owning instruction of each
        // pc (itself, or the call whose Args word it is).
        m_block_of = static_cast<u32*>(m_memory->alloc(sizeof(u32) * f->code_size));
        if (!m_role || !m_block_of)
            return fail(kVerifyNone, "out of memory");
        m_role[0] |= RoleLeader;
        for (u32 pc = 0; pc < f->code_size; pc++) {
            u32 words = 0;
            if (!check(pc, &words))
                return false;
            m_role[pc] |= RoleInsn;
            m_block_of[pc] = pc;
            for (u32 w = 1; w <= words; w++) {
                m_role[pc + w] |= RolePayload;
                m_block_of[pc + w] = pc;
            }
            const Insn& in = f->code[pc];
            u32 next = pc + 1 + words;
            const OpcodeShape& shape = opcode_shape(in.op);
            if (shape.jump)
                m_role[(u32)((i64)pc + 1 + jump_offset(in, shape))] |= RoleLeader;
            if (next < f->code_size && (ends_block(in.op) || branches(in.op)))
                m_role[next] |= RoleLeader;
            pc = next - 1;
        }
        // Control cannot run off the end: the last instruction ends a block
        // without falling through.
        u32 last = m_block_of[f->code_size - 1];
        if (!ends_block(f->code[last].op))
            return fail(last, "control runs off the end of the function");
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            if (!(m_role[h.target] & RoleInsn))
                return fail(h.target, "an exception handler's target is not an instruction");
            m_role[h.target] |= RoleLeader;
            m_role[m_block_of[h.start]] |= RoleLeader;
        }
        for (u32 pc = 0; pc < f->code_size; pc++)
            if ((m_role[pc] & RoleLeader) && !(m_role[pc] & RoleInsn))
                return fail(pc, "a jump into the Args words of a call");
        return true;
    }

    static bool ends_block(Op op)
    {
        return op == Op::Jump || op == Op::Loop || op == Op::Return || op == Op::ReturnVoid || op == Op::Throw
            || op == Op::Raise;
    }
    static bool branches(Op op) { return op == Op::JumpIf || op == Op::JumpIfNot || is_compare_jump(op); }

    // The state of block [b]: per reference register (in map order), the
    // type it holds on every path to the block's start (kUnset: not set on
    // some path).
    u32* state(u32 b) { return m_states + (usize)b * m_refs; }

    // The join of two register types where paths meet: the same type, the
    // common superclass of two classes, else any reference (Object); unset
    // on one path stays unset. The walk up the class chains is charged to
    // the work bound.
    u32 join_type(u32 a, u32 b)
    {
        if (a == b)
            return a;
        if (a == kUnset || b == kUnset)
            return kUnset;
        if (!m_t.is_class(a) || !m_t.is_class(b))
            return m_t.object();
        // The deepest superclass of a that b extends: up by jump pointers
        // while they stay below it, else one step.
        u32 x = m_t.class_of(a), y = m_t.class_of(b);
        while (!m_t.extends(y, x)) {
            u32 j = m_t.jump[x];
            x = m_t.extends(y, j) ? m_p.classes[x]->super->id : j;
            m_extra_work++;
        }
        return m_t.class_base + x;
    }

    // Joins [from] (with register [extra], a handler's, then holding an
    // Exception) into block [to]'s entry state; queues [to] when it changed.
    void join(u32 to, const u32* from, u32 extra)
    {
        u32* s = state(to);
        bool first = !(m_visited[to >> 6] & (1ull << (to & 63)));
        m_visited[to >> 6] |= 1ull << (to & 63);
        bool changed = first;
        u32 extra_index = extra == kVerifyNone ? kVerifyNone : m_ref_index[extra];
        for (u32 i = 0; i < m_refs; i++) {
            // The handler's register holds the Exception on this edge only:
            // it joins with what other edges bring like any register.
            u32 in = i == extra_index ? m_t.class_base + ClassException : from[i];
            u32 n = first ? in : join_type(s[i], in);
            changed |= n != s[i];
            s[i] = n;
        }
        m_extra_work += m_refs;
        if (changed)
            m_queued[to >> 6] |= 1ull << (to & 63);
    }

    // Reads of reference registers by the instruction at [pc] must find
    // them set in [st].
    bool reads_set(u32 pc, const u32* st)
    {
        const Insn& in = m_f->code[pc];
        const OpcodeShape& shape = opcode_shape(in.op);
        auto ok = [&](u32 r) {
            u32 i = m_ref_index[r];
            return i == kVerifyNone || st[i] != kUnset;
        };
        for (u32 fields = shape.reads; fields; fields &= fields - 1)
            if (!ok(field_value(in, (u32)__builtin_ctz(fields))))
                return fail(pc, "a reference register is read before it is set");
        if (shape.args)
            for (u32 i = 0; i < in.c; i++)
                if (!ok(call_arg(&in, i)))
                    return fail(pc, "a reference register is read before it is set");
        return true;
    }

    // The type register [r] holds in [st] (a reference register).
    u32 type_of(const u32* st, u32 r) const { return st[m_ref_index[r]]; }

    // Register [r] receives a value of normalized type [t]: its kind must
    // be the register's, and a reference register takes the type.
    bool put(u32 pc, u32* st, u32 r, u32 t, bool* dirty)
    {
        if ((m_t.kind(t) == KindRef) != is_ref(r))
            return fail(pc, "the value's kind differs from its register's");
        if (is_ref(r)) {
            st[m_ref_index[r]] = t;
            *dirty = true;
        }
        return true;
    }

    // Register [r] goes where a value of normalized type [t] is expected.
    bool expect(u32 pc, const u32* st, u32 r, u32 t, const char* why)
    {
        if ((m_t.kind(t) == KindRef) != is_ref(r))
            return fail(pc, why);
        return !is_ref(r) || m_t.assignable(t, type_of(st, r)) || fail(pc, why);
    }

    // The class of the object in register [r], or fails.
    bool object_class(u32 pc, const u32* st, u32 r, const RtClass** out)
    {
        u32 t = type_of(st, r);
        if (!m_t.is_class(t))
            return fail(pc, "the register does not hold an instance of a class");
        *out = m_p.classes[m_t.class_of(t)];
        return true;
    }

    // The type an array of normalized type [elem] has, or fails.
    bool array_of(u32 pc, u32 elem, u32* out)
    {
        *out = elem < m_t.count ? m_t.array_of[elem] : kVerifyNone;
        return *out != kVerifyNone || fail(pc, "the array type is missing from the type table");
    }

    // Calls: the callee (a function of the program, a vtable slot of the
    // receiver's static class, or a function value's signature) decides
    // the count and types of the arguments and the type of the result.
    bool call(u32 pc, const Insn& in, u32* st, bool* dirty)
    {
        const Function* fn = nullptr;
        const TypeEntry* sig = nullptr;
        bool single = in.op == Op::Call1 || in.op == Op::CallMethod1;
        u32 argc = single ? 1 : in.c;
        switch (in.op) {
        case Op::Call:
        case Op::Call1: fn = m_p.functions[in.b]; break;
        case Op::CallMethod:
        case Op::CallMethod1: {
            const RtClass* c;
            if (argc == 0)
                return fail(pc, "a method call without a receiver");
            if (!object_class(pc, st, single ? in.c : call_arg(&in, 0), &c))
                return false;
            if (in.b >= c->vtable_size)
                return fail(pc, "a method slot outside the receiver's class");
            fn = m_p.functions[c->vtable[in.b]];
            break;
        }
        default: {
            u32 t = type_of(st, in.b);
            if (!m_t.is_sort(t, TypeSort::Func))
                return fail(pc, "the called register does not hold a function");
            sig = m_t.entry(t);
            break;
        }
        }
        u32 params = fn ? fn->param_count : sig->param_count;
        if (argc != params)
            return fail(pc, "the argument count differs from the callee's parameters");
        for (u32 i = 0; i < argc; i++) {
            u32 r = single ? in.c : call_arg(&in, i);
            u32 want = m_t.norm[fn ? fn->param_types[i] : m_p.type_params[sig->b + i]];
            if (!expect(pc, st, r, want, "an argument's type differs from the callee's parameter"))
                return false;
        }
        u32 result = m_t.norm[fn ? fn->return_type : sig->a];
        if (m_t.kind(result) == KindVoid)
            return true;
        if (in.a >= m_f->register_count)
            return fail(pc, "a register outside the frame");
        return put(pc, st, in.a, result, dirty);
    }

    // The type a native's signature letter [c] stands for, given the
    // receiver's type [receiver] (kVerifyNone for natives of a namespace).
    // [out] is a normalized type, or kScalar, kInstance (any class
    // instance but Object) or kVoid.
    static constexpr u32 kScalar = kVerifyNone - 1;
    static constexpr u32 kInstance = kVerifyNone - 2;
    static constexpr u32 kVoid = kVerifyNone - 3;
    bool native_letter(u32 pc, char c, u32 receiver, u32* out)
    {
        const TypeEntry* r = receiver == kVerifyNone ? nullptr : m_t.entry(receiver);
        bool array = r && r->sort == TypeSort::Array;
        bool map = r && r->sort == TypeSort::Map;
        switch (c) {
        case 'i':
        case 'b': *out = kScalar; return true;
        case 'v': *out = kVoid; return true;
        case 's': *out = m_t.string_t; return true;
        case 'y': *out = m_t.bytes_t; return true;
        case 'o': *out = kInstance; return true;
        case 'R':
            *out = receiver;
            return receiver != kVerifyNone || fail(pc, "a native's signature needs a receiver");
        case 'S': return array_of(pc, m_t.string_t, out);
        case 'I':
            *out = m_t.int_array;
            return *out != kVerifyNone || fail(pc, "the array type is missing from the type table");
        case 'F': {
            // A comparator of the receiver's elements: Func[int, E, E].
            if (!array)
                return fail(pc, "a native's signature needs an array receiver");
            u32 e = m_t.norm[r->a];
            *out = e < m_t.count ? m_t.comparator_of[e] : kVerifyNone;
            return *out != kVerifyNone || fail(pc, "the function type is missing from the type table");
        }
        case 'E':
        case 'e':
        case 'K':
        case 'k': {
            if (!array && !map)
                return fail(pc, "a native's signature needs an array or map receiver");
            if ((c == 'K' || c == 'k') && !map)
                return fail(pc, "a native's signature needs a map receiver");
            u32 t = m_t.norm[c == 'K' || c == 'k' || !map ? r->a : r->b];
            if (c == 'e' || c == 'k')
                return array_of(pc, t, out);
            *out = m_t.kind(t) == KindRef ? t : kScalar;
            return true;
        }
        default: return fail(pc, "an unknown letter in a native's signature");
        }
    }

    // CallNative: the receiver of the native's owner's sort, the arguments
    // and the result by the signature's letters.
    bool native(u32 pc, const Insn& in, u32* st, bool* dirty)
    {
        const NativeInfo& n = m_natives[in.b];
        bool has_receiver = native_has_receiver(n);
        u32 receiver = kVerifyNone;
        if (has_receiver) {
            receiver = type_of(st, call_arg(&in, 0));
            bool ok = str_equal(n.owner, "String") ? receiver == m_t.string_t
                : str_equal(n.owner, "Bytes")      ? receiver == m_t.bytes_t
                : str_equal(n.owner, "Array")      ? m_t.is_sort(receiver, TypeSort::Array)
                : str_equal(n.owner, "Map")        ? m_t.is_sort(receiver, TypeSort::Map)
                                                   : false;
            if (!ok)
                return fail(pc, "a native's receiver is not of its owner's sort");
        }
        for (u32 i = has_receiver ? 1 : 0; i < in.c; i++) {
            u32 r = call_arg(&in, i);
            u32 want;
            if (!native_letter(pc, n.signature[has_receiver ? i : i + 1], receiver, &want))
                return false;
            bool ok = want == kScalar ? !is_ref(r)
                : want == kInstance   ? is_ref(r) && m_t.is_class(type_of(st, r)) && type_of(st, r) != m_t.object()
                : want == kVoid       ? false
                                      : is_ref(r) && m_t.assignable(want, type_of(st, r));
            if (!ok)
                return fail(pc, "an argument's type differs from the native's signature");
        }
        if (in.x != 1)
            return true;
        u32 result;
        if (!native_letter(pc, n.signature[0], receiver, &result))
            return false;
        if (result == kScalar)
            return is_ref(in.a) ? fail(pc, "the value's kind differs from its register's") : true;
        if (result == kVoid || result == kInstance)
            return fail(pc, "a native's result flag differs from its signature");
        return put(pc, st, in.a, result, dirty);
    }

    // The data flow through the instruction at [pc]: every register read
    // of the sort its operand asks for, then the types written into [st]
    // ([dirty] set when a reference register changed).
    bool transfer(u32 pc, u32* st, bool* dirty)
    {
        const Insn& in = m_f->code[pc];
        if (!reads_set(pc, st))
            return false;
        switch (in.op) {
        case Op::Move:
            if (is_ref(in.a)) {
                st[m_ref_index[in.a]] = type_of(st, in.b);
                *dirty = true;
            }
            return true;
        case Op::LoadK:
            return put(pc, st, in.a, m_t.norm[m_p.constant_types[in.imm()]], dirty);
        case Op::GetGlobal:
            return put(pc, st, in.a, m_t.norm[m_p.global_types[in.imm()]], dirty);
        case Op::SetGlobal:
            return expect(pc, st, in.a, m_t.norm[m_p.global_types[in.imm()]], "the value's type differs from the global's");
        case Op::EqStr:
        case Op::NeStr:
            if (type_of(st, in.b) != m_t.string_t || type_of(st, in.c) != m_t.string_t)
                return fail(pc, "a string comparison of a register that is not a String");
            return true;
        case Op::Call:
        case Op::Call1:
        case Op::CallMethod:
        case Op::CallMethod1:
        case Op::CallValue: return call(pc, in, st, dirty);
        case Op::CallNative: return native(pc, in, st, dirty);
        case Op::Return:
            return expect(pc, st, in.a, m_t.norm[m_f->return_type], "the returned value's type differs from the function's");
        case Op::NewObject: return put(pc, st, in.a, m_t.class_base + in.b, dirty);
        case Op::GetField:
        case Op::SetField: {
            const RtClass* c;
            u32 object = in.op == Op::GetField ? in.b : in.a;
            u32 field = in.op == Op::GetField ? in.c : in.b;
            if (!object_class(pc, st, object, &c))
                return false;
            if (field >= c->field_count)
                return fail(pc, "a field index outside the object's class");
            u32 t = m_t.norm[c->field_types[field]];
            if (in.op == Op::GetField)
                return put(pc, st, in.a, t, dirty);
            return expect(pc, st, in.c, t, "the value's type differs from the field's");
        }
        case Op::NewArray: {
            u32 t;
            return array_of(pc, m_t.norm[m_p.constant_types[in.c]], &t) && put(pc, st, in.a, t, dirty);
        }
        case Op::NewMap: return put(pc, st, in.a, (u32)in.imm(), dirty);
        case Op::ArrayLiteral: {
            u32 elem = m_t.norm[m_p.types[in.b].a];
            for (u32 i = 0; i < in.c; i++)
                if (!expect(pc, st, call_arg(&in, i), elem, "an element's type differs from the array's"))
                    return false;
            return put(pc, st, in.a, in.b, dirty);
        }
        case Op::ArrayGet:
        case Op::ArraySet: {
            u32 array = in.op == Op::ArrayGet ? in.b : in.a;
            u32 t = type_of(st, array);
            if (!m_t.is_sort(t, TypeSort::Array))
                return fail(pc, "the register does not hold an array");
            u32 elem = m_t.norm[m_p.types[t].a];
            if (in.op == Op::ArrayGet)
                return put(pc, st, in.a, elem, dirty);
            return expect(pc, st, in.c, elem, "the value's type differs from the array's elements");
        }
        case Op::Concat:
            if (type_of(st, in.b) != m_t.string_t)
                return fail(pc, "a concatenation to a register that is not a String");
            return put(pc, st, in.a, m_t.string_t, dirty);
        case Op::ToString: return put(pc, st, in.a, m_t.string_t, dirty);
        case Op::Cast: return put(pc, st, in.a, m_t.class_base + in.c, dirty);
        // The VM checked the value's type in full (Vm::has_type()).
        case Op::CastType: return put(pc, st, in.a, m_t.norm[in.c], dirty);
        case Op::Throw: {
            u32 t = type_of(st, in.a);
            if (!m_t.is_class(t) || !m_t.extends(m_t.class_of(t), ClassException))
                return fail(pc, "a thrown register does not hold an Exception");
            return true;
        }
        default: return true;   // Int results; reads of any set reference.
        }
    }

    // For each of the [blocks] blocks, the handlers whose range overlaps
    // it (m_cover from m_cover_start[b] to m_cover_start[b + 1]): the
    // blocks of a range are consecutive, so this is the sum of the ranges'
    // lengths in blocks, not blocks times handlers.
    bool cover(u32 blocks)
    {
        const Function* f = m_f;
        m_cover_start = static_cast<u32*>(m_memory->alloc_zeroed(sizeof(u32) * (blocks + 1)));
        if (!m_cover_start)
            return fail(kVerifyNone, "out of memory");
        u64 total = 0;
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            total += m_block_of[h.end - 1] - m_block_of[h.start] + 1;
        }
        // Real programs nest try statements a few levels deep; a table
        // that overlaps itself millions of times is refused, not walked.
        if (total > (1u << 24))
            return fail(kVerifyNone, "the exception handlers overlap too much to verify");
        m_cover = static_cast<u32*>(m_memory->alloc(sizeof(u32) * (usize)(total + 1)));
        if (!m_cover)
            return fail(kVerifyNone, "out of memory");
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            for (u32 b = m_block_of[h.start]; b <= m_block_of[h.end - 1]; b++)
                m_cover_start[b + 1]++;
        }
        for (u32 b = 0; b < blocks; b++)
            m_cover_start[b + 1] += m_cover_start[b];
        // Fill in handler order, each block's slots from its start (the
        // counts of the previous pass, consumed again).
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            for (u32 b = m_block_of[h.start]; b <= m_block_of[h.end - 1]; b++)
                m_cover[m_cover_start[b]++] = i;
        }
        for (u32 b = blocks; b > 0; b--)
            m_cover_start[b] = m_cover_start[b - 1];
        m_cover_start[0] = 0;
        return true;
    }

    // Step 3: the types of the reference registers on every path, to a
    // fixed point.
    bool flow()
    {
        const Function* f = m_f;
        u32 blocks = 0;
        for (u32 pc = 0; pc < f->code_size; pc++)
            if (m_role[pc] & RoleLeader)
                blocks++;
        m_refs = f->ref_register_count;
        u32 set_words = (blocks + 63) / 64;
        m_block_start = static_cast<u32*>(m_memory->alloc(sizeof(u32) * (blocks + 1)));
        m_states = static_cast<u32*>(m_memory->alloc(sizeof(u32) * ((usize)blocks * m_refs + m_refs + 1)));
        m_work = static_cast<u64*>(m_memory->alloc_zeroed(sizeof(u64) * set_words * 2));
        if (!m_block_of || !m_block_start || !m_states || !m_work)
            return fail(kVerifyNone, "out of memory");
        m_visited = m_work;
        m_queued = m_visited + set_words;
        u32 b = 0;
        for (u32 pc = 0; pc < f->code_size; pc++) {
            if (m_role[pc] & RoleLeader)
                m_block_start[b++] = pc;
            m_block_of[pc] = b - 1;
        }
        m_block_start[blocks] = f->code_size;
        if (!cover(blocks))
            return false;
        u32* current = m_states + (usize)blocks * m_refs;
        // Entry: the reference parameters hold their types, nothing else
        // is set.
        for (u32 i = 0; i < m_refs; i++)
            current[i] = i < f->ref_param_count ? m_t.norm[f->param_types[f->ref_registers[i]]] : kUnset;
        join(0, current, kVerifyNone);
        // Sweeps in block order (for the forward jumps of structured code a
        // sweep settles most blocks; each back edge may ask for another),
        // each block taken when queued. States only rise (toward "any
        // reference" and unset), so this ends; the work is bounded all the
        // same, so that a function built to make the states rise one step
        // per sweep is refused quickly instead of taking minutes.
        u64 work = 0;
        u64 work_limit = (u64)kVerifyWorkPerInstruction * (f->code_size + m_cover_start[blocks]) * (m_refs / 64 + 1)
            + (1u << 20);
        for (bool pending = true; pending;) {
            pending = false;
            work += set_words;   // The sweep's scan of the queued set.
            for (u32 w = 0; w < set_words; w++) {
                while (m_queued[w]) {
                    u32 blk = w * 64 + (u32)__builtin_ctzll(m_queued[w]);
                    m_queued[w] &= m_queued[w] - 1;
                    u32 start = m_block_start[blk], end = m_block_start[blk + 1];
                    m_extra_work = 0;
                    if (!block(blk, start, end, current))
                        return false;
                    work += (end - start) + m_extra_work / 64;
                    if (work > work_limit)
                        return fail(kVerifyNone, "the function is too complex to verify");
                }
            }
            for (u32 w = 0; w < set_words && !pending; w++)
                pending = m_queued[w] != 0;
        }
        return true;
    }

    // The data flow through block [blk], pcs [start, end), from its entry
    // state (into [current]) to its successors' states.
    bool block(u32 blk, u32 start, u32 end, u32* current)
    {
        const Function* f = m_f;
        mem_copy(current, state(blk), sizeof(u32) * m_refs);
        u32 pc = start;
        bool falls = true;
        bool dirty = true;
        u32 prev_lo = 0, prev_hi = 0;   // The previous instruction's throw positions (the state was joined there).
        while (pc < end) {
            const Insn& in = f->code[pc];
            const OpcodeShape& shape = opcode_shape(in.op);
            u32 words = shape.args ? call_arg_words(in.c) : 0;
            // A throw at [pc] reaches the handlers whose range holds it
            // with the registers as they are before the instruction
            // (joined again only when they changed, or a range begins).
            // The VM looks a throw up at the instruction, except in a call
            // that pushed a frame: at its last Args word (Vm.cpp,
            // KS_PUSH_FRAME); a call that fails before its frame is pushed
            // (CallValue of a null function) throws at the instruction. So
            // every position of a call, from the instruction to its last
            // Args word, counts as a throw position: a handler that covers
            // any of them is reached.
            u32 lo = pc, hi = pc + words;
            for (u32 i = m_cover_start[blk]; i < m_cover_start[blk + 1]; i++) {
                const Handler& h = f->handlers[m_cover[i]];
                bool before = pc != start && prev_lo < h.end && prev_hi >= h.start;
                if (lo < h.end && hi >= h.start && (dirty || !before))
                    join(m_block_of[h.target], current, h.reg);
            }
            prev_lo = lo;
            prev_hi = hi;
            dirty = false;
            if (!transfer(pc, current, &dirty))
                return false;
            if (shape.jump)
                join(m_block_of[(u32)((i64)pc + 1 + jump_offset(in, shape))], current, kVerifyNone);
            falls = !ends_block(in.op);
            pc += 1 + words;
        }
        if (falls && end < f->code_size)
            join(blk + 1, current, kVerifyNone);
        return true;
    }

    const Program& m_p;
    const TypeFacts& m_t;
    Memory* m_memory;
    u32 m_index;
    const Function* m_f;
    VerifyError* m_error;
    u32 m_native_count;
    const NativeInfo* m_natives;
    u32 m_max_vtable;
    u32* m_ref_index { nullptr };   // Per register: its place in the map, or kVerifyNone for an int register.
    u8* m_role { nullptr };
    u32* m_block_of { nullptr };    // Per instruction: its block.
    u32* m_block_start { nullptr }; // Per block: its first instruction (one more: the end).
    u32* m_states { nullptr };      // Per block: entry state, m_refs types (one more: the current state).
    u32 m_refs { 0 };
    u64 m_extra_work { 0 };         // Work of joins and class walks in the current block.
    u64* m_work { nullptr };        // The visited and queued bit sets, in one allocation.
    u32* m_cover_start { nullptr }; // Per block: where its handlers start in m_cover (one more: the end).
    u32* m_cover { nullptr };       // Handler indexes, block after block.
    u64* m_visited { nullptr };
    u64* m_queued { nullptr };
};

bool fail(VerifyError* error, u32 function, const char* reason)
{
    error->function = function;
    error->pc = kVerifyNone;
    error->reason = reason;
    return false;
}

// Step 1 for the classes: the superclass chain (by depth, so it ends at
// Object), fields that extend the superclass's, vtables whose entries are
// functions keeping the overridden signatures.
bool check_classes(const Program& p, VerifyError* error, u32* max_vtable)
{
    *max_vtable = 0;
    if (p.class_count < BuiltinClassCount || !p.classes)
        return fail(error, kVerifyNone, "the built-in classes are missing");
    // First each class on its own, so that the second pass, which compares
    // a class with its superclass (of any id: a subclass may come first),
    // reads only tables already checked.
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        if (!c || c->id != i || !c->name || !c->null_instance)
            return fail(error, kVerifyNone, "a class is missing or misnumbered");
    }
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        const RtClass* s = c->super;
        if (i == ClassObject ? (s || c->depth) : (!s || s->id >= p.class_count || p.classes[s->id] != s
                || c->depth != s->depth + 1))
            return fail(error, kVerifyNone, "a class's superclass chain is broken");
        if (c->field_count && (!c->field_kinds || !c->field_defaults || !c->field_names))
            return fail(error, kVerifyNone, "a class's field tables are missing");
        for (u32 f = 0; f < c->field_count; f++)
            if (c->field_kinds[f] > KindRef)
                return fail(error, kVerifyNone, "a field's kind is not int, boolean or reference");
        if (c->vtable_size && !c->vtable)
            return fail(error, kVerifyNone, "a class's vtable is missing");
        for (u32 m = 0; m < c->vtable_size; m++) {
            if (c->vtable[m] >= p.function_count || !p.functions[c->vtable[m]])
                return fail(error, kVerifyNone, "a vtable entry is not a function");
            const Function* fn = p.functions[c->vtable[m]];
            if (fn->param_count == 0 || !fn->ref_param_count || fn->ref_registers[0] != 0)
                return fail(error, kVerifyNone, "a method does not take its receiver first");
        }
        if (c->to_string_slot >= 0 && ((u32)c->to_string_slot >= c->vtable_size
                || p.functions[c->vtable[c->to_string_slot]]->param_count != 1
                || p.functions[c->vtable[c->to_string_slot]]->return_kind != KindRef))
            return fail(error, kVerifyNone, "a class's toString slot is not a String method");
        if (c->message_field >= 0
            && ((u32)c->message_field >= c->field_count || c->field_kinds[c->message_field] != KindRef))
            return fail(error, kVerifyNone, "an exception's message field is not a reference field");
        *max_vtable = max(*max_vtable, c->vtable_size);
    }
    // Then each class against its superclass: fields that extend the
    // superclass's, overrides that keep the signature (an inherited entry,
    // the same function, needs no comparison).
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        const RtClass* s = c->super;
        if (!s)
            continue;
        if (c->field_count < s->field_count || c->vtable_size < s->vtable_size)
            return fail(error, kVerifyNone, "a class has fewer fields or methods than its superclass");
        for (u32 f = 0; f < s->field_count; f++)
            if ((c->field_kinds[f] == KindRef) != (s->field_kinds[f] == KindRef))
                return fail(error, kVerifyNone, "an inherited field changed its kind");
        for (u32 m = 0; m < s->vtable_size; m++)
            if (c->vtable[m] != s->vtable[m]
                && !same_signature(p.functions[c->vtable[m]], p.functions[s->vtable[m]]))
                return fail(error, kVerifyNone, "an override changed the signature of its method");
    }
    return true;
}

// True if [value] may sit in a slot of normalized type [t] (a constant, a
// global, a field default): a String, Bytes, the null value of an array,
// map or function type, a function of that signature, a null instance of
// the class or a subclass; anything for Object; any number for a scalar.
bool value_fits(const Program& p, const TypeFacts& facts, u64 value, u32 t)
{
    if (facts.kind(t) != KindRef)
        return true;
    ObjHeader* o = as_obj(value);
    if (!o)
        return false;
    if (t == facts.object())
        return true;
    if (t == facts.string_t)
        return o->kind == ObjKind::String;
    if (t == facts.bytes_t)
        return o->kind == ObjKind::Bytes;
    if (facts.is_class(t)) {
        if (o->kind != ObjKind::Instance || !(o->flags & ObjNull))
            return false;
        const RtClass* k = reinterpret_cast<InstanceObj*>(o)->klass;
        return k && k->id < p.class_count && p.classes[k->id] == k && facts.extends(k->id, facts.class_of(t));
    }
    const TypeEntry& e = p.types[t];
    if (e.sort == TypeSort::Array)
        return value == p.null_array;
    if (e.sort == TypeSort::Map)
        return value == p.null_map;
    if (value == p.null_func)
        return true;
    if (o->kind != ObjKind::Func || o->aux >= p.function_count)
        return false;
    // A function value: the function takes and returns what the type says.
    const Function* f = p.functions[o->aux];
    if (f->param_count != e.param_count || facts.norm[f->return_type] != facts.norm[e.a])
        return false;
    for (u32 i = 0; i < e.param_count; i++)
        if (facts.norm[f->param_types[i]] != facts.norm[p.type_params[e.b + i]])
            return false;
    return true;
}

// The typed half of the class checks, once the type facts exist: field
// types of the field's kind and kept by subclasses, defaults that fit,
// methods whose receiver takes the class, overrides with the same
// parameters and a result that fits the overridden one's; Object has no
// fields and no methods (it stands for every reference), the built-in
// exceptions extend Exception, whose message is a String.
bool check_class_types(const Program& p, const TypeFacts& facts, VerifyError* error)
{
    const RtClass* object = p.classes[ClassObject];
    if (object->field_count || object->vtable_size)
        return fail(error, kVerifyNone, "class Object has fields or methods");
    for (u32 i = ClassException; i <= ClassTypeCastException; i++)
        if (!facts.extends(i, ClassException))
            return fail(error, kVerifyNone, "a built-in exception does not extend Exception");
    // The VM reads a boxed int's or boolean's value from field 0 (printing,
    // `to`, type ids): the two box classes hold exactly that.
    static_assert(ClassBoxBoolean == ClassBoxInt + 1, "the box classes are numbered together");
    for (u32 i = ClassBoxInt; i <= ClassBoxBoolean; i++) {
        const RtClass* box = p.classes[i];
        TypeSort want = i == ClassBoxInt ? TypeSort::Int : TypeSort::Bool;
        if (box->field_count != 1 || !box->field_types || box->field_kinds[0] != (i == ClassBoxInt ? KindInt : KindBool)
            || box->field_types[0] >= p.type_count || p.types[box->field_types[0]].sort != want)
            return fail(error, kVerifyNone, "a box class does not hold one value of its type");
    }
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        const RtClass* s = c->super;
        if (c->field_count && !c->field_types)
            return fail(error, kVerifyNone, "a class's field types are missing");
        for (u32 f = 0; f < c->field_count; f++) {
            u32 t = c->field_types[f];
            if (t >= p.type_count)
                return fail(error, kVerifyNone, "a field's type is not in the type table");
            u32 n = facts.norm[t];
            u8 kind = c->field_kinds[f] == KindBool ? (u8)KindInt : c->field_kinds[f];
            if (facts.kind(n) != kind)
                return fail(error, kVerifyNone, "a field's type differs from its kind");
            if (s && f < s->field_count && facts.norm[s->field_types[f]] != n)
                return fail(error, kVerifyNone, "an inherited field changed its type");
            if (!value_fits(p, facts, c->field_defaults[f], n) || !value_fits(p, facts, c->null_instance->fields[f], n))
                return fail(error, kVerifyNone, "a field's default value is not of its type");
        }
        if (c->message_field >= 0 && facts.norm[c->field_types[c->message_field]] != facts.string_t)
            return fail(error, kVerifyNone, "an exception's message field is not a String");
        for (u32 m = 0; m < c->vtable_size; m++) {
            const Function* fn = p.functions[c->vtable[m]];
            u32 receiver = facts.norm[fn->param_types[0]];
            if (!facts.is_class(receiver) || !facts.extends(i, facts.class_of(receiver)))
                return fail(error, kVerifyNone, "a method's receiver does not take its class");
            if (!s || m >= s->vtable_size)
                continue;
            const Function* over = p.functions[s->vtable[m]];
            for (u32 k = 1; fn != over && k < fn->param_count; k++)
                if (facts.norm[fn->param_types[k]] != facts.norm[over->param_types[k]])
                    return fail(error, kVerifyNone, "an override changed the types of its parameters");
            u32 mine = facts.norm[fn->return_type], theirs = facts.norm[over->return_type];
            if (facts.kind(theirs) == KindRef ? !facts.assignable(theirs, mine) : mine != theirs && facts.kind(mine) != facts.kind(theirs))
                return fail(error, kVerifyNone, "an override's result does not fit the overridden method's");
        }
        if (c->to_string_slot >= 0
            && facts.norm[p.functions[c->vtable[c->to_string_slot]]->return_type] != facts.string_t)
            return fail(error, kVerifyNone, "a class's toString slot is not a String method");
    }
    return true;
}

// Builds [facts] for [p] (whose type entries and classes are checked):
// normalized types, arrays by element, the class tree's numbering.
bool make_facts(const Program& p, Memory* memory, TypeFacts* facts)
{
    facts->p = &p;
    facts->string_t = p.type_count;
    facts->bytes_t = p.type_count + 1;
    facts->class_base = p.type_count + 2;
    facts->count = facts->class_base + p.class_count;
    usize words = (usize)p.type_count + 2 * (usize)facts->count + 3 * (usize)p.class_count;
    facts->norm = static_cast<u32*>(memory->alloc(sizeof(u32) * (words ? words : 1)));
    if (!facts->norm)
        return false;
    facts->array_of = facts->norm + p.type_count;
    facts->comparator_of = facts->array_of + facts->count;
    facts->pre = facts->comparator_of + facts->count;
    facts->last = facts->pre + p.class_count;
    facts->jump = facts->last + p.class_count;
    for (u32 i = 0; i < p.type_count; i++) {
        const TypeEntry& t = p.types[i];
        facts->norm[i] = t.sort == TypeSort::String ? facts->string_t
            : t.sort == TypeSort::Bytes             ? facts->bytes_t
            : t.sort == TypeSort::Class             ? facts->class_base + t.a
                                                    : i;
    }
    for (u32 i = 0; i < facts->count; i++)
        facts->array_of[i] = facts->comparator_of[i] = kVerifyNone;
    facts->int_array = kVerifyNone;
    for (u32 i = p.type_count; i-- > 0;) {
        const TypeEntry& t = p.types[i];
        if (t.sort == TypeSort::Array) {
            facts->array_of[facts->norm[t.a]] = i;
            if (p.types[t.a].sort == TypeSort::Int)
                facts->int_array = i;
        }
        if (t.sort == TypeSort::Func && p.types[t.a].sort == TypeSort::Int && t.param_count == 2
            && facts->norm[p.type_params[t.b]] == facts->norm[p.type_params[t.b + 1]])
            facts->comparator_of[facts->norm[p.type_params[t.b]]] = i;
    }
    return number_classes(p, memory, facts);
}

}

bool verify_program(const Program& program, Memory* memory, VerifyError* error)
{
    error->function = kVerifyNone;
    error->pc = kVerifyNone;
    error->reason = "";
    u32 native_count;
    const NativeInfo* natives = native_table(&native_count);
    if (!program.functions || program.function_count == 0)
        return fail(error, kVerifyNone, "the program has no functions");
    for (u32 i = 0; i < program.function_count; i++) {
        const Function* f = program.functions[i];
        if (!f)
            return fail(error, i, "a function is missing");
        // The class checks compare signatures through the register maps
        // and parameter types: their sizes first (the rest of the frame
        // comes with the code).
        if (f->ref_register_count > f->register_count || f->ref_param_count > f->ref_register_count
            || (f->ref_register_count && !f->ref_registers))
            return fail(error, i, "the register map is larger than the frame");
        if (f->param_count > f->register_count)
            return fail(error, i, "more parameters than registers");
        if (f->param_count > kMaxFunctionParams)
            return fail(error, i, "more parameters than a function may take");
    }
    if (program.main_function >= program.function_count
        || program.functions[program.main_function]->param_count != 0)
        return fail(error, kVerifyNone, "the main function is missing or takes parameters");
    for (u32 i = 0; i < program.constant_count; i++)
        if (program.constant_kinds[i] > KindRef)
            return fail(error, kVerifyNone, "a constant's kind is not int, boolean or reference");
    for (u32 i = 0; i < program.global_count; i++)
        if (program.global_kinds[i] > KindRef)
            return fail(error, kVerifyNone, "a global's kind is not int, boolean or reference");
    u32 max_vtable = 0;
    if (!check_classes(program, error, &max_vtable))
        return false;
    // The type table, then every index into it outside the code.
    if (program.type_count && !program.types)
        return fail(error, kVerifyNone, "the type table is missing");
    if (program.type_count > (1u << 20) || !check_types(program))
        return fail(error, kVerifyNone, "the type table is not well formed");
    for (u32 i = 0; i < program.function_count; i++) {
        const Function* f = program.functions[i];
        if (f->param_count && !f->param_types)
            return fail(error, i, "the parameter types are missing");
        for (u32 k = 0; k < f->param_count; k++)
            if (f->param_types[k] >= program.type_count)
                return fail(error, i, "a parameter's type is not in the type table");
        if (f->return_type >= program.type_count)
            return fail(error, i, "the return type is not in the type table");
    }
    for (u32 i = 0; i < program.class_count; i++) {
        const RtClass* c = program.classes[i];
        if (c->field_count && !c->field_types)
            return fail(error, kVerifyNone, "a class's field types are missing");
        for (u32 f = 0; f < c->field_count; f++)
            if (c->field_types[f] >= program.type_count)
                return fail(error, kVerifyNone, "a field's type is not in the type table");
    }
    if ((program.constant_count && !program.constant_types) || (program.global_count && !program.global_types))
        return fail(error, kVerifyNone, "the constants' or globals' types are missing");
    for (u32 i = 0; i < program.constant_count; i++)
        if (program.constant_types[i] >= program.type_count)
            return fail(error, kVerifyNone, "a constant's type is not in the type table");
    for (u32 i = 0; i < program.global_count; i++)
        if (program.global_types[i] >= program.type_count)
            return fail(error, kVerifyNone, "a global's type is not in the type table");
    TypeFacts facts {};
    if (!make_facts(program, memory, &facts)) {
        memory->free(facts.norm);
        return fail(error, kVerifyNone, "out of memory");
    }
    bool ok = check_class_types(program, facts, error);
    for (u32 i = 0; ok && i < program.constant_count; i++) {
        u32 t = facts.norm[program.constant_types[i]];
        u8 kind = program.constant_kinds[i] == KindBool ? (u8)KindInt : program.constant_kinds[i];
        if (facts.kind(t) != kind || !value_fits(program, facts, program.constants[i], t))
            ok = fail(error, kVerifyNone, "a constant is not of its type");
    }
    for (u32 i = 0; ok && i < program.global_count; i++) {
        u32 t = facts.norm[program.global_types[i]];
        u8 kind = program.global_kinds[i] == KindBool ? (u8)KindInt : program.global_kinds[i];
        if (facts.kind(t) != kind || !value_fits(program, facts, program.globals[i], t))
            ok = fail(error, kVerifyNone, "a global is not of its type");
    }
    for (u32 i = 0; ok && i < program.function_count; i++) {
        FunctionVerifier check(program, facts, memory, i, error, native_count, natives, max_vtable);
        ok = check.run();
    }
    memory->free(facts.norm);
    return ok;
}

}
