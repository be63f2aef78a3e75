#!/bin/sh
# bn_controls.sh: the trainer's batchnorm controls (issue #14) on
# data/mnist-digits, run as a user would.
#   bn_controls.sh SEQC SOURCE_DIR WORK_DIR PYTHON3
# 1. a last batch of 1 sample is dropped, with one note per run; the
#    steps per epoch follow, and an interrupted run resumed equals an
#    uninterrupted one byte for byte (checkpoint and history);
# 2. drop_last (--drop-last or the train block) drops a partial batch;
# 3. --batch 1 with batchnorm is refused (exit 2), without it accepted;
# 4. --recalibrate-bn: the moving statistics equal an independent NumPy
#    computation (bn_recalibrate.py), with and without a dropped batch;
#    recalibrate_bn true in the train block does the same; with
#    momentum=0.999 and 1 epoch, recalibration lowers val_loss;
# 5. --eval-train: the train_eval_loss column equals predict's loss on
#    the same training samples;
# 6. --init-from: weights from a checkpoint of a model that differs in a
#    batchnorm option; a report; a clear error for other layers; not with
#    --resume; into batchnorm frozen=true (gamma and beta move behind the
#    trainable parameters): the report says so, and after an epoch of
#    fine-tuning the saved gamma and beta are the checkpoint's, bit for
#    bit, found through each file's parameter block table.
set -eu
SEQC=$1 SRC=$2 WORK=$3 PY=$4
DATA=$SRC/data/mnist-digits
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"
fail() { echo "bn_controls: FAIL: $*" >&2; exit 1; }
# last row's column N of a history CSV
col() { tail -n 1 "$1" | cut -d, -f"$2"; }
less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

cat > small.seq <<'SEQ'
model small_bn {
  input 28x28
  dense 16; batchnorm; relu
  dense 10; softmax
}

train {
  optimizer adam lr=0.01
  loss sparse_categorical_crossentropy
  metrics accuracy
  epochs 3
  batch 32
}
SEQ
"$SEQC" build small.seq -o small || fail "seqc build small.seq"

# 1. 1025 = 32 * 32 + 1: the last batch of each epoch would be 1 sample
./small --data "$DATA" --limit 1025 --history full.csv --save full.ckpt > full.out 2> full.err ||
    fail "training with a last batch of 1"
note='note: the last batch of each epoch has 1 sample, and a batch of 1 sample would make batchnorm output beta: dropped'
[ "$(grep -c "" full.err)" -eq 1 ] && grep -qxF "$note" full.err ||
    fail "expected the one note, got: $(cat full.err)"
[ "$(grep -c '^32/32 ' full.out)" -eq 3 ] || fail "expected 3 epochs of 32 steps: $(cat full.out)"
./small --data "$DATA" --limit 1025 --epochs 1 --history part.csv --save part.ckpt > /dev/null 2>&1 ||
    fail "first part of the resumed run"
./small --data "$DATA" --limit 1025 --resume part.ckpt --epochs 3 --history part.csv --save part.ckpt \
    > resumed.out 2> resumed.err || fail "resuming"
[ "$(grep -c '^32/32 ' resumed.out)" -eq 2 ] || fail "resumed: expected 2 epochs of 32 steps"
cmp full.ckpt part.ckpt || fail "resumed checkpoint differs from the uninterrupted run's"
cut -d, -f1-5 full.csv > full.cols && cut -d, -f1-5 part.csv > part.cols
cmp full.cols part.cols || fail "resumed history differs from the uninterrupted run's"
echo "last batch of 1: dropped with one note, 32 steps per epoch, resume byte-identical"

# 2. drop_last: 1000 = 15 * 64 + 40
./small --data "$DATA" --limit 1000 --batch 64 --epochs 1 > keep.out 2>&1 || fail "batch 64"
grep -q '^16/16 ' keep.out || fail "without drop_last: expected 16 steps: $(cat keep.out)"
./small --data "$DATA" --limit 1000 --batch 64 --epochs 1 --drop-last > drop.out 2>&1 ||
    fail "--drop-last"
