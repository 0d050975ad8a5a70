// The bytecode verifier: a compiled program is checked before it may run.
//
// The compiler is the only producer of bytecode, so a failure here is a bug
// of the compiler, not of the script. The interpreter trusts its operands
// (that is what makes it fast); this pass makes that trust safe: a compiler
// bug becomes a refused load instead of a read or write outside a frame,
// the constant pool or the code.
#include "Verify.h"

#include "Natives.h"

namespace ks {

namespace {

struct FunctionVerifier {
    const Program& p;
    const Function* f;
    u32 native_count;
    u32 max_vtable;
    u32 max_fields;

    bool reg(u32 r) const { return r < f->register_count; }
    // A call's result register: a frame of no registers still has one slot
    // above it (the VM keeps it), where a void call's unused result goes.
    bool result_reg(u32 r) const { return r < (f->register_count ? f->register_count : 1u); }
    bool constant(u32 k) const { return k < p.constant_count; }
    bool target(u32 pc, i64 offset) const
    {
        i64 t = (i64)pc + 1 + offset;
        return t >= 0 && t < (i64)f->code_size;
    }

    bool insn(u32 pc, u32* skip) const
    {
        const Insn& in = f->code[pc];
        if ((u32)in.op >= (u32)Op::Count)
            return false;
        Op op = in.op;
        bool call = op == Op::Call || op == Op::CallMethod || op == Op::CallValue || op == Op::Call1
            || op == Op::CallMethod1 || op == Op::CallNative;
        for (const char* c = opcode_format(op); *c; c++) {
            bool ok = true;
            switch (*c) {
            case 'a':
                if (op == Op::Raise)
                    ok = in.a < p.class_count;
                else if (call)
                    ok = (op == Op::CallNative && !in.x) || result_reg(in.a);
                else
                    ok = reg(in.a);
                break;
            case 'b': ok = reg(in.b); break;
            case 'c': ok = reg(in.c); break;
            case 'k': ok = constant(op == Op::NewArray ? in.c : (u32)in.imm()); break;
            case 'K': ok = constant(in.c); break;
            case 'L': ok = constant(in.b); break;
            case 'g': ok = (u32)in.imm() < p.global_count; break;
            case 'j': ok = target(pc, in.imm()); break;
            case 'o': ok = target(pc, in.off()); break;
            case 'f': ok = in.b < p.function_count && p.functions[in.b]; break;
            case 'v': ok = in.b < max_vtable; break;
            case 'N': ok = in.b < native_count; break;
            case 'C': ok = in.b < p.class_count; break;
            case 'x': ok = in.c < max_fields; break;
            case 'y': ok = in.b < max_fields; break;
            case 'n': {
                u32 argc = in.c;
                u32 words = call_arg_words(argc);
                if (pc + words >= f->code_size)
                    return false;
                for (u32 i = 0; i < argc && ok; i++)
                    ok = reg(call_arg(&in, i));
                *skip = words;
                break;
            }
            default: break;   // 'i', 's': immediates.
            }
            if (!ok)
                return false;
        }
        if (op == Op::InstanceOf || op == Op::Cast)
            return in.c < p.class_count;
        // Division by a constant has no checks at run time: the constant
        // must be an int other than 0 and -1 (which would trap).
        if (op == Op::DivK || op == Op::ModK)
            return p.constant_kinds[in.c] == KindInt && p.constants[in.c] != 0 && (i64)p.constants[in.c] != -1;
        return true;
    }

    // On failure [bad_pc] is the failing instruction, or 0 when what fails
    // is not one instruction.
    bool function(u32* bad_pc) const
    {
        *bad_pc = 0;
        if (!f->code || !f->code_size)
            return false;
        for (u32 pc = 0; pc < f->code_size; pc++) {
            u32 skip = 0;
            if (!insn(pc, &skip)) {
                *bad_pc = pc;
                return false;
            }
            pc += skip;
        }
        // Control cannot run off the end.
        Op last = f->code[f->code_size - 1].op;
        if (last != Op::Return && last != Op::ReturnVoid && last != Op::Jump && last != Op::Loop
            && last != Op::Throw && last != Op::Raise)
            return false;
        for (u32 i = 0; i < f->handler_count; i++) {
            const Handler& h = f->handlers[i];
            if (h.start > h.end || h.end > f->code_size || h.target >= f->code_size || !reg(h.reg))
                return false;
        }
        for (u32 i = 0; i < f->ref_register_count; i++)
            if (!reg(f->ref_registers[i]))
                return false;
        return f->param_count <= f->register_count;
    }
};

}

bool verify_program(const Program& program, u32* bad_function, u32* bad_pc)
{
    u32 native_count;
    native_table(&native_count);
    u32 max_vtable = 0;
    u32 max_fields = 0;
    for (u32 i = 0; i < program.class_count; i++) {
        const RtClass* c = program.classes[i];
        if (!c)
            return false;
        max_vtable = max(max_vtable, c->vtable_size);
        max_fields = max(max_fields, c->field_count);
        for (u32 s = 0; s < c->vtable_size; s++)
            if (c->vtable[s] >= program.function_count || !program.functions[c->vtable[s]])
                return false;
    }
    if (program.main_function >= program.function_count)
        return false;
    for (u32 i = 0; i < program.function_count; i++) {
        const Function* f = program.functions[i];
        if (!f)
            return false;
        FunctionVerifier check { program, f, native_count, max_vtable, max_fields };
        if (!check.function(bad_pc)) {
            *bad_function = i;
            return false;
        }
    }
    return true;
}

}
