#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Peer (b): the real TFLite C++ interpreter with the XNNPACK delegate, compiled to
// WebAssembly, as shipped in @tensorflow/tfjs-tflite@0.0.1-alpha.10 (wasm/
// tflite_web_api_cc_simd.wasm), loaded directly under Node (its JS client wants a browser;
// the Emscripten module does not, see docs models.md 7.1). One interpreter thread.
//
// Timed (median of --runs runs, after warm-ups):
//   * MobileFaceNet: the model's own batch of 2 real aligned faces (golden mfn_faces112.u8),
//     and batch 1 / 4 / 16 when the input shape patched in a copy of the model is accepted;
//   * R-Net / O-Net: one crop per Infer() over the golden crops (rnet_crops24, onet_crops48),
//     and a batch of 32 / 16 (patched batch dimension) like facehatch bench's rows;
//   * P-Net at 576x384, 320x240, 100x100 (facehatch bench's sizes; the input shape vector
//     patched in a copy of pnet.tflite, as the runner cannot resize inputs);
//   * the whole MTCNN on sample1, min face 40: the MTCNN.kt algorithm in JS (same steps as
//     src/detect/mtcnn.c), pyramid resize in JS, one P-Net interpreter per level size
//     (created once, outside the timing, as an app that caches them would), R-Net / O-Net
//     one crop per Infer(). JPEG decoding (jpeg-js) is not timed.
// Output: one JSON object on stdout (and in --out FILE).
//
// usage: node tflite_bench.js [--models DIR] [--golden DIR] [--runs N] [--plain] [--out FILE]
//                             [--rgb SAMPLE1.rgb --size 1920x1280]
'use strict';
const fs = require('fs');
const path = require('path');

