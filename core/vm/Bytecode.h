// Bytecode files: a compiled program written out (`kscript compile`) and read
// back (`kscript run FILE.kbc`, ks_load_bytecode()). The layout is in
// docs/internals.md, "Bytecode files". Reading checks every length and index
// of the file itself; what the code does is then the verifier's to check.
#pragma once

#include "../support/StringBuilder.h"
#include "Heap.h"
#include "Program.h"

namespace ks {

// "\x7fKSB": no source text starts with byte 0x7f.
constexpr u8 kBytecodeMagic[4] = { 0x7f, 'K', 'S', 'B' };
constexpr u16 kBytecodeFormat = 2;      // The layout of the file.
constexpr u32 kEngineVersion = 2;       // Bumped with any change that old files would misread.
constexpr usize kBytecodeHeaderSize = 32;

// The checksum of a payload: CRC-32 (IEEE), as the header stores it.
u32 bytecode_checksum(const u8* data, usize length);

// True if [data] begins with the magic.
bool is_bytecode(const void* data, usize length);

// A fingerprint of what bytecode depends on in this engine: the opcodes
// (names and operand formats, so their numbers) and the natives (owners,
// names, signatures, so their indexes). A file made by an engine whose
// fingerprint differs is refused.
u32 engine_fingerprint();

// Appends the bytecode file of [program] to [out]; false when memory ran out
// (or a value has no encoding, which no compiled program has).
bool write_bytecode(const Program& program, StringBuilder& out);

// Reads the bytecode file [data] into [out]: its tables into out's arena,
// its objects (strings, null values) permanent in [heap]. On failure returns
// false with [error] naming what is wrong ("truncated", "bad checksum", ...);
// what was built is out's to free (free_program()). [out_of_memory] tells a
// failure of memory apart from a bad file.
bool read_bytecode(Memory* memory, Heap* heap, const u8* data, usize length, Program* out, const char** error,
    bool* out_of_memory);

}
