/*
 * fuzz_checkpoint.c: the checkpoint loader (runtime/src/loop/checkpoint.h,
 * what --resume and --load run) against a small model described here.
 *
 * Input layout:
 *   byte 0  flags: bit 0 = fix the CRC first (the last 4 bytes become the
 *           CRC-32 of the bytes before them), so that mutations get past
 *           the checksum to the checks behind it (model, counts, values);
 *           bit 1 = load without the optimizer state (as --load does);
 *           bit 2 = load the weights only, mapped through the file's
 *           parameter block table (as --init-from does)
 *   then    the checkpoint file
 * The seed corpus holds files seqrt_checkpoint_save wrote for this model
 * (fuzz_checkpoint_seed.c).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz_checkpoint_model.h"
#include "loop/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fix_crc = data[0] & 1, no_opt = data[0] & 2, weights = data[0] & 4;
    uint8_t *file = malloc(size);
    if (!file)
        return 0;
    size--;
    memcpy(file, data + 1, size);
    if (fix_crc && size >= 4) {
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, file, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            file[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    }
    char path[64];
    int fd = fuzz_memfile(file, size, path, sizeof path);
    if (fd >= 0) {
        const seqrt_model *m = fuzz_checkpoint_model();
        float params[FUZZ_CKPT_PARAMS], opt[FUZZ_CKPT_OPT];
        seqrt_checkpoint_meta meta;
        seqrt_error err;
        int was[4];
        char from[64];
        if (weights)
            (void)seqrt_checkpoint_load_weights(path, m, params, &meta, from, sizeof from, was,
                                                &err);
        else
            (void)seqrt_checkpoint_load(path, m, params, no_opt ? NULL : opt, &meta, &err);
        close(fd);
    }
    free(file);
    return 0;
}