const here = __dirname;
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
function opt(name, def) {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const modelsDir = path.resolve(opt('--models', path.join(root, 'models')));
const goldenDir = path.resolve(opt('--golden', path.join(root, '..', 'shared', 'golden')));
const RUNS = parseInt(opt('--runs', '9'), 10);
const outFile = opt('--out', null);
const variant = args.includes('--plain') ? 'tflite_web_api_cc' : 'tflite_web_api_cc_simd';
const nm = path.join(here, 'tflite', 'node_modules');
const wasmDir = path.join(nm, '@tensorflow', 'tfjs-tflite', 'wasm');

function median(a) {
    const s = a.slice().sort((x, y) => x - y);
    const n = s.length;
    return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
const now = () => Number(process.hrtime.bigint()) / 1e6;
// median ms of fn() over RUNS runs after `warm` warm-up calls
function timeIt(fn, warm = 2, runs = RUNS) {
    for (let i = 0; i < warm; i++) fn();
    const t = [];
    for (let i = 0; i < runs; i++) {
        const t0 = now();
        fn();
        t.push(now() - t0);
    }
    return median(t);
}

// ---- minimal flatbuffer reader: where the first input tensor's shape vector is --------
// TFLite schema: Model { version:0, operator_codes:1, subgraphs:2, ... };
// SubGraph { tensors:0, inputs:1, ... }; Tensor { shape:0, ... }.
function fbField(b, table, field) {
    const vt = table - b.readInt32LE(table);
    const vlen = b.readUInt16LE(vt);
    const off = 4 + 2 * field < vlen ? b.readUInt16LE(vt + 4 + 2 * field) : 0;
    return off ? table + off : 0;
}
const fbDeref = (b, pos) => pos + b.readUInt32LE(pos);
function inputShapeOffset(b) {
    const model = b.readUInt32LE(0);
    const subgraphs = fbDeref(b, fbField(b, model, 2));
    const sg0 = fbDeref(b, subgraphs + 4);
    const inputs = fbDeref(b, fbField(b, sg0, 1));
    const tin = b.readInt32LE(inputs + 4);
    const tensors = fbDeref(b, fbField(b, sg0, 0));
    const tpos = fbDeref(b, tensors + 4 + 4 * tin);
    const shape = fbDeref(b, fbField(b, tpos, 0));
    return {n: b.readUInt32LE(shape), off: shape + 4};
}
// a copy of the model with its input shape replaced (same rank)
function patchInput(buf, dims) {
    const c = Buffer.from(buf);
    const s = inputShapeOffset(c);
    if (s.n !== dims.length) throw new Error('rank mismatch');
    dims.forEach((d, i) => c.writeInt32LE(d, s.off + 4 * i));
    return c;
}

let M; // the Emscripten module
function makeRunner(buf) {
    const p = M._malloc(buf.length); // the interpreter keeps pointing at it: never freed
    M.HEAPU8.set(buf, p);
    const so = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(p, buf.length,
        {numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024});
    if (!so.ok()) throw new Error(so.errorMessage());
    const r = so.value();
    const ins = r.GetInputs(), outs = r.GetOutputs();
    const inputs = [], outputs = [];
    for (let i = 0; i < ins.size(); i++) inputs.push(ins.get(i));
    for (let i = 0; i < outs.size(); i++) outputs.push(outs.get(i));
    return {
        r, inputs, outputs,
        shape: inputs[0].shape,
        input: () => inputs[0].data(), // views into the wasm heap: fetch after each growth
        out: (k) => outputs[k].data(),
        infer() {
            if (!r.Infer()) throw new Error('Infer failed');
        },
    };
}
// a runner for a patched copy, or null (with the reason) when the interpreter refuses it
function tryRunner(buf, dims, why) {
    try {
        const rr = makeRunner(patchInput(buf, dims));
        rr.infer();
        return rr;
    } catch (e) {
        why.push(`${dims.join('x')}: ${String(e.message || e).split('\n')[0]}`);
        return null;
    }
}

const norm = (v) => (v - 127.5) * 0.0078125;

// ---- images ----------------------------------------------------------------------------
// resize(src, region, dw, dh) of the golden README: bilinear, half-pixel centres, outside 0
function resizeRegion(src, W, H, rx, ry, rw, rh, dw, dh, dst) {
    const xs0 = new Int32Array(dw), xs1 = new Int32Array(dw), fxs = new Float64Array(dw);
    for (let x = 0; x < dw; x++) {
        let sx = (x + 0.5) * rw / dw - 0.5;
        if (sx < 0) sx = 0;
        if (sx > rw - 1) sx = rw - 1;
        const x0 = Math.floor(sx);
        xs0[x] = x0, xs1[x] = Math.min(x0 + 1, rw - 1), fxs[x] = sx - x0;
    }
    const inside = rx >= 0 && ry >= 0 && rx + rw <= W && ry + rh <= H;
    const px = (yy, xx, c) => {
        const X = rx + xx, Y = ry + yy;
        return X < 0 || Y < 0 || X >= W || Y >= H ? 0 : src[(Y * W + X) * 3 + c];
    };
    for (let y = 0; y < dh; y++) {
        let sy = (y + 0.5) * rh / dh - 0.5;
        if (sy < 0) sy = 0;
        if (sy > rh - 1) sy = rh - 1;
        const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, rh - 1), fy = sy - y0;
        const r0 = ((ry + y0) * W + rx) * 3, r1 = ((ry + y1) * W + rx) * 3;
        for (let x = 0; x < dw; x++) {
            const x0 = xs0[x], x1 = xs1[x], fx = fxs[x], d = (y * dw + x) * 3;
            if (inside) {
                const a = r0 + x0 * 3, b = r0 + x1 * 3, e = r1 + x0 * 3, g = r1 + x1 * 3;
                for (let c = 0; c < 3; c++) {
                    const v = (1 - fy) * ((1 - fx) * src[a + c] + fx * src[b + c]) +
                        fy * ((1 - fx) * src[e + c] + fx * src[g + c]);
                    dst[d + c] = Math.floor(v + 0.5);
                }
            } else {
                for (let c = 0; c < 3; c++) {
                    const v = (1 - fy) * ((1 - fx) * px(y0, x0, c) + fx * px(y0, x1, c)) +
                        fy * ((1 - fx) * px(y1, x0, c) + fx * px(y1, x1, c));
                    dst[d + c] = Math.floor(v + 0.5);
                }
            }
        }
    }
}
// normalised, transposed ([x][y][c]) copy of a w x h RGB u8 image into dst at offset
function toInputT(img, w, h, dst, off = 0) {
    for (let x = 0; x < w; x++)
        for (let y = 0; y < h; y++) {
            const s = (y * w + x) * 3, d = off + (x * h + y) * 3;
            dst[d] = norm(img[s]), dst[d + 1] = norm(img[s + 1]), dst[d + 2] = norm(img[s + 2]);
        }
}

// ---- MTCNN.kt in JS (same steps as src/detect/mtcnn.c) ----------------------------------
const f32 = Math.fround;
const rint = (v) => { // round half to even
    const r = Math.round(v);
    return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const bw = (b) => b[2] - b[0] + 1, bh = (b) => b[3] - b[1] + 1;
function nms(B, th, useMin) {
    for (let i = 0; i < B.length; i++) {
        if (B[i].del) continue;
        for (let j = i + 1; j < B.length; j++) {
            if (B[j].del) continue;
            const a = B[i].box, c = B[j].box;
            const x1 = Math.max(a[0], c[0]), y1 = Math.max(a[1], c[1]);
            const x2 = Math.min(a[2], c[2]), y2 = Math.min(a[3], c[3]);
            if (x2 < x1 || y2 < y1) continue;
            const inter = (x2 - x1 + 1) * (y2 - y1 + 1), ai = bw(a) * bh(a), aj = bw(c) * bh(c);
            const iou = useMin ? f32(inter / Math.min(ai, aj)) : f32(inter / (ai + aj - inter));
            if (iou >= th) {
                if (B[i].score > B[j].score) B[j].del = true;
                else B[i].del = true;
            }
        }
    }
}
function calibrate(b) {
    const w = bw(b.box), h = bh(b.box);
    for (let k = 0; k < 4; k++) b.box[k] = Math.trunc(f32(b.box[k] + f32((k & 1 ? h : w) * b.reg[k])));
}
function squareLimit(b, W, H) {
    const w = bw(b), h = bh(b);
    if (w > h) b[1] -= Math.trunc((w - h) / 2), b[3] += Math.trunc((w - h + 1) / 2);
    else b[0] -= Math.trunc((h - w) / 2), b[2] += Math.trunc((h - w + 1) / 2);
    if (b[0] < 0 || b[1] < 0) {
        const len = Math.max(-b[0], -b[1]);
        b[0] += len, b[1] += len;
    }
    if (b[2] >= W || b[3] >= H) {
        const len = Math.max(b[2] - W + 1, b[3] - H + 1);
        b[2] -= len, b[3] -= len;
    }
}
const compact = (B) => B.filter((b) => !b.del && bw(b.box) >= 1 && bh(b.box) >= 1);

function pyramid(W, H, minFace) {
    const L = [];
    let cur = f32(minFace);
    while (cur <= Math.min(W, H)) {
        const scale = f32(12 / cur);
        const w = Math.floor(f32(W * scale) + 0.5), h = Math.floor(f32(H * scale) + 0.5);
        if (w >= 12 && h >= 12) L.push({scale, w, h});
        cur = f32(cur / f32(0.709));
    }
    return L;
}

// ctx: {pnets: Map "w,h" -> runner, rnet, onet}; returns {faces, counts, ms: [p, r, o]}
function mtcnn(ctx, img, W, H, minFace) {
    const t0 = now();
    let all = [];
    for (const L of pyramid(W, H, minFace)) {
        const lv = new Uint8Array(L.w * L.h * 3);
        resizeRegion(img, W, H, 0, 0, W, H, L.w, L.h, lv);
        const pn = ctx.pnets.get(`${L.w},${L.h}`);
        toInputT(lv, L.w, L.h, pn.input());
        pn.infer();
        const prob = pn.out(0), reg = pn.out(1);
        const ow = Math.floor((L.w - 2 + 1) / 2) - 4, oh = Math.floor((L.h - 2 + 1) / 2) - 4;
        const lvl = [];
        for (let y = 0; y < oh; y++)
            for (let x = 0; x < ow; x++) {
                const cell = x * oh + y, score = prob[cell * 2 + 1];
                if (!(score > 0.6)) continue;
                lvl.push({
                    score,
                    box: [rint(f32(2 * x / L.scale)), rint(f32(2 * y / L.scale)),
                        rint(f32((2 * x + 11) / L.scale)), rint(f32((2 * y + 11) / L.scale))],
                    reg: Array.from(reg.subarray(cell * 4, cell * 4 + 4)),
                });
            }
        nms(lvl, 0.5, false);
        all = all.concat(compact(lvl));
    }
    nms(all, 0.7, false);
    all.forEach(calibrate);
    all = compact(all);
    all.forEach((b) => squareLimit(b.box, W, H));
    all = compact(all);
    const counts = [all.length];
    const t1 = now();
    const crops = (net, S, onet) => {
        const crop = new Uint8Array(S * S * 3);
        for (const b of all) {
            resizeRegion(img, W, H, b.box[0], b.box[1], bw(b.box), bh(b.box), S, S, crop);
            toInputT(crop, S, S, net.input());
            net.infer();
            const p = net.out(0), r = net.out(1);
            b.score = p[1], b.reg = Array.from(r.subarray(0, 4));
            if (onet) {
                const lm = net.out(2);
                b.lm = [];
                for (let j = 0; j < 5; j++)
                    b.lm.push([b.box[0] + lm[j] * bw(b.box), b.box[1] + lm[j + 5] * bh(b.box)]);
            }
        }
    };
    if (all.length) {
        crops(ctx.rnet, 24, false);
        all.forEach((b) => { b.del = b.score < 0.7; });
        nms(all, 0.7, false);
        all.forEach(calibrate);
        all = compact(all);
        all.forEach((b) => squareLimit(b.box, W, H));
        all = compact(all);
    }
    counts.push(all.length);
    const t2 = now();
    if (all.length) {
        crops(ctx.onet, 48, true);
        all.forEach((b) => { b.del = b.score < 0.7; });
        all.forEach(calibrate);
        nms(all, 0.7, true);
        all = compact(all);
    }
    counts.push(all.length);
    const t3 = now();
    return {faces: all, counts, ms: [t1 - t0, t2 - t1, t3 - t2]};
}

async function main() {
    const factory = require(path.join(wasmDir, variant + '.js'));
    M = await factory({wasmBinary: fs.readFileSync(path.join(wasmDir, variant + '.wasm'))});
    const rd = (f) => fs.readFileSync(path.join(goldenDir, 'tflite', f));
    const model = (f) => fs.readFileSync(path.join(modelsDir, f));
    const res = {
        peer: 'TFLite + XNNPACK (WebAssembly)',
        runtime: `@tensorflow/tfjs-tflite@${require(path.join(nm, '@tensorflow/tfjs-tflite/package.json')).version} ` +
            `wasm/${variant}.wasm, 1 thread, Node ${process.version}`,
        runs: RUNS,
        ms: {},
        notes: [],
    };
    const ms = res.ms;

    // MobileFaceNet on real aligned faces
    const mfnBuf = model('MobileFaceNet.tflite');
    const faces = rd('mfn_faces112.u8'); // [19][112][112][3]
    const FACE = 112 * 112 * 3;
    const fillFaces = (rr, n) => {
        const inp = rr.input();
        for (let i = 0; i < n * FACE; i++) inp[i] = norm(faces[i % (19 * FACE)]);
    };
    const mfn = makeRunner(mfnBuf);
    fillFaces(mfn, 2);
    const emb = rd('mfn_faces_emb.f32');
    mfn.infer();
    {   // sanity: the runner gives the golden embeddings
        const ref = new Float32Array(emb.buffer.slice(emb.byteOffset, emb.byteOffset + 2 * 192 * 4));
        const got = mfn.out(0);
        let d = 0;
        for (let i = 0; i < 2 * 192; i++) d = Math.max(d, Math.abs(ref[i] - got[i]));
        res.mfn_max_abs_diff_vs_golden = d;
    }
    ms.mfn_batch2 = timeIt(() => mfn.infer());
    ms.mfn_per_face_batch2 = ms.mfn_batch2 / 2;
    const why = [];
    for (const n of [1, 4, 16]) {
        const rr = tryRunner(mfnBuf, [n, 112, 112, 3], why);
        if (!rr) continue;
        fillFaces(rr, n);
        ms[`mfn_per_face_batch${n}`] = timeIt(() => rr.infer(), 2, n >= 16 ? Math.max(3, RUNS >> 1) : RUNS) / n;
    }

    // R-Net / O-Net: one crop per Infer() over all golden crops; and patched batches
    for (const [name, file, cropsFile, S, N, batch] of [['rnet', 'rnet.tflite', 'rnet_crops24.u8', 24, 32, 32],
        ['onet', 'onet.tflite', 'onet_crops48.u8', 48, 22, 16]]) {
        const buf = model(file), crops = rd(cropsFile), C = S * S * 3;
        const rr = makeRunner(buf);
        const inputs = [];
        for (let i = 0; i < N; i++) {
            const t = new Float32Array(C);
            toInputT(crops.subarray(i * C, (i + 1) * C), S, S, t);
            inputs.push(t);
        }
        ms[`${name}_per_crop_batch1`] = timeIt(() => {
            for (let i = 0; i < N; i++) {
                rr.input().set(inputs[i]);
                rr.infer();
            }
        }) / N;
        const rb = tryRunner(buf, [batch, S, S, 3], why);
        if (rb) {
            const inp = rb.input();
            for (let i = 0; i < batch; i++) inp.set(inputs[i % N], i * C);
            ms[`${name}_per_crop_batch${batch}`] = timeIt(() => rb.infer()) / batch;
        }
    }
    if (why.length) res.notes.push('patched shapes refused: ' + why.join('; '));

    // MTCNN on sample1 (needs the JPEG decoded: jpeg-js)
    // --rgb FILE --size WxH: sample1 already decoded by libjpeg(-turbo) (run.sh does it with
    // OpenCV), the decoder the goldens were made with; otherwise jpeg-js (a few levels off)
    let W, H, img, decoder;
    const rgbFile = opt('--rgb', null);
    if (rgbFile) {
        [W, H] = opt('--size', '1920x1280').split('x').map(Number);
        img = new Uint8Array(fs.readFileSync(rgbFile));
        if (img.length !== W * H * 3) throw new Error(`${rgbFile}: not ${W}x${H} RGB`);
        decoder = 'libjpeg-turbo (decoded by run.sh through OpenCV)';
    } else {
        const jpeg = require(path.join(nm, 'jpeg-js'));
        const sample = path.join(modelsDir, 'samples', 'sample1.jpg');
        const dec = jpeg.decode(fs.readFileSync(sample), {useTArray: true, formatAsRGBA: false});
        W = dec.width, H = dec.height, img = dec.data;
        decoder = 'jpeg-js@' + require(path.join(nm, 'jpeg-js/package.json')).version;
    }
    const pnetBuf = model('pnet.tflite');
    // P-Net at facehatch bench's sizes ([1, w, h, 3]: transposed input), real image content
    for (const [w, h] of [[576, 384], [320, 240], [100, 100]]) {
        const rr = makeRunner(patchInput(pnetBuf, [1, w, h, 3]));
        const lv = new Uint8Array(w * h * 3);
        resizeRegion(img, W, H, 0, 0, W, H, w, h, lv);
        toInputT(lv, w, h, rr.input());
        ms[`pnet_${w}x${h}`] = timeIt(() => rr.infer());
    }
    const ctx = {pnets: new Map(), rnet: makeRunner(model('rnet.tflite')), onet: makeRunner(model('onet.tflite'))};
    for (const L of pyramid(W, H, 40))
        ctx.pnets.set(`${L.w},${L.h}`, makeRunner(patchInput(pnetBuf, [1, L.w, L.h, 3])));
    let last;
    const stage = [[], [], []];
    ms.mtcnn_sample1_minface40 = timeIt(() => {
        last = mtcnn(ctx, img, W, H, 40);
        last.ms.forEach((v, k) => stage[k].push(v));
    }, 1, Math.max(3, Math.min(RUNS, 7)));
    ms.mtcnn_sample1_stage_pnet = median(stage[0]);
    ms.mtcnn_sample1_stage_rnet = median(stage[1]);
    ms.mtcnn_sample1_stage_onet = median(stage[2]);
    res.mtcnn_sample1 = {
        levels: ctx.pnets.size,
        counts_after_stage: last.counts,
        golden_counts: [346, 22, 3],
        boxes: last.faces.map((b) => b.box),
        decoder,
    };
    const s = JSON.stringify(res, null, 1);
    if (outFile) fs.writeFileSync(outFile, s + '\n');
    console.log(s);
}

main().catch((e) => {
    console.error('tflite_bench:', e && e.stack || e);
    process.exit(1);
});
