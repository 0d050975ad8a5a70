// Konoha compatibility (issue 11) where golden scripts cannot reach: the
// script's arguments (SCRIPT_ARGV), and the scale of Konoha's stress
// programs (10,000 classes or globals declared, then each mentioned as an
// expression statement), in both modes.
#include <gtest/gtest.h>

#include <string>

#include "include/kscript.h"

namespace {

struct Output {
    std::string text;
};

void collect(void* ctx, int, const char* text, unsigned long length)
{
    static_cast<Output*>(ctx)->text.append(text, length);
}

// Loads and runs [source]; the printed text, or "load failed"/"run failed".
std::string run(const std::string& source, bool transcript, const char* const* args = nullptr, unsigned argc = 0)
{
    Output out;
    ks_config config;
    ks_config_init(&config);
    config.write = collect;
    config.ctx = &out;
    config.transcript = transcript;
    config.script_args = args;
    config.script_arg_count = argc;
    ks_state* s = ks_open(&config);
    if (!s)
        return "open failed";
    std::string result;
    if (ks_load(s, source.data(), source.size(), "konoha.k") != KS_OK)
        result = "load failed";
    else if (ks_run(s) != KS_OK)
        result = "run failed: " + out.text;
    else
        result = out.text;
    ks_close(s);
    return result;
}

TEST(Konoha, ScriptArgvHoldsTheArguments)
{
    const char* args[] = { "one", "two words", "" };
    EXPECT_EQ(run("System.p(SCRIPT_ARGV.size()); System.p(SCRIPT_ARGV[1])", false, args, 3), "3\ntwo words\n");
    EXPECT_EQ(run("String[] a = SCRIPT_ARGV; System.p(a.size())", false), "0\n");
}

TEST(Konoha, TenThousandClassesLoadAndRun)
{
    std::string source;
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, wrongly)
    // about "literal" + std::to_string(...).
    for (int i = 0; i < 10000; i++) {
        std::string n = std::to_string(i);
        source += "class C";
        source += n;
        source += " { int x";
        source += n;
        source += "; }\n";
    }
    for (int i = 0; i < 10000; i++) {
        source += "C";
        source += std::to_string(i);
        source += "\n";
    }
    source += "C9999 last = new C9999(); last.x9999 = 7; System.p(last.getx9999())\n";
    EXPECT_EQ(run(source, false), "7\n");
    EXPECT_EQ(run(source, true), "LINE20001: '7'\n");
}

TEST(Konoha, TenThousandGlobalsLoadAndRun)
{
    std::string source;
    for (int i = 0; i < 10000; i++) {
        std::string n = std::to_string(i);
        source += "int g";
        source += n;
        source += " = ";
        source += n;
        source += "\n";
    }
    // A function that names them makes them globals in both modes.
    source += "int sum() { return g0 + g4999 + g9999; }\n";
    for (int i = 0; i < 10000; i++) {
        source += "g";
        source += std::to_string(i);
        source += "\n";
    }
    source += "System.p(sum())\n";
    EXPECT_EQ(run(source, false), "14998\n");
    EXPECT_EQ(run(source, true), "LINE20002: '14998'\n");
}

}
