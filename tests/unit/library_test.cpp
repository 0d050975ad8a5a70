// The built-in library's registry (core/lib/Registry.h): every library the
// compiler may be asked about is there, the native table is consistent with
// it, and docs/guide.md lists every method a script can call.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/lib/Registry.h"
#include "core/vm/Natives.h"

using namespace ks;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}   // namespace

// Every native's owner is a library of the registry (as a receiver's type
// or as a namespace), and every library has natives.
TEST(Library, NativesBelongToRegisteredLibraries)
{
    u32 library_count;
    const Library* libs = libraries(&library_count);
    std::set<std::string> owners;
    for (u32 i = 0; i < library_count; i++) {
        EXPECT_EQ(find_library(libs[i].name), &libs[i]);
        if (libs[i].method_owner)
            owners.insert(libs[i].method_owner);
        if (libs[i].function_owner)
            owners.insert(libs[i].function_owner);
    }
    u32 count;
    const NativeInfo* natives = native_table(&count);
    std::set<std::string> used;
    for (u32 n = 0; n < count; n++) {
        EXPECT_TRUE(owners.count(natives[n].owner)) << natives[n].owner << "." << natives[n].name;
        used.insert(natives[n].owner);
        // find_native() finds the first of a name and arity: no two natives
        // may share one, or the second could never be called.
        i32 found = find_native(natives[n].owner, natives[n].name, (u32)std::string(natives[n].signature).size() - 1);
        EXPECT_EQ(found, (i32)n) << natives[n].owner << "." << natives[n].name;
    }
    for (const std::string& o : owners)
        EXPECT_TRUE(used.count(o)) << o << " has no natives";
    EXPECT_EQ(find_library("Func"), nullptr);
}

// docs/guide.md lists every native a script can call, with its signature
// (`name(`), so that the reference cannot fall behind the library.
TEST(Library, GuideListsEveryBuiltin)
{
    std::string guide = read_file(std::string(KS_SOURCE_DIR) + "/docs/guide.md");
    ASSERT_FALSE(guide.empty());
    std::string section = guide.substr(guide.find("## Built-in functions and methods"));
    u32 count;
    const NativeInfo* natives = native_table(&count);
    for (u32 n = 0; n < count; n++) {
        std::string name = natives[n].name;
        if (name.rfind("__", 0) == 0 || name == "new")
            continue;
        // Functions of a namespace as `Linux.pid(`, methods as ` size(`.
        std::string owner = natives[n].owner;
        const Library* lib = find_library(owner.back() == '.' ? owner.substr(0, owner.size() - 1).c_str() : owner.c_str());
        bool function = lib && lib->function_owner && owner == lib->function_owner;
        std::string written = function ? std::string(lib->name) + "." + name + "(" : " " + name + "(";
        EXPECT_NE(section.find(written), std::string::npos)
            << natives[n].owner << "." << name << " is not in docs/guide.md's list of built-ins";
    }
}

// The prelude is there and declares the classes the VM raises by id.
TEST(Library, PreludeSource)
{
    usize length;
    const char* source = prelude_source(&length);
    std::string text(source, length);
    EXPECT_EQ(text.size(), std::string(source).size());
    EXPECT_NE(text.find("class OutOfMemoryException extends Exception"), std::string::npos);
    EXPECT_EQ(text.find("//"), std::string::npos) << "comment lines are left out of the compiled-in prelude";
}
