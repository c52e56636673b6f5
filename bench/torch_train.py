#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# torch_train: the PyTorch (1.13, CPU) side of `make bench-train`. The same nets as
# src/train/arch.c with bn = 1 (MobileFaceNet in the pretrained net's shape, and mfn-s),
# TensorFlow SAME padding (stride-2 3x3 convs pad (0, 1, 0, 1) via F.pad), the same
# ArcFace head (normalised W, s 64, m 0.5, insightface th/mm rule), SGD with momentum 0.9
# and weight decay 5e-4 on conv and class weights only (as ours), batch 64 of random
# 112x112x3 images, torch.set_num_threads(THREADS). One step = zero_grad, forward
# (training), loss, backward, optimizer step; WARMUP steps, then the median (min, max) of
# RUNS timed steps. Both memory formats (contiguous NCHW and channels_last) are timed.
#   usage: torch_train.py [runs] [threads] [params_dir]
# With params_dir, compares its trainable parameters layer by layer (in creation order,
# by element count) with bench_train's params_<arch>.txt and prints the first mismatch.
# Machine lines for bench/train_table.sh:
#   RESULT torch <arch> <format> <median_s> <min_s> <max_s> <images_per_s> <n_params>
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, CLASSES, DIM, WARMUP, LR = 64, 160, 192, 2, 0.01

# name: stem, stages (expand, out, blocks, first stride), head, embedding (arch.c)
ARCHS = {
    "mobilefacenet": (64, [(128, 64, 5, 2), (256, 128, 7, 2), (512, 128, 1, 2), (256, 128, 2, 1)], 512, 192),
    "mfn-s": (32, [(64, 32, 1, 2), (128, 64, 1, 2), (256, 64, 1, 2), (128, 64, 1, 1)], 256, 192),
}


class SamePad(nn.Module):
    """TF SAME padding for a k x k window at stride s on an even input (the extra pixel after)."""

    def __init__(self, k, s):
        super().__init__()
        self.k, self.s = k, s

    def forward(self, x):
        h = x.shape[2]
        o = (h + self.s - 1) // self.s
        total = max((o - 1) * self.s + self.k - h, 0)
        b = total // 2
        return F.pad(x, (b, total - b, b, total - b)) if total else x


def conv(cin, oc, k, s, same, prelu, groups=1):
    layers = []
    if same and k > 1:
        layers.append(SamePad(k, s))
    layers.append(nn.Conv2d(cin, oc, k, s, 0, groups=groups, bias=False))
    layers.append(nn.BatchNorm2d(oc, eps=1e-5, momentum=0.1))
    if prelu:
        layers.append(nn.PReLU(oc, init=0.25))
    return layers


class Block(nn.Module):
    def __init__(self, cin, expand, out, stride):
        super().__init__()
        self.body = nn.Sequential(*conv(cin, expand, 1, 1, True, True),
                                  *conv(expand, expand, 3, stride, True, True, groups=expand),
                                  *conv(expand, out, 1, 1, True, False))
        self.res = stride == 1 and cin == out

    def forward(self, x):
        y = self.body(x)
        return y + x if self.res else y


def build(name):
    stem, stages, head, emb = ARCHS[name]
    layers = [*conv(3, stem, 3, 2, True, True), *conv(stem, stem, 3, 1, True, True, groups=stem),
              *conv(stem, stem, 1, 1, True, False)]
    c = stem
    for expand, out, blocks, stride in stages:
        for k in range(blocks):
            layers.append(Block(c, expand, out, 1 if k else stride))
            c = out
    layers += [*conv(c, head, 1, 1, True, True), *conv(head, head, 7, 1, False, False, groups=head),
               *conv(head, head, 1, 1, False, False), *conv(head, emb, 1, 1, True, False),
               nn.Flatten()]
    return nn.Sequential(*layers)


class ArcFace(nn.Module):
    def __init__(self, C, D, s=64.0, m=0.5):
        super().__init__()
        self.w = nn.Parameter(torch.empty(C, D).uniform_(-1 / math.sqrt(D), 1 / math.sqrt(D)))
        self.s, self.cos_m, self.sin_m = s, math.cos(m), math.sin(m)
        self.th, self.mm = math.cos(math.pi - m), math.sin(math.pi - m) * m

    def forward(self, e, y):
        cos = F.linear(F.normalize(e), F.normalize(self.w)).clamp(-1, 1)
        sin = (1.0 - cos * cos).clamp(min=1e-12).sqrt()
        phi = cos * self.cos_m - sin * self.sin_m
        phi = torch.where(cos > self.th, phi, cos - self.mm)
        onehot = F.one_hot(y, cos.shape[1]).to(cos.dtype)
        return F.cross_entropy(self.s * (onehot * phi + (1 - onehot) * cos), y)


def check_params(name, net, params_dir):
    ours_path = os.path.join(params_dir, "params_%s.txt" % name)
    theirs = [(n, p.numel()) for n, p in net.named_parameters()]
    total = sum(c for _, c in theirs)
    if not os.path.exists(ours_path):
        print("%s: torch %d trainable params (no %s to compare)" % (name, total, ours_path))
        return
    with open(ours_path) as f:
        ours = [(l.split()[0], int(l.split()[1])) for l in f if l.strip()]
    mism = [i for i in range(max(len(ours), len(theirs)))
            if i >= len(ours) or i >= len(theirs) or ours[i][1] != theirs[i][1]]
    print("%s: trainable params ours %d (%d tensors), torch %d (%d tensors): %s" %
          (name, sum(c for _, c in ours), len(ours), total, len(theirs),
           "equal layer by layer" if not mism else "MISMATCH at tensor %d: ours %s, torch %s" %
           (mism[0], ours[mism[0]] if mism[0] < len(ours) else "-",
            theirs[mism[0]] if mism[0] < len(theirs) else "-")))


def bench(name, channels_last, runs):
    torch.manual_seed(1)
    net = build(name)
    head = ArcFace(CLASSES, DIM)
    x = torch.randn(BATCH, 3, 112, 112)
    y = torch.randint(0, CLASSES, (BATCH,))
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    decay = [p for p in net.parameters() if p.dim() == 4] + [head.w]
    no_decay = [p for p in net.parameters() if p.dim() != 4]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": no_decay, "weight_decay": 0.0}], lr=LR, momentum=0.9)
    net.train()

    def step():
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = head(net(x), y)
        loss.backward()
        opt.step()
        return time.perf_counter() - t0

    for _ in range(WARMUP):
        step()
    t = sorted(step() for _ in range(runs))
    med = t[runs // 2] if runs % 2 else 0.5 * (t[runs // 2 - 1] + t[runs // 2])
    return net, med, t[0], t[-1]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    params_dir = sys.argv[3] if len(sys.argv) > 3 else None
    torch.set_num_threads(threads)
    print("torch %s, %d threads, mkldnn %s" % (torch.__version__, torch.get_num_threads(),
                                               torch.backends.mkldnn.is_available()))
    for name in ARCHS:
        for cl in (False, True):
            net, med, lo, hi = bench(name, cl, runs)
            fmt = "channels_last" if cl else "nchw"
            n = sum(p.numel() for p in net.parameters())
            if params_dir and not cl:
                check_params(name, net, params_dir)
            print("%s (BN, batch %d, %s): step median %.1f ms (min %.1f, max %.1f, %d runs), %.1f images/s"
                  % (name, BATCH, fmt, 1e3 * med, 1e3 * lo, 1e3 * hi, runs, BATCH / med))
            print("RESULT torch %s %s %.6f %.6f %.6f %.2f %d" % (name, fmt, med, lo, hi, BATCH / med, n))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
