#!/usr/bin/env python3
# Writes tiny TensorFlow.js graph-model seeds for fuzz_tfjs into tests/fuzz/corpus/tfjs, in
# the harness's container format: records of [u8 name length][name][u32 LE size][bytes],
# model.json first, then the weight shards it names. Weights are small made-up numbers.
# Run by hand: python3 tests/fuzz/make_tfjs_seeds.py
import json, os, struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tfjs")


def container(files):
    b = b""
    for name, data in files:
        b += bytes([len(name)]) + name.encode() + struct.pack("<I", len(data)) + data
    return b


def node(name, op, inputs=(), attr=None):
    n = {"name": name, "op": op}
    if inputs:
        n["input"] = list(inputs)
    if attr:
        n["attr"] = attr
    return n


def ints(*v):
    return {"list": {"i": [str(x) for x in v]}}


x = node("x", "Placeholder", attr={"shape": {"shape": {"dim": [{"size": "1"}, {"size": "-1"}, {"size": "-1"}, {"size": "2"}]}}})
b64 = {"SAME": "U0FNRQ==", "VALID": "VkFMSUQ=", "BiasAdd": "Qmlhc0FkZA==", "Relu": "UmVsdQ=="}

# 1. Conv2D 1x1 (float32 weights) + BiasAdd + Relu, fused as tfjs writes it, then MaxPool
m1 = {"format": "graph-model", "modelTopology": {"node": [
    x, node("w", "Const"), node("b", "Const"),
    node("c", "_FusedConv2D", ["x", "w", "b"], {"padding": {"s": b64["SAME"]}, "strides": ints(1, 1, 1, 1),
         "fused_ops": {"list": {"s": [b64["BiasAdd"], b64["Relu"]]}}}),
    node("y", "MaxPool", ["c"], {"padding": {"s": b64["SAME"]}, "ksize": ints(1, 2, 2, 1), "strides": ints(1, 2, 2, 1)})]},
    "weightsManifest": [{"paths": ["s.bin"], "weights": [
        {"name": "w", "shape": [1, 1, 2, 3], "dtype": "float32"}, {"name": "b", "shape": [3], "dtype": "float32"}]}]}
s1 = struct.pack("<6f", 1, -2, 0.5, 0.25, 1, -1) + struct.pack("<3f", 0, 0.5, -1)

# 2. Depthwise 3x3 (uint16-quantised weights, explicit padding) + Reshape + Softmax, two shards
m2 = {"format": "graph-model", "modelTopology": {"node": [
    x, node("w", "Const"), node("b", "Const"), node("shape", "Const"),
    node("dw", "FusedDepthwiseConv2dNative", ["x", "w", "b"], {"padding": {"s": "RVhQTElDSVQ="},
         "explicit_paddings": ints(0, 0, 1, 1, 1, 1, 0, 0), "strides": ints(1, 1, 1, 1),
         "fused_ops": {"list": {"s": [b64["BiasAdd"]]}}}),
    node("r", "Reshape", ["dw", "shape"]), node("y", "Softmax", ["r"])]},
    "weightsManifest": [{"paths": ["a.bin", "b.bin"], "weights": [
        {"name": "w", "shape": [3, 3, 2, 1], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.25, "min": -2}},
        {"name": "b", "shape": [2], "dtype": "float32"}, {"name": "shape", "shape": [3], "dtype": "int32"}]}]}
sh = b"".join(struct.pack("<H", k * 3 % 17) for k in range(18)) + struct.pack("<2f", 0.5, -0.25) + struct.pack("<3i", 1, -1, 2)

os.makedirs(OUT, exist_ok=True)
for name, files in (("conv_relu_pool", [("model.json", json.dumps(m1).encode()), ("s.bin", s1)]),
                    ("dw_reshape_softmax", [("model.json", json.dumps(m2).encode()), ("a.bin", sh[:20]), ("b.bin", sh[20:])])):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(container(files))
print("wrote", OUT)
