/* load_data.c: the time libseqrt's loaders take to read one file into a
 * seqrt_dataset, for bench/load_speed.sh (issue #11: against numpy.load and
 * numpy.loadtxt on the same files, in the same run).
 *
 *   load_data npz FILE.npz [REPS]   seqrt_load_npz(FILE, "train", ...)
 *   load_data csv FILE.csv [REPS]   seqrt_load_csv(FILE, defaults, ...):
 *                                   header row, the target the last column
 *
 * Each repetition loads the whole file, then frees it; the loader is given
 * the default limits (opts NULL). Prints one line:
 *   KIND FILE count=N sample_size=S y_width=W sum_x=X sum_y=Y best_s=B median_s=M
 * sum_x and sum_y (in double, of the first load) let the script check that
 * the loader read the same numbers as NumPy. Exit status 1 with the
 * loader's message when a load fails.
 *
 * bench/load_speed.sh builds and runs it; by hand, from the source tree:
 *   cmake --build build --target seqrt_data
 *   cc -O2 -std=c11 -Iruntime/include bench/load_data.c build/libseqrt_data.a \
 *      $(pkg-config --cflags --libs libzip zlib) -lm -o load_data
 */
#define _POSIX_C_SOURCE 200809L
#include "seqrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_REPS = 100 };

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One load of path as kind ("npz" or "csv") into *d. */
static int load(const char *kind, const char *path, seqrt_dataset *d, seqrt_error *err)
{
    if (strcmp(kind, "npz") == 0) {
        int rc = seqrt_load_npz(path, "train", NULL, d, err);
        if (rc == 1)
            return seqrt_fail(err, "%s: no x_train in the archive", path);
        return rc;
    }
    seqrt_csv_opts csv_opts = {NULL, 0, 0}; /* header row; target: the last column */
    return seqrt_load_csv(path, &csv_opts, NULL, d, err);
}

/* Sums of the inputs (as a batch would see them: bytes times scale) and of
 * the targets, in double. */
static void sums(const seqrt_dataset *d, double *sum_x, double *sum_y)
{
    size_t n = d->count * d->sample_size;
    double sx = 0.0, sy = 0.0;
    if (d->xtype == SEQRT_X_U8)
        for (size_t i = 0; i < n; i++)
            sx += (double)d->pixels[i] * (double)d->scale;
    else
        for (size_t i = 0; i < n; i++)
            sx += (double)d->values[i];
    for (size_t i = 0; i < d->count * (size_t)d->y_width; i++)
        sy += (double)d->targets[i];
    *sum_x = sx;
    *sum_y = sy;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "npz") != 0 && strcmp(argv[1], "csv") != 0)) {
        fprintf(stderr, "usage: %s npz|csv FILE [REPS]\n", argv[0]);
        return 2;
    }
    const char *kind = argv[1], *path = argv[2];
    int reps = argc == 4 ? atoi(argv[3]) : 3;
    if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "%s: REPS must be 1..%d\n", argv[0], MAX_REPS);
        return 2;
    }

    double times[MAX_REPS];
    double sum_x = 0.0, sum_y = 0.0;
    size_t count = 0, sample_size = 0;
    int y_width = 0;
    for (int r = 0; r < reps; r++) {
        seqrt_dataset d;
        seqrt_error err;
        memset(&d, 0, sizeof d);
        err.msg[0] = '\0';
        double t0 = now_s();
        if (load(kind, path, &d, &err) != 0) {
            fprintf(stderr, "load_data: %s\n", err.msg);
            return 1;
        }
        times[r] = now_s() - t0;
        if (r == 0) {
            sums(&d, &sum_x, &sum_y);
            count = d.count;
            sample_size = d.sample_size;
            y_width = d.y_width;
        }
        seqrt_dataset_free(&d);
    }
    qsort(times, (size_t)reps, sizeof times[0], cmp_double);
    printf("%s %s count=%zu sample_size=%zu y_width=%d sum_x=%.6e sum_y=%.6e"
           " best_s=%.4f median_s=%.4f\n",
           kind, path, count, sample_size, y_width, sum_x, sum_y, times[0],
           times[reps / 2]);
    return 0;
}
