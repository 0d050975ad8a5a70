// The syntax tree. Nodes live in the compiler's arena and are plain data.
// Every expression records its depth (1 + the deepest child), which the parser
// bounds, so that every later recursive walk of the tree is bounded too.
#pragma once

#include "Token.h"

namespace ks {

struct Type;
struct Block;
class Parser;

// A type as written: `int`, `Point`, `Map[String, int]`, `int[][]`.
struct TypeRef {
    const char* name;
    TypeRef** args;    // Generic arguments (Array[T], Map[K, V], Func[R, P...]).
    u32 arg_count;
    u32 dims;          // Trailing [] pairs.
    u32 line;
    u32 column;
};

enum class ExprKind : u8 {
    Error,       // A malformed expression, already reported.
    Int,         // int_value
    Bool,        // int_value (0 or 1)
    Null,
    String,      // name: text, name_length
    Name,        // name
    This,
    Super,       // Only as super.m(...) or super(...).
    Member,      // a.name
    Index,       // a[b]
    Call,        // a(args)
    New,         // new type(args)
    NewArray,    // new type[a]
    ArrayLit,    // [args]
    Unary,       // op a
    Binary,      // a op b (also && and ||)
    Assign,      // a op= b (op is Assign for plain =)
    Conditional, // a ? b : c
    InstanceOf,  // a instanceof type
    As,          // a as type
    To,          // a to type
    BlockExpr,   // { statements; last expression }
    IncDec,      // a++ / a-- / ++a / --a (op is PlusPlus or MinusMinus)
    Defined,     // defined(a): a compiles; or, with int_value 1, function
                 // `name` with parameter types args[i]->type exists
};

// 80 bytes (the arena's 16-byte steps), the 32-bit fields together: a
// 10,000-line program has about 50,000 of these.
// The checker's annotations (see docs/internals.md, "Checker and emitter")
// take the padding after [op] and two fields dead by then: the parser's
// [depth] (read only while it builds the expression's parent) and
// [name_length] of every kind but String.
struct Expr {
    ExprKind kind;
    Tok op;
    u8 res;            // Checker: what the expression resolved to (compiler::Res).
    u8 conv;           // Checker: flags (compiler::Conv).
    u32 line;
    u32 column;
    union {
        u32 depth;     // Parser: 1 + the deepest child's depth.
        u32 type_id;   // Checker: the static type (TypeTable::by_id(); 0 is the error type).
    };
    union {
        u32 name_length;   // String: the text's length.
        u32 symbol;        // Checker: the index that goes with [res].
    };
    u32 arg_count;
    union {
        i64 int_value;   // Int, Bool, Defined (and its flag)
        Block* block;    // BlockExpr only
    };
    const char* name;
    Expr* a;
    Expr* b;
    Expr* c;
    Expr** args;
    TypeRef* type;
};
static_assert(sizeof(Expr) == 80, "Expr grew");

enum class StmtKind : u8 {
    Error,
    Expr,        // expr
    Var,         // type name = expr (type null for var); is_const for const
    If,          // if (expr) body else else_body
    While,
    DoWhile,
    For,         // for (init; expr; step) body
    ForEach,     // for (type name : expr) body
    Break,
    Continue,
    Return,      // expr may be null
    Block,       // block
    Try,         // block, catches, finally_block
    Throw,       // expr
    Empty,
    Switch,      // switch (expr) { cases }: C-style, a case without break falls through
};

struct Stmt;

struct Catch {
    TypeRef* type;
    const char* name;
    Block* body;
    u32 line;
    u32 column;
    u32 type_id;       // Checker: the resolved class (0: none, an error).
    u32 local;         // Checker: the number of its variable's local.
};

// One `case VALUE:` or `default:` label of a switch and the statements
// after it, up to the next label (none when labels are stacked).
struct SwitchCase {
    Expr* value;       // Null for `default`.
    Stmt** stmts;
    u32 count;
    u32 line;
    u32 column;
};

struct Block {
    Stmt** stmts;
    u32 count;
    bool scoped;       // False for `int a, b;` groups, which share the outer scope.
    u32 line;
    u32 column;
    u32 end_line;
};

struct Stmt {
    StmtKind kind;
    bool is_const;
    bool has_error;    // Checker: it (or a statement in it) has an error.
    bool declared;     // Checker: a Var whose local (numbered [local]) was declared.
    u32 line;
    u32 column;
    u32 local;         // Checker: Var, ForEach: the number of the local it declares.
    Expr* expr;
    TypeRef* type;
    const char* name;
    Stmt* init;        // For: init statement.
    Expr* step;        // For: step expression.
    Stmt* body;
    Stmt* else_body;
    Block* block;
    Catch* catches;
    u32 catch_count;
    u32 type_id;       // Checker: Var, ForEach: the variable's type.
    Block* finally_block;
    SwitchCase* cases;  // Switch: its labels in source order.
    u32 case_count;
};

enum AnnotationFlags : u8 {
    AnnotationOverride = 1,
    AnnotationVirtual = 2,
    AnnotationPublic = 4,
    AnnotationConst = 8,
    AnnotationStatic = 16,   // Konoha's @Static: the same as the `static` keyword.
};

struct Param {
    TypeRef* type;
    const char* name;
    u32 line;
    u32 column;
};

struct FuncDecl {
    TypeRef* return_type;   // Null for constructors.
    const char* name;
    const char* owner;      // `Point` in `int Point.sum() {...}`; null otherwise.
    Param* params;
    u32 param_count;
    Block* body;            // Null for a prototype.
    // Lazy parsing (Parser::set_lazy_bodies): while [body] is only a
    // placeholder (no statements, the lines of its braces), the parser that
    // will parse it and the body's '{' and '}' tokens; null when the body
    // was parsed at once.
    Parser* body_parser;
    Token body_open;
    Token body_close;
    u8 annotations;
    bool is_constructor;
    bool is_static;         // A class's static method: no `this`, called as Class.name(...).
    u32 line;
    u32 column;
};

struct FieldDecl {
    TypeRef* type;
    const char* name;
    Expr* init;
    bool is_static;    // `static const T NAME = value`: a class constant, Class.NAME.
    bool is_const;
    u32 line;
    u32 column;
};

struct ClassDecl {
    const char* name;
    const char* super_name;
    FieldDecl* fields;
    u32 field_count;
    FieldDecl* constants;   // `static const` (or `const`) fields: class constants, not in instances.
    u32 constant_count;
    FuncDecl** methods;
    u32 method_count;
    u32 line;
    u32 column;
    bool forward;           // `class C;`: declared, defined (or left empty) elsewhere.
};

enum class ItemKind : u8 { Stmt, Func, Class };

// One top-level item, in source order.
// A set of identifier names by hash (false positives possible, never false
// negatives): the names that code outside the top-level statements uses.
struct NameSet {
    u32* slots;     // Hashes (never 0), 0 = empty; a power of two in size.
    u32 size;
    u32 count;      // Distinct hashes in it (at most half the slots).
    u64 seed;       // Of name_hash().

