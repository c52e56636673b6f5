#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Builds ONNX files from the graphs `xnn_bench --export DIR` dumps (DIR/<net>.graph.json +
# DIR/<net>.weights.f32: facehatch's fused node list and its constants, NHWC, exactly as the
# engine runs them), for the ONNX Runtime peer of bench/peers (ort_native_bench.js).
# Debian's python3-onnx (onnx.helper), run with /usr/bin/python3; writes DIR/<net>.onnx.
#
# The ONNX graph is NCHW (ONNX Runtime's native layout): input [N, C, H, W] with N, H, W left
# symbolic, weights transposed (conv OHWI -> OIHW, depthwise [1,KH,KW,C] -> [C,1,KH,KW] with
# group = C), PReLU slopes as [C,1,1] (facehatch's slopes with alpha_scale applied), TensorFlow
# SAME padding as auto_pad SAME_UPPER (the same rule: extra padding after), softmax over the
# channel axis (opset 13: one axis), flatten after a transpose back to NHWC when H*W > 1 so
# the element order is facehatch's. Outputs keep facehatch's order; rank-4 ones come out NCHW
# (the bench transposes them back, outside the timing).
#
#   /usr/bin/python3 onnx_from_facehatch.py --dir DIR [--nets mfn,pnet]
import argparse
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class Builder:
    def __init__(self, g, w):
        self.g, self.w = g, w
        self.consts = {c["id"]: c for c in g["consts"]}
        self.rank = {g["input"]["id"]: len(g["input"]["shape"])}
        self.nodes, self.inits = [], []
        self.n = 0

    def name(self, v):
        return "input" if v == self.g["input"]["id"] else "v%d" % v

    def tmp(self, what):
        self.n += 1
        return "%s_%d" % (what, self.n)

    def const(self, arr, what):
        nm = self.tmp(what)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), nm))
        return nm

    def data(self, v):
        c = self.consts[v]
        n = int(np.prod(c["shape"])) if c["shape"] else 1
        return self.w[c["offset"]:c["offset"] + n].reshape(c["shape"])

    def alpha(self, nd):
        a = nd["alpha"]
        return self.w[a["offset"]:a["offset"] + a["n"]]

    def act(self, nd, x, out):
        """fused activation of a conv/FC output x written to out"""
        if nd["act"] == "relu":
            self.nodes.append(helper.make_node("Relu", [x], [out]))
        elif nd["act"] == "prelu":
            slope = self.alpha(nd).reshape(-1, 1, 1) if len(nd["shape"]) == 4 else self.alpha(nd)
            self.nodes.append(helper.make_node("PRelu", [x, self.const(slope, "slope")], [out]))
        else:
            self.nodes.append(helper.make_node("Identity", [x], [out]))

    def pads(self, nd, attrs):
        if nd["same"] == 1:
            attrs["auto_pad"] = "SAME_UPPER"
        elif nd["same"] == 2:  # explicit: facehatch's PT, PL, PB, PR = ONNX [top, left, bottom, right]
            attrs["pads"] = list(nd["pads"])
        else:
            attrs["auto_pad"] = "VALID"

    def flatten_nhwc(self, x, rank, shape):
        """[N, C, H, W] -> [N, H*W*C] in NHWC element order"""
        if rank == 4 and shape[1] * shape[2] > 1:
            t = self.tmp("nhwc")
            self.nodes.append(helper.make_node("Transpose", [x], [t], perm=[0, 2, 3, 1]))
            x = t
        f = self.tmp("flat")
        self.nodes.append(helper.make_node("Flatten", [x], [f], axis=1))
        return f

    def node(self, nd):
        op, ins, out = nd["op"], nd["in"], self.name(nd["out"])
        x = self.name(ins[0])
        if ins[0] not in self.rank and ins[0] not in self.consts:
            raise ValueError("%s reads value %d before it is computed" % (op, ins[0]))
        self.rank[nd["out"]] = len(nd["shape"])
        if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = self.data(ins[1])
            dw = op == "DEPTHWISE_CONV_2D"
            wt = w.transpose(3, 0, 1, 2) if dw else w.transpose(0, 3, 1, 2)  # -> [OC, C/group, KH, KW]
            attrs = {"kernel_shape": [w.shape[1], w.shape[2]], "strides": list(nd["S"]), "dilations": list(nd["dil"])}
            if dw:
                attrs["group"] = w.shape[3]
            self.pads(nd, attrs)
            args = [x, self.const(wt, "w")]
            if len(ins) > 2 and ins[2] >= 0:
                args.append(self.const(self.data(ins[2]), "b"))
            y = self.tmp("conv") if nd["act"] != "none" else out
            self.nodes.append(helper.make_node("Conv", args, [y], **attrs))
            if y != out:
                self.act(nd, y, out)
        elif op == "FULLY_CONNECTED":
            w = self.data(ins[1])  # [OC, K]
            f = self.flatten_nhwc(x, self.rank[ins[0]], self.in_shape(ins[0]))
            args = [f, self.const(w, "w")]
            if len(ins) > 2 and ins[2] >= 0:
                args.append(self.const(self.data(ins[2]), "b"))
            y = self.tmp("fc") if nd["act"] != "none" else out
            self.nodes.append(helper.make_node("Gemm", args, [y], transB=1))
            if y != out:
                self.act(nd, y, out)
        elif op == "MAX_POOL_2D":
            attrs = {"kernel_shape": list(nd["K"]), "strides": list(nd["S"])}
            self.pads(nd, attrs)
            self.nodes.append(helper.make_node("MaxPool", [x], [out], **attrs))
        elif op == "PRELU":
            self.act(dict(nd, act="prelu"), x, out)
        elif op == "RELU":
            self.nodes.append(helper.make_node("Relu", [x], [out]))
        elif op in ("ADD", "SUB", "MUL", "DIV"):
            if any(v in self.consts for v in ins):
                raise ValueError("%s with a constant operand: not mapped (NHWC broadcasting)" % op)
            self.nodes.append(helper.make_node(op.capitalize(), [x, self.name(ins[1])], [out]))
        elif op == "SOFTMAX":  # facehatch: last axis = channels
            self.nodes.append(helper.make_node("Softmax", [x], [out], axis=1 if len(nd["shape"]) in (2, 4) else -1))
        elif op in ("FLATTEN", "RESHAPE"):
            if len(nd["shape"]) != 2:
                raise ValueError("%s to rank %d: not mapped" % (op, len(nd["shape"])))
            f = self.flatten_nhwc(x, self.rank[ins[0]], self.in_shape(ins[0]))
            self.nodes.append(helper.make_node("Identity", [f], [out]))
        else:
            raise ValueError("no ONNX mapping for facehatch op %s" % op)

    def in_shape(self, v):
        """NHWC shape of activation v in the exported plan"""
        if v == self.g["input"]["id"]:
            return self.g["input"]["shape"]
        for nd in self.g["nodes"]:
            if nd["out"] == v:
                return nd["shape"]
        raise ValueError("value %d has no producer" % v)

    def model(self):
        for nd in self.g["nodes"]:
            self.node(nd)
        ishape = self.g["input"]["shape"]
        if len(ishape) != 4:
            raise ValueError("input rank %d (need 4, NHWC)" % len(ishape))
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", ishape[3], "H", "W"])
        outs = []
        for k, v in enumerate(self.g["outputs"]):  # channels fixed, the rest symbolic
            s = self.in_shape(v)
            dims = ["N", s[3], "H%d" % k, "W%d" % k] if len(s) == 4 else ["N"] + list(s[1:])
            outs.append(helper.make_tensor_value_info(self.name(v), TensorProto.FLOAT, dims))
        graph = helper.make_graph(self.nodes, "facehatch_" + self.g["net"], [inp], outs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="facehatch bench/peers/onnx_from_facehatch.py")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--nets", help="comma-separated (default: every DIR/*.graph.json)")
    a = ap.parse_args()
    nets = a.nets.split(",") if a.nets else sorted(os.path.basename(p)[:-len(".graph.json")]
                                                   for p in glob.glob(os.path.join(a.dir, "*.graph.json")))
    if not nets:
        sys.exit("onnx_from_facehatch: no *.graph.json in %s (run xnn_bench --export first)" % a.dir)
    for net in nets:
        with open(os.path.join(a.dir, net + ".graph.json")) as f:
            g = json.load(f)
        w = np.fromfile(os.path.join(a.dir, net + ".weights.f32"), dtype="<f4")
        m = Builder(g, w).model()
        path = os.path.join(a.dir, net + ".onnx")
        onnx.save(m, path)
        print("onnx_from_facehatch: %s: %d nodes, %d initializers -> %s" % (
            net, len(m.graph.node), len(m.graph.initializer), path))


if __name__ == "__main__":
    main()
