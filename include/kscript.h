/*
 * kscript embedding API: the one interface to the engine, used alike by the
 * kscript command-line tool and by the kernel module.
 *
 *   ks_config config;
 *   ks_config_init(&config);
 *   config.write = my_output;           // where System.p and printk go
 *   ks_state *state = ks_open(&config);
 *   if (ks_load(state, source, length, "hello.k") == KS_OK)
 *           ks_run(state);
 *   ks_close(state);
 *
 * A state holds one script: its own heap and slab allocator, its limits and
 * statistics. It is not thread-safe: the host serializes calls into it.
 * Every function reports failure by its return value; none aborts.
 */
#ifndef KSCRIPT_H
#define KSCRIPT_H

#ifdef __cplusplus
extern "C" {
#endif

enum ks_status {
	KS_OK = 0,
	KS_ENOMEM = 1,       /* memory quota or pages exhausted */
	KS_ECOMPILE = 2,     /* compile errors: see ks_diagnostic() */
	KS_EEXCEPTION = 3,   /* uncaught script exception: see ks_exception_*() */
	KS_ETOOBIG = 4,      /* source larger than max_source */
	KS_ESTATE = 5,       /* call out of order (run before load, load twice) */
	KS_ENOENT = 6,       /* no such function */
};

enum ks_stream {
	KS_STREAM_PRINT = 0,   /* System.p */
	KS_STREAM_KERNEL = 1,  /* Linux.printk */
	KS_STREAM_LISTING = 2, /* ks_disassemble() */
};

/*
 * Names of scripts, devices and /proc files: 1 to KS_NAME_MAX - 1 bytes of
 * ASCII letters, digits, '_', '-' and '.', not starting with '.' or '-'.
 * One rule for every name, checked by ks_valid_name().
 */
#define KS_NAME_MAX 32
int ks_valid_name(const char *name, unsigned long length);

/* Kinds of host objects: kernel objects a script asks for. */
enum ks_object_kind {
	KS_OBJECT_DEVICE = 0,  /* a character device /dev/NAME */
	KS_OBJECT_PROC = 1,    /* a file /proc/kscript/NAME */
	KS_OBJECT_TIMER = 2,   /* a function run every interval (or once) */
	KS_OBJECT_KPROBE = 3,  /* hit(Regs) at a kernel function's entry (atomic context) */
	KS_OBJECT_KRETPROBE = 4, /* ret(Regs) at its return (atomic context) */
	KS_OBJECT_NETFILTER = 5, /* hook(Packet) at a netfilter hook point (atomic context) */
	KS_OBJECT_KINDS = 6,
};

/* Kernel symbols a probe may name: 1 to KS_SYMBOL_MAX - 1 bytes of ASCII
 * letters, digits, '_' and '.'. */
#define KS_SYMBOL_MAX 128

/*
 * A host object, as the engine recorded it: validated, charged to the
 * script's quota, its script object pinned. The engine owns it (it lives
 * until ks_close()); the host keeps its own data in [host].
 */
struct ks_object {
	int kind;                  /* KS_OBJECT_* */
	unsigned int index;        /* position in the script's list */
	char name[KS_NAME_MAX];    /* devices and /proc files; "timer" for timers */
	unsigned int mode;         /* permission bits: devices 0..0666, /proc 0444 or 0644 */
	int writable;              /* write() reaches the script */
	unsigned long interval_ms; /* timers: 1 .. 86,400,000 */
	int periodic;
	int stopped;               /* Timer.stop() was called */
	int after_load;            /* made by a handler, after the load had finished */
	unsigned int line;         /* the script line that made it (for errors) */
	char symbol[KS_SYMBOL_MAX]; /* probes: the kernel function */
	int family;                /* netfilter: NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10) */
	int hooknum;               /* netfilter: NF_INET_PRE_ROUTING (0) .. NF_INET_POST_ROUTING (4) */
	int priority;              /* netfilter: the hook's priority */
	void *host;                /* the host's own data */
};

/*
 * One event for a hook (ks_object_hit): a probe hit or a packet. The host
 * fills in what its kind uses (probes: arg and ret; packets: the rest,
 * saddr6 and daddr6 only for IPv6); the engine reads nothing else.
 */
struct ks_event {
	long long arg[6];          /* probes: the function's first six arguments */
	long long ret;             /* kretprobes: its return value */
	int family;                /* packets: NFPROTO_IPV4 or NFPROTO_IPV6 */
	int hook;                  /* the hook point */
	long long length;          /* bytes from the network header on */
	int protocol;              /* IPPROTO_* of the transport header (after IPv6 extension headers) */
	long long saddr, daddr;    /* IPv4 addresses, as the integers a.b.c.d reads as (a << 24 | ...) */
	unsigned char saddr6[16], daddr6[16];   /* IPv6 addresses */
	int sport, dport;          /* TCP and UDP ports (0 for other protocols and later fragments) */
	unsigned long long packet; /* the host's handle of the packet, given back to its read hook */
};

/* What the host's read hook is asked for (see ks_config.read). */
enum ks_read {
	KS_READ_KERNEL = 0,        /* Linux.readKernel(): kernel memory */
	KS_READ_KERNEL_STRING = 1, /* Linux.readKernelString(): up to a NUL */
	KS_READ_PACKET = 2,        /* Packet.bytes(): the current packet, from its network header */
};

/* The engine's release, as `kscript --version` prints it. */
#define KS_VERSION "0.9.0"

/* What the host's info hook is asked for (Linux.jiffies(), pid(), uid(),
 * ktimeNs()). For KS_INFO_KTIME_NS a host may answer with a clock of its own
 * (nanoseconds, > 0; the CLI's simulated timers do); 0, what a hook that
 * does not know the code returns, means the platform's ksp_clock_ns(). */
enum ks_info {
	KS_INFO_JIFFIES = 0,
	KS_INFO_PID = 1,
	KS_INFO_UID = 2,
	KS_INFO_KTIME_NS = 3,
};

typedef struct ks_config {
	unsigned long memory_quota;    /* bytes the script may hold */
	long long budget;              /* instructions per entry (loops, calls) */
	unsigned int max_depth;        /* script call depth */
	unsigned int max_nesting;      /* source nesting depth */
	unsigned long max_source;      /* source bytes */
	long long poll_interval;       /* budget between poll() calls */
	int transcript;                /* conformance transcript mode */
	int slab_debug;                /* red zones, poisoning, double-free checks */
	void (*write)(void *ctx, int stream, const char *text, unsigned long length);
	int (*poll)(void *ctx);        /* return 0 to stop the script */
	long long (*info)(void *ctx, int what);  /* what: enum ks_info */
	unsigned long (*comm)(void *ctx, char *out16);
	/*
	 * Host objects (see "Host objects" below): [created] is told of each
	 * Device, Proc or Timer the script makes, after the engine has checked
	 * and recorded it; it returns 0, or a negative errno to refuse it (the
	 * script then gets a RuntimeScriptException and nothing stays recorded).
	 * [stopped] is told of Timer.stop(), except from a hook (atomic or NMI
	 * context): there only ks_object.stopped is set, and the host's timer
	 * must check it before it runs and requeues. Both may be NULL.
	 */
	int (*created)(void *ctx, struct ks_object *object);
	void (*stopped)(void *ctx, struct ks_object *object);
	/*
	 * Copies [n] bytes of kernel memory at [where] (KS_READ_KERNEL), the
	 * string there (KS_READ_KERNEL_STRING: [n] bytes hold the string and a
	 * NUL; returns the length without it, < n), or the packet of the event being handled, [packet] being its
	 * ks_event.packet (KS_READ_PACKET: [where] is an offset from the network
	 * header; a range past the packet is -34, ERANGE) into [out], without
	 * faulting. Returns the bytes copied or a negative errno, and may point
	 * [reason] at a static text. May be called in atomic context. May be NULL.
	 */
	long (*read)(void *ctx, int what, unsigned long long packet, unsigned long long where, void *out,
		     unsigned long n, const char **reason);
	/* Hooks: units of budget per event when the hook object says 0, and the
	 * most a hook object may ask for. */
	long long hook_budget;
	long long max_hook_budget;
	/* Per kind of host object (index KS_OBJECT_*): how many one script may
	 * make, and the bytes of host memory each costs, charged to the quota. */
	unsigned int object_limit[KS_OBJECT_KINDS];
	unsigned long object_cost[KS_OBJECT_KINDS];
	/*
	 * Nonzero: ks_load() also takes bytecode files (kscript compile),
	 * verified as compiled source is before anything runs (see
	 * docs/internals.md, "Verifier"); ks_config_init() leaves it 0, so
	 * that a host takes files only when it chooses to.
	 */
	int bytecode;
	void *ctx;
	/*
	 * The script's arguments (after its file name), which it reads as
	 * SCRIPT_ARGV (a String[]); copied into the program by ks_load(), so a
	 * bytecode file keeps the arguments it was compiled with.
	 */
	const char *const *script_args;
	unsigned int script_arg_count;
} ks_config;

/* Defaults: 64 MiB quota, 2^31 budget, depth 2000, nesting 200, 4 MiB source. */
void ks_config_init(ks_config *config);

typedef struct ks_state ks_state;

/* NULL when memory is short. */
ks_state *ks_open(const ks_config *config);
void ks_close(ks_state *state);
/* Bytes that closed states had not freed themselves (an engine bug if not 0). */
unsigned long long ks_leaked_bytes(void);

/*
 * Compiles [source]; [name] labels diagnostics. A bytecode file (it starts
 * with the bytes 0x7f 'K' 'S' 'B') is read instead when config.bytecode is
 * set, else refused; either way the program is verified before it may run.
 */
int ks_load(ks_state *state, const char *source, unsigned long length, const char *name);

/*
 * Writes the loaded program as a bytecode file to [write], in one or more
 * pieces; after ks_load() and before ks_run(). KS_ENOMEM, or KS_ESTATE out
 * of order.
 */
int ks_write_bytecode(ks_state *state, void (*write)(void *ctx, const char *data, unsigned long length), void *ctx);
/* Nonzero if [data] starts with the bytecode file magic (ks_load reads it
 * as a bytecode file, not as source). */
int ks_is_bytecode(const char *data, unsigned long length);

struct ks_diagnostic {
	unsigned int line;
	unsigned int column;
	int is_warning;        /* not an error (a warning or an info) */
	int deferred;          /* transcript mode: reported when reached */
	const char *message;   /* valid until ks_close() */
	int is_info;           /* an info line (is_warning is set too) */
};
unsigned int ks_diagnostic_count(const ks_state *state);
int ks_get_diagnostic(const ks_state *state, unsigned int index, struct ks_diagnostic *out);

/* Runs the top-level statements. */
int ks_run(ks_state *state);

/* After KS_EEXCEPTION: the exception's class name, line and message. The
 * message is copied to [out] (at most size - 1 bytes, then a NUL; it may
 * hold NULs of its own); the return value is its whole length, as with
 * snprintf, so that a longer message can be fetched again whole. */
const char *ks_exception_name(const ks_state *state);
unsigned int ks_exception_line(const ks_state *state);
unsigned long ks_exception_message(const ks_state *state, char *out, unsigned long size);
/*
 * After KS_EEXCEPTION: its stack trace, the script functions it passed
 * through, innermost first (frame 0 is where it was raised): returns how
 * many frames are kept (at most 16) and, for [index] below that, sets
 * [function] ("fib", "Point.sum", "<main>") and [line]. [omitted] (may be
 * NULL) gets the number of outer frames not kept.
 */
unsigned int ks_exception_trace(const ks_state *state, unsigned int index, const char **function,
				unsigned int *line, unsigned int *omitted);

/* Writes a readable bytecode listing to the write hook (stream 2). */
int ks_disassemble(ks_state *state);

struct ks_stats {
	unsigned long memory_used;      /* bytes held by the script now */
	unsigned long memory_peak;
	unsigned long memory_quota;
	unsigned long pages;            /* pages held: the state itself and its slab */
	unsigned long long instructions; /* budget charged so far */
	unsigned long long calls;
	unsigned long long exceptions;
	unsigned long long collections;
	unsigned long live_objects;
	unsigned int load_us;           /* ks_load: compiling the source or reading the file, µs */
	unsigned int verify_us;         /* ks_load: verifying the program (both paths), µs */
};
void ks_get_stats(const ks_state *state, struct ks_stats *out);

/* Writes /proc/slabinfo-style lines for the state's slab caches (stream 2). */
void ks_slabinfo(ks_state *state);
/* The same, to another writer. */
void ks_slabinfo_to(ks_state *state, void (*write)(void *ctx, int stream, const char *text, unsigned long length),
		    void *ctx);

/*
 * Host objects. Each script keeps the list of the Devices, Proc files and
 * Timers it made. Devices and Proc files can be made only while the script
 * loads (ks_run); Timers at any time. The handlers below are the one way a
 * host calls into script code: each checks the object's kind, calls the
 * handler that the built-in class declares (a subclass's override has the
 * same signature; the compiler enforces it) with a fresh budget, and
 * returns KS_OK or KS_EEXCEPTION (see ks_exception_*()).
 */
unsigned int ks_object_count(const ks_state *state);
struct ks_object *ks_object_get(ks_state *state, unsigned int index);
/* The first object of [kind] named [name], or NULL. */
struct ks_object *ks_object_find(ks_state *state, int kind, const char *name);
/* Device.open() and Device.release() (nothing for a /proc file). */
int ks_object_open(ks_state *state, struct ks_object *object);
int ks_object_release(ks_state *state, struct ks_object *object);
/* read(OutputStream): on KS_OK, [data] and [length] are what the handler
 * wrote, valid until the next call into the state. */
int ks_object_read(ks_state *state, struct ks_object *object, const void **data, unsigned long *length);
/* int write(Bytes): [consumed] is the handler's result. */
int ks_object_write(ks_state *state, struct ks_object *object, const void *data, unsigned long length,
		    long long *consumed);
/* Timer.run(). */
int ks_object_run(ks_state *state, struct ks_object *object);

/*
 * Hooks: Kprobe.hit(Regs), Kretprobe.ret(Regs) or Netfilter.hook(Packet)
 * for [event]. Safe in atomic context (the host must still serialize calls
 * into the state): it never sleeps, never polls, never collects garbage
 * (a collection that falls due waits for ks_collect()), takes pages only
 * without sleeping, and runs on the hook's own small budget. [verdict] is
 * the handler's result for netfilter hooks (NF_ACCEPT 1 unless it returned
 * NF_DROP 0; NF_ACCEPT after an exception), 0 for probes. [collect], when
 * not NULL, is set to what ks_collect_due() would answer after the event
 * (saving the host that call on its hot path).
 */
int ks_object_hit(ks_state *state, struct ks_object *object, const struct ks_event *event, int *verdict,
		  int *collect);
/* 1 when a collection is due that a hook could not run. */
int ks_collect_due(const ks_state *state);
/* Collects garbage now, in process context. */
void ks_collect(ks_state *state);

/*
 * Host memory that the script caused and that the host allocated itself
 * (e.g. a buffered read result): [bytes] > 0 charges the quota (KS_ENOMEM
 * when it is exceeded, nothing charged), < 0 gives bytes back.
 */
int ks_charge(ks_state *state, long long bytes);

/*
 * Allocator benchmark: [n] alloc+free pairs (pattern 0) or [n] allocations
 * then their frees (pattern 1) of [size] bytes from a slab cache of a fresh
 * allocator. Returns the nanoseconds taken (0 if it could not start).
 */
unsigned long long ks_slab_bench(int pattern, unsigned long n, unsigned long size);

#ifdef __cplusplus
}
#endif

#endif
