// Records the allocation trace of a kscript run (built with KS_ALLOC_TRACE):
// writes one record per event, "a ID SIZE" or "f ID", to the output file.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>

#include "../../include/kscript.h"

static FILE* out;
static std::unordered_map<void*, unsigned long> ids;
static unsigned long next_id;

extern "C" void ks_trace_alloc(void* p, unsigned long size)
{
    ids[p] = next_id;
    fprintf(out, "a %lu %lu\n", next_id++, size);
}

extern "C" void ks_trace_free(void* p)
{
    auto it = ids.find(p);
    if (it == ids.end())
        return;
    fprintf(out, "f %lu\n", it->second);
    ids.erase(it);
}

static void discard(void*, int, const char*, unsigned long) {}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: trace SCRIPT.k OUT\n");
        return 64;
    }
    std::ifstream in(argv[1]);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string src = ss.str();
    out = fopen(argv[2], "w");
    ks_config config;
    ks_config_init(&config);
    config.budget = 1ll << 60;
    config.write = discard;
    ks_state* s = ks_open(&config);
    int rc = ks_load(s, src.data(), src.size(), argv[1]);
    if (rc == KS_OK)
        rc = ks_run(s);
    ks_close(s);
    fclose(out);
    return rc == KS_OK ? 0 : 1;
}
