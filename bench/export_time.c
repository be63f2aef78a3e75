/*
 * export_time.c: latency and throughput of a model exported by seqc export
 * (bench/export.sh compiles it with the exported NAME.c).
 *   export_time N X.bin REPEATS
 * Prints two lines:
 *   single: the median and 10th/90th percentile of one NAME_predict call,
 *           over every sample, REPEATS times (microseconds);
 *   batch:  NAME_predict_batch over all N samples, the best of REPEATS
 *           (samples per second).
 * Compiled with -DHEADER, -DPREDICT, -DPREDICT_BATCH, -DINPUT_SIZE,
 * -DOUTPUT_SIZE naming the model's.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include HEADER

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return fprintf(stderr, "usage: export_time N X.bin REPEATS\n"), 2;
    long n = atol(argv[1]), reps = atol(argv[3]);
    float *x = malloc((size_t)n * INPUT_SIZE * sizeof *x);
    float *y = malloc((size_t)n * OUTPUT_SIZE * sizeof *y);
    double *t = malloc((size_t)n * (size_t)reps * sizeof *t);
    FILE *f = fopen(argv[2], "rb");
    if (n <= 0 || reps <= 0 || !x || !y || !t || !f ||
        fread(x, sizeof *x, (size_t)n * INPUT_SIZE, f) != (size_t)n * INPUT_SIZE)
        return fprintf(stderr, "export_time: cannot read %ld samples of %s\n", n, argv[2]), 1;
    fclose(f);
    volatile float sink = 0;
    for (long r = 0; r < reps; r++)
        for (long i = 0; i < n; i++) {
            double t0 = now();
            PREDICT(x + (size_t)i * INPUT_SIZE, y);
            t[r * n + i] = now() - t0;
            sink += y[0];
        }
    qsort(t, (size_t)(n * reps), sizeof *t, by_value);
    size_t m = (size_t)(n * reps);
    printf("single: median %.2f us, p10 %.2f us, p90 %.2f us (%zu calls)\n", 1e6 * t[m / 2],
           1e6 * t[m / 10], 1e6 * t[m * 9 / 10], m);
    double best = 1e30;
    for (long r = 0; r < reps; r++) {
        double t0 = now();
        PREDICT_BATCH((int)n, x, y);
        double dt = now() - t0;
        best = dt < best ? dt : best;
        sink += y[0];
    }
    printf("batch: %.0f samples/s (%ld samples in %.4f s, best of %ld)\n", (double)n / best, n,
           best, reps);
    free(x);
    free(y);
    free(t);
    return sink != sink; /* NaN outputs fail */
}
