#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes tests/unit/loss_ref.txt: small cases of every loss head of src/train/loss.h
# computed independently with PyTorch autograd (float64 on float32-rounded inputs), which
# tests/unit/test_loss.c reads and matches. Run by hand after changing a loss definition:
#     /usr/bin/python3 tools/torch_losses.py tests/unit/loss_ref.txt
# (Debian python3-torch 1.13). CI never runs this; it reads the committed file.
#
# File format, one record per line, whitespace-separated:
#   case NAME KIND N D C key=value...     starts a case (KIND as enum train_loss_kind)
#   ARRAY v1 v2 ...                        inputs: E (N*D) y (N) W b centers W1 b1 assign
#                                          (two-level: W1/b1 = cluster head, W/b = identity)
#   ref.loss v, ref.dE ..., ref.dW ..., ref.db ..., ref.dcenters ..., ref.dW1 ..., ref.db1 ...
#   end
import math
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
SOFTMAX, TRIPLET, CENTER, SPHEREFACE, COSFACE, ARCFACE, TWO_LEVEL = range(7)
out = []


def f32(shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.float64)


def emit(name, vals, fmt="%.9g"):
    vals = vals.detach().reshape(-1).tolist() if torch.is_tensor(vals) else list(vals)
    out.append(name + " " + " ".join(fmt % v for v in vals))


def unit(x):
    return x / x.norm(dim=1, keepdim=True)


def margin_logits(E, W, y, kind, s, m, easy=0, lam=0.0):
    cos = unit(E) @ unit(W).t()
    c = cos.gather(1, y[:, None])[:, 0]
    if kind == COSFACE:
        tgt, scale = c - m, s
    elif kind == ARCFACE:
        sin = torch.sqrt(1 - c * c)
        phi = c * math.cos(m) - sin * math.sin(m)
        if easy:
            tgt = torch.where(c > 0, phi, c)
        else:
            tgt = torch.where(c > math.cos(math.pi - m), phi, c - math.sin(m) * m)
        scale = s
    elif kind == SPHEREFACE:
        theta = torch.acos(c)
        k = torch.floor(m * theta.detach() / math.pi).clamp(max=m - 1)
        psi = (-1.0) ** k * torch.cos(m * theta) - 2 * k
        tgt = (lam * c + psi) / (1 + lam)
        scale = E.norm(dim=1)
    logits = cos.clone()
    logits[torch.arange(len(y)), y] = tgt
    if kind == SPHEREFACE:
        return logits * scale[:, None], cos
    return logits * scale, cos


def classifier_case(name, kind, N, D, C, **kw):
    E = f32((N, D)).requires_grad_()
    y = torch.randint(0, C, (N,))
    W = f32((C, D), 1 / math.sqrt(D)).requires_grad_()
    b = f32((C,), 0.1).requires_grad_() if kind in (SOFTMAX, CENTER) else None
    centers = f32((C, D), 0.5).requires_grad_() if kind == CENTER else None
    with torch.no_grad():
        if kw.pop("near0", False):   # row 0 almost on its class weight: theta ~ 0.003
            E[0] = W[y[0]] * 3 + f32((D,), 0.002)
        if kw.pop("nearpi", False):  # row 1 almost opposite its class weight: theta ~ pi
            E[1] = -W[y[1]] * 2 + f32((D,), 0.002)
        E.copy_(E.float().double())
    if kind in (SOFTMAX, CENTER):
        loss = F.cross_entropy(E @ W.t() + b, y)
        if kind == CENTER:
            loss = loss + kw["center_lambda"] * 0.5 * ((E - centers[y]) ** 2).sum(1).mean()
    else:
        logits, _ = margin_logits(E, W, y, kind, kw.get("s", 0), kw["m"], kw.get("easy", 0),
                                  kw.get("lam", 0.0))
        loss = F.cross_entropy(logits, y)
    loss.backward()
    opts = " ".join("%s=%s" % (k, v) for k, v in kw.items())
    out.append("case %s %d %d %d %d %s" % (name, kind, N, D, C, opts))
    emit("E", E), emit("y", y.tolist(), "%d"), emit("W", W)
    if b is not None:
        emit("b", b)
    if centers is not None:
        emit("centers", centers)
    emit("ref.loss", [loss.item()], "%.12g"), emit("ref.dE", E.grad), emit("ref.dW", W.grad)
    if b is not None:
        emit("ref.db", b.grad)
    if centers is not None:
        emit("ref.dcenters", centers.grad)
    out.append("end")


