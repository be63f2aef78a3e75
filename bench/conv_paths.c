/* conv_paths.c: conv2d forward + backward (runtime/src/kernels/conv.c) at
 * the two convolutions of issue #13's CNN at batch 32 (input 28x28x1;
 * conv2d 32 kernel=3 padding=same; ... maxpool2d 2; conv2d 64 kernel=3),
 * on 1 and 2 threads, for the ways of cutting the work conv.c chose
 * between: the groups of samples dW is summed in, one GEMM over the whole
 * batch's im2col against one per sample, and each GEMM path.
 * Prints the fastest and the median of REPS calls in milliseconds and the
 * fastest's GFLOP/s, counting
 * 2*oh*ow*kh*kw*cin*cout*batch FLOPs per forward and twice that per
 * backward (the first layer has no dx, as in a model: half of that).
 * From the source tree, after building:
 *   cc -O2 -std=c11 -Iruntime/include -Iruntime/src bench/conv_paths.c \
 *      build/libseqrt.a $(pkg-config --cflags --libs openblas) -lz -lm -lpthread
 *   OPENBLAS_NUM_THREADS=1 ./a.out [BATCH]
 */
#define _POSIX_C_SOURCE 200809L
#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "seqrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPS = 200 };
enum { CONV_GROUPS = 8 }; /* conv.c's DW_GROUPS: the total uses it */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *filled(size_t n, unsigned seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "conv_paths: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 8) & 0xFFFF) / 65536.0f - 0.5f;
    }
    return p;
}

typedef struct layer {
    const char        *name;
    seqrt_conv2d_shape c;
    int                first; /* no dx, as the model's first layer */
    float             *x, *w, *b, *y, *dy, *dx, *dw, *db, *scratch;
} layer;

enum { FWD_PER_SAMPLE, FWD_WHOLE_BATCH, BWD_GROUPS };

/* one timed call of `what` (groups: for BWD_GROUPS) */
static void call(int batch, layer *l, int what, int groups)
{
    const seqrt_conv2d_shape *c = &l->c;
    if (what == FWD_PER_SAMPLE) {
        seqrt_conv2d_forward(batch, c, l->x, l->w, l->b, l->y, l->scratch);
    } else if (what == FWD_WHOLE_BATCH) { /* im2col of all, then one GEMM */
        size_t K = (size_t)c->kh * c->kw * c->cin, P = (size_t)c->oh * c->ow;
        for (int n = 0; n < batch; n++)
            seqrt_conv2d_im2col(c, l->x + (size_t)n * c->h * c->w * c->cin,
                                l->scratch + n * P * K);
        seqrt_gemm_kernels()->xw((int)(batch * P), c->cout, (int)K, l->scratch, l->w, (int)K,
                                 l->b, l->y, 0);
    } else {
        seqrt_conv2d_backward_groups(batch, c, l->x, l->w, l->dy, l->first ? NULL : l->dx,
                                     l->dw, l->db, l->scratch, groups);
    }
}

/* the fastest of REPS calls (after REPS/10 untimed): on a machine other
 * processes share, the call least disturbed by them; the median is kept
 * in *median */
static double best_ms(int batch, layer *l, int what, int groups, double *median)
{
    static double t[REPS];
    for (int r = -REPS / 10; r < REPS; r++) {
        double t0 = now_ms();
        call(batch, l, what, groups);
        if (r >= 0)
            t[r] = now_ms() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    *median = t[REPS / 2];
    return t[0];
}

static void setup(layer *l, int batch)
{
    const seqrt_conv2d_shape *c = &l->c;
    size_t nx = (size_t)batch * c->h * c->w * c->cin, ny = (size_t)batch * c->oh * c->ow * c->cout;
    size_t nw = (size_t)c->kh * c->kw * c->cin * c->cout;
    l->x = filled(nx, 1), l->w = filled(nw, 2), l->b = filled((size_t)c->cout, 3);
    l->y = filled(ny, 4), l->dy = filled(ny, 5), l->dx = filled(nx, 6);
    l->dw = filled(nw, 7), l->db = filled((size_t)c->cout, 8);
    l->scratch = filled(seqrt_conv2d_scratch_per_sample(c) * (size_t)batch, 9);
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 32;
    if (batch < 1) {
        fprintf(stderr, "usage: conv_paths [BATCH]\n");
        return 2;
    }
    layer layers[2] = {
        {.name = "conv1 28x28x1 -> 28x28x32 k3 same", .first = 1,
         .c = {28, 28, 1, 3, 3, 32, 1, 1, 1, 1, 1, 1, 28, 28}},
        {.name = "conv2 14x14x32 -> 12x12x64 k3 valid",
         .c = {14, 14, 32, 3, 3, 64, 1, 1, 1, 1, 0, 0, 12, 12}},
    };
    static const int groups[] = {1, 2, 4, 8, 16, 32};
    static const int threads[] = {1, 2};
    static const seqrt_gemm_path paths[] = {SEQRT_GEMM_AVX512, SEQRT_GEMM_AVX2,
                                            SEQRT_GEMM_BLAS};
    for (int i = 0; i < 2; i++)
        setup(&layers[i], batch);
    printf("batch %d, the fastest and the median of %d calls; GFLOP/s of the fastest\n", batch, REPS);
    for (size_t pi = 0; pi < sizeof paths / sizeof paths[0]; pi++) {
        if (seqrt_gemm_use(paths[pi]) != 0 ||
            (paths[pi] != SEQRT_GEMM_BLAS && !seqrt_gemm_path_ops(paths[pi])))
            continue;
        for (size_t ti = 0; ti < 2; ti++) {
            seqrt_set_threads(threads[ti]);
            printf("path %s, %d thread%s\n", seqrt_gemm_path_name(paths[pi]), threads[ti],
                   threads[ti] > 1 ? "s" : "");
            double total = 0, total_flop = 0;
            for (int i = 0; i < 2; i++) {
                layer *l = &layers[i];
                const seqrt_conv2d_shape *c = &l->c;
                double f = 2.0 * c->oh * c->ow * c->kh * c->kw * c->cin * c->cout * batch;
                double fb = l->first ? f : 2 * f; /* dW (+ dx) */
                double med, tf = best_ms(batch, l, FWD_PER_SAMPLE, 0, &med);
                printf("  %s\n    forward, GEMM per sample       %7.3f ms (median %7.3f) %6.1f GFLOP/s\n",
                       l->name, tf, med, f / tf / 1e6);
                if (paths[pi] != SEQRT_GEMM_BLAS && threads[ti] == 1) {
                    double tw = best_ms(batch, l, FWD_WHOLE_BATCH, 0, &med);
                    printf("    forward, one GEMM (batch)      %7.3f ms (median %7.3f) %6.1f GFLOP/s\n",
                           tw, med, f / tw / 1e6);
                }
                double tb = 0;
                for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
                    if (groups[gi] > batch)
                        break;
                    double t = best_ms(batch, l, BWD_GROUPS, groups[gi], &med);
                    printf("    backward%s, dW in %2d group%s %7.3f ms (median %7.3f) %6.1f GFLOP/s\n",
                           l->first ? " (no dx)" : "       ", groups[gi],
                           groups[gi] > 1 ? "s" : " ", t, med, fb / t / 1e6);
                    if (groups[gi] == CONV_GROUPS)
                        tb = t;
                }
                total += tf + tb, total_flop += f + fb;
            }
            printf("  both layers, forward + backward (dW in %d groups): %.3f ms, %.1f GFLOP/s\n",
                   CONV_GROUPS, total, total_flop / total / 1e6);
        }
    }
    seqrt_set_threads(1);
    return 0;
}
