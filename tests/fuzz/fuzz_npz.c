/*
 * fuzz_npz.c: the NPZ loader from memory (seqrt_load_npz_mem: libzip,
 * stored and deflate members, .npy headers and values) for the splits
 * train, test and val, and what a trainer does next with each dataset.
 * The input is the archive.
 */
#include "fuzz.h"

#include "seqrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const splits[] = {"train", "test", "val"};
    for (int i = 0; i < 3; i++) {
        seqrt_dataset d;
        seqrt_error err;
        if (seqrt_load_npz_mem(data, size, splits[i], NULL, &d, &err) == 0) {
            fuzz_use_dataset(&d);
            seqrt_dataset_free(&d);
        }
    }
    return 0;
}
