#!/usr/bin/python3
# Writes build/golden/torch_parity.bin (`make test` runs it; never committed): a small net trained for 3 SGD steps by PyTorch
# (Debian python3-torch 1.13, CPU, float32), the reference our training engine must match
# (tests/ops/test_torch_parity.c). Run: /usr/bin/python3 tools/torch_parity.py [OUT]
# Only this script needs torch; the test and CI read the committed file.
#
# The net, in our builder's terms (layer names as the builder gives them: kind + running
# number over every layer, so add8, flatten11 and l2norm13 take numbers too) (NHWC; TensorFlow SAME padding: extra padding after):
#   x [4,12,12,3] -> conv0 3x3 s2 SAME 3->8 (no bias) -> bn1 -> prelu2        = a [4,6,6,8]
#   a -> dw3 3x3 s1 SAME (no bias) -> bn4 -> prelu5 -> conv6 1x1 8->8 (no bias) -> bn7
#     -> add(., a)                                                              = b
#   b -> dw9 6x6 VALID (global depthwise, no bias) -> bn10 -> flatten -> fc12 8->6 (bias)
#     -> l2norm                                                                 = out [4,6]
#   loss = cross-entropy(4 * out, y), mean over the batch
# SGD: lr 0.1, momentum 0.9, weight decay 5e-4 on conv/dw/fc weights only (torch
# semantics: buf = mu buf + g + wd w; w -= lr buf), 3 steps on the same batch.
#
# File: magic "FHPR1\n", then records until EOF: u32 name length, name bytes, u32 rank,
# u32 dims[rank], float32 data (little-endian). Layouts are the engine's: activations
# NHWC, conv w (OC,KH,KW,C), depthwise w (1,KH,KW,C), fc w (OC,K), others (C).
# Records: "input", "labels" (float), "act.<k>" for every node output of step 0 in node
# order (k = 0..), "loss.<step>" for steps 0..2, "grad.<param>" (step 0), "grad.input"
# (step 0), "param0.<param>" (initial values), "param3.<param>" (after 3 steps, BN
# running stats included).
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(8)
torch.set_num_threads(1)
N, H, C, D = 4, 12, 8, 6


def rnd(*shape, lo=-1.0, hi=1.0):
    return (torch.rand(*shape) * (hi - lo) + lo).float()


P = {}  # name -> tensor (torch layout), creation order = builder order
P["conv0.w"] = rnd(C, 3, 3, 3) * 0.5
P["bn1.gamma"], P["bn1.beta"] = rnd(C, lo=0.5, hi=1.5), rnd(C, lo=-0.2, hi=0.2)
P["bn1.mean"], P["bn1.var"] = torch.zeros(C), torch.ones(C)
P["prelu2.alpha"] = rnd(C, lo=0.1, hi=0.4)
P["dw3.w"] = rnd(C, 1, 3, 3) * 0.5
P["bn4.gamma"], P["bn4.beta"] = rnd(C, lo=0.5, hi=1.5), rnd(C, lo=-0.2, hi=0.2)
P["bn4.mean"], P["bn4.var"] = torch.zeros(C), torch.ones(C)
P["prelu5.alpha"] = rnd(C, lo=0.1, hi=0.4)
P["conv6.w"] = rnd(C, C, 1, 1) * 0.5
P["bn7.gamma"], P["bn7.beta"] = rnd(C, lo=0.5, hi=1.5), rnd(C, lo=-0.2, hi=0.2)
P["bn7.mean"], P["bn7.var"] = torch.zeros(C), torch.ones(C)
P["dw9.w"] = rnd(C, 1, 6, 6) * 0.3
P["bn10.gamma"], P["bn10.beta"] = rnd(C, lo=0.5, hi=1.5), rnd(C, lo=-0.2, hi=0.2)
P["bn10.mean"], P["bn10.var"] = torch.zeros(C), torch.ones(C)
P["fc12.w"] = rnd(D, C) * 0.5
P["fc12.b"] = rnd(D, lo=-0.1, hi=0.1)
BUFFERS = {k for k in P if k.endswith(".mean") or k.endswith(".var")}
DECAY = {"conv0.w", "dw3.w", "conv6.w", "dw9.w", "fc12.w"}
for k in P:
    if k not in BUFFERS:
        P[k].requires_grad_(True)

