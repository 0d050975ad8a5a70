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
// What it does not prove yet (docs/internals.md, "Verifier"): the object
// sort of a reference (String, array, map, instance of which class), which
// the program's tables do not record; so field indexes are checked against
// the program's classes as a whole, array elements, natives' element and
// key arguments, and the arguments and results of calls through a vtable
// slot or a function value not at all.
#include "Verify.h"

#include "Natives.h"

namespace ks {

namespace {

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
    FunctionVerifier(const Program& p, Memory* memory, u32 index, VerifyError* error, u32 native_count,
        const NativeInfo* natives, u32 max_vtable)
        : m_p(p)
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
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            if (h.start >= h.end || h.end > f->code_size || h.target >= f->code_size)
                return fail(kVerifyNone, "an exception handler lies outside the function");
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
        for (u32 pos = 0; pos < 4; pos++) {
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
            case 'C':
                if (v < 0 || (u64)v >= m_p.class_count)
                    return fail(pc, "a class index outside the classes");
                break;
            case 'f': {
                // Some class has this field, of the kind of the value moved.
                u32 value_reg = in.op == Op::GetField ? in.a : in.c;
                if (value_reg >= m_f->register_count)
                    return fail(pc, "a register outside the frame");
                bool found = false;
                for (u32 k = 0; k < m_p.class_count && !found; k++) {
                    const RtClass* c = m_p.classes[k];
                    found = (u64)v < c->field_count && (c->field_kinds[v] == KindRef) == is_ref(value_reg);
                }
                if (!found)
                    return fail(pc, "no class has a field of that index and kind");
                value_kind = is_ref(value_reg) ? 1 : 0;
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
            default: break;   // Registers below; 'z', 'h', '=': any value.
            }
        }
        // Registers, now that the other ends are known.
        for (u32 pos = 0; pos < 4; pos++) {
            char letter = fmt[pos];
            if (!is_register_letter(letter))
                continue;
            u32 r = (u32)operand_value(in, fmt, pos);
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
            case 'A': continue;
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
            const char* fmt = opcode_format(in.op);
            for (u32 pos = 0; pos < 4; pos++)
                if (is_jump_letter(fmt[pos]))
                    m_role[(u32)((i64)pc + 1 + operand_value(in, fmt, pos))] |= RoleLeader;
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

    // The state of block [b]: one bit per reference register, set when
    // every path to the block's start has set that register.
    u64* state(u32 b) { return m_states + (usize)b * m_words; }

    // Joins [from] (plus the register [extra], or none) into block [to]'s
    // entry state; queues [to] when the state changed.
    void join(u32 to, const u64* from, u32 extra)
    {
        u64* s = state(to);
        bool first = !(m_visited[to >> 6] & (1ull << (to & 63)));
        m_visited[to >> 6] |= 1ull << (to & 63);
        bool changed = first;
        for (u32 w = 0; w < m_words; w++) {
            u64 n = first ? from[w] : s[w] & from[w];
            if (extra != kVerifyNone && m_ref_index[extra] >> 6 == w)
                n |= 1ull << (m_ref_index[extra] & 63);
            changed |= n != s[w];
            s[w] = n;
        }
        if (changed)
            m_queued[to >> 6] |= 1ull << (to & 63);
    }

    // Reads of reference registers by the instruction at [pc] must find
    // them set in [set].
    bool reads_set(u32 pc, const u64* set)
    {
        const Insn& in = m_f->code[pc];
        const char* fmt = opcode_format(in.op);
        auto ok = [&](u32 r) {
            u32 i = m_ref_index[r];
            return i == kVerifyNone || (set[i >> 6] & (1ull << (i & 63)));
        };
        for (u32 pos = 0; pos < 4; pos++) {
            char letter = fmt[pos];
            if (!is_register_letter(letter) || is_register_write(letter) || letter == 'A')
                continue;
            u32 r = (u32)operand_value(in, fmt, pos);
            if (letter == 'p')
                r = in.c;
            if (!ok(r))
                return fail(pc, "a reference register is read before it is set");
        }
        if (fmt[2] == 'n')
            for (u32 i = 0; i < in.c; i++)
                if (!ok(call_arg(&in, i)))
                    return fail(pc, "a reference register is read before it is set");
        return true;
    }

    // Marks the reference registers the instruction at [pc] writes.
    void writes(u32 pc, u64* set)
    {
        const Insn& in = m_f->code[pc];
        const char* fmt = opcode_format(in.op);
        for (u32 pos = 0; pos < 4; pos++) {
            char letter = fmt[pos];
            if (!is_register_write(letter))
                continue;
            u32 r = (u32)operand_value(in, fmt, pos);
            if (r >= m_f->register_count)
                continue;   // A void call's unused result slot.
            if (letter == 'Q' && !writes_result(in))
                continue;
            u32 i = m_ref_index[r];
            if (i != kVerifyNone)
                set[i >> 6] |= 1ull << (i & 63);
        }
    }

    // Whether a call stores its result: natives by their flag, known
    // callees by their return kind; a method or function value is assumed
    // to return what its result register holds (see the file's comment).
    bool writes_result(const Insn& in) const
    {
        if (in.op == Op::CallNative)
            return in.x == 1;
        if (in.op == Op::Call || in.op == Op::Call1)
            return m_p.functions[in.b]->return_kind != KindVoid;
        return true;
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

    // Step 3: the reference registers set on every path, to a fixed point.
    bool flow()
    {
        const Function* f = m_f;
        u32 blocks = 0;
        for (u32 pc = 0; pc < f->code_size; pc++)
            if (m_role[pc] & RoleLeader)
                blocks++;
        m_words = (f->ref_register_count + 63u) / 64u;
        if (!m_words)
            return true;   // No reference register: nothing can be read unset.
        u32 set_words = (blocks + 63) / 64;
        m_block_start = static_cast<u32*>(m_memory->alloc(sizeof(u32) * (blocks + 1)));
        m_states = static_cast<u64*>(m_memory->alloc(sizeof(u64) * ((usize)blocks * m_words + m_words)));
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
        u64* current = m_states + (usize)blocks * m_words;
        // Entry: the reference parameters are set, nothing else.
        mem_set(current, 0, sizeof(u64) * m_words);
        for (u32 i = 0; i < f->ref_param_count; i++)
            current[i >> 6] |= 1ull << (i & 63);
        join(0, current, kVerifyNone);
        // Sweeps in block order (for the forward jumps of structured code a
        // sweep settles most blocks; each back edge may ask for another),
        // each block taken when queued. States only lose bits once set, so
        // this ends; the work is bounded all the same, so that a function
        // built to make the sets shrink one bit per sweep is refused
        // quickly instead of taking minutes.
        u64 work = 0;
        u64 work_limit = (u64)kVerifyWorkPerInstruction * (f->code_size + m_cover_start[blocks]) + (1u << 20);
        for (bool pending = true; pending;) {
            pending = false;
            work += set_words;   // The sweep's scan of the queued set.
            for (u32 w = 0; w < set_words; w++) {
                while (m_queued[w]) {
                    u32 blk = w * 64 + (u32)__builtin_ctzll(m_queued[w]);
                    m_queued[w] &= m_queued[w] - 1;
                    u32 start = m_block_start[blk], end = m_block_start[blk + 1];
                    work += (end - start) + m_words + (m_cover_start[blk + 1] - m_cover_start[blk]);
                    if (work > work_limit)
                        return fail(kVerifyNone, "the function is too complex to verify");
                    if (!block(blk, start, end, current))
                        return false;
                }
            }
            for (u32 w = 0; w < set_words && !pending; w++)
                pending = m_queued[w] != 0;
        }
        return true;
    }

    // The data flow through block [blk], pcs [start, end), from its entry
    // state (into [current]) to its successors' states.
    bool block(u32 blk, u32 start, u32 end, u64* current)
    {
        const Function* f = m_f;
        mem_copy(current, state(blk), sizeof(u64) * m_words);
        // A throw anywhere in a handler's range reaches its target with
        // at least what was set at the block's start.
        for (u32 i = m_cover_start[blk]; i < m_cover_start[blk + 1]; i++) {
            const Handler& h = f->handlers[m_cover[i]];
            join(m_block_of[h.target], current, h.reg);
        }
        u32 pc = start;
        bool falls = true;
        while (pc < end) {
            const Insn& in = f->code[pc];
            if (!reads_set(pc, current))
                return false;
            writes(pc, current);
            const char* fmt = opcode_format(in.op);
            for (u32 pos = 0; pos < 4; pos++)
                if (is_jump_letter(fmt[pos]))
                    join(m_block_of[(u32)((i64)pc + 1 + operand_value(in, fmt, pos))], current, kVerifyNone);
            falls = !ends_block(in.op);
            pc += 1 + (fmt[2] == 'n' ? call_arg_words(in.c) : 0);
        }
        if (falls && end < f->code_size)
            join(blk + 1, current, kVerifyNone);
        return true;
    }

    const Program& m_p;
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
    u64* m_states { nullptr };      // Per block: entry state, m_words words (one more: the current state).
    u32 m_words { 0 };
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
    for (u32 i = 0; i < p.class_count; i++) {
        const RtClass* c = p.classes[i];
        if (!c || c->id != i || !c->name || !c->null_instance)
            return fail(error, kVerifyNone, "a class is missing or misnumbered");
        const RtClass* s = c->super;
        if (i == ClassObject ? (s || c->depth) : (!s || s->id >= p.class_count || p.classes[s->id] != s
                || c->depth != s->depth + 1))
            return fail(error, kVerifyNone, "a class's superclass chain is broken");
        if (c->field_count && (!c->field_kinds || !c->field_defaults || !c->field_names))
            return fail(error, kVerifyNone, "a class's field tables are missing");
        for (u32 f = 0; f < c->field_count; f++)
            if (c->field_kinds[f] > KindRef)
                return fail(error, kVerifyNone, "a field's kind is not int, boolean or reference");
        if (s && (c->field_count < s->field_count || c->vtable_size < s->vtable_size))
            return fail(error, kVerifyNone, "a class has fewer fields or methods than its superclass");
        for (u32 f = 0; s && f < s->field_count; f++)
            if ((c->field_kinds[f] == KindRef) != (s->field_kinds[f] == KindRef))
                return fail(error, kVerifyNone, "an inherited field changed its kind");
        if (c->vtable_size && !c->vtable)
            return fail(error, kVerifyNone, "a class's vtable is missing");
        for (u32 m = 0; m < c->vtable_size; m++) {
            if (c->vtable[m] >= p.function_count || !p.functions[c->vtable[m]])
                return fail(error, kVerifyNone, "a vtable entry is not a function");
            const Function* fn = p.functions[c->vtable[m]];
            if (fn->param_count == 0 || !fn->ref_param_count || fn->ref_registers[0] != 0)
                return fail(error, kVerifyNone, "a method does not take its receiver first");
            if (s && m < s->vtable_size && !same_signature(fn, p.functions[s->vtable[m]]))
                return fail(error, kVerifyNone, "an override changed the signature of its method");
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
    return true;
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
        // The class checks compare signatures through the register maps:
        // their sizes first (the rest of the frame comes with the code).
        if (f->ref_register_count > f->register_count || f->ref_param_count > f->ref_register_count
            || (f->ref_register_count && !f->ref_registers))
            return fail(error, i, "the register map is larger than the frame");
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
    for (u32 i = 0; i < program.function_count; i++) {
        FunctionVerifier check(program, memory, i, error, native_count, natives, max_vtable);
        if (!check.run())
            return false;
    }
    return true;
}

}