grep -q '^15/15 ' drop.out || fail "--drop-last: expected 15 steps: $(cat drop.out)"
sed 's/^  batch 32$/  batch 64\n  drop_last true/' small.seq > small_drop.seq
grep -q 'drop_last true' small_drop.seq || fail "could not write small_drop.seq"
"$SEQC" build small_drop.seq -o small_drop || fail "seqc build small_drop.seq"
./small_drop --data "$DATA" --limit 1000 --epochs 1 > drop2.out 2>&1 || fail "drop_last true"
grep -q '^15/15 ' drop2.out || fail "drop_last true: expected 15 steps: $(cat drop2.out)"
# fewer samples than one batch: nothing left to train on
if ./small --data "$DATA" --limit 20 --drop-last > few.out 2> few.err; then
    fail "--drop-last with 20 samples and batch 32 trained"
fi
grep -q '^error: .*: 20 training samples, no whole batch of 32 to train on with drop_last$' few.err ||
    fail "--drop-last with too few samples: $(cat few.err)"
if ./small --data "$DATA" --limit 1 > one_sample.out 2> one_sample.err; then
    fail "trained on a single sample through batchnorm"
fi
[ "$(cat one_sample.err)" = "error: $DATA/train-images-idx3-ubyte.gz: 1 training sample, and a batch of 1 sample would make batchnorm output beta: nothing to train on" ] ||
    fail "one training sample: $(cat one_sample.err)"
echo "drop_last: 15 steps instead of 16"

# 3. --batch 1
set +e
./small --data "$DATA" --limit 10 --batch 1 > one.out 2> one.err
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--batch 1 with batchnorm: exit $rc, expected 2"
grep -q '^error: --batch 1 with 1 batchnorm layer: .*output exactly beta' one.err ||
    fail "--batch 1: $(cat one.err)"
"$SEQC" build small.seq --without batchnorm -o small_nobn || fail "seqc build --without"
./small_nobn --data "$DATA" --limit 10 --batch 1 --epochs 1 --quiet ||
    fail "--batch 1 without batchnorm"
echo "--batch 1: refused with batchnorm, accepted without"

# 4. recalibration against NumPy
./small --data "$DATA" --limit 1000 --batch 64 --epochs 1 --recalibrate-bn --save r.ckpt \
    > r.out 2>&1 || fail "--recalibrate-bn"
grep -qx 'recalibrate-bn: the moving statistics of 1 batchnorm layer recomputed over 1,000 training samples (16 batches of up to 64)' r.out ||
    fail "recalibrate-bn line: $(cat r.out)"
"$PY" "$SRC/tests/backend/bn_recalibrate.py" r.ckpt "$DATA" 1000 64 16 ||
    fail "recalibrated statistics (16 batches)"
./small --data "$DATA" --limit 1025 --epochs 1 --recalibrate-bn --save r2.ckpt > /dev/null 2>&1 ||
    fail "--recalibrate-bn with a dropped batch"
"$PY" "$SRC/tests/backend/bn_recalibrate.py" r2.ckpt "$DATA" 1024 32 16 ||
    fail "recalibrated statistics (the dropped batch)"
# without recalibration the same check fails: it can tell the two apart
./small --data "$DATA" --limit 1000 --batch 64 --epochs 1 --save n.ckpt > /dev/null 2>&1 ||
    fail "training without recalibration"
if "$PY" "$SRC/tests/backend/bn_recalibrate.py" n.ckpt "$DATA" 1000 64 16 > /dev/null; then
    fail "bn_recalibrate.py accepts statistics that were not recalibrated"
