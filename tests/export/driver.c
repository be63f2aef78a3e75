/*
 * driver.c: runs an exported model (seqc export) over a file of inputs.
 *   driver N X.bin Y.bin
 * X.bin holds N * INPUT_SIZE float32 values, Y.bin gets N * OUTPUT_SIZE.
 * Compiled per model by export.sh with -DHEADER="NAME.h",
 * -DPREDICT_BATCH=NAME_predict_batch, -DINPUT_SIZE=NAME_INPUT_SIZE and
 * -DOUTPUT_SIZE=NAME_OUTPUT_SIZE, under -std=c99 -pedantic -Werror.
 */
#include <stdio.h>
#include <stdlib.h>

#include HEADER

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: driver N X.bin Y.bin\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    float *x = malloc((size_t)n * INPUT_SIZE * sizeof *x);
    float *y = malloc((size_t)n * OUTPUT_SIZE * sizeof *y);
    FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "wb");
    if (n <= 0 || !x || !y || !in || !out ||
        fread(x, sizeof *x, (size_t)n * INPUT_SIZE, in) != (size_t)n * INPUT_SIZE) {
        fprintf(stderr, "driver: cannot read %ld samples from %s\n", n, argv[2]);
        return 1;
    }
    PREDICT_BATCH((int)n, x, y);
    if (fwrite(y, sizeof *y, (size_t)n * OUTPUT_SIZE, out) != (size_t)n * OUTPUT_SIZE ||
        fclose(out) != 0) {
        fprintf(stderr, "driver: cannot write %s\n", argv[3]);
        return 1;
    }
    fclose(in);
    free(x);
    free(y);
    return 0;
}
