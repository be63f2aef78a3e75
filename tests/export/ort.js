// ort.js: runs an ONNX model with onnxruntime (the onnxruntime-node npm
// package, CPU) over a file of inputs, the same way driver.c runs the C.
//   NODE_PATH=CACHE/node_modules node ort.js MODEL.onnx N X.bin Y.bin [BATCH]
// X.bin holds N samples of float32 inputs; Y.bin gets N rows of outputs.
// The samples go through in batches of BATCH (default 256), so the
// model's dynamic batch dimension is used with several sizes (the last
// batch is smaller).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
    const [model, nArg, xPath, yPath, batchArg] = process.argv.slice(2);
    const n = parseInt(nArg, 10), batch = parseInt(batchArg || '256', 10);
    const session = await ort.InferenceSession.create(model);
    const inputMeta = session.inputMetadata ? session.inputMetadata[0] : null;
    const buf = fs.readFileSync(xPath);
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const inSize = x.length / n;
    // the input's shape after N, from the model ([N, 28, 28], [N, 30], ...)
    let dims = [inSize];
    if (inputMeta && Array.isArray(inputMeta.shape))
        dims = inputMeta.shape.slice(1);
    const rows = [];
    for (let start = 0; start < n; start += batch) {
        const m = Math.min(batch, n - start);
        const t = new ort.Tensor('float32', x.slice(start * inSize, (start + m) * inSize),
                                 [m, ...dims]);
        const out = await session.run({ [session.inputNames[0]]: t });
        rows.push(out[session.outputNames[0]].data);
    }
    const total = rows.reduce((s, r) => s + r.length, 0);
    const y = new Float32Array(total);
    let off = 0;
    for (const r of rows) {
        y.set(r, off);
        off += r.length;
    }
    fs.writeFileSync(yPath, Buffer.from(y.buffer));
}

main().catch((e) => {
    console.error('ort.js: ' + (e && e.message ? e.message : e));
    process.exit(1);
});