    bool may_contain(const char* name, usize length) const;
    bool contains(u32 hash) const;   // Of name_hash() with [seed].
};

u32 name_hash(const char* name, usize length, u64 seed);

struct Item {
    ItemKind kind;
    Stmt* stmt;
    FuncDecl* func;
    ClassDecl* klass;
    NameSet names;   // Classes and functions: the identifiers they contain.
    u32 line;        // Lines of the item's first and last tokens (transcript
    u32 end_line;    // mode attributes parse and declaration errors by them).
};

// The syntax tree of one source text (the script, or the prelude): its
// top-level items in order. The compiled program is vm/Program.h's Program.
struct SyntaxTree {
    // The items, in chunks of kItemChunk in the parser's arena: a script's
    // thousands of items are never one array grown by doubling and copied.
    static constexpr u32 kItemChunk = 128;
    Item** item_chunks;
    u32 count;
    Item& item(u32 i) const { return item_chunks[i / kItemChunk][i % kItemChunk]; }
    // The names of top-level variables that are used inside classes and
    // functions, or after `global.`: a top-level variable whose name is not
    // here is only used by the main program, so it can live in a register
    // instead of a global slot.
    NameSet shared_names;
    NameSet all_names;   // Every identifier of the source that starts with a capital letter.
};

}
