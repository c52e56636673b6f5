// SPDX-License-Identifier: MIT
// Loads a TensorFlow.js graph model (model.json + weight shards) from a folder in Node
// without tfjs-node's file:// handler: an in-memory IO handler over the files. Shared by
// tools/faceboxes_golden.js and bench/peers/detectors_bench.js.
//
//   const model = await require('./tfjs_graph.js').loadGraphDir(loadGraphModel, 'models/faceboxes');
'use strict';
const fs = require('fs');
const path = require('path');

async function loadGraphDir(loadGraphModel, dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = [], datas = [];
  for (const g of json.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) datas.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(datas);
  return loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy,
      convertedBy: json.convertedBy, signature: json.signature, weightSpecs: specs,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
    }),
  });
}

module.exports = { loadGraphDir };