fi
sed 's/^  batch 32$/  batch 64\n  recalibrate_bn true/' small.seq > small_recal.seq
"$SEQC" build small_recal.seq -o small_recal || fail "seqc build small_recal.seq"
./small_recal --data "$DATA" --limit 1000 --epochs 1 --save r3.ckpt > /dev/null 2>&1 ||
    fail "recalibrate_bn true"
"$PY" "$SRC/tests/backend/bn_recalibrate.py" r3.ckpt "$DATA" 1000 64 16 ||
    fail "recalibrate_bn true in the train block"

# momentum 0.999 for 1 epoch (250 steps): the moving statistics are still
# mostly their initial 0 and 1; recalibration must lower val_loss
sed 's/batchnorm;/batchnorm momentum=0.999;/' "$SRC/models/mnist_bn.seq" > slow.seq
"$SEQC" build slow.seq -o slow || fail "seqc build slow.seq"
./slow --data "$DATA" --epochs 1 --quiet --history slow.csv || fail "momentum 0.999"
./slow --data "$DATA" --epochs 1 --quiet --history slow_recal.csv --recalibrate-bn ||
    fail "momentum 0.999 --recalibrate-bn"
before=$(col slow.csv 4) after=$(col slow_recal.csv 4)
echo "momentum 0.999, 1 epoch: val_loss $before, with --recalibrate-bn $after"
less_than "$after" "$before" || fail "recalibration did not lower val_loss ($before -> $after)"
[ "$(cut -d, -f1-3 slow.csv)" = "$(cut -d, -f1-3 slow_recal.csv)" ] ||
    fail "recalibration changed the training columns"

# 5. --eval-train against predict on the same 1000 training samples
./small --data "$DATA" --limit 1000 --epochs 2 --eval-train --history e.csv --save e.ckpt \
    > e.out 2>&1 || fail "--eval-train"
head -n 1 e.csv | grep -qx 'epoch,loss,accuracy,train_eval_loss,val_loss,val_accuracy,seconds' ||
    fail "--eval-train header: $(head -n 1 e.csv)"
grep -q 'accuracy: [0-9.]* - train_eval_loss: [0-9.]* - val_loss' e.out ||
    fail "--eval-train progress line: $(cat e.out)"
pred=$(./small predict --load e.ckpt --images "$DATA/train-images-idx3-ubyte.gz" \
       --labels "$DATA/train-labels-idx1-ubyte.gz" --limit 1000 | tail -n 1)
want=$(echo "$pred" | sed -n 's/^loss: \([^ ]*\) - .*/\1/p')
[ "$(col e.csv 4)" = "$want" ] || fail "train_eval_loss $(col e.csv 4), predict says $pred"
echo "--eval-train: train_eval_loss $want, as predict on the training samples"

# 6. --init-from: a model that differs only in a batchnorm option
sed 's/batchnorm;/batchnorm momentum=0.9;/' small.seq > small_m9.seq
"$SEQC" build small_m9.seq -o small_m9 || fail "seqc build small_m9.seq"
if ./small_m9 --data "$DATA" --resume e.ckpt --limit 1000 > /dev/null 2> resume.err; then
    fail "--resume across a structure change"
fi
grep -q 'different structure' resume.err || fail "--resume: $(cat resume.err)"
./small_m9 --data "$DATA" --limit 1000 --epochs 1 --init-from e.ckpt --history i.csv > i.out 2>&1 ||
    fail "--init-from: $(cat i.out)"
grep -qx 'init-from e.ckpt: loaded 8 blocks, 12,794 floats, trained 2 epochs' i.out ||
    fail "--init-from report: $(cat i.out)"
./small_m9 --data "$DATA" --limit 1000 --epochs 1 --history fresh.csv > /dev/null 2>&1 ||
    fail "fresh run of small_m9"
less_than "$(col i.csv 2)" "$(col fresh.csv 2)" ||
    fail "init-from's first epoch loss $(col i.csv 2) not below a fresh run's $(col fresh.csv 2)"
