#include "Vm.h"

#include "Natives.h"

namespace ks {

static constexpr u32 kInitialStack = 48;    // 384 bytes, like the frames: grows on demand.
static constexpr u32 kInitialFrames = 16;
static constexpr u32 kMaxFormatDepth = 8;
// Callbacks from natives into scripts (sort(Func), toString() of elements)
// nested in each other: each holds one interpreter frame of native stack.
static constexpr u32 kMaxNestedRuns = 4;
static constexpr u32 kMaxNestedRunsAtomic = 1;
static constexpr i64 kCollectionUnits = 64;   // The fixed part of a collection (about a microsecond).

void free_program(Memory*, Program* p)
{
    p->arena.release();
    mem_set(p, 0, sizeof(*p));
}

static InstanceObj* make_exception(Heap* heap, Program* p, u32 class_id, const char* message)
{
    RtClass* k = p->classes[class_id];
    InstanceObj* e = heap->new_instance(k);
    StringObj* m = heap->new_string(message, str_length(message));
    if (!e || !m)
        return nullptr;
    // Ordinary objects, kept alive as roots of every collection: a script
    // that catches one may store new objects in its fields, which the
    // collector must see (a permanent object is never scanned).
    if (k->message_field >= 0)
        e->fields[k->message_field] = from_obj(m);
    return e;
}

bool Vm::init(Memory* memory, Heap* heap, Program* program, const VmLimits& limits, const VmHooks& hooks,
    bool transcript)
{
    m_memory = memory;
    m_heap = heap;
    m_program = program;
    m_limits = limits;
    m_entry_budget = limits.budget;
    m_atomic = false;
    m_nested_runs = 0;
    m_collection_holds = 0;
    m_hooks = hooks;
    m_transcript = transcript;
    m_stack = nullptr;
    m_stack_size = 0;
    m_frames = nullptr;
    m_frame_count = 0;
    m_frame_capacity = 0;
    m_frame_limit = 0;
    m_exception = 0;
    m_exception_placed = 0;
    m_exception_line = 0;
    m_charged = m_calls = m_exceptions_raised = 0;
    m_allocated_seen = 0;
    m_interrupted = false;
    m_pinned.set_memory(memory);
    m_oom_exception = make_exception(heap, program, ClassOutOfMemoryException, "out of memory");
    m_budget_exception = make_exception(heap, program, ClassBudgetExceededException, "instruction budget exceeded");
    m_overflow_exception = make_exception(heap, program, ClassStackOverflowException, "call depth limit reached");
    InstanceObj* preallocated[3] = { m_oom_exception, m_budget_exception, m_overflow_exception };
    for (u32 i = 0; i < 3; i++) {
        RtClass* k = preallocated[i] ? preallocated[i]->klass : nullptr;
        m_preallocated_messages[i] = k && k->message_field >= 0 ? preallocated[i]->fields[k->message_field] : 0;
    }
    m_stack = static_cast<u64*>(memory->alloc_zeroed(sizeof(u64) * kInitialStack));
    m_frames = static_cast<Frame*>(memory->alloc(sizeof(Frame) * kInitialFrames));
    if (!m_stack || !m_frames || !m_oom_exception || !m_budget_exception || !m_overflow_exception)
        return false;
    m_stack_size = kInitialStack;
    m_frame_capacity = kInitialFrames;
    m_frame_limit = min(m_frame_capacity, limits.max_depth);
    return true;
}

void Vm::destroy()
{
    m_memory->free(m_stack);
    m_memory->free(m_frames);
    if (m_trace)
        m_memory->free(m_trace);
    m_trace = nullptr;
    m_trace_count = 0;
    m_pinned.release();
    m_stack = nullptr;
    m_frames = nullptr;
}

const char* Vm::exception_class() const
{
    if (!m_exception)
        return "";
    InstanceObj* e = reinterpret_cast<InstanceObj*>(as_obj(m_exception));
    return e->klass->name;
}

usize Vm::exception_message(char* out, usize size) const
{
    if (!size)
        return 0;
    out[0] = 0;
    if (!m_exception)
        return 0;
    InstanceObj* e = reinterpret_cast<InstanceObj*>(as_obj(m_exception));
    if (e->klass->message_field < 0)
        return 0;
    StringObj* m = reinterpret_cast<StringObj*>(as_obj(e->fields[e->klass->message_field]));
    usize n = m->byte_length < size - 1 ? m->byte_length : size - 1;
    mem_copy(out, m->bytes, n);
    out[n] = 0;
    return m->byte_length;
}

StringObj* Vm::new_string(const char* bytes, usize length)
{
    StringObj* s = m_heap->new_string(bytes, length);
    if (!s)
        raise_out_of_memory();
    return s;
}

u32 Vm::line_of(Function* f, u32 pc) const
{
    if (!f || !f->code_size)
        return 0;
    if (pc >= f->code_size)
        pc = f->code_size - 1;
    return f->lines[pc];
}

u32 Vm::current_line() const
{
    for (u32 i = m_frame_count; i-- > 0;) {
        const Frame& f = m_frames[i];
        if (!f.function->builtin)
            return line_of(f.function, f.pc ? f.pc - 1 : 0);
    }
    return 0;
}

// A preallocated exception is raised again and again: a handler that
// changed its message must not change the next one's.
InstanceObj* Vm::reset_preallocated(InstanceObj* e)
{
    RtClass* k = e->klass;
    if (k->message_field >= 0) {
        u32 slot = e == m_oom_exception ? 0 : e == m_budget_exception ? 1 : 2;
        e->fields[k->message_field] = m_preallocated_messages[slot];
    }
    return e;
}

bool Vm::raise(u32 builtin_class, const char* message)
{
    InstanceObj* e = nullptr;
    if (builtin_class == ClassOutOfMemoryException) {
        e = reset_preallocated(m_oom_exception);
    } else if (builtin_class == ClassBudgetExceededException) {
        e = reset_preallocated(m_budget_exception);
    } else if (builtin_class == ClassStackOverflowException) {
        e = reset_preallocated(m_overflow_exception);
    } else {
        RtClass* k = m_program->classes[builtin_class];
        e = m_heap->new_instance(k);
        StringObj* m = e ? m_heap->new_string(message, str_length(message)) : nullptr;
        if (!e || !m)
            e = reset_preallocated(m_oom_exception);
        else if (k->message_field >= 0)
            e->fields[k->message_field] = from_obj(m);
    }
    m_exception = from_obj(e);
    m_exceptions_raised++;
    return false;
}

bool Vm::raise_index(const char* what, i64 index, i64 length)
{
    StringBuilder sb(m_memory);
    sb.append(what);
    sb.append(": index ");
    sb.append_int(index);
    sb.append(", length ");
    sb.append_int(length);
    return sb.has_failed() ? raise_out_of_memory() : raise(ClassOutOfBoundsException, sb.data());
}

bool Vm::raise_quoting(u32 builtin_class, const char* message, const char* text, usize length)
{
    StringBuilder sb(m_memory);
    sb.append(message);
    sb.append(": \"");
    for (usize i = 0; i < length && i < 40; i++)
        sb.append_char((unsigned char)text[i] < 0x20 ? '?' : text[i]);
    sb.append(length > 40 ? "...\"" : "\"");
    return sb.has_failed() ? raise_out_of_memory() : raise(builtin_class, sb.data());
}

// Appends the name of the type coded [code] (Program::type_code()) to [sb]:
// "int", "String[]", "Map[String, int]", "Func[int, String]". Nested types
// are named at most 4 deep ("..." below) and a function's parameters at
// most 8, so a hostile type table cannot make the message large or the
// native stack deep.
void append_type_name(StringBuilder& sb, const Program* p, u32 code, u32 depth)
{
    if (code >= 0xfffffff0u) {
        TypeSort sort = (TypeSort)(code - 0xfffffff0u);
        sb.append(sort == TypeSort::Int ? "int" : sort == TypeSort::Bool ? "boolean" : sort == TypeSort::String ? "String" : "Bytes");
        return;
    }
    if (code & Program::kTypeCodeClass) {
        u32 id = code & ~Program::kTypeCodeClass;
        sb.append(id < p->class_count ? p->classes[id]->name : "?");
        return;
    }
    if (depth >= 4) {
        sb.append("...");
        return;
    }
    const TypeEntry& e = p->types[code];
    switch (e.sort) {
    case TypeSort::Void: sb.append("void"); return;
    case TypeSort::Array:
        append_type_name(sb, p, p->type_code(e.a), depth + 1);
        sb.append("[]");
        return;
    case TypeSort::Map:
        sb.append("Map[");
        append_type_name(sb, p, p->type_code(e.a), depth + 1);
        sb.append(", ");
        append_type_name(sb, p, p->type_code(e.b), depth + 1);
        sb.append("]");
        return;
    case TypeSort::Func:
        sb.append("Func[");
        append_type_name(sb, p, p->type_code(e.a), depth + 1);
        for (u32 i = 0; i < e.param_count; i++) {
            sb.append(", ");
            if (i == 8) {
                sb.append("...");
                break;
            }
            append_type_name(sb, p, p->type_code(p->type_params[e.b + i]), depth + 1);
        }
        sb.append("]");
        return;
    default: append_type_name(sb, p, p->type_code(code), depth); return;
    }
}

// Whether function [f] takes and returns what function type [e] says:
// the same count of parameters, each of the same type code, and the same
// result.
static bool has_signature(const Program* p, const Function* f, const TypeEntry& e)
{
    if (f->param_count != e.param_count || p->type_code(f->return_type) != p->type_code(e.a))
        return false;
    for (u32 i = 0; i < e.param_count; i++)
        if (p->type_code(f->param_types[i]) != p->type_code(p->type_params[e.b + i]))
            return false;
    return true;
}

bool Vm::has_type(u64 value, u32 t) const
{
    const Program* p = m_program;
    ObjHeader* o = as_obj(value);
    const TypeEntry& e = p->types[t];
    if (o->flags & ObjNull)
        return false;
    switch (e.sort) {
    case TypeSort::String: return o->kind == ObjKind::String;
    case TypeSort::Bytes: return o->kind == ObjKind::Bytes;
    case TypeSort::Array:
        return o->kind == ObjKind::Array && reinterpret_cast<ArrayObj*>(o)->elem_type == p->type_code(e.a);
    case TypeSort::Map: {
        if (o->kind != ObjKind::Map)
            return false;
        const TypeEntry& m = p->types[reinterpret_cast<MapObj*>(o)->type];
        return p->type_code(m.a) == p->type_code(e.a) && p->type_code(m.b) == p->type_code(e.b);
    }
    case TypeSort::Func:
        return o->kind == ObjKind::Func && o->aux < p->function_count && has_signature(p, p->functions[o->aux], e);
    default: return false;
    }
}

// Appends the name of the type of [value] (not null) to [sb]: its class
// ("Dog", "int" for a boxed int), "String", "Bytes", "int[]", "Map[String,
// int]", "Func[int, int]".
static void append_value_type(StringBuilder& sb, const Program* p, u64 value)
{
    ObjHeader* o = as_obj(value);
    switch (o->kind) {
    case ObjKind::String: sb.append("String"); break;
    case ObjKind::Bytes: sb.append("Bytes"); break;
    case ObjKind::Instance: sb.append(reinterpret_cast<InstanceObj*>(o)->klass->name); break;
    case ObjKind::Array:
        append_type_name(sb, p, reinterpret_cast<ArrayObj*>(o)->elem_type, 1);
        sb.append("[]");
        break;
    case ObjKind::Map: append_type_name(sb, p, reinterpret_cast<MapObj*>(o)->type, 0); break;
    default: {
        // A function: its signature.
        const Function* f = o->aux < p->function_count ? p->functions[o->aux] : nullptr;
        sb.append("Func[");
        if (f) {
            append_type_name(sb, p, p->type_code(f->return_type), 1);
            for (u32 i = 0; i < f->param_count && i < 8; i++) {
                sb.append(", ");
                append_type_name(sb, p, p->type_code(f->param_types[i]), 1);
            }
            if (f->param_count > 8)
                sb.append(", ...");
        }
        sb.append("]");
        break;
    }
    }
}

// TypeCastException naming both types: "Dog cannot be cast to Cat".
bool Vm::raise_cast(u64 value, RtClass* target)
{
    StringBuilder sb(m_memory);
    append_value_type(sb, m_program, value);
    sb.append(" cannot be cast to ");
    sb.append(target->name);
    return sb.has_failed() ? raise_out_of_memory() : raise(ClassTypeCastException, sb.data());
}

bool Vm::raise_type_cast(u64 value, u32 target)
{
    StringBuilder sb(m_memory);
    append_value_type(sb, m_program, value);
    sb.append(" cannot be cast to ");
    append_type_name(sb, m_program, target, 0);
    return sb.has_failed() ? raise_out_of_memory() : raise(ClassTypeCastException, sb.data());
}

// The stack trace of the exception being raised: the script frames from the
// innermost down to the entry's, built-in (prelude) ones left out, at most
// kMaxTrace of them; a bounded walk (4 * kMaxTrace frames looked at), so
// that an exception costs the same at any call depth.
void Vm::record_trace(u32 entry_depth)
{
    m_trace_count = 0;
    m_trace_omitted = 0;
    // Made at the first exception, not with the VM: most scripts never need
    // it, and the state's page has no room to spare. Without memory there
    // is simply no trace.
    if (!m_trace)
        m_trace = static_cast<TraceEntry*>(m_memory->alloc(sizeof(TraceEntry) * kMaxTrace));
    if (!m_trace)
        return;
    u32 looked = 0;
    u32 i = m_frame_count;
    while (i-- > entry_depth && m_trace_count < kMaxTrace && looked++ < 4 * kMaxTrace) {
        Frame& f = m_frames[i];
        if (f.function->builtin)
            continue;
        m_trace[m_trace_count++] = TraceEntry { f.function->name, line_of(f.function, f.pc ? f.pc - 1 : 0) };
    }
    m_trace_omitted = i + 1 > entry_depth ? i + 1 - entry_depth : 0;
}

bool Vm::pin(u64 value) { return m_pinned.try_append(value); }

void Vm::unpin(u64 value)
{
    for (u32 i = 0; i < m_pinned.size(); i++) {
        if (m_pinned[i] == value) {
            m_pinned[i] = m_pinned.last();
            m_pinned.pop();
            return;
        }
    }
}

void Vm::collect_garbage()
{
    m_heap->begin_collection();
    u64 roots = m_program->global_count + m_pinned.size();
    for (u32 i = 0; i < m_frame_count; i++) {
        Frame& f = m_frames[i];
        Function* fn = f.function;
        u64* regs = m_stack + f.base;
        roots += fn->ref_register_count;
        for (u32 j = 0; j < fn->ref_register_count; j++)
            m_heap->mark_value(regs[fn->ref_registers[j]]);
    }
    for (u32 i = 0; i < m_program->global_count; i++)
        if (m_program->global_kinds[i] == KindRef)
            m_heap->mark_value(m_program->globals[i]);
    for (u64 v : m_pinned)
        m_heap->mark_value(v);
    m_heap->mark_value(m_exception);
    m_heap->mark_value(from_obj(m_oom_exception));
    m_heap->mark_value(from_obj(m_budget_exception));
    m_heap->mark_value(from_obj(m_overflow_exception));
    for (u64 message : m_preallocated_messages)
        m_heap->mark_value(message);
    m_heap->finish_collection();
    // A collection costs budget in proportion to what it read: one unit per
    // 16 bytes of object headers swept, references and map entries scanned
    // and roots, plus its fixed cost. A script that keeps its heap near the
    // quota and allocates on, so that every allocation collects, pays for
    // each collection (counting objects undercharged a few large ones).
    m_budget -= (i64)((m_heap->collection_work() + roots * sizeof(u64)) >> 4) + kCollectionUnits;
}

KS_NOINLINE bool Vm::grow_stack(u32 needed)
{
    if (needed > m_limits.max_stack)
        return false;
    u32 size = m_stack_size;
    while (size < needed)
        size *= 2;
    if (size > m_limits.max_stack)
        size = m_limits.max_stack;
    u64* stack = static_cast<u64*>(m_memory->alloc(sizeof(u64) * size));
    if (!stack)
        return false;
    mem_copy(stack, m_stack, sizeof(u64) * m_stack_size);
    m_memory->free(m_stack);
    m_stack = stack;
    m_stack_size = size;
    return true;
}

bool Vm::push_frame(Function* f, u32 base, u16 result)
{
    if (m_frame_count >= m_limits.max_depth)
        return raise(ClassStackOverflowException, "");
    if (m_frame_count == m_frame_capacity) {
        u32 capacity = m_frame_capacity * 2;
        Frame* frames = static_cast<Frame*>(m_memory->alloc(sizeof(Frame) * capacity));
        // In a hook, where one allocation is at most 32 KiB, the frames
        // that fit are the depth limit.
        if (!frames && m_atomic)
            return raise(ClassStackOverflowException, "");
        if (!frames)
            return raise_out_of_memory();
        mem_copy(frames, m_frames, sizeof(Frame) * m_frame_count);
        m_memory->free(m_frames);
        m_frames = frames;
        m_frame_capacity = capacity;
        m_frame_limit = min(capacity, m_limits.max_depth);
    }
    if (!ensure_stack(base + f->register_count + 1))
        return raise(ClassStackOverflowException, "");
    enter_frame(f, base, result);
    return true;
}

// The budget ran below the next poll mark: poll the host, or stop when the
// budget is spent.
bool Vm::poll_or_exhausted()
{
    if (m_budget < 0 || m_interrupted)
        return false;
    if (m_hooks.poll && !m_hooks.poll(m_hooks.context)) {
        m_interrupted = true;
        return false;
    }
    m_next_poll = m_budget - m_limits.poll_interval;
    if (m_next_poll < 0)
        m_next_poll = 0;
    return true;
}

// charge_checked() below the poll mark: poll, or raise the preallocated
// budget exception for the native to return with (as budget_exhausted: in
// execute() does for instructions).
KS_NOINLINE bool Vm::charge_slow()
{
    if (poll_or_exhausted())
        return true;
    return raise(ClassBudgetExceededException, "");
}

bool Vm::charge_allocations_checked()
{
    u64 total = m_memory->allocated_total();
    u64 bytes = total - m_allocated_seen;
    m_allocated_seen = total;
    return charge_checked(bytes >> 4);
}

// The display form of a value: what System.p prints and `"" + value`
// gives. Nothing is cut: the text is as long as the value needs, and what
// stops it is the memory quota (OutOfMemoryException) or the budget, which
// each element charges as it is visited, checked, so that a container that
// holds itself many times (50 references to itself, printed 8 deep, is 50^8
// elements) stops in time. Strings inside containers are quoted, as
// Konoha prints them (["hello", "new"]). The recursion is bounded by
// kMaxFormatDepth: deeper containers print as [...] or {...}, which is also
// how a container that contains itself shows.
bool Vm::format_value(StringBuilder& out, u64 value, u8 kind, u32 depth)
{
    if (!format_text(out, value, kind, depth))
        return false;
    if (KS_UNLIKELY(out.has_failed()))
        return raise_out_of_memory();
    return true;
}

// format_value() without the check for memory; returns false as soon as
// the budget stops it (the exception is then pending).
bool Vm::format_text(StringBuilder& out, u64 value, u8 kind, u32 depth)
{
    if (kind == KindInt) {
        out.append_int((i64)value);
        return true;
    }
    if (kind == KindBool) {
        out.append(value ? "true" : "false");
        return true;
    }
    ObjHeader* o = as_obj(value);
    if (!o) {
        out.append("null");
        return true;
    }
    switch (o->kind) {
    case ObjKind::String: {
        StringObj* s = reinterpret_cast<StringObj*>(o);
        if (depth && (o->flags & ObjNull)) {
            out.append("null");
        } else if (depth) {
            out.append_char('"');
            out.append(s->bytes, s->byte_length);
            out.append_char('"');
        } else {
            out.append(s->bytes, s->byte_length);
        }
        return true;
    }
    case ObjKind::Array: {
        ArrayObj* a = reinterpret_cast<ArrayObj*>(o);
        if (depth >= kMaxFormatDepth) {
            out.append("[...]");
            return true;
        }
        out.append("[");
        for (u32 i = 0; i < a->size && !out.has_failed(); i++) {
            if (!charge_checked(1))
                return false;
            if (i)
                out.append(", ");
            if (!format_text(out, a->items[i], o->elem_kind, depth + 1))
                return false;
        }
        out.append("]");
        return true;
    }
    case ObjKind::Map: {
        MapObj* m = reinterpret_cast<MapObj*>(o);
        if (depth >= kMaxFormatDepth) {
            out.append("{...}");
            return true;
        }
        out.append("{");
        bool first = true;
        for (u32 i = 0; i < m->used && !out.has_failed(); i++) {
            if (!charge_checked(1))   // Removed entries too: they cost the walk and print nothing.
                return false;
            if (!m->entries[i].hash)
                continue;
            if (!first)
                out.append(", ");
            first = false;
            if (!format_text(out, m->entries[i].key, (u8)o->aux, depth + 1))
                return false;
            out.append(": ");
            if (!format_text(out, m->entries[i].value, o->elem_kind, depth + 1))
                return false;
        }
        out.append("}");
        return true;
    }
    case ObjKind::Bytes: {
        BytesObj* b = reinterpret_cast<BytesObj*>(o);
        static const char hex[] = "0123456789abcdef";
        out.append("Bytes[");
        if (!charge_checked((u64)b->size >> 2))
            return false;
        for (u32 i = 0; i < b->size && !out.has_failed(); i++) {
            char h[3] = { hex[b->data[i] >> 4], hex[b->data[i] & 15], 0 };
            if (i)
                out.append(" ");
            out.append(h, 2);
        }
        out.append("]");
        return true;
    }
    case ObjKind::Func: {
        if (o->flags & ObjNull) {
            out.append("null");
            return true;
        }
        out.append("<function ");
        out.append(m_program->functions[o->aux]->name);
        out.append(">");
        return true;
    }
    case ObjKind::Instance: {
        InstanceObj* inst = reinterpret_cast<InstanceObj*>(o);
        if (o->flags & ObjNull) {
            out.append("null");
            return true;
        }
        // The object's own toString(), when its class has one: a nested
        // run, during which nothing is collected (the containers being
        // walked may not be reachable from anywhere else if toString()
        // changes them).
        if (inst->klass->to_string_slot >= 0) {
            Function* f = m_program->functions[inst->klass->vtable[inst->klass->to_string_slot]];
            u64 text = 0;
            m_collection_holds++;
            bool ok = run_nested(f, &value, 1, &text);
            m_collection_holds--;
            if (!ok)
                return false;
            StringObj* t = reinterpret_cast<StringObj*>(as_obj(text));
            out.append(t->bytes, t->byte_length);
            return true;
        }
        // A boxed int or boolean (a primitive in an Object) shows its value.
        if (inst->klass == m_program->classes[ClassBoxInt] || inst->klass == m_program->classes[ClassBoxBoolean]) {
            return format_text(out, inst->fields[0],
                inst->klass == m_program->classes[ClassBoxInt] ? KindInt : KindBool, depth);
        }
        out.append(inst->klass->name);
        if (inst->klass->message_field >= 0) {
            StringObj* m = reinterpret_cast<StringObj*>(as_obj(inst->fields[inst->klass->message_field]));
            if (m->byte_length) {
                out.append(": ");
                out.append(m->bytes, m->byte_length);
            }
        }
        return true;
    }
    default:
        out.append("?");
        return true;
    }
}

// Prints [value] through the write hook; false with OutOfMemoryException
// or BudgetExceededException pending when its text cannot be made.
bool Vm::print(u64 value, u8 kind, u32 line)
{
    StringBuilder text(m_memory);
    if (m_transcript) {
        text.append("LINE");
        text.append_int(line);
        text.append(": '");
    }
    if (!append_text(text, value, kind))
        return false;
    if (m_transcript)
        text.append("'");
    text.append("\n");
    if (text.has_failed())
        return raise_out_of_memory();
    if (m_hooks.write)
        m_hooks.write(m_hooks.context, 0, text.data(), text.size());
    return true;
}

bool Vm::append_text(StringBuilder& out, u64 value, u8 kind)
{
    if (kind == KindRef && (as_obj(value)->flags & ObjNull) && as_obj(value)->kind == ObjKind::String) {
        out.append("null");
        return true;
    }
    return format_value(out, value, kind, 0);
}

// [left] (a string, or 0 for none) followed by the display form of [value];
// nullptr with the exception pending (out of memory, budget).
// Out of line: the interpreter loop itself holds no object with a destructor.
KS_NOINLINE StringObj* Vm::concat(u64 left, u64 value, u8 kind)
{
    StringBuilder sb(m_memory);
    if (left && !append_text(sb, left, KindRef))
        return nullptr;
    if (!append_text(sb, value, kind))
        return nullptr;
    if (sb.has_failed()) {
        raise_out_of_memory();
        return nullptr;
    }
    StringObj* s = m_heap->new_string(sb.data(), sb.size());
    if (!s)
        raise_out_of_memory();
    return s;
}

// Transcript mode: "LINE<n>: (error) " for a compile error reached at run time.
KS_NOINLINE void Vm::report_line(u64 report)
{
    if (!m_hooks.write)
        return;
    StringBuilder sb(m_memory);
    sb.append("LINE");
    sb.append_int((u32)report);
    u32 kind = (u32)(report >> 32);
    sb.append(kind == 2 ? ": (info) \n" : kind == 1 ? ": (warning) \n" : ": (error) \n");
    if (!sb.has_failed())
        m_hooks.write(m_hooks.context, 0, sb.data(), sb.size());
}

RunStatus Vm::run_main()
{
    return call(m_program->main_function, nullptr, 0, nullptr);
}

// For natives: calls the function value [func] with [args] from inside the
// running native, as a nested run of the interpreter on the frames above
// the current one. The nesting is bounded (kMaxNestedRuns: each costs a
// C++ interpreter frame of native stack); budget and exceptions are the
// script's own, so an exception in [func] propagates through the native.
bool Vm::call_nested(u64 func, const u64* args, u32 argc, u64* result)
{
    ObjHeader* fo = as_obj(func);
    if (fo->flags & ObjNull)
        return raise(ClassNullReferenceException, "call of a null function");
    return run_nested(m_program->functions[fo->aux], args, argc, result);
}

// call_nested() of function [f].
bool Vm::run_nested(Function* f, const u64* args, u32 argc, u64* result)
{
    // A hook (atomic mode) runs on the stack of whatever the kernel was
    // doing, maybe already deep: one level of callbacks there (each level
    // costs about 1.7 KB of native stack: the formatter, the native, this
    // function and execute()), kMaxNestedRuns elsewhere.
    if (m_nested_runs >= (m_atomic ? kMaxNestedRunsAtomic : kMaxNestedRuns))
        return raise(ClassStackOverflowException, "callbacks from built-in methods nested too deep");
    if (argc != f->param_count || m_frame_count == 0)
        return raise(ClassRuntimeScriptException, "callback of the wrong arity");
    // Charged the callee's length, as a call from bytecode is (KS_PUSH_FRAME).
    if (!charge_checked(f->code_size))
        return false;
    u32 entry = m_frame_count;
    u32 base = entry_base();
    if (!ensure_stack(base + f->register_count + 1))
        return raise(ClassStackOverflowException, "");
    for (u32 i = 0; i < argc; i++)
        m_stack[base + i] = args[i];
    if (!push_frame(f, base, 0))
        return false;
    m_nested_runs++;
    RunStatus status = execute(entry);
    m_nested_runs--;
    m_frame_count = entry;
    if (status != RunStatus::Ok)
        return false;
    if (result)
        *result = m_stack[base];
    return true;
}

RunStatus Vm::call(u32 index, const u64* args, u32 argc, u64* result)
{
    Function* f = m_program->functions[index];
    u32 entry = m_frame_count;
    u32 base = entry_base();
    begin_entry();
    if (!ensure_stack(base + f->register_count + 1) || argc > f->register_count) {
        raise(ClassStackOverflowException, "");
        return RunStatus::Exception;
    }
    for (u32 i = 0; i < argc; i++)
        m_stack[base + i] = args[i];
    // The frame: inline when there is room (every handler call), as
    // execute()'s calls do; push_frame() grows the array.
    if (KS_LIKELY(m_frame_count < m_frame_limit)) {
        enter_frame(f, base, 0);
    } else if (!push_frame(f, base, 0)) {
        return RunStatus::Exception;
    }
    return finish_entry(entry, base, result);
}

RunStatus Vm::call_hook_slow(u32 index, u64 self, u64 arg, u64* result)
{
    u64 args[2] = { self, arg };
    return call(index, args, 2, result);
}

static inline i64 wrap_add(i64 a, i64 b) { return (i64)((u64)a + (u64)b); }
static inline i64 wrap_sub(i64 a, i64 b) { return (i64)((u64)a - (u64)b); }
static inline i64 wrap_mul(i64 a, i64 b) { return (i64)((u64)a * (u64)b); }

static bool string_equal(u64 a, u64 b)
{
    if (a == b)
        return true;
    StringObj* x = reinterpret_cast<StringObj*>(as_obj(a));
    StringObj* y = reinterpret_cast<StringObj*>(as_obj(b));
    return x->byte_length == y->byte_length && mem_compare(x->bytes, y->bytes, x->byte_length) == 0;
}

// Konoha's type id of the object [o]: Object 2, boolean 3, int 4 (boxed),
// String 5, arrays 6, functions 9; then kscript's Map 12 and Bytes 13; the
// script's classes from 14 in declaration order, then the built-in ones.
static i64 type_id(const Program* p, ObjHeader* o)
{
    switch (o->kind) {
    case ObjKind::String: return 5;
    case ObjKind::Array: return 6;
    case ObjKind::Func: return 9;
    case ObjKind::Map: return 12;
    case ObjKind::Bytes: return 13;
    case ObjKind::Instance: {
        u32 id = reinterpret_cast<InstanceObj*>(o)->klass->id;
        if (id == ClassObject)
            return 2;
        if (id == ClassBoxBoolean)
            return 3;
        if (id == ClassBoxInt)
            return 4;
        if (id >= BuiltinClassCount)
            return 14 + (i64)(id - BuiltinClassCount);
        return 14 + (i64)(p->class_count - BuiltinClassCount) + id - 1;
    }
    default:
        return 0;
    }
}

// Is [value] an instance of [k] or of a subclass? The walk up the chain
// takes [*steps] steps (the depth between the two classes), which the
// caller charges to the budget: chains may be tens of thousands deep.
static bool instance_of(u64 value, RtClass* k, u32* steps)
{
    *steps = 0;
    ObjHeader* o = as_obj(value);
    if (o->kind != ObjKind::Instance || (o->flags & ObjNull))
        return false;
    RtClass* c = reinterpret_cast<InstanceObj*>(o)->klass;
    if (c->depth < k->depth)
        return false;
    *steps = c->depth - k->depth;
    while (c->depth > k->depth)
        c = c->super;
    return c == k;
}

// The kernel's objtool follows computed gotos only through a table in the
// section the kernel's own __annotate_jump_table uses (its name changed
// between 6.1 and 6.12; the kernel build passes the right one).
#ifndef KS_JUMP_TABLE_SECTION
#define KS_JUMP_TABLE_SECTION ".rodata..c_jump_table"
#endif

#if defined(KS_DISPATCH_GOTO)
#define KS_LABEL(name, format, doc) &&op_##name,
#define VM_CASE(name) op_##name:
#define VM_NEXT                                  \
    do {                                         \
        insn = pc++;                             \
        goto* kDispatch[(u8)insn->op];           \
    } while (0)
#define VM_SWITCH goto* kDispatch[(u8)insn->op];
#define VM_END
#else
#define VM_CASE(name) case Op::name:
#define VM_NEXT continue
#define VM_SWITCH switch (insn->op) {
#define VM_END \
    default:   \
        break; \
        }
