// SPDX-License-Identifier: MIT
// Golden outputs of the ULFD net (models/ulfd.onnx) from ONNX Runtime, for
// tests/golden/test_ulfd.c. Run by tools/ulfd_golden.sh (which installs the pinned
// onnxruntime-node with --ignore-scripts: its npm tarball carries the linux-x64 binary).
//
//   node tools/ulfd_golden.js MODEL OUT.bin NAME=INPUT.rgb ...
//
// Each INPUT.rgb is 320x240 RGB bytes (row-major, written by test_ulfd --write-inputs);
// the net sees (v - 127) / 128 in NCHW. OUT.bin (little-endian):
//   "ULFDGLD1", u32 n_images, u32 P (priors), then per image:
//   char name[32] (zero-padded), u32 FNV-1a of the input bytes, f32 face[P] (scores[:, 1]),
//   f32 boxes[P][4] (x1, y1, x2, y2 normalised, as the file decodes them)
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const W = 320, H = 240;

function fnv1a(b) {
  let h = 0x811c9dc5;
  for (const v of b) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  return h >>> 0;
}

(async () => {
  const [model, out, ...inputs] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  const parts = [];
  let P = 0;
  for (const arg of inputs) {
    const [name, path] = arg.split('=');
    const rgb = fs.readFileSync(path);
    if (rgb.length !== W * H * 3) throw new Error(`${path}: ${rgb.length} bytes, want ${W * H * 3}`);
    const x = new Float32Array(3 * H * W);
    for (let i = 0; i < H * W; i++)
      for (let c = 0; c < 3; c++) x[c * H * W + i] = (rgb[i * 3 + c] - 127) / 128;
    const r = await s.run({ input: new ort.Tensor('float32', x, [1, 3, H, W]) });
    const sc = r.scores.data, bx = r.boxes.data;
    P = r.scores.dims[1];
    const head = Buffer.alloc(36);
    head.write(name.slice(0, 31), 0, 'latin1');
    head.writeUInt32LE(fnv1a(rgb), 32);
    const face = new Float32Array(P);
    for (let p = 0; p < P; p++) face[p] = sc[p * 2 + 1];
    parts.push(head, Buffer.from(face.buffer), Buffer.from(Float32Array.from(bx).buffer));
  }
  const h = Buffer.alloc(16);
  h.write('ULFDGLD1', 0, 'latin1');
  h.writeUInt32LE(inputs.length, 8);
  h.writeUInt32LE(P, 12);
  fs.writeFileSync(out, Buffer.concat([h, ...parts]));
  console.log(`ulfd_golden: ${inputs.length} images, ${P} priors -> ${out} (onnxruntime-node ${require('onnxruntime-node/package.json').version})`);
})().catch((e) => { console.error(e); process.exit(1); });
