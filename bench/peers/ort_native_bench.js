// SPDX-License-Identifier: MIT
// ONNX Runtime's native CPU engine (npm onnxruntime-node, its linux-x64 library) on facehatch's
// own nets, for bench/peers (ONLY=native and the full run). Reads what `xnn_bench --export DIR`
// wrote and `onnx_from_facehatch.py --dir DIR` built:
//   DIR/cases.txt      one line per case: name, net, per, NHWC input dims, input file, and
//                      facehatch's outputs (file:NHWC dims)
//   DIR/<net>.onnx     the same fused graph and weights, NCHW
// Per case, with intraOpNumThreads 1 and 2 (interOpNumThreads 1, executionMode sequential,
// graphOptimizationLevel all): the NHWC input is transposed to NCHW once (not timed), one run's
// outputs are transposed back to NHWC and compared with facehatch's (max |diff| <= tol * max
// |facehatch|, else exit 1 before any timing), then `session.run` is timed: 2 warm-ups,
// median of --runs (the Node binding's own cost, a few microseconds, included).
//
//   NODE_PATH=ORT_MODULES node ort_native_bench.js --dir DIR --runs N [--tol 1e-4] --out OUT.json
'use strict';
const fs = require('fs');
const path = require('path');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}
const DIR = arg('--dir', null);
const RUNS = +arg('--runs', '9');
const TOL = +arg('--tol', '1e-4');
const OUT = arg('--out', null);
const WARM = 2;

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[n >> 1] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}
function readF32(file, n) {
  const b = fs.readFileSync(path.join(DIR, file));
  if (b.length !== n * 4) throw new Error(`${file}: ${b.length} bytes, expected ${n * 4}`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}
const prod = (d) => d.reduce((a, b) => a * b, 1);
// [N,H,W,C] <-> [N,C,H,W]
function nhwcToNchw(x, [N, H, W, C]) {
  const y = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) y[((n * C + c) * H + h) * W + w] = x[((n * H + h) * W + w) * C + c];
  return y;
}
function nchwToNhwc(x, [N, C, H, W]) {
  const y = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) y[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
  return y;
}
function parseCases() {
  const cases = [];
  for (const line of fs.readFileSync(path.join(DIR, 'cases.txt'), 'utf8').split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t[0] !== 'case') continue;
    const c = { outs: [] };
    for (const kv of t.slice(1)) {
      const [k, v] = [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
      if (k === 'out') {
        const [file, dims] = v.split(':');
        c.outs.push({ file, dims: dims.split(',').map(Number) });
      } else if (k === 'dims') c.dims = v.split(',').map(Number);
      else if (k === 'per') c.per = +v;
      else c[k] = v;
    }
    cases.push(c);
  }
  if (!cases.length) throw new Error(`no cases in ${path.join(DIR, 'cases.txt')}`);
  return cases;
}

(async () => {
  if (!DIR) throw new Error('usage: node ort_native_bench.js --dir DIR --runs N [--tol X] --out OUT.json');
  const ort = require('onnxruntime-node');
  const res = {
    peer: 'ONNX Runtime native', runs: RUNS, tol: TOL, ms: {}, checks: [],
    runtime: `onnxruntime-node ${require('onnxruntime-node/package.json').version} (native CPU EP), ` +
      'interOpNumThreads 1, executionMode sequential, graphOptimizationLevel all',
  };
  const cases = parseCases();
  // every output checked first, then timing: sessions kept between the two
  const live = [];
  for (const c of cases) {
    const [N, H, W, C] = c.dims;
    const x = nhwcToNchw(readF32(c.input, prod(c.dims)), c.dims);
    const refs = c.outs.map((o) => readF32(o.file, prod(o.dims)));
    for (const th of [1, 2]) {
      const s = await ort.InferenceSession.create(path.join(DIR, `${c.net}.onnx`), {
        intraOpNumThreads: th, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
      });
      const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, [N, C, H, W]) };
      const r = await s.run(feeds);
      s.outputNames.forEach((name, k) => {
        const t = r[name], o = c.outs[k];
        let y = t.data;
        if (t.dims.length === 4) y = nchwToNhwc(y, t.dims);
        if (y.length !== refs[k].length) throw new Error(`${c.name}: output ${k} has ${y.length} values, facehatch ${refs[k].length}`);
        let maxAbs = 0, maxRef = 0, finite = true, cosMin = 1;
        const m = y.length / N; // one row per image: the cosine of each (embeddings)
        for (let n = 0; n < N; n++) {
          let dot = 0, na = 0, nb = 0;
          for (let i = n * m; i < (n + 1) * m; i++) {
            const a = refs[k][i], b = y[i];
            if (!Number.isFinite(b)) finite = false;
            maxAbs = Math.max(maxAbs, Math.abs(b - a));
            maxRef = Math.max(maxRef, Math.abs(a));
            dot += a * b, na += a * a, nb += b * b;
          }
          if (na > 0 && nb > 0) cosMin = Math.min(cosMin, dot / Math.sqrt(na * nb));
        }
        const rel = maxRef > 0 ? maxAbs / maxRef : maxAbs;
        const ok = finite && rel <= TOL;
        res.checks.push({ case: c.name, threads: th, out: k, dims: o.dims, max_abs: maxAbs, max_ref: maxRef, rel,
          cos_min: cosMin, ok });
        console.error(`check case=${c.name} engine=ort threads=${th} out=${k} max_abs=${maxAbs.toPrecision(3)} ` +
          `rel=${rel.toPrecision(3)} cos_min=${cosMin.toFixed(9)} status=${ok ? 'ok' : 'MISMATCH'}`);
        if (!ok) {
          throw new Error(`${c.name}: ONNX Runtime at ${th} thread(s), output ${k} differs from facehatch's: ` +
            `max |diff| ${maxAbs}, max |ref| ${maxRef} (relative ${rel} > tol ${TOL})`);
        }
      });
      live.push({ c, th, s, feeds });
    }
  }
  for (const { c, th, s, feeds } of live) {
    const t = [];
    for (let r = -WARM; r < RUNS; r++) {
      const t0 = process.hrtime.bigint();
      await s.run(feeds);
      if (r >= 0) t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    res.ms[`${c.name}_${th}thr`] = median(t);
    res.ms[`${c.name}_per`] = c.per;
    console.error(`time case=${c.name} threads=${th} ort_ms=${median(t).toFixed(4)}`);
  }
  for (const { s } of live) await s.release();
  const text = JSON.stringify(res, null, 1);
  if (OUT) fs.writeFileSync(OUT, text);
  console.log(text);
})().catch((e) => {
  console.error(`ort_native_bench: ${e.message}`);
  process.exit(1);
});
