/*
 * fuzz.h: what the fuzz targets share.
 *
 * Each target defines LLVMFuzzerTestOneInput, the libFuzzer entry point;
 * it is linked either with libFuzzer (clang, coverage-guided) or with
 * driver.c (any compiler: the seed corpus and mutations of it). Both are
 * built with AddressSanitizer and UndefinedBehaviorSanitizer, so any
 * memory error or undefined behaviour stops the run with a report.
 */
#ifndef SEQC_FUZZ_H
#define SEQC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The loaders take a path: the bytes are written to an anonymous
 * in-memory file (memfd), no disk file is left behind even after a crash.
 * Fills path with "/proc/self/fd/N" and returns N (close it after the
 * load), or -1 when the file could not be made (the input is skipped). */
int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t path_size);

/* What a trainer does with a loaded dataset: the shape check against a
 * 10-class model of its sample size, and a batch of its last samples. */
struct seqrt_dataset;
void fuzz_use_dataset(const struct seqrt_dataset *d);

#endif
