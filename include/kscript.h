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
	long long (*info)(void *ctx, int what);  /* 0 jiffies, 1 pid, 2 uid */
	unsigned long (*comm)(void *ctx, char *out16);
	/*
	 * Kernel objects a script asks for (KS_REQUEST_*): [object] is the script
	 * object (e.g. the Device), [name] and [arg] its parameters. Returns 0 or
	 * a negative errno, which the script sees.
	 */
	long long (*request)(void *ctx, int request, unsigned long long object, const char *name, long long arg);
	void *ctx;
} ks_config;

enum ks_request {
	KS_REQUEST_DEVICE_CREATE = 1,   /* name, arg = mode */
	KS_REQUEST_TIMER_CREATE = 2,    /* arg = interval in ms * 2 + periodic */
	KS_REQUEST_TIMER_STOP = 3,
	KS_REQUEST_PROC_CREATE = 4,     /* name, arg = writable */
};

/* Defaults: 64 MiB quota, 2^31 budget, depth 2000, nesting 200, 4 MiB source. */
void ks_config_init(ks_config *config);

typedef struct ks_state ks_state;

/* NULL when memory is short. */
ks_state *ks_open(const ks_config *config);
void ks_close(ks_state *state);
/* Bytes that closed states had not freed themselves (an engine bug if not 0). */
unsigned long long ks_leaked_bytes(void);

/* Compiles [source]; [name] labels diagnostics. */
int ks_load(ks_state *state, const char *source, unsigned long length, const char *name);

struct ks_diagnostic {
	unsigned int line;
	unsigned int column;
	int is_warning;
	int deferred;          /* transcript mode: reported when reached */
	const char *message;   /* valid until ks_close() */
};
unsigned int ks_diagnostic_count(const ks_state *state);
int ks_get_diagnostic(const ks_state *state, unsigned int index, struct ks_diagnostic *out);

/* Runs the top-level statements. */
int ks_run(ks_state *state);

/* After KS_EEXCEPTION: the exception's class name, line and message. */
const char *ks_exception_name(const ks_state *state);
unsigned int ks_exception_line(const ks_state *state);
unsigned long ks_exception_message(const ks_state *state, char *out, unsigned long size);

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
};
void ks_get_stats(const ks_state *state, struct ks_stats *out);

/* Writes /proc/slabinfo-style lines for the state's slab caches (stream 2). */
void ks_slabinfo(ks_state *state);
/* The same, to another writer. */
void ks_slabinfo_to(ks_state *state, void (*write)(void *ctx, int stream, const char *text, unsigned long length),
		    void *ctx);

/*
 * Calling into script objects, for hosts serving kernel events (a Device's
 * read, ...). A ks_value is a script value: an int, a boolean, or an object.
 * Objects the host keeps between calls must be pinned, or the collector may
 * free them. None of these may be called from inside a request hook.
 */
typedef unsigned long long ks_value;

/* The vtable slot of [object]'s method [name] taking [argc] arguments. */
int ks_find_method(ks_state *state, ks_value object, const char *name, unsigned int argc, int *slot);
/* Calls the method in [slot] with a fresh instruction budget. */
int ks_invoke(ks_state *state, ks_value object, int slot, const ks_value *args, unsigned int argc,
	      ks_value *result);
/* A new instance of built-in or script class [name], made by its constructor without parameters. */
int ks_new_object(ks_state *state, const char *class_name, ks_value *out);
int ks_get_field(ks_state *state, ks_value object, const char *field, ks_value *out);
int ks_pin(ks_state *state, ks_value object);
void ks_unpin(ks_state *state, ks_value object);
/* Bytes objects: a copy of [data], and the contents of one (valid until the script runs again). */
int ks_bytes_new(ks_state *state, const void *data, unsigned long length, ks_value *out);
int ks_bytes_data(ks_state *state, ks_value bytes, const void **data, unsigned long *length);
/* A String's text (not NUL-terminated). */
int ks_string_data(ks_state *state, ks_value string, const char **data, unsigned long *length);

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
