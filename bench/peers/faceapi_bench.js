#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Peer (c): @vladmandic/face-api@1.7.15 (dist/face-api.node-wasm.js) on @tensorflow/tfjs
// 4.22.0 with the wasm backend (SIMD; threads off, as in Node the backend has no worker
// threads; setThreadsCount(1) is called anyway). Its own models (docs models.md 6).
//
// Timed (median of --runs runs after warm-ups; images are int32 RGB tensors made before
// the timing, so JPEG decoding is not timed):
//   * face descriptor: faceRecognitionNet.computeFaceDescriptor on the golden 150x150 crops
//     (golden faceapi/rec_inputs150.u8), one face per call;
//   * 68 landmarks: faceLandmark68Net.detectLandmarks on the golden 112x112 crops;
//   * detectors alone on sample1: SSD MobileNet v1 (minConfidence 0.5) and the tiny face
//     detector (inputSize 416, scoreThreshold 0.5); SSD alone over the six photos;
//   * end to end on sample1..6: detectAllFaces(ssd).withFaceLandmarks().withFaceDescriptors()
//     per photo (median per photo, then the mean over the six), and the same with the tiny
//     detector.
// Output: one JSON object on stdout (and in --out FILE).
//
// usage: node faceapi_bench.js [--models DIR] [--golden DIR] [--runs N] [--e2e-runs N]
//                              [--rgb-dir DIR (sampleK.rgb + sizes.json from run.sh)] [--out FILE]
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
const E2E_RUNS = parseInt(opt('--e2e-runs', '3'), 10);
const rgbDir = opt('--rgb-dir', null);
const outFile = opt('--out', null);
const nm = path.join(here, 'faceapi', 'node_modules');

