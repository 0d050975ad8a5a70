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
    "class TypeCastException extends Exception { TypeCastException() {} TypeCastException(String m) { super(m); } }\n";

}
