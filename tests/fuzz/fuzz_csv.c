/*
 * fuzz_csv.c: the CSV loader (seqrt_load_csv, plain or gzip by content)
 * and what a trainer does next with the dataset (check, batches). The
 * input is the file.
 */
#include "fuzz.h"

#include <unistd.h>

#include "seqrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    seqrt_dataset d;
    seqrt_error err;
    if (seqrt_load_csv(path, &d, &err) == 0) {
        fuzz_use_dataset(&d);
        seqrt_dataset_free(&d);
    }
    close(fd);
    return 0;
}
