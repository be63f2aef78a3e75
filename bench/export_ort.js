// export_ort.js: latency and throughput of an ONNX model in onnxruntime
// (onnxruntime-node, CPU, one intra-op thread like the exported C), on the
// same inputs as bench/export_time.c; the same two output lines.
//   NODE_PATH=CACHE/node_modules node export_ort.js MODEL.onnx N X.bin REPEATS
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
    const [model, nArg, xPath, repArg] = process.argv.slice(2);
    const n = parseInt(nArg, 10), reps = parseInt(repArg, 10);
    const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const dims = session.inputMetadata[0].shape.slice(1);
    const buf = fs.readFileSync(xPath);
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const size = x.length / n, name = session.inputNames[0];
    const t = [];
    for (let r = 0; r < reps; r++)
        for (let i = 0; i < n; i++) {
            const input = new ort.Tensor('float32', x.subarray(i * size, (i + 1) * size), [1, ...dims]);
            const t0 = process.hrtime.bigint();
            await session.run({ [name]: input });
            t.push(Number(process.hrtime.bigint() - t0) / 1e3);
        }
    t.sort((a, b) => a - b);
    const m = t.length;
    console.log(`single: median ${t[m >> 1].toFixed(2)} us, p10 ${t[Math.floor(m / 10)].toFixed(2)} us, ` +
                `p90 ${t[Math.floor(m * 9 / 10)].toFixed(2)} us (${m} calls)`);
    let best = Infinity;
    const all = new ort.Tensor('float32', x, [n, ...dims]);
    for (let r = 0; r < reps; r++) {
        const t0 = process.hrtime.bigint();
        await session.run({ [name]: all });
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(`batch: ${(n / best).toFixed(0)} samples/s (${n} samples in ${best.toFixed(4)} s, best of ${reps})`);
}

main().catch((e) => { console.error('export_ort.js: ' + (e && e.message ? e.message : e)); process.exit(1); });
