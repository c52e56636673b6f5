// SPDX-License-Identifier: MIT
// Golden outputs of FaceBoxes (models/faceboxes/, a TensorFlow.js graph model) from tfjs
// itself (@tensorflow/tfjs-core + tfjs-converter + tfjs-backend-cpu, pure JavaScript), for
// tests/golden/test_faceboxes.c. Run by tools/faceboxes_golden.sh (which installs the pinned
// packages with --ignore-scripts).
//
//   node tools/faceboxes_golden.js MODEL_DIR OUT.bin W H NAME=INPUT.rgb ...
//
// Each INPUT.rgb is W x H RGB bytes (row-major, written by test_faceboxes --write-inputs),
// fed as the graph's uint8 image_tensor (the graph itself scales by 1/255, pads to a multiple
// of 128 and standardises). OUT.bin (little-endian):
//   "FBXGLD01", u32 n_images, u32 P (anchors), u32 W, u32 H,
//   f32 anchors[P][4] (the graph's anchors: ymin, xmin, ymax, xmax, fractions of the padded
//   input), then per image: char name[32] (zero-padded), u32 FNV-1a of the input bytes,
//   f32 face[P] (softmax face probability), f32 enc[P][4] (raw box encodings ty, tx, th, tw),
//   f32 boxes[P][4] (the graph's decoded boxes: ymin, xmin, ymax, xmax, fractions of W x H)
'use strict';
const fs = require('fs');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfc = require('@tensorflow/tfjs-converter');
const { loadGraphDir } = require('./tfjs_graph.js');

function fnv1a(b) {
  let h = 0x811c9dc5;
  for (const v of b) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  return h >>> 0;
}

const NODES = ['concatenate/clip_by_value', 'postprocessing/Softmax', 'reshaping/concat',
  'postprocessing/clip_by_value_1'];

(async () => {
  const [dir, out, ws, hs, ...inputs] = process.argv.slice(2);
  const W = +ws, H = +hs;
  await tf.setBackend('cpu');
  const model = await loadGraphDir(tfc.loadGraphModel, dir);
  const parts = [];
  let P = 0, anchors = null;
  for (const arg of inputs) {
    const [name, file] = arg.split('=');
    const rgb = fs.readFileSync(file);
    if (rgb.length !== W * H * 3) throw new Error(`${file}: ${rgb.length} bytes, want ${W * H * 3}`);
    const x = tf.tensor4d(new Uint8Array(rgb), [1, H, W, 3], 'int32');
    const r = await model.executeAsync({ image_tensor: x }, NODES);
    const [an, sm, enc, bx] = await Promise.all(r.map((t) => t.data()));
    P = an.length / 4;
    anchors = Float32Array.from(an);
    const face = new Float32Array(P);
    for (let p = 0; p < P; p++) face[p] = sm[p * 2 + 1];
    const head = Buffer.alloc(36);
    head.write(name.slice(0, 31), 0, 'latin1');
    head.writeUInt32LE(fnv1a(rgb), 32);
    parts.push(head, Buffer.from(face.buffer), Buffer.from(Float32Array.from(enc).buffer),
      Buffer.from(Float32Array.from(bx).buffer));
    r.forEach((t) => t.dispose());
    x.dispose();
  }
  const h = Buffer.alloc(24);
  h.write('FBXGLD01', 0, 'latin1');
  h.writeUInt32LE(inputs.length, 8);
  h.writeUInt32LE(P, 12);
  h.writeUInt32LE(W, 16);
  h.writeUInt32LE(H, 20);
  fs.writeFileSync(out, Buffer.concat([h, Buffer.from(anchors.buffer), ...parts]));
  console.log(`faceboxes_golden: ${inputs.length} images, ${P} anchors at ${W}x${H} -> ${out} ` +
    `(tfjs ${require('@tensorflow/tfjs-core/package.json').version}, cpu backend)`);
})().catch((e) => { console.error(e); process.exit(1); });