#endif

RunStatus Vm::execute(u32 entry_depth)
{
#if defined(KS_DISPATCH_GOTO)
#if defined(KS_KERNEL)
    static const void* const kDispatch[] __attribute__((section(KS_JUMP_TABLE_SECTION))) = {
#else
    static const void* const kDispatch[] = {
#endif
        KS_OPCODES(KS_LABEL)
    };
#endif
    Frame* frame = &m_frames[m_frame_count - 1];
    Function* fn = frame->function;
    const Insn* code = fn->code;
    const Insn* pc = code;
    u64* R = m_stack + frame->base;
    u64* K = m_program->constants;
    Function** functions = m_program->functions;
    const Insn* insn;
    Function* callee;
    u32 exception_class = 0;
    const char* exception_message = "";

// Saves the position, raises a built-in exception, and unwinds.
#define THROW(klass, message)                \
    do {                                     \
        exception_class = (klass);           \
        exception_message = (message);       \
        goto raise_builtin;                  \
    } while (0)
#define CHARGE(n)                                                          \
    do {                                                                   \
        m_budget -= (n);                                                   \
        if (KS_UNLIKELY(m_budget < m_next_poll) && !poll_or_exhausted())   \
            goto budget_exhausted;                                         \
    } while (0)
// A taken backward jump of [n] instructions, charged after pc moved to the
// loop's start: a stop puts pc back, so that it is reported at the jump
// (the loop's line), not at whatever precedes the loop.
#define CHARGE_JUMP(n)                                                     \
    do {                                                                   \
        m_budget -= (n);                                                   \
        if (KS_UNLIKELY(m_budget < m_next_poll) && !poll_or_exhausted()) { \
            pc += (n);                                                     \
            goto budget_exhausted;                                         \
        }                                                                  \
    } while (0)
#define GC_POINT()                                  \
    do {                                            \
        if (KS_UNLIKELY(m_heap->should_collect()) && may_collect()) \
            collect_garbage();                      \
    } while (0)
// Allocation costs budget too (one unit per 16 bytes), so that a loop of
// huge string operations cannot outrun its budget.
#define CHARGE_ALLOCATIONS()                                               \
    do {                                                                   \
        u64 total_ = m_memory->allocated_total();                          \
        m_budget -= (i64)((total_ - m_allocated_seen) >> 4);               \
        m_allocated_seen = total_;                                         \
    } while (0)

    if (fn->diagnostic_line && !fn->diagnostic_reported)
        goto report_diagnostic;

    for (;;) {
    dispatch:
        insn = pc++;
        VM_SWITCH
        VM_CASE(Nop) VM_NEXT;
        VM_CASE(Args) VM_NEXT;
        VM_CASE(Move) R[insn->a] = R[insn->b]; VM_NEXT;
        VM_CASE(LoadI) R[insn->a] = (u64)(i64)insn->imm(); VM_NEXT;
        VM_CASE(LoadK) R[insn->a] = K[insn->imm()]; VM_NEXT;
        VM_CASE(GetGlobal) R[insn->a] = m_program->globals[insn->imm()]; VM_NEXT;
        VM_CASE(SetGlobal) m_program->globals[insn->imm()] = R[insn->a]; VM_NEXT;
        VM_CASE(IncGlobal) {
            u64 v = (u64)wrap_add((i64)m_program->globals[insn->b], (i64)insn->sc());
            m_program->globals[insn->b] = v;
            R[insn->a] = v;
            VM_NEXT;
        }
        // Each binary operation comes in two forms: with a register and with
        // a constant (K[c]) as its right operand.
#define KS_BINARY(name, expr)                                \
        VM_CASE(name) {                                     \
            u64 x = R[insn->b], y = R[insn->c];             \
            R[insn->a] = (expr);                            \
            VM_NEXT;                                        \
        }                                                   \
        VM_CASE(name##K) {                                  \
            u64 x = R[insn->b], y = K[insn->c];             \
            R[insn->a] = (expr);                            \
            VM_NEXT;                                        \
        }
        KS_BINARY(Add, (u64)wrap_add((i64)x, (i64)y))
        KS_BINARY(Sub, (u64)wrap_sub((i64)x, (i64)y))
        KS_BINARY(Mul, (u64)wrap_mul((i64)x, (i64)y))
        KS_BINARY(BitAnd, x & y)
        KS_BINARY(BitOr, x | y)
        KS_BINARY(BitXor, x ^ y)
        KS_BINARY(Shl, x << (y & 63))
        KS_BINARY(Shr, (u64)((i64)x >> (y & 63)))
#undef KS_BINARY
        VM_CASE(Div) {
            i64 d = (i64)R[insn->c];
            i64 n = (i64)R[insn->b];
            if (KS_UNLIKELY(d == 0))
                THROW(ClassZeroDividedException, "division by zero");
            R[insn->a] = (u64)(d == -1 ? wrap_sub(0, n) : n / d);
            VM_NEXT;
        }
        VM_CASE(Mod) {
            i64 d = (i64)R[insn->c];
            i64 n = (i64)R[insn->b];
            if (KS_UNLIKELY(d == 0))
                THROW(ClassZeroDividedException, "modulo by zero");
            R[insn->a] = (u64)(d == -1 ? 0 : n % d);
            VM_NEXT;
        }
        // The compiler uses these only with a constant that is neither 0 nor -1.
        VM_CASE(DivK) R[insn->a] = (u64)((i64)R[insn->b] / (i64)K[insn->c]); VM_NEXT;
        VM_CASE(ModK) R[insn->a] = (u64)((i64)R[insn->b] % (i64)K[insn->c]); VM_NEXT;
        VM_CASE(AddI) R[insn->a] = (u64)wrap_add((i64)R[insn->b], (i64)insn->sc()); VM_NEXT;
        VM_CASE(Neg) R[insn->a] = (u64)wrap_sub(0, (i64)R[insn->b]); VM_NEXT;
        VM_CASE(Not) R[insn->a] = !R[insn->b]; VM_NEXT;
        VM_CASE(BitNot) R[insn->a] = ~R[insn->b]; VM_NEXT;
        VM_CASE(Eq) R[insn->a] = R[insn->b] == R[insn->c]; VM_NEXT;
        VM_CASE(Ne) R[insn->a] = R[insn->b] != R[insn->c]; VM_NEXT;
        VM_CASE(Lt) R[insn->a] = (i64)R[insn->b] < (i64)R[insn->c]; VM_NEXT;
        VM_CASE(Le) R[insn->a] = (i64)R[insn->b] <= (i64)R[insn->c]; VM_NEXT;
        VM_CASE(EqStr) {
            charge_bytes(reinterpret_cast<StringObj*>(as_obj(R[insn->b]))->byte_length);
            R[insn->a] = string_equal(R[insn->b], R[insn->c]);
            VM_NEXT;
        }
        VM_CASE(NeStr) {
            charge_bytes(reinterpret_cast<StringObj*>(as_obj(R[insn->b]))->byte_length);
            R[insn->a] = !string_equal(R[insn->b], R[insn->c]);
            VM_NEXT;
        }
        VM_CASE(IsNull) R[insn->a] = (as_obj(R[insn->b])->flags & ObjNull) != 0; VM_NEXT;
        VM_CASE(Jump) pc += insn->imm(); VM_NEXT;
        VM_CASE(Loop) {
            pc += insn->imm();
            CHARGE_JUMP(-(i64)insn->imm());
            VM_NEXT;
        }
        // Compare and jump, against a register or a constant (K[b]). A taken
        // backward jump closes a loop and charges the budget like Loop.
#define KS_JUMP_TAKEN(offset_expr)                        \
    do {                                                  \
        i32 offset_ = (offset_expr);                      \
        pc += offset_;                                    \
        if (offset_ < 0)                                  \
            CHARGE_JUMP(-(i64)offset_);                   \
    } while (0)
#define KS_COMPARE_JUMP(name, type, cmp)                      \
        VM_CASE(name) {                                      \
            if ((type)R[insn->a] cmp (type)R[insn->b])       \
                KS_JUMP_TAKEN(insn->off());                  \
            VM_NEXT;                                         \
        }                                                    \
        VM_CASE(name##K) {                                   \
            if ((type)R[insn->a] cmp (type)K[insn->b])       \
                KS_JUMP_TAKEN(insn->off());                  \
            VM_NEXT;                                         \
        }
        KS_COMPARE_JUMP(JumpLt, i64, <)
        KS_COMPARE_JUMP(JumpLe, i64, <=)
        KS_COMPARE_JUMP(JumpGe, i64, >=)
        KS_COMPARE_JUMP(JumpGt, i64, >)
        KS_COMPARE_JUMP(JumpEq, u64, ==)
        KS_COMPARE_JUMP(JumpNe, u64, !=)
#undef KS_COMPARE_JUMP
        VM_CASE(JumpIf) {
            if (R[insn->a])
                KS_JUMP_TAKEN(insn->imm());
            VM_NEXT;
        }
        VM_CASE(JumpIfNot) {
            if (!R[insn->a])
                KS_JUMP_TAKEN(insn->imm());
            VM_NEXT;
        }
#undef KS_JUMP_TAKEN
        VM_CASE(Call) {
            callee = functions[insn->b];
            goto do_call;
        }
        VM_CASE(Call1) {
            callee = functions[insn->b];
            goto do_call1;
        }
        VM_CASE(CallMethod1) {
            InstanceObj* self = reinterpret_cast<InstanceObj*>(as_obj(R[insn->c]));
            callee = functions[self->klass->vtable[insn->b]];
            goto do_call1;
        }
        VM_CASE(CallMethod) {
            InstanceObj* self = reinterpret_cast<InstanceObj*>(as_obj(R[call_arg(insn, 0)]));
            callee = functions[self->klass->vtable[insn->b]];
            goto do_call;
        }
        VM_CASE(CallValue) {
            ObjHeader* f = as_obj(R[insn->b]);
            if (KS_UNLIKELY(f->flags & ObjNull))
                THROW(ClassNullReferenceException, "call of a null function");
            callee = functions[f->aux];
            goto do_call;
        }
        VM_CASE(CallNative) {
            GC_POINT();
            u32 count;
            const NativeInfo* natives = native_table(&count);
            u64 args[9];
            u32 argc = insn->c < 9 ? insn->c : 9;
            for (u32 i = 0; i < argc; i++)
                args[i] = R[call_arg(insn, i)];
            u64 result = 0;
            frame->pc = (u32)(pc - code);
            if (KS_UNLIKELY(!natives[insn->b].fn(*this, args, &result)))
                goto unwind;
            // A native that called back into scripts (sort(Func), toString()
            // of elements) may have grown the frames and the value stack.
            frame = &m_frames[m_frame_count - 1];
            R = m_stack + frame->base;
            if (insn->x)
                R[insn->a] = result;
            pc += call_arg_words(insn->c);
            CHARGE_ALLOCATIONS();
            VM_NEXT;
        }
        VM_CASE(Return) {
            u64 value = R[insn->a];
            u16 result = frame->result;
            m_frame_count--;
            if (m_frame_count == entry_depth) {
                m_stack[frame->base] = value;
                return RunStatus::Ok;
            }
            frame = &m_frames[m_frame_count - 1];
            fn = frame->function;
            code = fn->code;
            pc = code + frame->pc;
            R = m_stack + frame->base;
            R[result] = value;
            VM_NEXT;
        }
        VM_CASE(ReturnVoid) {
            m_frame_count--;
            if (m_frame_count == entry_depth)
                return RunStatus::Ok;
            frame = &m_frames[m_frame_count - 1];
            fn = frame->function;
            code = fn->code;
            pc = code + frame->pc;
            R = m_stack + frame->base;
            VM_NEXT;
        }
        VM_CASE(NewObject) {
            GC_POINT();
            InstanceObj* o = m_heap->new_instance(m_program->classes[insn->b]);
            if (KS_UNLIKELY(!o))
                THROW(ClassOutOfMemoryException, "out of memory");
            R[insn->a] = from_obj(o);
            VM_NEXT;
        }
        VM_CASE(GetField) R[insn->a] = reinterpret_cast<InstanceObj*>(as_obj(R[insn->b]))->fields[insn->c]; VM_NEXT;
        VM_CASE(SetField) {
            InstanceObj* o = reinterpret_cast<InstanceObj*>(as_obj(R[insn->a]));
            if (KS_UNLIKELY(o->header.flags & ObjNull))
                THROW(ClassNullReferenceException, "assignment to a field of null");
            o->fields[insn->b] = R[insn->c];
            VM_NEXT;
        }
        VM_CASE(NewArray) {
            GC_POINT();
            i64 n = (i64)R[insn->b];
            if (KS_UNLIKELY(n < 0))
                THROW(ClassOutOfBoundsException, "negative array size");
            if (KS_UNLIKELY(n > 0x3fffffff))
                THROW(ClassOutOfMemoryException, "array too large");
            ArrayObj* a = m_heap->new_array((u32)n, insn->x, K[insn->c], m_program->type_code(m_program->constant_types[insn->c]));
            if (KS_UNLIKELY(!a))
                THROW(ClassOutOfMemoryException, "out of memory");
            R[insn->a] = from_obj(a);
            CHARGE_ALLOCATIONS();
            VM_NEXT;
        }
        VM_CASE(NewMap) {
            GC_POINT();
            MapObj* m = m_heap->new_map(insn->x & 15, insn->x >> 4, (u32)insn->imm());
            if (KS_UNLIKELY(!m))
                THROW(ClassOutOfMemoryException, "out of memory");
            m->missing = m_program->default_value(m_program->types[insn->imm()].b);
            R[insn->a] = from_obj(m);
            VM_NEXT;
        }
        VM_CASE(ArrayLiteral) {
            GC_POINT();
            u32 n = insn->c;
            ArrayObj* a = m_heap->new_array(n, insn->x, 0, m_program->type_code(m_program->types[insn->b].a));
            if (KS_UNLIKELY(!a))
                THROW(ClassOutOfMemoryException, "out of memory");
            for (u32 i = 0; i < n; i++)
                a->items[i] = R[call_arg(insn, i)];
            R[insn->a] = from_obj(a);
            pc += call_arg_words(n);
            VM_NEXT;
        }
        VM_CASE(ArrayGet) {
            ArrayObj* a = reinterpret_cast<ArrayObj*>(as_obj(R[insn->b]));
            u64 i = R[insn->c];
            if (KS_UNLIKELY(i >= a->size)) {
                frame->pc = (u32)(pc - code);
                raise_index("array index out of bounds", (i64)i, a->size);
                goto unwind;
            }
            R[insn->a] = a->items[i];
            VM_NEXT;
        }
        VM_CASE(ArraySet) {
            ArrayObj* a = reinterpret_cast<ArrayObj*>(as_obj(R[insn->a]));
            u64 i = R[insn->b];
            if (KS_UNLIKELY(i >= a->size)) {
                frame->pc = (u32)(pc - code);
                raise_index("array index out of bounds", (i64)i, a->size);
                goto unwind;
            }
            a->items[i] = R[insn->c];
            VM_NEXT;
        }
        VM_CASE(Concat) {
            GC_POINT();
            frame->pc = (u32)(pc - code);
            StringObj* s = concat(R[insn->b], R[insn->c], insn->x);
            if (KS_UNLIKELY(!s))
                goto unwind;
            frame = &m_frames[m_frame_count - 1];   // A toString() run may have moved them.
            R = m_stack + frame->base;
            R[insn->a] = from_obj(s);
            CHARGE_ALLOCATIONS();
            VM_NEXT;
        }
        VM_CASE(ToString) {
            GC_POINT();
            frame->pc = (u32)(pc - code);
            StringObj* s = concat(0, R[insn->b], insn->x);
            if (KS_UNLIKELY(!s))
                goto unwind;
            frame = &m_frames[m_frame_count - 1];   // A toString() run may have moved them.
            R = m_stack + frame->base;
            R[insn->a] = from_obj(s);
            CHARGE_ALLOCATIONS();
            VM_NEXT;
        }
        VM_CASE(InstanceOf) {
            u32 steps;
            R[insn->a] = instance_of(R[insn->b], m_program->classes[insn->c], &steps);
            if (KS_UNLIKELY(steps > 8))
                CHARGE(steps);   // budget_exhausted saves pc itself
            VM_NEXT;
        }
        VM_CASE(Cast) {
            u64 v = R[insn->b];
            RtClass* k = m_program->classes[insn->c];
            if (as_obj(v)->flags & ObjNull) {
                R[insn->a] = from_obj(k->null_instance);
                VM_NEXT;
            }
            u32 steps;
            bool is = instance_of(v, k, &steps);
            if (KS_UNLIKELY(steps > 8))
                CHARGE(steps);   // budget_exhausted saves pc itself
            if (KS_UNLIKELY(!is)) {
                frame->pc = (u32)(pc - code);
                raise_cast(v, k);
                goto unwind;
            }
            R[insn->a] = v;
            VM_NEXT;
        }
        VM_CASE(Throw) {
            frame->pc = (u32)(pc - code);
            m_exception = R[insn->a];
            m_exceptions_raised++;
            goto unwind;
        }
        VM_CASE(Raise) {
            StringObj* m = reinterpret_cast<StringObj*>(as_obj(K[insn->imm()]));
            THROW(insn->a, m->bytes);
        }
        VM_CASE(Print) {
            GC_POINT();
            frame->pc = (u32)(pc - code);
            if (KS_UNLIKELY(!print(R[insn->a], insn->x, line_of(fn, (u32)(pc - code - 1)))))
                goto unwind;
            frame = &m_frames[m_frame_count - 1];
            R = m_stack + frame->base;
            CHARGE_ALLOCATIONS();
            VM_NEXT;
        }
        VM_CASE(Assert) {
            if (KS_UNLIKELY(!R[insn->a]))
                THROW(ClassAssertionException, "assertion failed");
            VM_NEXT;
        }
        VM_CASE(Report) {
            report_line(K[insn->imm()]);
            VM_NEXT;
        }
        VM_CASE(IsType) R[insn->a] = has_type(R[insn->b], insn->c); VM_NEXT;
        VM_CASE(CastType) {
            u64 v = R[insn->b];
            if (as_obj(v)->flags & ObjNull) {
                R[insn->a] = m_program->default_value(insn->c);
                VM_NEXT;
            }
            if (KS_UNLIKELY(!has_type(v, insn->c))) {
                frame->pc = (u32)(pc - code);
                raise_type_cast(v, insn->c);
                goto unwind;
            }
            R[insn->a] = v;
            VM_NEXT;
        }
        VM_CASE(TypeId) R[insn->a] = (u64)type_id(m_program, as_obj(R[insn->b])); VM_NEXT;
        VM_END
    }

    // Pushes the frame of [callee] above the current one (fast path inline),
    // with [words] Args words after the call instruction; sets callee_regs.
    // A call charges the callee's length: between backward jumps (each
    // charged its distance) an instruction runs at most once, so a call
    // runs at most that many for free. Charging one unit let a loop of
    // calls to a long straight-line function run ~1,000 instructions per
    // unit.
#define KS_PUSH_FRAME(words)                                                                        \
    CHARGE(callee->code_size);                                                                      \
    u32 base = frame->base + fn->register_count;                                                   \
    frame->pc = (u32)(pc - code) + (words);                                                        \
    u64* callee_regs;                                                                               \
    if (KS_LIKELY(m_frame_count < m_frame_limit && base + callee->register_count + 1 <= m_stack_size)) { \
        callee_regs = m_stack + base;                                                               \
        frame = enter_frame(callee, base, insn->a);                                                 \
    } else {                                                                                        \
        if (KS_UNLIKELY(!push_frame(callee, base, insn->a)))                                        \
            goto unwind;                                                                            \
        /* The frame array and the stack may have moved. */                                         \
        callee_regs = m_stack + base;                                                               \
        R = m_stack + m_frames[m_frame_count - 2].base;                                             \
        frame = &m_frames[m_frame_count - 1];                                                       \
    }

do_call1: {
    // One argument, its register in the instruction (no Args word).
    KS_PUSH_FRAME(0)
    callee_regs[0] = R[insn->c];
    R = callee_regs;
    goto enter_callee;
}

do_call: {
    u32 argc = insn->c;
    KS_PUSH_FRAME(call_arg_words(argc))
    // Arguments: three register numbers per Args word.
    const Insn* word = insn + 1;
    u32 i = 0;
    for (; i + 3 <= argc; i += 3, word++) {
        callee_regs[i] = R[word->a];
        callee_regs[i + 1] = R[word->b];
        callee_regs[i + 2] = R[word->c];
    }
    if (i < argc) {
        callee_regs[i] = R[word->a];
        if (i + 1 < argc)
            callee_regs[i + 1] = R[word->b];
    }
    R = callee_regs;
}
enter_callee:
    fn = callee;
    code = fn->code;
    pc = code;
    if (KS_LIKELY(fn->diagnostic_line == 0) || fn->diagnostic_reported)
        goto dispatch;
#undef KS_PUSH_FRAME
    // fall through

report_diagnostic:
    // Transcript mode: a function with a compile error reports it once, at
    // its first call, then runs until it reaches the faulty statement.
    fn->diagnostic_reported = true;
    report_line(fn->diagnostic_line);
    goto dispatch;

budget_exhausted:
    m_exception = from_obj(m_budget_exception);
    m_exceptions_raised++;
    frame->pc = (u32)(pc - code);
    goto unwind;

raise_builtin:
    frame->pc = (u32)(pc - code);
    raise(exception_class, exception_message);
    goto unwind;

unwind: {
    // Find a handler for the pending exception, innermost frame first. The
    // line reported is where it was raised. Budget exhaustion and host
    // interruption cannot be caught: the script is stopped.
    // Built-in (prelude) code has lines of its own: report the script line
    // that called into it.
    Frame* top = &m_frames[m_frame_count - 1];
    for (u32 i = m_frame_count; i-- > entry_depth;) {
        top = &m_frames[i];
        if (!top->function->builtin)
            break;
    }
    // An exception that already has its place (raised in a callback a
    // native ran, e.g. a sort comparator, and passed on by the native's
    // failure) keeps it: the line and trace are where it was raised.
    if (m_exception != m_exception_placed) {
        m_exception_line = line_of(top->function, top->pc ? top->pc - 1 : 0);
        record_trace(entry_depth);
        m_exception_placed = m_exception;
    }
    bool catchable = m_exception != from_obj(m_budget_exception);
    for (;;) {
        frame = &m_frames[m_frame_count - 1];
        fn = frame->function;
        u32 at = frame->pc ? frame->pc - 1 : 0;
        // The search of a frame's handler table is charged a unit a
        // handler, like instructions (a forged table of 70,000 handlers made
        // every throw a long walk for free). Running out of budget here
        // turns the exception into the budget stop, which nothing catches.
        if (catchable && fn->handler_count > 8) {
            m_budget -= fn->handler_count;
            if (m_budget < m_next_poll && !poll_or_exhausted()) {
                m_exception = from_obj(m_budget_exception);
                m_exceptions_raised++;
                catchable = false;
            }
        }
        for (u32 i = 0; catchable && i < fn->handler_count; i++) {
            Handler& h = fn->handlers[i];
            if (at >= h.start && at < h.end) {
                code = fn->code;
                pc = code + h.target;
                R = m_stack + frame->base;
                R[h.reg] = m_exception;
                m_exception = 0;
                m_exception_placed = 0;   // thrown again, it is placed anew
                goto dispatch;
            }
        }
        if (m_frame_count - 1 == entry_depth)
            return RunStatus::Exception;
        m_frame_count--;
    }
}
}

}
