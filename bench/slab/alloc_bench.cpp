// One allocator, three patterns. Built once per allocator (run.sh):
//   -DUSE_SLAB (ours, slab/), -DUSE_GLIBC, -DUSE_MIMALLOC, -DUSE_JEMALLOC,
//   -DUSE_TCMALLOC.
// Usage: alloc_bench PATTERN MODE [TRACE]
//   PATTERN: pairs (alloc+free of 32 B), bulk (1M allocations of 32 B then
//            the frees), trace (replay of the VM's allocation trace)
//   MODE:    time (prints ns per alloc+free pair) or memory (prints peak
//            anonymous resident memory over peak payload, as overhead in
//            percent)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

// Bench bookkeeping lives in its own mappings, outside the allocator under
// test, so that it neither warms nor pollutes that allocator's memory.
template<typename T>
struct MappedArray {
    T* data = nullptr;
    size_t size = 0;
    explicit MappedArray(size_t n) : size(n)
    {
        if (n) {
            void* p = mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            data = p == MAP_FAILED ? nullptr : static_cast<T*>(p);
        }
    }
    ~MappedArray()
    {
        if (data)
            munmap(data, size * sizeof(T));
    }
    T& operator[](size_t i) { return data[i]; }
    T* begin() { return data; }
    T* end() { return data + size; }
};

#if defined(USE_SLAB)
#include "../../slab/Slab.h"
static ks::SlabAllocator slab;
static inline void* do_alloc(size_t n) { return slab.kmalloc(n); }
static inline void do_free(void* p) { slab.kfree(p); }
static void setup() { slab.init(false); }
static const char* kName = "kscript slab";
static long own_bytes() { return (long)slab.bytes_held(); }
#define HAVE_OWN_BYTES 1
#elif defined(USE_MIMALLOC)
#include <mimalloc.h>
static inline void* do_alloc(size_t n) { return mi_malloc(n); }
static inline void do_free(void* p) { mi_free(p); }
static void setup() {}
static const char* kName = "mimalloc";
#else
static inline void* do_alloc(size_t n) { return malloc(n); }
static inline void do_free(void* p) { free(p); }
static void setup() {}
#if defined(USE_JEMALLOC)
static const char* kName = "jemalloc";
#elif defined(USE_TCMALLOC)
static const char* kName = "tcmalloc";
#else
static const char* kName = "glibc malloc";
#endif
#endif

struct Event {
    bool alloc;
    unsigned id;
    unsigned size;
};

static size_t count_lines(const char* path)
{
    FILE* f = fopen(path, "r");
    size_t n = 0;
    int c;
    while (f && (c = getc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

static size_t load_trace(const char* path, MappedArray<Event>& events, unsigned* max_id)
{
    FILE* f = fopen(path, "r");
    char op;
    unsigned long id, size;
    size_t n = 0;
    *max_id = 0;
    while (f && n < events.size && fscanf(f, " %c %lu", &op, &id) == 2) {
        size = 0;
        if (op == 'a' && fscanf(f, "%lu", &size) != 1)
            break;
        events[n++] = Event { op == 'a', (unsigned)id, (unsigned)size };
        if (id + 1 > *max_id)
            *max_id = (unsigned)id + 1;
    }
    if (f)
        fclose(f);
    return n;
}

// Anonymous resident memory (RssAnon): what the allocator holds. Code pages
// of the program and its libraries touched after the baseline are not the
// allocator's memory and are left out.
static long resident_bytes()
{
    long kib = 0;
    char line[256];
    FILE* f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib * 1024;
}

static double now_ns()
{
    return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: alloc_bench pairs|bulk|trace time|memory [TRACE]\n");
        return 64;
    }
    std::string pattern = argv[1];
    bool memory = std::string(argv[2]) == "memory";
    setup();
    unsigned max_id = 0;
    if (pattern == "trace" && argc < 4)
        return 64;
    MappedArray<Event> events(pattern == "trace" ? count_lines(argv[3]) : 0);
    size_t event_count = pattern == "trace" ? load_trace(argv[3], events, &max_id) : 0;
    MappedArray<void*> slots(pattern == "bulk" ? 1000000 : max_id);
    MappedArray<unsigned> sizes(memory ? max_id : 0);
    // Touch the bookkeeping first: only the allocator's memory is measured.
    memset(static_cast<void*>(slots.data), 0, slots.size * sizeof(void*));
    if (sizes.data)
        memset(sizes.data, 0, sizes.size * sizeof(unsigned));
    long base = resident_bytes();
    long peak_rss = 0;
    long peak_own = 0;
    double peak_payload = 0;
    double pairs = 0;
    double start = now_ns();
    if (pattern == "pairs") {
        const long n = 20000000;
        for (long i = 0; i < n; i++) {
            void* p = do_alloc(32);
            *static_cast<volatile char*>(p) = (char)i;
            do_free(p);
        }
        pairs = n;
    } else if (pattern == "bulk") {
        int rounds = memory ? 1 : 5;
        for (int r = 0; r < rounds; r++) {
            for (size_t i = 0; i < slots.size; i++) {
                slots[i] = do_alloc(32);
                *static_cast<volatile char*>(slots[i]) = (char)i;
            }
            if (memory) {
                peak_rss = resident_bytes() - base;
                peak_payload = 32.0 * slots.size;
            }
            for (size_t i = 0; i < slots.size; i++)
                do_free(slots[i]);
            pairs += slots.size;
        }
    } else if (pattern == "trace") {
        int rounds = memory ? 1 : 10;
        for (int r = 0; r < rounds; r++) {
            double payload = 0;
            size_t k = 0;
            for (size_t ei = 0; ei < event_count; ei++) {
                const Event& e = events[ei];
                if (e.alloc) {
                    void* p = do_alloc(e.size);
                    memset(p, 1, e.size < 64 ? e.size : 64);
                    slots[e.id] = p;
                    pairs++;
                    if (memory) {
                        sizes[e.id] = e.size;
                        payload += e.size;
                        if (payload > peak_payload)
                            peak_payload = payload;
                    }
                } else {
                    do_free(slots[e.id]);
                    slots[e.id] = nullptr;
                    if (memory)
                        payload -= sizes[e.id];
                }
                if (memory && (++k & 63) == 0) {
                    long rss = resident_bytes() - base;
                    if (rss > peak_rss)
                        peak_rss = rss;
#ifdef HAVE_OWN_BYTES
                    if (own_bytes() > peak_own)
                        peak_own = own_bytes();
#endif
                }
            }
            for (void*& p : slots)
                if (p) {
                    do_free(p);
                    p = nullptr;
                }
        }
    } else {
        return 64;
    }
    double elapsed = now_ns() - start;
    if (memory && peak_own)
        fprintf(stderr, "%s %s: pages held %.1f%% over payload\n", kName, pattern.c_str(),
            100.0 * (peak_own - peak_payload) / peak_payload);
    if (memory)
        printf("%s %s memory %.1f%%\n", kName, pattern.c_str(), 100.0 * (peak_rss - peak_payload) / peak_payload);
    else
        printf("%s %s time %.2f\n", kName, pattern.c_str(), elapsed / pairs);
    return 0;
}
