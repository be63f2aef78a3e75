#!/usr/bin/python3
"""Writes the small .npz/.npy fixtures of tests/runtime/test_data_npz.c.

Run from anywhere with Debian's NumPy (python3-numpy):
    /usr/bin/python3 tests/runtime/data/make_npz.py
The files are committed, so the tests need no NumPy. Every value is a
formula of its index that the C test computes on its own:
    signed dtypes    x[i] = 3*i - 5       (i = 0..5, shape (2, 3))
    unsigned dtypes  x[i] = 3*i
    float dtypes     x[i] = 0.5*i - 1.25
    y[k] = k % 2 (k = 0..1)
"""
import io
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def values(dt):
    i = np.arange(6)
    dt = np.dtype(dt)
    if dt.kind == 'f':
        v = 0.5 * i - 1.25
    elif dt.kind == 'i':
        v = 3 * i - 5
    else:
        v = 3 * i
    return v.astype(dt).reshape(2, 3)


def npy_bytes(a, version=None, fortran=False):
    buf = io.BytesIO()
    if fortran:
        a = np.asfortranarray(a)
    np.lib.format.write_array(buf, a, version=version, allow_pickle=True)
    return buf.getvalue()


def write_zip(name, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path(name), 'w', compression=compression) as z:
        for member, data in members.items():
            z.writestr(member, data)


def main():
    # every dtype, both byte orders: split "<code>" of dtypes.npz
    codes = ['|u1', '|i1', '<i2', '>i2', '<u2', '<i4', '>i4', '<i8', '>i8',
             '<f4', '>f4', '<f8', '>f8']
    members = {}
    for code in codes:
        split = code[1:] + ('be' if code[0] == '>' else '')
        members['x_%s.npy' % split] = npy_bytes(values(code))
        members['y_%s.npy' % split] = npy_bytes(np.arange(2).astype(code) % 2)
    write_zip('dtypes.npz', members)

    # the same sets stored (np.savez) and deflated (np.savez_compressed)
    x_train = (np.arange(4 * 2 * 3) * 10 % 256).astype(np.uint8).reshape(4, 2, 3)
    y_train = np.array([0, 1, 2, 1], dtype=np.int64)
    x_test = (np.arange(2 * 2 * 3) * 0.25).astype(np.float32).reshape(2, 2, 3)
    y_test = np.array([2, 0], dtype=np.int32)
    x_val = np.arange(6, dtype=np.float64).reshape(1, 2, 3)
    y_val = np.array([1], dtype=np.uint8)
    sets = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                x_val=x_val, y_val=y_val)
    np.savez(path('stored.npz'), **sets)
    np.savez_compressed(path('compressed.npz'), **sets)
    # one-hot rows (N, K), and no validation set
    np.savez(path('onehot.npz'), x_train=x_test,
             y_train=np.eye(3, dtype=np.float32)[[2, 0]])
    # versions 2.0 and 3.0 of the .npy header
    write_zip('versions.npz', {
        'x_v2.npy': npy_bytes(values('<f4'), version=(2, 0)),
        'y_v2.npy': npy_bytes(np.array([0, 1], dtype=np.int64), version=(2, 0)),
        'x_v3.npy': npy_bytes(values('<i2'), version=(3, 0)),
        'y_v3.npy': npy_bytes(np.array([1, 0], dtype=np.int64), version=(3, 0)),
    })

    # broken ones, each of one kind
    good_y = npy_bytes(np.array([0, 1], dtype=np.int64))
    write_zip('fortran.npz', {'x_train.npy': npy_bytes(values('<f4'), fortran=True),
                              'y_train.npy': good_y})
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = [1, 2], 'a'
    write_zip('object.npz', {'x_train.npy': npy_bytes(obj), 'y_train.npy': good_y})
    write_zip('bool.npz', {'x_train.npy': npy_bytes(np.ones((2, 3), dtype=bool)),
                           'y_train.npy': good_y})
    rec = np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')])
    write_zip('structured.npz', {'x_train.npy': npy_bytes(rec), 'y_train.npy': good_y})
    write_zip('complex.npz', {'x_train.npy': npy_bytes(np.zeros((2, 3), np.complex64)),
                              'y_train.npy': good_y})
    full = npy_bytes(values('<f4'))
    write_zip('truncated.npz', {'x_train.npy': full[:-5], 'y_train.npy': good_y})
    write_zip('trailing.npz', {'x_train.npy': full + b'\0\0\0\0', 'y_train.npy': good_y})
    write_zip('mismatch.npz', {'x_train.npy': full,
                               'y_train.npy': npy_bytes(np.zeros(3, np.int64))})
    write_zip('y3d.npz', {'x_train.npy': full,
                          'y_train.npy': npy_bytes(np.zeros((2, 1, 1), np.int64))})
    write_zip('dims6.npz', {'x_train.npy': npy_bytes(np.zeros((2, 1, 1, 1, 1, 1), '<f4')),
                            'y_train.npy': good_y})
    write_zip('no_train.npz', {'x_test.npy': full, 'y_test.npy': good_y})
    write_zip('x_only.npz', {'x_train.npy': full})
    write_zip('not_npy.npz', {'x_train.npy': b'hello, world', 'y_train.npy': good_y})
    nan = values('<f4').copy()
    nan[1, 2] = np.nan
    write_zip('nan.npz', {'x_train.npy': npy_bytes(nan), 'y_train.npy': good_y})
    write_zip('label7.npz', {'x_train.npy': full,
                             'y_train.npy': npy_bytes(np.array([0, 7], np.int64))})
    # a stored member whose data was damaged after zipping: a CRC error
    write_zip('crc.npz', {'x_train.npy': full, 'y_train.npy': good_y})
    raw = bytearray(open(path('crc.npz'), 'rb').read())
    at = raw.find(full) + len(full) - 2
    raw[at] ^= 0x40
    open(path('crc.npz'), 'wb').write(bytes(raw))
    open(path('empty.npz'), 'wb').close()

    # blobs: 3 well separated Gaussian classes in 4 features (centres 6
    # apart, sd 1) for the trainer's end-to-end test (data_e2e.sh), as CSV
    # (train, test) and as .npz (with and without x_val)
    rng = np.random.default_rng(11)
    centres = np.array([[0, 0, 0, 0], [6, 0, 6, 0], [0, 6, 0, 6]], dtype=np.float64)

    def blobs(n):
        y = np.arange(n) % 3
        x = centres[y] + rng.normal(size=(n, 4))
        return x.astype(np.float32), y.astype(np.int64)

    xtr, ytr = blobs(300)
    xte, yte = blobs(90)
    xva, yva = blobs(60)
    for name, x, y in (('blobs_train.csv', xtr, ytr), ('blobs_test.csv', xte, yte)):
        with open(path(name), 'w') as f:
            f.write('f0,f1,f2,f3,label\n')
            for row, label in zip(x, y):
                f.write(','.join('%.6g' % v for v in row) + ',%d\n' % label)
    np.savez(path('blobs.npz'), x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    np.savez_compressed(path('blobs_val.npz'), x_train=xtr, y_train=ytr, x_test=xte,
                        y_test=yte, x_val=xva, y_val=yva)


if __name__ == '__main__':
    main()