sed 's/dense 16;/dense 17;/' small.seq > small17.seq
"$SEQC" build small17.seq -o small17 || fail "seqc build small17.seq"
set +e
./small17 --data "$DATA" --limit 100 --init-from e.ckpt > /dev/null 2> bad.err
rc=$?
./small --data "$DATA" --limit 100 --init-from e.ckpt --resume e.ckpt > /dev/null 2> both.err
rc2=$?
set -e
[ "$rc" -eq 1 ] || fail "--init-from of other layers: exit $rc"
grep -q "^error: --init-from e.ckpt: not the same layers as this model 'small_bn': layer 'dense' (kernel, line 3) has 13328 floats, the checkpoint's 12544; layer 'dense' (bias, line 3) has 17 floats, the checkpoint's 16" bad.err ||
    fail "--init-from of other layers: $(cat bad.err)"
[ "$rc2" -eq 2 ] && grep -q 'do not go together' both.err || fail "--init-from with --resume"
echo "--init-from: loaded across a batchnorm option, refused for other layers and with --resume"

# the fine-tuning case: the same layers, batchnorm frozen
sed 's/batchnorm;/batchnorm frozen=true;/' small.seq > small_fz.seq
"$SEQC" build small_fz.seq -o small_fz || fail "seqc build small_fz.seq"
./small_fz --data "$DATA" --limit 1000 --epochs 1 --init-from e.ckpt --save fz.ckpt > fz.out 2>&1 ||
    fail "--init-from into batchnorm frozen=true: $(cat fz.out)"
grep -qx 'init-from e.ckpt: loaded 8 blocks, 12,794 floats, trained 2 epochs; batch_normalization: gamma, beta now frozen' fz.out ||
    fail "--init-from frozen report: $(cat fz.out)"
"$PY" - e.ckpt fz.ckpt <<'PYEOF' || fail "frozen gamma/beta after fine-tuning"
import struct, sys
def blocks(path):
    # docs/checkpoint.md: header, floats, then the parameter block table
    b = open(path, 'rb').read()
    assert b[:8] == b'SEQCKPT\0' and struct.unpack_from('<I', b, 8)[0] == 4
    o = 12
    for _ in range(2):
        n = struct.unpack_from('<I', b, o)[0]; o += 4 + n
    P, T, O = struct.unpack_from('<3Q', b, o + 8); o += 32
    flags = struct.unpack_from('<I', b, o + 132)[0]; o += 136
    params = b[o:o + 4 * P]
    o += 4 * (P + O + (P if flags & 1 else 0))
    n = struct.unpack_from('<I', b, o)[0]; o += 4
    out = {}
    for _ in range(n):
        names = []
        for _ in range(2):
            k = struct.unpack_from('<I', b, o)[0]; names.append(b[o + 4:o + 4 + k].decode()); o += 4 + k
        off, cnt, tr = struct.unpack_from('<QQI', b, o); o += 20
        out[tuple(names)] = (params[4 * off:4 * (off + cnt)], off, tr)
    assert o == len(b) - 4, (o, len(b))
    return T, out
Ta, a = blocks(sys.argv[1])
Tf, f = blocks(sys.argv[2])
assert Ta - Tf == 32, (Ta, Tf)
for what in ('gamma', 'beta'):
    key = ('batch_normalization', what)
    assert a[key][2] == 1 and f[key][2] == 0, (what, a[key][2], f[key][2])
    assert a[key][1] != f[key][1], what  # it moved in the array
    assert a[key][0] == f[key][0], what + ' moved during fine-tuning'
assert a[('dense', 'kernel')][0] != f[('dense', 'kernel')][0], 'the kernel did not train'
print('frozen: gamma and beta at %d and %d, unchanged; the kernel trained' %
      (f[('batch_normalization', 'gamma')][1], f[('batch_normalization', 'beta')][1]))
PYEOF
echo "bn_controls: OK"