x0 = rnd(N, 3, H, H)          # NCHW
y = torch.tensor([0, 3, 5, 3])


def bn(t, name, acts):
    o = F.batch_norm(t, P[name + ".mean"], P[name + ".var"], P[name + ".gamma"],
                     P[name + ".beta"], training=True, momentum=0.1, eps=1e-5)
    acts.append(o)
    return o


def forward(x, acts):
    t = F.conv2d(F.pad(x, (0, 1, 0, 1)), P["conv0.w"], stride=2); acts.append(t)
    t = bn(t, "bn1", acts)
    a = F.prelu(t, P["prelu2.alpha"]); acts.append(a)
    t = F.conv2d(F.pad(a, (1, 1, 1, 1)), P["dw3.w"], groups=C); acts.append(t)
    t = bn(t, "bn4", acts)
    t = F.prelu(t, P["prelu5.alpha"]); acts.append(t)
    t = F.conv2d(t, P["conv6.w"]); acts.append(t)
    t = bn(t, "bn7", acts)
    b = t + a; acts.append(b)
    t = F.conv2d(b, P["dw9.w"], groups=C); acts.append(t)
    t = bn(t, "bn10", acts)
    f = t.flatten(1); acts.append(f)
    t = F.linear(f, P["fc12.w"], P["fc12.b"]); acts.append(t)
    o = F.normalize(t, dim=1, eps=1e-10); acts.append(o)
    return o


def nhwc(t):
    t = t.detach()
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t.contiguous()


def engine_layout(name, t):
    t = t.detach()
    if name.startswith("conv"):
        return t.permute(0, 2, 3, 1).contiguous()          # (OC,C,KH,KW) -> (OC,KH,KW,C)
    if name.startswith("dw"):
        return t.permute(1, 2, 3, 0).contiguous()          # (C,1,KH,KW) -> (1,KH,KW,C)
    return t.contiguous()


recs = []


def rec(name, t):
    recs.append((name, t.detach().float().clone().contiguous()))  # a copy: SGD updates in place


rec("input", nhwc(x0))
rec("labels", y.float())
for k, v in P.items():
    rec("param0." + k, engine_layout(k, v))

mom = {k: torch.zeros_like(v) for k, v in P.items() if k not in BUFFERS}
lr, mu, wd = 0.1, 0.9, 5e-4
for step in range(3):
    x = x0.clone().requires_grad_(True)
    acts = []
    out = forward(x, acts)
    loss = F.cross_entropy(4.0 * out, y)
    for k in P:
        if P[k].grad is not None:
            P[k].grad = None
    loss.backward()
    rec("loss.%d" % step, loss.reshape(1))
    if step == 0:
        for i, a in enumerate(acts):
            rec("act.%d" % i, nhwc(a))
        rec("grad.input", nhwc(x.grad))
        for k in P:
            if k not in BUFFERS:
                rec("grad." + k, engine_layout(k, P[k].grad))
    with torch.no_grad():
        for k in mom:
            g = P[k].grad + (wd * P[k] if k in DECAY else 0)
            mom[k].mul_(mu).add_(g)
            P[k].sub_(lr * mom[k])
for k, v in P.items():
    rec("param3." + k, engine_layout(k, v))

out_path = sys.argv[1] if len(sys.argv) > 1 else "build/golden/torch_parity.bin"
with open(out_path, "wb") as f:
    f.write(b"FHPR1\n")
    for name, t in recs:
        nb = name.encode()
        f.write(struct.pack("<I", len(nb)) + nb)
        f.write(struct.pack("<I", t.dim()))
        f.write(struct.pack("<%dI" % t.dim(), *t.shape))
        f.write(t.numpy().astype("<f4").tobytes())
print("%s: %d records, loss %.6f -> %.6f" % (out_path, len(recs),
      recs[[r[0] for r in recs].index("loss.0")][1].item(),
      recs[[r[0] for r in recs].index("loss.2")][1].item()))
