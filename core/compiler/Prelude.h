// The built-in classes, written in kscript and compiled with every script.
// Their order fixes the class ids of BuiltinClass in vm/Program.h.
// Linux.__deviceCreate and the other Linux.__* natives reach the host-object
// layer (core/api/Host.cpp); the compiler lets only this source call them.
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
    "    Linux.__deviceCreate(this, name, mode)\n"
    "  }\n"
    "  void open() {}\n"
    "  void read(OutputStream out) {}\n"
    "  int write(Bytes data) { return data.size(); }\n"
    "  void release() {}\n"
    "}\n"
    // A function run by the kernel every [interval] ms (or once), in process
    // context, until stop() or the script's unload.
    "class Timer {\n"
    "  int interval\n"
    "  boolean periodic\n"
    "  Timer(int interval, boolean periodic) {\n"
    "    this.interval = interval; this.periodic = periodic\n"
    "    Linux.__timerCreate(this, interval, periodic)\n"
    "  }\n"
    "  void run() {}\n"
    "  void stop() { Linux.__timerStop(this); }\n"
    "}\n"
    // A file /proc/kscript/NAME served by read() (and write(), if writable).
    "class Proc {\n"
    "  String name\n"
    "  boolean writable\n"
    "  Proc(String name, boolean writable) {\n"
    "    this.name = name; this.writable = writable\n"
    "    Linux.__procCreate(this, name, writable)\n"
    "  }\n"
    "  void read(OutputStream out) {}\n"
    "  int write(Bytes data) { return data.size(); }\n"
    "}\n";

}
