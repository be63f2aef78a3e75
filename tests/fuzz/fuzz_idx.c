/*
 * fuzz_idx.c: the IDX loader (seqrt_load_idx: images and labels, plain or
 * gzip) and what a trainer does next with the dataset (check, batches).
 *
 * Input layout, so that both files and their agreement are fuzzed:
 *   byte 0      flags: bit 0 = load the images only (labels NULL)
 *   bytes 1..4  u32 little-endian: length of the images file (capped to
 *               what is left)
 *   then        the images file, then the labels file (the rest)
 */
#include "fuzz.h"

#include <unistd.h>

#include "seqrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    int images_only = data[0] & 1;
    size_t ilen = (size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16 |
                  (size_t)data[4] << 24;
    data += 5;
    size -= 5;
    if (ilen > size)
        ilen = size;

    char ipath[64], lpath[64];
    int ifd = fuzz_memfile(data, ilen, ipath, sizeof ipath);
    int lfd = fuzz_memfile(data + ilen, size - ilen, lpath, sizeof lpath);
    if (ifd >= 0 && lfd >= 0) {
        seqrt_dataset d;
        seqrt_error err;
        if (seqrt_load_idx(ipath, images_only ? NULL : lpath, &d, &err) == 0) {
            fuzz_use_dataset(&d);
            seqrt_dataset_free(&d);
        }
    }
    if (ifd >= 0)
        close(ifd);
    if (lfd >= 0)
        close(lfd);
    return 0;
}
