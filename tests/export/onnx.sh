#!/bin/sh
# onnx.sh: seqc export --format onnx of one model, after export.sh left
# its trained checkpoint, inputs and trainer predictions in WORK_DIR.
#   onnx.sh SEQC SOURCE_DIR WORK_DIR CACHE MODEL [MODEL_FILE]
# 1. export to ONNX (the self-check runs first, on the 200 samples
#    export.sh leaves in check.args), folded (no batchnorm left)
#    and --no-fold (BatchNormalization nodes);
# 2. Debian's python3-onnx: onnx.checker.check_model(full_check=True),
#    opset >= 13, a dynamic batch dimension, the metadata;
# 3. onnxruntime (onnxruntime-node from CACHE, see onnxruntime.sh) on the
#    validation set in batches: >= 99.9% identical classes with the
#    trainer's predict, outputs within 1e-4.
# Exit 77 (skipped) only when onnxruntime-node could not be installed
# because the npm registry cannot be reached (onnxruntime.sh says so).
set -eu
SEQC=$1 SRC=$2 WORK=$3 CACHE=$4 M=$5
FILE=${6:-$2/models/$5.seq}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
fail() { echo "onnx($M): FAIL: $*" >&2; exit 1; }
cd "$WORK" || fail "no $WORK: export_$M runs first"
[ -f model.ckpt ] && [ -f x.bin ] && [ -f pred.csv ] && [ -f check.args ] ||
    fail "export_$M left no checkpoint, inputs or predictions in $WORK"
# shellcheck disable=SC2046
set -- $(cat check.args)

for fold in "" --no-fold; do
    out=$M${fold:+-nofold}.onnx
    # shellcheck disable=SC2068
    "$SEQC" export "$FILE" --load model.ckpt --format onnx -o "$out" $fold $@ \
        > onnx.log || { cat onnx.log; fail "seqc export --format onnx $fold"; }
    cat onnx.log
    bn=0 # 1: every batchnorm folds (those of models/ follow a dense or conv2d)
    [ "$FILE" = "$SRC/models/$M.seq" ] && grep -q batchnorm "$FILE" && bn=1
    "$PYTHON" - "$out" "$M" "$fold" "$bn" <<'PY' || fail "python3-onnx refuses $out"
import sys
import onnx
path, name, fold, bn = sys.argv[1:5]
m = onnx.load(path)
onnx.checker.check_model(m, full_check=True)
ops = {o.domain: o.version for o in m.opset_import}
assert ops.get("", 0) >= 13, f"opset {ops}"
meta = {p.key: p.value for p in m.metadata_props}
assert meta["model_name"] == name and meta["seqc_version"] and meta["source"].endswith(name + ".seq"), meta
for v in (m.graph.input[0], m.graph.output[0]):
    d0 = v.type.tensor_type.shape.dim[0]
    assert d0.dim_param and not d0.dim_value, f"{v.name}: batch dimension {d0}"
assert len(m.graph.output[0].type.tensor_type.shape.dim) == 2
kinds = [n.op_type for n in m.graph.node]
if bn == "1" and fold:
    assert "BatchNormalization" in kinds, f"--no-fold without BatchNormalization: {kinds}"
elif bn == "1":  # (no model with batchnorm has a rescale, the other Mul)
    assert "BatchNormalization" not in kinds and "Mul" not in kinds, f"batchnorm left: {kinds}"
print(f"{path}: check_model(full_check=True) ok, opset {ops['']}, metadata {sorted(meta)}")
PY
done

if [ ! -f "$CACHE/node_modules/onnxruntime-node/package.json" ]; then
    echo "onnx($M): SKIP: onnxruntime-node is not installed in $CACHE (the npm registry could not be reached: see the export_onnxruntime test)"
    exit 77
fi
n=$("$PYTHON" -c "import os, sys; print(os.path.getsize('x.bin') // 4 // int(sys.argv[1]))" \
    "$(sed -n "s/^#define [A-Z0-9_]*_INPUT_SIZE //p" "$M.h")")
OUTS=$(sed -n "s/^#define [A-Z0-9_]*_OUTPUT_SIZE //p" "$M.h")
for fold in "" -nofold; do
    NODE_PATH=$CACHE/node_modules node "$HERE/ort.js" "$M$fold.onnx" "$n" x.bin "y_ort$fold.bin" 256 ||
        fail "onnxruntime on $M$fold.onnx"
    "$PYTHON" "$HERE/compare.py" outputs "ONNX$fold (onnxruntime)" pred.csv "y_ort$fold.bin" "$OUTS" ||
        fail "ONNX$fold"
done
echo "onnx($M): ok"
