/*
 * fuzz_csv.c: the CSV loader (seqrt_load_csv, plain or gzip by content)
 * and what a trainer does next with the dataset (check, batches). The
 * input's first byte chooses the options (bit 0: --no-header, bit 1:
 * --target "b,1" (names with a header, numbers without), bit 2: no
 * target); the rest is the file.
 */
#include "fuzz.h"

#include <unistd.h>

#include "seqrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    seqrt_csv_opts opts = {.no_header = data[0] & 1};
    if (data[0] & 4)
        opts.no_target = 1;
    else if (data[0] & 2)
        opts.target = opts.no_header ? "1,0" : "b,a";
    char path[64];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof path);
    if (fd < 0)
        return 0;
    seqrt_dataset d;
    seqrt_error err;
    if (seqrt_load_csv(path, &opts, NULL, &d, &err) == 0) {
        fuzz_use_dataset(&d);
        seqrt_dataset_free(&d);
    }
    close(fd);
    return 0;
}
