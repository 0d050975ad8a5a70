#include "Disasm.h"

#include "Natives.h"

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
            if (*fmt)
                pad(out, start, 30);
            bool first = true;
            auto sep = [&]() {
                if (!first)
                    out.append(", ");
                first = false;
            };
            u32 argc = 0;
            for (const char* c = fmt; *c; c++) {
                if (*c == 'o')
                    out.append(" ");
                else
                    sep();
                switch (*c) {
                case 'a': out.append("r"); out.append_int(insn.a); break;
                case 'b': out.append("r"); out.append_int(insn.b); break;
                case 'c': out.append("r"); out.append_int(insn.c); break;
                case 'x': out.append("field "); out.append_int(insn.c); break;
                case 'y': out.append("field "); out.append_int(insn.b); break;
                case 's': out.append_int(insn.sc()); break;
                case 'i': out.append_int(insn.imm()); break;
                case 'g': out.append("g"); out.append_int(insn.imm()); out.append(" ");
                    out.append(p.global_names && (u32)insn.imm() < p.global_count ? p.global_names[insn.imm()] : "?");
                    break;
                case 'k':
                    if (insn.op == Op::NewArray)
                        constant(p, insn.c, out);
                    else
                        constant(p, (u32)insn.imm(), out);
                    break;
                case 'K': constant(p, insn.c, out); break;
                case 'L': constant(p, insn.b, out); break;
                case 'j': out.append("-> "); out.append_int((i64)pc + 1 + insn.imm()); break;
                case 'o': out.append("-> "); out.append_int((i64)pc + 1 + insn.off()); break;
                case 'f':
                    out.append(insn.b < p.function_count && p.functions[insn.b] ? p.functions[insn.b]->name : "?");
                    break;
                case 'v': out.append("slot "); out.append_int(insn.b); break;
                case 'N':
                    if (insn.b < native_count) {
                        out.append(natives[insn.b].owner);
                        if (natives[insn.b].owner[str_length(natives[insn.b].owner) - 1] != '.')
                            out.append("#");
                        out.append(natives[insn.b].name);
                    }
                    break;
                case 'C':
                    out.append(insn.b < p.class_count && p.classes[insn.b] ? p.classes[insn.b]->name : "?");
                    break;
                case 'n': {
                    argc = insn.c;
                    out.append("(");
                    for (u32 i = 0; i < argc; i++) {
                        if (i)
                            out.append(", ");
                        out.append("r");
                        out.append_int(call_arg(&insn, i));
                    }
                    out.append(")");
                    break;
                }
                default: break;
                }
            }
            if (insn.op == Op::InstanceOf || insn.op == Op::Cast) {
                out.append(" ");
                out.append(insn.c < p.class_count ? p.classes[insn.c]->name : "?");
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
