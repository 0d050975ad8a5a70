// The built-in classes, written in kscript and compiled with every script.
// Their order fixes the class ids of BuiltinClass in vm/Program.h.
#pragma once

namespace ks {

static const char kPreludeSource[] =
    "class Object {}\n"
    "class Exception {\n"
    "  String message;\n"
    "  Exception() {}\n"
    "  Exception(String message) { this.message = message; }\n"
    "  String getMessage() { return message; }\n"
    "}\n"
    "class AssertionException extends Exception { AssertionException() {} AssertionException(String m) { super(m); } }\n"
    "class ZeroDividedException extends Exception { ZeroDividedException() {} ZeroDividedException(String m) { super(m); } }\n"
    "class OutOfBoundsException extends Exception { OutOfBoundsException() {} OutOfBoundsException(String m) { super(m); } }\n"
    "class NullReferenceException extends Exception { NullReferenceException() {} NullReferenceException(String m) { super(m); } }\n"
    "class StackOverflowException extends Exception { StackOverflowException() {} StackOverflowException(String m) { super(m); } }\n"
    "class OutOfMemoryException extends Exception { OutOfMemoryException() {} OutOfMemoryException(String m) { super(m); } }\n"
    "class BudgetExceededException extends Exception { BudgetExceededException() {} BudgetExceededException(String m) { super(m); } }\n"
    "class RuntimeScriptException extends Exception { RuntimeScriptException() {} RuntimeScriptException(String m) { super(m); } }\n"
    "class TypeCastException extends Exception { TypeCastException() {} TypeCastException(String m) { super(m); } }\n"
    // What a Device's read handler writes to.
    "class OutputStream {\n"
    "  Bytes buffer = new Bytes(0)\n"
    "  void print(String s) { buffer.append(s); }\n"
    "  void println(String s) { buffer.append(s); buffer.append(\"\\n\"); }\n"
    "  void write(Bytes b) { buffer.appendBytes(b); }\n"
    "}\n"
    // A character device under /dev. Subclass it, or define its handlers
    // outside the class Konoha style (`void Device.read(OutputStream out)`).
    "class Device {\n"
    "  String name\n"
    "  int mode\n"
    "  Device(String name, int mode) {\n"
    "    this.name = name; this.mode = mode\n"
    "    int rc = Linux.__deviceCreate(this, name, mode)\n"
    "    if (rc != 0) throw new RuntimeScriptException(\"cannot create device /dev/\" + name + \" (error \" + rc + \")\")\n"
    "  }\n"
    "  void open() {}\n"
    "  void read(OutputStream out) {}\n"
    "  int write(Bytes data) { return data.size(); }\n"
    "  void release() {}\n"
    "}\n";

}
