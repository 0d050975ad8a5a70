// Kernel events at the command line: see events.h and docs/kernel.md
// ("Testing hooks without a kernel").
#include "events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <vector>

#include "../include/kscript_ioctl.h"   // ks_nf_hook_name, shared with the module

namespace cli {

namespace {

// Simulated kernel memory: NUL-terminated strings placed by
// --kernel-string ADDR=TEXT. Every other address faults (-EFAULT), as an
// unmapped address does in the kernel.
std::map<unsigned long long, std::string> g_kernel_memory;

// The packet being handled: its bytes from the IPv4 header on.
std::vector<unsigned char> g_packet;

// An integer in decimal, octal or hex; hex up to 64 bits, so that kernel
// addresses (0xffff888000000000) read as the negative ints scripts see.
bool parse_int(const std::string& text, long long* out)
{
    if (text.empty())
        return false;
    char* end;
    errno = 0;
    long long v = strtoll(text.c_str(), &end, 0);
    if (errno == ERANGE && text.compare(0, 2, "0x") == 0) {
        errno = 0;
        v = (long long)strtoull(text.c_str(), &end, 16);
    }
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

// "a.b.c.d" as the integer a << 24 | b << 16 | c << 8 | d.
bool parse_ipv4(const std::string& text, long long* out)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf(text.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255
        || d > 255)
        return false;
    *out = (long long)a << 24 | b << 16 | c << 8 | d;
    return true;
}

// "ADDR:PORT".
bool parse_endpoint(const std::string& text, long long* address, long long* port)
{
    size_t colon = text.rfind(':');
    if (colon == std::string::npos)
        return false;
    return parse_ipv4(text.substr(0, colon), address) && parse_int(text.substr(colon + 1), port) && *port >= 0
        && *port <= 65535;
}

std::string ipv4_text(long long a)
{
    char buffer[24];
    snprintf(buffer, sizeof(buffer), "%lld.%lld.%lld.%lld", a >> 24 & 255, a >> 16 & 255, a >> 8 & 255, a & 255);
    return buffer;
}

// Runs [o]'s handler for [e]; returns the verdict (netfilter) or 0.
int hit(ks_state* state, const char* path, ks_object* o, const ks_event& e, const std::string& what)
{
    int verdict = 0;
    int collect = 0;
    int rc = ks_object_hit(state, o, &e, &verdict, &collect);
    if (rc == KS_EEXCEPTION)
        report_uncaught(state, path, what.c_str());   // the script goes on, as in kscript.ko
    else if (rc != KS_OK)
        fprintf(stderr, "kscript: %s failed (%s)\n", what.c_str(), rc == KS_ENOMEM ? "out of memory" : "no handler");
    // A collection that fell due in the hook runs now, as kscript.ko's
    // work item does after the event.
    if (collect)
        ks_collect(state);
    return verdict;
}

// --kprobe SYM[=A0,A1,...] and --kretprobe SYM=RET[,A0,...].
bool probe_event(ks_state* state, const char* path, bool ret, const std::string& spec)
{
    size_t eq = spec.find('=');
    std::string symbol = spec.substr(0, eq);
    ks_event e {};
    std::vector<long long> numbers;
    if (eq != std::string::npos) {
        std::string list = spec.substr(eq + 1);
        size_t start = 0;
        while (start <= list.size()) {
            size_t comma = list.find(',', start);
            std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            long long v;
            if (!parse_int(item, &v)) {
                fprintf(stderr, "kscript: --%s %s: '%s' is not an integer\n", ret ? "kretprobe" : "kprobe",
                    spec.c_str(), item.c_str());
                return false;
            }
            numbers.push_back(v);
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    }
    size_t first = 0;
    if (ret) {
        if (numbers.empty()) {
            fprintf(stderr, "kscript: --kretprobe %s: give the return value (SYMBOL=VALUE)\n", spec.c_str());
            return false;
        }
        e.ret = numbers[0];
        first = 1;
    }
    if (numbers.size() - first > 6) {
        fprintf(stderr, "kscript: a probe hit has at most six arguments\n");
        return false;
    }
    for (size_t i = first; i < numbers.size(); i++)
        e.arg[i - first] = numbers[i];
    int kind = ret ? KS_OBJECT_KRETPROBE : KS_OBJECT_KPROBE;
    bool found = false;
    for (unsigned i = 0; i < ks_object_count(state); i++) {
        ks_object* o = ks_object_get(state, i);
        if (o->kind != kind || symbol != o->symbol)
            continue;
        found = true;
        hit(state, path, o, e, std::string(ret ? "kretprobe " : "kprobe ") + symbol);
    }
    if (!found)
        fprintf(stderr, "kscript: the script has no %s on '%s'\n", ret ? "kretprobe" : "kprobe", symbol.c_str());
    return found;
}

// Builds an IPv4 packet: header, then a UDP or TCP header (ICMP: none),
// then [payload]. Checksums are left zero: no hook here checks them.
void build_packet(int protocol, const ks_event& e, const std::string& payload)
{
    size_t transport = protocol == 17 ? 8 : protocol == 6 ? 20 : 0;
    size_t total = 20 + transport + payload.size();
    g_packet.assign(total, 0);
    unsigned char* p = g_packet.data();
    p[0] = 0x45;
    p[2] = (unsigned char)(total >> 8);
    p[3] = (unsigned char)total;
    p[8] = 64;
    p[9] = (unsigned char)protocol;
    for (int i = 0; i < 4; i++) {
        p[12 + i] = (unsigned char)(e.saddr >> (24 - 8 * i));
        p[16 + i] = (unsigned char)(e.daddr >> (24 - 8 * i));
    }
    if (transport) {
        p[20] = (unsigned char)(e.sport >> 8);
        p[21] = (unsigned char)e.sport;
        p[22] = (unsigned char)(e.dport >> 8);
        p[23] = (unsigned char)e.dport;
        if (protocol == 17) {
            p[24] = (unsigned char)((8 + payload.size()) >> 8);
            p[25] = (unsigned char)(8 + payload.size());
        } else {
            p[32] = 5 << 4;   // TCP data offset: 5 words
        }
    }
    memcpy(p + 20 + transport, payload.data(), payload.size());
}

// --packet [in:|out:]PROTO:SRC:SPORT->DST:DPORT[:PAYLOAD] (ICMP without
// ports: icmp:SRC->DST). The packet goes through the script's IPv4 hooks of
// its path (in: PRE_ROUTING then LOCAL_IN; out: LOCAL_OUT then
// POST_ROUTING), by priority, until one drops it.
bool packet_event(ks_state* state, const char* path, const std::string& text)
{
    std::string spec = text;
    bool out = false;
    if (spec.compare(0, 3, "in:") == 0) {
        spec = spec.substr(3);
    } else if (spec.compare(0, 4, "out:") == 0) {
        spec = spec.substr(4);
        out = true;
    }
    ks_event e {};
    e.family = 2;
    size_t colon = spec.find(':');
    size_t arrow = spec.find("->");
    std::string proto = spec.substr(0, colon);
    int protocol = proto == "udp" ? 17 : proto == "tcp" ? 6 : proto == "icmp" ? 1 : -1;
    bool ok = protocol > 0 && colon != std::string::npos && arrow != std::string::npos && arrow > colon;
    std::string payload;
    if (ok) {
        std::string source = spec.substr(colon + 1, arrow - colon - 1);
        std::string rest = spec.substr(arrow + 2);
        long long port;
        if (protocol == 1) {
            size_t c = rest.find(':');
            if (c != std::string::npos) {
                payload = rest.substr(c + 1);
                rest = rest.substr(0, c);
            }
            ok = parse_ipv4(source, &e.saddr) && parse_ipv4(rest, &e.daddr);
        } else {
            // DST:DPORT[:PAYLOAD]: the payload starts after the second colon.
            size_t c1 = rest.find(':');
            size_t c2 = c1 == std::string::npos ? std::string::npos : rest.find(':', c1 + 1);
            if (c2 != std::string::npos) {
                payload = rest.substr(c2 + 1);
                rest = rest.substr(0, c2);
            }
            ok = parse_endpoint(source, &e.saddr, &port);
            e.sport = (int)port;
            ok = ok && parse_endpoint(rest, &e.daddr, &port);
            e.dport = (int)port;
        }
    }
    if (!ok) {
        fprintf(stderr,
            "kscript: --packet %s: expected [in:|out:]udp:SRC:PORT->DST:PORT[:PAYLOAD] (or tcp:..., "
            "icmp:SRC->DST[:PAYLOAD])\n",
            text.c_str());
        return false;
    }
    // The IPv4 total length is 16 bits.
    if (payload.size() > 65535 - 20 - (protocol == 6 ? 20 : protocol == 17 ? 8 : 0)) {
        fprintf(stderr, "kscript: --packet: a payload of %zu bytes does not fit in an IPv4 packet\n", payload.size());
        return false;
    }
    e.protocol = protocol;
    build_packet(protocol, e, payload);
    e.length = (long long)g_packet.size();
    e.packet = 1;
    int hooks[2] = { out ? 3 : 0, out ? 4 : 1 };
    const char* verdict = "ACCEPT";
    std::string where;
    for (int hook : hooks) {
        // The hooks at this point by priority, then in the order made (as
        // the kernel orders equal priorities).
        std::vector<ks_object*> order;
        for (unsigned i = 0; i < ks_object_count(state); i++) {
            ks_object* o = ks_object_get(state, i);
            if (o->kind == KS_OBJECT_NETFILTER && o->family == 2 && o->hooknum == hook) {
                size_t at = order.size();
                while (at > 0 && order[at - 1]->priority > o->priority)
                    at--;
                order.insert(order.begin() + (long)at, o);
            }
        }
        for (ks_object* o : order) {
            e.hook = hook;
            std::string what = std::string("netfilter hook at ") + ks_nf_hook_name(hook);
            if (hit(state, path, o, e, what) == 0) {
                verdict = "DROP";
                where = std::string(" at ") + ks_nf_hook_name(hook);
                break;
            }
        }
        if (!where.empty())
            break;
    }
    g_packet.clear();
    // The ports as ":N" (none for ICMP), formatted with snprintf: GCC 12 at
    // -O3 warns falsely (-Wrestrict) about ":" + std::to_string(n).
    char ports[24] = "", dports[24] = "";
    if (protocol != 1) {
        snprintf(ports, sizeof(ports), ":%d", e.sport);
        snprintf(dports, sizeof(dports), ":%d", e.dport);
    }
    printf("[packet] %s %s%s -> %s%s: %s%s\n", proto.c_str(), ipv4_text(e.saddr).c_str(), ports,
        ipv4_text(e.daddr).c_str(), dports, verdict, where.c_str());
    return true;
}

}   // namespace

std::string exception_message(ks_state* state)
{
    std::string message(256, '\0');
    unsigned long n = ks_exception_message(state, message.data(), message.size());
    if (n >= message.size()) {
        message.assign(n + 1, '\0');
        ks_exception_message(state, message.data(), message.size());
    }
    message.resize(n);
    return message;
}

void report_uncaught(ks_state* state, const char* path, const char* where)
{
    std::string message = exception_message(state);
    fflush(stdout);
    fprintf(stderr, "%s:%u: error: uncaught %s%s", path, ks_exception_line(state), ks_exception_name(state),
        message.empty() ? "" : ": ");
    fwrite(message.data(), 1, message.size(), stderr);
    fprintf(stderr, " in %s\n", where);
    print_trace(state, path);
}

void print_trace(ks_state* state, const char* path)
{
    unsigned omitted = 0;
    unsigned count = ks_exception_trace(state, 0, nullptr, nullptr, &omitted);
    if (count + omitted < 2)
        return;   // Raised where it was called from: the error line says it all.
    for (unsigned i = 0; i < count; i++) {
        const char* function = "";
        unsigned line = 0;
        ks_exception_trace(state, i, &function, &line, nullptr);
        fprintf(stderr, "  at %s (%s:%u)\n", function, path, line);
    }
    if (omitted)
        fprintf(stderr, "  ... %u more frames\n", omitted);
}

int event_option(const std::string& option, const char* value, ks_config* config)
{
    if (option == "--kernel-string") {
        std::string spec = value;
        size_t eq = spec.find('=');
        long long address;
        if (eq == std::string::npos || !parse_int(spec.substr(0, eq), &address) || address == 0) {
            fprintf(stderr, "kscript: --kernel-string %s: expected ADDRESS=TEXT\n", value);
            return -1;
        }
        g_kernel_memory[(unsigned long long)address] = spec.substr(eq + 1);
        return 1;
    }
    if (option == "--hook-budget") {
        long long n;
        if (!parse_int(value, &n) || n <= 0) {
            fprintf(stderr, "kscript: --hook-budget %s: expected a positive integer\n", value);
            return -1;
        }
        config->hook_budget = n;
        if (config->max_hook_budget < n)
            config->max_hook_budget = n;
        return 1;
    }
    return 0;
}

bool is_event_action(const std::string& option)
{
    return option == "--kprobe" || option == "--kretprobe" || option == "--packet";
}

bool run_event(ks_state* state, const char* path, const std::string& action, const std::string& spec)
{
    if (action == "kprobe" || action == "kretprobe")
        return probe_event(state, path, action == "kretprobe", spec);
    return packet_event(state, path, spec);
}

long read_hook(void*, int what, unsigned long long packet, unsigned long long where, void* out, unsigned long n,
    const char** reason)
{
    if (what == KS_READ_PACKET) {
        if (packet != 1 || where > g_packet.size() || n > g_packet.size() - where) {
            *reason = "past the end of the packet";
            return -34;
        }
        memcpy(out, g_packet.data() + where, n);
        return (long)n;
    }
    // Kernel memory: inside one of the simulated strings (its NUL
    // included), or a fault.
    for (const auto& [base, text] : g_kernel_memory) {
        if (where < base || where - base > text.size())
            continue;
        unsigned long long offset = where - base;
        unsigned long long avail = text.size() + 1 - offset;
        if (what == KS_READ_KERNEL_STRING) {
            unsigned long long len = 0;
            // As the kernel's copy: [n] bytes hold the string and its NUL.
            while (len + 1 < n && len < avail && text.c_str()[offset + len])
                len++;
            memcpy(out, text.c_str() + offset, len);
            return (long)len;
        }
        if (n > avail)
            break;
        memcpy(out, text.c_str() + offset, n);
        return (long)n;
    }
    *reason = "cannot read kernel memory there";
    return -14;
}

void describe_hook(const ks_object* o)
{
    if (o->kind == KS_OBJECT_KPROBE || o->kind == KS_OBJECT_KRETPROBE) {
        printf("[%s] %s\n", o->name, o->symbol);
    } else {
        const char* hook = o->hooknum >= 0 ? ks_nf_hook_name((unsigned)o->hooknum) : "?";
        printf("[netfilter] %s %s priority %d\n", o->family == 10 ? "ipv6" : "ipv4", hook, o->priority);
    }
}

}
