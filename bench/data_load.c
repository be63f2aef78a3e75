/* data_load.c: the seconds libseqrt's loaders take for one file: a CSV
 * (seqrt_load_csv, header, the last column the target) or an .npz
 * (seqrt_load_npz, the train split); the best of REPS runs.
 * bench/data_load.sh writes the files and times NumPy on the same ones:
 *   cc -O2 -std=c11 -Iruntime/include bench/data_load.c build/libseqrt_data.a -lzip -lz
 *   ./a.out FILE [REPS]
 */
#define _POSIX_C_SOURCE 200809L
#include "seqrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.csv|FILE.npz [REPS]\n", argv[0]);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    size_t n = strlen(argv[1]);
    int npz = n > 4 && strcmp(argv[1] + n - 4, ".npz") == 0;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        seqrt_dataset d;
        seqrt_error err;
        double t0 = now();
        int rc = npz ? seqrt_load_npz(argv[1], "train", NULL, &d, &err)
                     : seqrt_load_csv(argv[1], NULL, NULL, &d, &err);
        double t = now() - t0;
        if (rc != 0) {
            fprintf(stderr, "%s\n", rc < 0 ? err.msg : "no x_train");
            return 1;
        }
        if (t < best)
            best = t;
        if (r == reps - 1)
            printf("%s: %zu samples x %zu values, best of %d: %.3f s\n", argv[1], d.count,
                   d.sample_size, reps, best);
        seqrt_dataset_free(&d);
    }
    return 0;
}
