// The built-in classes, written in kscript and compiled with every script.
// Host-object constructors ask the layer first and set their fields after:
// a refused request (a second super() call, say) changes nothing.
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
    "    Linux.__deviceCreate(this, name, mode)\n"
    "    this.name = name; this.mode = mode\n"
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
    "    Linux.__timerCreate(this, interval, periodic)\n"
    "    this.interval = interval; this.periodic = periodic\n"
    "  }\n"
    "  void run() {}\n"
    "  void stop() { Linux.__timerStop(this); }\n"
    "}\n"
    // A file /proc/kscript/NAME served by read() (and write(), if writable).
    "class Proc {\n"
    "  String name\n"
    "  boolean writable\n"
    "  Proc(String name, boolean writable) {\n"
    "    Linux.__procCreate(this, name, writable)\n"
    "    this.name = name; this.writable = writable\n"
    "  }\n"
    "  void read(OutputStream out) {}\n"
    "  int write(Bytes data) { return data.size(); }\n"
    "}\n"
    // What a probe's handler gets: the probed function's first six
    // arguments and, for a Kretprobe, its return value. The host fills the
    // fields in before each hit (one Regs per probe, reused).
    "class Regs {\n"
    "  int a0; int a1; int a2; int a3; int a4; int a5; int rv\n"
    "  int arg(int i) {\n"
    "    if (i == 0) return a0\n"
    "    if (i == 1) return a1\n"
    "    if (i == 2) return a2\n"
    "    if (i == 3) return a3\n"
    "    if (i == 4) return a4\n"
    "    if (i == 5) return a5\n"
    "    throw new OutOfBoundsException(\"Regs.arg: \" + i + \" is not 0 to 5\")\n"
    "  }\n"
    "  int ret() { return rv; }\n"
    "}\n"
    // Hooks run in atomic context (see docs/kernel.md): hit(), ret() and
    // hook() get [budget] units each (0: the script's hook budget).
    "class Kprobe {\n"
    "  String symbol\n"
    "  int budget\n"
    "  Kprobe(String symbol) { Linux.__probeCreate(this, symbol, false); this.symbol = symbol; }\n"
    "  void hit(Regs r) {}\n"
    "}\n"
    "class Kretprobe {\n"
    "  String symbol\n"
    "  int budget\n"
    "  Kretprobe(String symbol) { Linux.__probeCreate(this, symbol, true); this.symbol = symbol; }\n"
    "  void ret(Regs r) {}\n"
    "}\n"
    // A packet at a netfilter hook; the host fills the fields in before each
    // call (one Packet per hook, reused). Addresses of IPv6 packets are in
    // saddr6/daddr6; bytes() reads the packet from its network header on.
    "class Packet {\n"
    "  int family; int hook; int length; int protocol\n"
    "  int saddr; int daddr; int sport; int dport\n"
    "  Bytes saddr6 = new Bytes(16)\n"
    "  Bytes daddr6 = new Bytes(16)\n"
    "  Bytes bytes(int offset, int n) { return Linux.__packetBytes(this, offset, n); }\n"
    "}\n"
    "class Netfilter {\n"
    "  int family; int hooknum; int priority\n"
    "  int budget\n"
    "  Netfilter(int family, int hooknum, int priority) {\n"
    "    Linux.__netfilterCreate(this, family, hooknum, priority)\n"
    "    this.family = family; this.hooknum = hooknum; this.priority = priority\n"
    "  }\n"
    "  int hook(Packet p) { return NF_ACCEPT; }\n"
    "}\n"
    // Boxes: an int or boolean stored where an Object is expected (Konoha's
    // primitives in Object). The compiler names them `int` and `boolean`,
    // which no script can write as a class name.
    "class __Int { int value }\n"
    "class __Boolean { boolean value }\n";

// Named integer constants every script sees (kernel names, so that a
// kernel developer knows them): resolved by the compiler like globals that
// cannot change.
struct BuiltinConstant {
    const char* name;
    long long value;
};
static const BuiltinConstant kBuiltinConstants[] = {
    { "INT_MAX", 0x7fffffffffffffffLL },
    { "INT_MIN", -0x7fffffffffffffffLL - 1 },
    { "BUFSIZ", 1024 },   // Konoha's (and C's) buffer size.
    // Netfilter verdicts, protocol families and inet hook points.
    { "NF_DROP", 0 },
    { "NF_ACCEPT", 1 },
    { "NFPROTO_IPV4", 2 },
    { "NFPROTO_IPV6", 10 },
    { "NF_INET_PRE_ROUTING", 0 },
    { "NF_INET_LOCAL_IN", 1 },
    { "NF_INET_FORWARD", 2 },
    { "NF_INET_LOCAL_OUT", 3 },
    { "NF_INET_POST_ROUTING", 4 },
    // IP protocol numbers (Packet.protocol).
    { "IPPROTO_ICMP", 1 },
    { "IPPROTO_TCP", 6 },
    { "IPPROTO_UDP", 17 },
    { "IPPROTO_ICMPV6", 58 },
};

}
