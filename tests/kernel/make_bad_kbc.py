#!/usr/bin/env python3
"""Writes damaged copies of a bytecode file for the kernel's hostile set.

Usage: make_bad_kbc.py GOOD.kbc OUTDIR [FLIPS]

bad_*.kbc break the container (header, lengths, checksum) and must be
refused by the reader; flip_NNN.kbc change one to four payload bytes and
fix the checksum, as a forger would, so they reach the verifier, which
must refuse them or accept only programs that run safely. The flips use a
fixed seed: the same file gives the same set. Layout: docs/internals.md,
"Bytecode files".
"""
import os
import random
import struct
import sys
import zlib

HEADER = 32


def fix(data):
    """The header's payload size and CRC-32 made to agree with the payload."""
    data = bytearray(data)
    payload = bytes(data[HEADER:])
    struct.pack_into("<Q", data, 16, len(payload))
    struct.pack_into("<I", data, 24, zlib.crc32(payload) & 0xffffffff)
    return bytes(data)


def main():
    good = open(sys.argv[1], "rb").read()
    out = sys.argv[2]
    flips = int(sys.argv[3]) if len(sys.argv) > 3 else 48
    os.makedirs(out, exist_ok=True)
    bad = {}
    bad["truncated_header"] = good[:20]
    bad["truncated_payload"] = good[: HEADER + (len(good) - HEADER) // 2]
    future = bytearray(good)
    struct.pack_into("<H", future, 4, struct.unpack_from("<H", good, 4)[0] + 1)
    bad["future_format"] = bytes(future)
    engine = bytearray(good)
    struct.pack_into("<I", engine, 12, struct.unpack_from("<I", good, 12)[0] ^ 1)
    bad["other_engine"] = bytes(engine)
    checksum = bytearray(good)
    checksum[HEADER + 7] ^= 0x40
    bad["bad_checksum"] = bytes(checksum)
    bad["trailing_bytes"] = fix(good + b"\0\0\0\0")
    # The class count (first payload word) longer than the file can hold.
    count = bytearray(good)
    struct.pack_into("<I", count, HEADER, 0xFFFFFFF0)
    bad["huge_count"] = fix(count)
    # The payload size says more than the file has.
    size = bytearray(good)
    struct.pack_into("<Q", size, 16, 1 << 62)
    bad["huge_payload"] = bytes(size)
    for name, data in bad.items():
        with open(os.path.join(out, "bad_%s.kbc" % name), "wb") as f:
            f.write(data)
    rng = random.Random(12)
    for i in range(flips):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(HEADER, len(data))
            data[at] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
        with open(os.path.join(out, "flip_%03d.kbc" % i), "wb") as f:
            f.write(fix(data))


if __name__ == "__main__":
    main()
