#!/usr/bin/python3
# Writes fuzz/corpus/model_sections/ from the .vgm seeds of fuzz/corpus/model/:
#   scripts/fuzz_section_seeds.py FAMILIES_IN_REGISTRY_ORDER fuzz/corpus/model fuzz/corpus/model_sections
# Seeds for fuzz_model_sections from the .vgm seeds: [family index][u16 PIPE length][PIPE][state].
import struct, sys, os, glob
reg = sys.argv[1].split(",")
src, dst = sys.argv[2], sys.argv[3]
for f in sorted(glob.glob(src + "/*.vgm")):
    b = open(f, "rb").read()
    n = struct.unpack_from("<I", b, 12)[0]
    sec = {}
    for i in range(n):
        tag, _, off, size = struct.unpack_from("<4sIQQ", b, 24 + 24 * i)
        sec[tag.decode()] = b[off:off + size]
    pipe, estm = sec["PIPE"], sec["ESTM"]
    ln = struct.unpack_from("<I", estm, 0)[0]
    fam, state = estm[4:4 + ln].decode(), estm[4 + ln:]
    open(os.path.join(dst, os.path.basename(f)[:-4]), "wb").write(bytes([reg.index(fam)]) + struct.pack("<H", len(pipe)) + pipe + state)
    print(os.path.basename(f), fam, len(pipe), len(state))