def mine(dist, y, a, p, hardest):
    negs = [n for n in range(len(y)) if y[n] != y[a]]
    if hardest:
        return min(negs, key=lambda n: (dist[a][n], n))
    outside = [n for n in negs if dist[a][n] > dist[a][p]]
    if outside:
        return min(outside, key=lambda n: (dist[a][n], n))
    return max(negs, key=lambda n: (dist[a][n], -n))


def triplet_case(name, N, D, labels, margin, hardest, spread=1.0):
    E = f32((N, D), spread)
    y = torch.tensor(labels)
    # pull each class together a little so that both mining branches occur
    for c in set(labels):
        idx = (y == c).nonzero()[:, 0]
        E[idx] += f32((D,), 1.5)
    E = E.float().double().requires_grad_()
    u = unit(E)
    dist = ((u[:, None, :] - u[None, :, :]) ** 2).sum(-1)
    dl = dist.detach().tolist()
    terms = []
    for a in range(N):
        if all(y[n] == y[a] for n in range(N)):
            continue
        for p in range(N):
            if p != a and y[p] == y[a]:
                n = mine(dl, y.tolist(), a, p, hardest)
                terms.append(F.relu(dist[a, p] - dist[a, n] + margin))
    loss = torch.stack(terms).mean()
    loss.backward()
    out.append("case %s %d %d %d %d triplet_margin=%g triplet_hardest=%d" %
               (name, TRIPLET, N, D, max(labels) + 1, margin, hardest))
    emit("E", E), emit("y", labels, "%d")
    emit("ref.loss", [loss.item()], "%.12g"), emit("ref.dE", E.grad)
    out.append("end")


def two_level_case(name, N, D, C, K, assign):
    E = f32((N, D)).requires_grad_()
    y = torch.randint(0, C, (N,))
    W = f32((C, D), 1 / math.sqrt(D)).requires_grad_()
    b = f32((C,), 0.1).requires_grad_()
    W1 = f32((K, D), 1 / math.sqrt(D)).requires_grad_()
    b1 = f32((K,), 0.1).requires_grad_()
    a = torch.tensor(assign)
    loss = F.cross_entropy(E @ W1.t() + b1, a[y])
    for i in range(N):
        members = (a == a[y[i]]).nonzero()[:, 0]
        z = E[i] @ W[members].t() + b[members]
        t = (members == y[i]).nonzero()[0]
        loss = loss + F.cross_entropy(z[None, :], t) / N
    loss.backward()
    out.append("case %s %d %d %d %d n_clusters=%d" % (name, TWO_LEVEL, N, D, C, K))
    emit("E", E), emit("y", y.tolist(), "%d"), emit("W", W), emit("b", b)
    emit("W1", W1), emit("b1", b1), emit("assign", assign, "%d")
    emit("ref.loss", [loss.item()], "%.12g"), emit("ref.dE", E.grad), emit("ref.dW", W.grad)
    emit("ref.db", b.grad), emit("ref.dW1", W1.grad), emit("ref.db1", b1.grad)
    out.append("end")


classifier_case("softmax", SOFTMAX, 8, 6, 5)
classifier_case("center", CENTER, 8, 6, 5, center_lambda=0.3)
classifier_case("cosface", COSFACE, 8, 6, 5, s=16, m=0.35)
classifier_case("arcface", ARCFACE, 8, 6, 5, s=16, m=0.5, near0=True, nearpi=True)
classifier_case("arcface_easy", ARCFACE, 8, 6, 5, s=16, m=0.5, easy=1, nearpi=True)
classifier_case("sphereface4", SPHEREFACE, 8, 6, 5, m=4, lam=0.0)
classifier_case("sphereface3_lam", SPHEREFACE, 8, 6, 5, m=3, lam=5.0)
triplet_case("triplet_semihard", 9, 6, [0, 0, 0, 1, 1, 1, 2, 2, 2], 0.2, 0)
triplet_case("triplet_hardest", 9, 6, [0, 0, 0, 1, 1, 1, 2, 2, 2], 0.2, 1)
triplet_case("triplet_semihard_wide", 8, 5, [0, 1, 0, 1, 2, 2, 3, 3], 1.0, 0, spread=2.0)
two_level_case("two_level", 8, 6, 7, 3, [0, 1, 2, 0, 1, 2, 0])
with open(sys.argv[1] if len(sys.argv) > 1 else "tests/unit/loss_ref.txt", "w") as fp:
    fp.write("# written by tools/torch_losses.py (torch %s); do not edit\n" % torch.__version__)
    fp.write("\n".join(out) + "\n")
