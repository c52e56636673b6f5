// SPDX-License-Identifier: MIT
// The second detectors' nets in their reference runtimes, for bench/peers (issue 9, part 6):
//   ULFD (models/ulfd.onnx) in ONNX Runtime's native CPU engine (onnxruntime-node, the same
//     file our ONNX importer reads) at the file's own 320x240 input (its shape is fixed), with
//     1 and 2 intra-op threads, all graph optimisations on;
//   FaceBoxes (models/faceboxes/) in TensorFlow.js with the wasm backend (SIMD, 1 thread) at
//     1024x683 (sample1's aspect; the graph pads it to 1024x768), run up to the nodes our
//     importer cuts at plus the graph's own decode (softmax, box decode), not its NMS loop.
// facehatch's rows are `facehatch bench --nets` (ULFD 320x240, FaceBoxes 1024x768: the same
// nets through our importers). Outputs are not compared here: tests/golden/test_ulfd and
// test_faceboxes check ours against these runtimes (ULFD within 1e-6, FaceBoxes 4.2e-7).
//
//   NODE_PATH=ORT_MODULES:TFJS_MODULES node detectors_bench.js --models DIR --runs N --out OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const { loadGraphDir } = require('../../tools/tfjs_graph.js');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}
const MODELS = arg('--models', 'models');
const RUNS = +arg('--runs', '9');
const OUT = arg('--out', null);

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}
function pattern(n) { // the input facehatch bench uses: ((i * 2654435761) mod 2^32) % 255 / 128 - 1
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Number(((BigInt(i) * 2654435761n) & 0xffffffffn) % 255n) / 128 - 1;
  return x;
}

async function timeIt(fn, runs) {
  for (let r = 0; r < 2; r++) await fn();
  const t = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

(async () => {
  const res = { peer: 'ONNX Runtime native / tfjs-wasm', runs: RUNS, ms: {}, notes: [] };
  try {
    const ort = require('onnxruntime-node');
    const x = pattern(3 * 240 * 320);
    for (const th of [1, 2]) {
      const s = await ort.InferenceSession.create(path.join(MODELS, 'ulfd.onnx'),
        { intraOpNumThreads: th, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      const feeds = { input: new ort.Tensor('float32', x, [1, 3, 240, 320]) };
      res.ms[`ulfd_320x240_ort_${th}thr`] = await timeIt(() => s.run(feeds), RUNS);
    }
    res.runtime_ort = `onnxruntime-node ${require('onnxruntime-node/package.json').version} (native CPU EP)`;
  } catch (e) {
    res.notes.push(`ONNX Runtime rows n/a: ${e.message}`);
  }
  try {
    const tf = require('@tensorflow/tfjs');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
    if (wasm.setThreadsCount) wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    const dir = path.join(MODELS, 'faceboxes');
    const model = await loadGraphDir(tf.loadGraphModel, dir);
    const W = 1024, H = 683;
    const px = new Int32Array(W * H * 3);
    for (let i = 0; i < px.length; i++) px[i] = Number(((BigInt(i) * 2654435761n) & 0xffffffffn) % 255n);
    const img = tf.tensor4d(px, [1, H, W, 3], 'int32');
    const NODES = ['postprocessing/Softmax', 'postprocessing/clip_by_value_1'];
    res.ms.faceboxes_1024x683_tfjs_wasm_1thr = await timeIt(async () => {
      const r = await model.executeAsync({ image_tensor: img }, NODES);
      await Promise.all(r.map((t) => t.data()));
      tf.dispose(r);
    }, RUNS);
    res.runtime_tfjs = `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()} (SIMD, 1 thread)`;
  } catch (e) {
    res.notes.push(`tfjs-wasm FaceBoxes row n/a: ${e.message}`);
  }
  const text = JSON.stringify(res, null, 1);
  if (OUT) fs.writeFileSync(OUT, text);
  console.log(text);
})();
