#!/usr/bin/env python3
# Writes tiny hand-made .fhm seeds for fuzz_fhm into tests/fuzz/corpus/fhm (a second,
# independent writer of the format in src/nn/model_file.c; weights are small made-up
# numbers, never a model's). Run by hand: python3 tests/fuzz/make_fhm_seeds.py
import hashlib, os, struct, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/fhm"

def fhm(meta, values, nodes, inputs, outputs):
    # values: (name, shape, data or None, dtype 0 f32 / 1 i32); nodes: (op, ins, out, params)
    g = struct.pack("<4I", len(values), len(nodes), len(inputs), len(outputs))
    g += b"".join(struct.pack("<i", v) for v in inputs + outputs)
    w, off = b"", 0
    for name, shape, data, dt in values:
        g += struct.pack("<H", len(name)) + name.encode() + struct.pack("<4B", dt, 0, len(shape), 0)
        g += b"".join(struct.pack("<i", d) for d in shape)
        if data is None:
            g += struct.pack("<QQ", 0, 0)
            continue
        raw = b"".join(struct.pack("<i" if dt else "<f", x) for x in data)
        g += struct.pack("<QQ", off, len(raw))
        raw += b"\0" * (-len(raw) % 64)
        w += raw
        off += len(raw)
    for op, ins, out, p in nodes:
        q = dict(KH=1, KW=1, SH=1, SW=1, same=1, act=0, alpha=-1, axis=-1, keep=0, ascale=1.0, eps=0.0)
        q.update(p)
        g += struct.pack("<B", len(op)) + op.encode() + struct.pack("<B", len(ins))
        g += b"".join(struct.pack("<i", v) for v in ins) + struct.pack("<iI", out, 11)
        g += struct.pack("<9i2f", q["KH"], q["KW"], q["SH"], q["SW"], q["same"], q["act"], q["alpha"],
                         q["axis"], q["keep"], q["ascale"], q["eps"])
    m = "".join("%s=%s\n" % kv for kv in meta).encode()
    meta_off = 64
    graph_off = meta_off + len(m)
    pad = -(graph_off + len(g)) % 64
    w_off = graph_off + len(g) + pad
    head = b"FHMODEL\0" + struct.pack("<II6Q", 1, 0, meta_off, len(m), graph_off, len(g), w_off, len(w))
    body = head + m + g + b"\0" * pad + w
    return body + hashlib.sha256(body).digest()

M = [("arch", "seed"), ("input_mean", "127.5"), ("input_scale", "0.0078125")]
seeds = {
    # x[1,4,4,2] -> 1x1 conv (3 out, bias) with a fused PReLU
    "conv_prelu.fhm": fhm(M, [("x", [1, 4, 4, 2], None, 0), ("w", [3, 1, 1, 2], [0.5, -1, 0.25, 2, -0.5, 1], 0),
                              ("b", [3], [0.1, 0, -0.1], 0), ("a", [3], [0.25, 0.5, 0.1], 0), ("y", [1, 4, 4, 3], None, 0)],
                          [("CONV_2D", [0, 1, 2], 4, dict(act=2, alpha=3))], [0], [4]),
    # x[1,5] -> softmax
    "softmax.fhm": fhm(M[:1], [("x", [1, 5], None, 0), ("y", [1, 5], None, 0)], [("SOFTMAX", [0], 1, {})], [0], [1]),
    # x[1,2,2,1] -> RESHAPE to [1,4] -> FC (2 out, no bias)
    "reshape_fc.fhm": fhm(M, [("x", [1, 2, 2, 1], None, 0), ("s", [2], [1, 4], 1), ("r", [1, 4], None, 0),
                              ("w", [2, 4], [1, 2, 3, 4, -1, -2, -3, -4], 0), ("y", [1, 2], None, 0)],
                          [("RESHAPE", [0, 1], 2, {}), ("FULLY_CONNECTED", [2, 3, -1], 4, {})], [0], [4]),
    # x[1,4,4,1] -> 2x2 max pool, stride 2 (VALID) -> + constant -> sum over the last axis
    "pool_add_sum.fhm": fhm([], [("x", [1, 4, 4, 1], None, 0), ("p", [1, 2, 2, 1], None, 0), ("c", [1], [0.5], 0),
                                 ("q", [1, 2, 2, 1], None, 0), ("y", [1, 2, 2, 1], None, 0)],
                            [("MAX_POOL_2D", [0], 1, dict(KH=2, KW=2, SH=2, SW=2, same=0)), ("ADD", [1, 2], 3, {}),
                             ("SUM", [3], 4, dict(axis=3, keep=1))], [0], [4]),
}
os.makedirs(OUT, exist_ok=True)
for name, b in seeds.items():
    open(os.path.join(OUT, name), "wb").write(b)
    print(name, len(b), "bytes")
