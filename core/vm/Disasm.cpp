#include "Disasm.h"

#include "Natives.h"
#include "Vm.h"

namespace ks {

const char* opcode_name(Op op)
{
    static const char* const kNames[] = {
#define KS_OPCODE_NAME(name, format, doc) #name,
        KS_OPCODES(KS_OPCODE_NAME)
#undef KS_OPCODE_NAME
    };
    return (u32)op < (u32)Op::Count ? kNames[(u32)op] : "?";
}

const char* opcode_format(Op op)
{
    static const char* const kFormats[] = {
#define KS_OPCODE_FORMAT(name, format, doc) format,
        KS_OPCODES(KS_OPCODE_FORMAT)
#undef KS_OPCODE_FORMAT
    };
    return (u32)op < (u32)Op::Count ? kFormats[(u32)op] : "";
}

static void pad(StringBuilder& out, usize from, usize width)
{
    // A failed builder stops growing: stop too.
    while (out.size() < from + width && !out.has_failed())
        out.append_char(' ');
}

static void constant(const Program& p, u32 index, StringBuilder& out)
{
    if (index >= p.constant_count) {
        out.append("?");
        return;
    }
    u64 v = p.constants[index];
    if (p.constant_kinds[index] != KindRef) {
        out.append_int((i64)v);
        return;
    }
    ObjHeader* o = as_obj(v);
    if (!o) {
        out.append("0");
        return;
    }
    if (o->flags & ObjNull) {
        out.append("null");
        return;
    }
    if (o->kind == ObjKind::String) {
        StringObj* s = reinterpret_cast<StringObj*>(o);
        out.append("\"");
        for (u32 i = 0; i < s->byte_length && i < 40; i++) {
            char c = s->bytes[i];
            if (c == '\n')
                out.append("\\n");
            else if (c == '"')
                out.append("\\\"");
            else
                out.append_char(c);
        }
        if (s->byte_length > 40)
            out.append("...");
        out.append("\"");
    } else if (o->kind == ObjKind::Func) {
        out.append("<function ");
        out.append(p.functions[o->aux] ? p.functions[o->aux]->name : "?");
        out.append(">");
    } else {
        out.append("<object>");
    }
}

void disassemble(const Program& p, StringBuilder& out)
{
    u32 native_count;
    const NativeInfo* natives = native_table(&native_count);
    for (u32 fi = 0; fi < p.function_count; fi++) {
        const Function* f = p.functions[fi];
        if (!f || f->builtin)
            continue;
        out.append("function ");
        out.append(f->name);
        out.append(" (");
        out.append_int(f->param_count);
        out.append(" params, ");
        out.append_int(f->register_count);
        out.append(" registers)\n");
        for (u32 pc = 0; pc < f->code_size && !out.has_failed(); pc++) {
            const Insn& insn = f->code[pc];
            if (insn.op == Op::Args)
                continue;
            usize start = out.size();
            out.append("  ");
            out.append_int(pc);
            pad(out, start, 8);
            out.append("[");
            out.append_int(f->lines[pc]);
            out.append("]");
            pad(out, start, 16);
            out.append(opcode_name(insn.op));
            const char* fmt = opcode_format(insn.op);
            // One operand per letter of the format (Opcodes.h's legend):
            // registers as rN, indexes by name, jumps as "-> target"; the
            // letters of kinds and flags ('x', 'X', 'e') print nothing.
            bool first = true;
            for (u32 pos = 0; pos < 4; pos++) {
                char letter = fmt[pos];
                if (letter == '-' || letter == '=' || letter == 'x' || letter == 'X' || letter == 'e')
                    continue;
                i64 v = operand_value(insn, fmt, pos);
                if (first)
                    pad(out, start, 30);
                if (is_jump_letter(letter)) {
                    out.append(first ? "-> " : " -> ");
                    out.append_int((i64)pc + 1 + v);
                    first = false;
                    continue;
                }
                if (!first)
                    out.append(", ");
                first = false;
                if (is_register_letter(letter)) {
                    out.append("r");
                    out.append_int(v);
                    continue;
                }
                if (is_constant_letter(letter)) {
                    constant(p, (u32)v, out);
                    continue;
                }
                switch (letter) {
                case 'g':
                case 'G':
                    out.append("g");
                    out.append_int(v);
                    out.append(" ");
                    out.append(p.global_names && (u64)v < p.global_count ? p.global_names[v] : "?");
                    break;
                case 'f': out.append("field "); out.append_int(v); break;
                case 't': out.append("slot "); out.append_int(v); break;
                case 'm':
                    // A type index (CastType, IsType): by name.
                    if ((u64)v < p.type_count)
                        append_type_name(out, &p, p.type_code((u32)v));
                    else
                        out.append("?");
                    break;
                case 'F': out.append((u64)v < p.function_count && p.functions[v] ? p.functions[v]->name : "?"); break;
                case 'C': out.append((u64)v < p.class_count && p.classes[v] ? p.classes[v]->name : "?"); break;
                case 'N':
                    if ((u64)v < native_count) {
                        out.append(natives[v].owner);
                        if (natives[v].owner[str_length(natives[v].owner) - 1] != '.')
                            out.append("#");
                        out.append(natives[v].name);
                    } else {
                        out.append("?");
                    }
                    break;
                case 'n': {
                    // The registers of the Args words that follow, when
                    // they are inside the code.
                    out.append("(");
                    for (u32 i = 0; i < (u32)v && pc + 1 + i / 3 < f->code_size; i++) {
                        if (i)
                            out.append(", ");
                        out.append("r");
                        out.append_int(call_arg(&insn, i));
                    }
                    out.append(")");
                    break;
                }
                default: out.append_int(v); break;   // 'z', 'h': numbers.
                }
            }
            out.append("\n");
        }
        for (u32 i = 0; i < f->handler_count; i++) {
            out.append("  handler [");
            out.append_int(f->handlers[i].start);
            out.append(", ");
            out.append_int(f->handlers[i].end);
            out.append(") -> ");
            out.append_int(f->handlers[i].target);
            out.append(" r");
            out.append_int(f->handlers[i].reg);
            out.append("\n");
        }
        out.append("\n");
    }
}

}