function median(a) {
    const s = a.slice().sort((x, y) => x - y);
    const n = s.length;
    return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
const now = () => Number(process.hrtime.bigint()) / 1e6;
async function timeIt(fn, warm = 2, runs = RUNS) {
    for (let i = 0; i < warm; i++) await fn();
    const t = [];
    for (let i = 0; i < runs; i++) {
        const t0 = now();
        await fn();
        t.push(now() - t0);
    }
    return median(t);
}

async function main() {
    const tf = require(path.join(nm, '@tensorflow/tfjs'));
    const wasm = require(path.join(nm, '@tensorflow/tfjs-backend-wasm'));
    const faceapi = require(path.join(nm, '@vladmandic/face-api/dist/face-api.node-wasm.js'));
    wasm.setWasmPaths(path.join(nm, '@tensorflow/tfjs-backend-wasm/dist') + path.sep);
    if (wasm.setThreadsCount) wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    const ver = (p) => require(path.join(nm, p, 'package.json')).version;
    const res = {
        peer: 'face-api (tfjs wasm)',
        runtime: `@vladmandic/face-api@${ver('@vladmandic/face-api')}, @tensorflow/tfjs@${ver('@tensorflow/tfjs')}, ` +
            `@tensorflow/tfjs-backend-wasm@${ver('@tensorflow/tfjs-backend-wasm')}, backend ${tf.getBackend()}, ` +
            `SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, ` +
            `threads ${await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')}, Node ${process.version}`,
        runs: RUNS,
        e2e_runs: E2E_RUNS,
        ms: {},
        notes: [],
    };
    const ms = res.ms;
    const modelPath = path.join(nm, '@vladmandic/face-api/model');
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelPath);
    await faceapi.nets.tinyFaceDetector.loadFromDisk(modelPath);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(modelPath);
    await faceapi.nets.faceRecognitionNet.loadFromDisk(modelPath);

    // golden crops -> int32 tensors
    const rd = (f) => fs.readFileSync(path.join(goldenDir, 'faceapi', f));
    const crops = (file, S, n) => {
        const u8 = rd(file), out = [];
        for (let i = 0; i < n; i++)
            out.push(tf.tensor3d(Int32Array.from(u8.subarray(i * S * S * 3, (i + 1) * S * S * 3)), [S, S, 3], 'int32'));
        return out;
    };
    const rec = crops('rec_inputs150.u8', 150, 6);
    {   // sanity: descriptors match the golden ones
        const b = rd('rec_descriptors.f32');
        const ref = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
        let d = 0;
        for (let i = 0; i < 6; i++) {
            const got = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(rec[i]);
            for (let k = 0; k < 128; k++) d = Math.max(d, Math.abs(got[k] - ref[i * 128 + k]));
        }
        res.descriptor_max_abs_diff_vs_golden = d;
    }
    ms.descriptor_per_face = await timeIt(async () => {
        for (const t of rec) await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t);
    }) / rec.length;
    const lm = crops('lm68_inputs112.u8', 112, 6);
    ms.landmarks68_per_face = await timeIt(async () => {
        for (const t of lm) (await faceapi.nets.faceLandmark68Net.detectLandmarks(t));
    }) / lm.length;

    // photos: libjpeg-decoded RGB from run.sh when given, else jpeg-js
    const photos = [];
    let decoder;
    if (rgbDir) {
        const sizes = JSON.parse(fs.readFileSync(path.join(rgbDir, 'sizes.json'), 'utf8'));
        for (let k = 1; k <= 6; k++) {
            const [w, h] = sizes[`sample${k}`];
            const u8 = fs.readFileSync(path.join(rgbDir, `sample${k}.rgb`));
            photos.push({name: `sample${k}`, w, h, u8});
        }
        decoder = 'libjpeg-turbo (decoded by run.sh through OpenCV)';
    } else {
        const jpeg = require(path.join(nm, 'jpeg-js'));
        for (let k = 1; k <= 6; k++) {
            const d = jpeg.decode(fs.readFileSync(path.join(modelsDir, 'samples', `sample${k}.jpg`)),
                {useTArray: true, formatAsRGBA: false});
            photos.push({name: `sample${k}`, w: d.width, h: d.height, u8: d.data});
        }
        decoder = 'jpeg-js@' + ver('jpeg-js');
    }
    { // JPEG decode with jpeg-js (pure JS), for reference: median per photo over the six
        const jpeg = require(path.join(nm, 'jpeg-js'));
        const bufs = [1, 2, 3, 4, 5, 6].map((k) => fs.readFileSync(path.join(modelsDir, 'samples', `sample${k}.jpg`)));
        const per = [];
        for (const b of bufs) per.push(await timeIt(() => jpeg.decode(b, {useTArray: true, formatAsRGBA: false}), 1, 3));
        ms.jpegjs_decode_per_photo = per.reduce((a, b) => a + b, 0) / per.length;
    }
    for (const p of photos) p.t = tf.tensor3d(Int32Array.from(p.u8), [p.h, p.w, 3], 'int32');

    const ssd = new faceapi.SsdMobilenetv1Options({minConfidence: 0.5, maxResults: 100});
    const tiny = new faceapi.TinyFaceDetectorOptions({inputSize: 416, scoreThreshold: 0.5});
    ms.ssd_detect_sample1 = await timeIt(() => faceapi.detectAllFaces(photos[0].t, ssd), 1);
    ms.tiny_detect_sample1 = await timeIt(() => faceapi.detectAllFaces(photos[0].t, tiny), 1);
    {   // detection only over the six photos (median per photo, mean over photos)
        const per = [];
        for (const p of photos) per.push(await timeIt(() => faceapi.detectAllFaces(p.t, ssd), 1, E2E_RUNS));
        ms.ssd_detect_per_photo = per.reduce((a, b) => a + b, 0) / per.length;
    }

    for (const [key, o] of [['ssd', ssd], ['tiny', tiny]]) {
        const per = [], faces = [];
        for (const p of photos) {
            let n = 0;
            per.push(await timeIt(async () => {
                const r = await faceapi.detectAllFaces(p.t, o).withFaceLandmarks().withFaceDescriptors();
                n = r.length;
            }, 1, E2E_RUNS));
            faces.push(n);
        }
        ms[`e2e_${key}_per_photo`] = per.reduce((a, b) => a + b, 0) / per.length;
        ms[`e2e_${key}_six_photos_total`] = per.reduce((a, b) => a + b, 0);
        res[`e2e_${key}_faces`] = faces;
    }
    res.decoder = decoder;
    const s = JSON.stringify(res, null, 1);
    if (outFile) fs.writeFileSync(outFile, s + '\n');
    console.log(s);
}

main().catch((e) => {
    console.error('faceapi_bench:', e && e.stack || e);
    process.exit(1);
});
