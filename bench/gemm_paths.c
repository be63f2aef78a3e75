/* gemm_paths.c: one thread's time for the dense layer's two large
 * products at the tutorial's first-layer shape, y = x W + b with
 * x[32,784] W[784,128] and dW = x^T dy with dy[32,128], on every GEMM
 * path of libseqrt this CPU has (runtime/src/kernels/gemm.c; y = x W in
 * the fixed chunks of k that dense.c uses) and on OpenBLAS's cblas_sgemm.
 * Prints the median of REPS timed calls per product (fewer for a path
 * slower than MAX_US for them), in microseconds, and GFLOP/s.
 * bench/run.sh builds and runs it; by hand, from the source tree:
 *   cc -O2 -std=c11 -Iruntime/include -Iruntime/src bench/gemm_paths.c \
 *      build/libseqrt.a $(pkg-config --cflags --libs openblas) -lzip -lz -lm -lpthread
 *   OPENBLAS_NUM_THREADS=1 ./a.out [BATCH IN OUT]
 *   ./a.out --default    prints the path a trainer would use here
 */
#define _POSIX_C_SOURCE 200809L
#include "kernels/gemm.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPS = 2000 };
#define MAX_US 3e6 /* time per product and path at most (about) */

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct shape {
    int          batch, in, out;
    const float *x, *w, *b, *dy;
    float       *y, *dw;
} shape;

static void xw_blas(const shape *s)
{
    for (int i = 0; i < s->batch; i++)
        memcpy(s->y + (size_t)i * s->out, s->b, (size_t)s->out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->batch, s->out, s->in, 1.0f,
                s->x, s->in, s->w, s->out, 1.0f, s->y, s->out);
}

static void dw_blas(const shape *s)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->in, s->out, s->batch, 1.0f,
                s->x, s->in, s->dy, s->out, 0.0f, s->dw, s->out);
}

/* y = x W + b as dense.c sums it on one thread: the inner dimension in
 * SEQRT_DENSE_K_CHUNKS chunks of 16-row multiples, added into y in order */
static void xw_chunks(const seqrt_gemm_ops *g, const shape *s)
{
    int units = (s->in + 15) / 16, chunks = units < SEQRT_DENSE_K_CHUNKS ? units : SEQRT_DENSE_K_CHUNKS;
    int per = (units + chunks - 1) / chunks * 16;
    for (int lo = 0; lo < s->in; lo += per) {
        int kk = s->in - lo < per ? s->in - lo : per;
        g->xw(s->batch, s->out, s->in, s->x + lo, s->w + (size_t)lo * s->out, kk,
              lo == 0 ? s->b : NULL, s->y, lo > 0);
    }
}

/* median microseconds of one product: g's kernel, or CBLAS when g is NULL */
static double time_product(const seqrt_gemm_ops *g, const shape *s, int dw)
{
    static double t[REPS];
    double start = now_us();
    int done = 0;
    for (int r = -REPS / 10; r < REPS; r++) { /* a tenth untimed, to warm up */
        double t0 = now_us();
        if (r >= 8 && t0 - start > MAX_US) /* a slow path: fewer calls */
            break;
        if (!g)
            dw ? dw_blas(s) : xw_blas(s);
        else if (dw)
            g->xtdy(s->batch, s->in, s->out, s->x, s->dy, s->dw, 0, s->in);
        else
            xw_chunks(g, s);
        if (r >= 0)
            t[done++] = now_us() - t0;
    }
    qsort(t, (size_t)done, sizeof t[0], cmp_double);
    return t[done / 2];
}

static float *filled(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "gemm_paths: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 8) & 0xFFFF) / 65536.0f - 0.5f;
    }
    return p;
}

int main(int argc, char **argv)
{
    shape s = {.batch = 32, .in = 784, .out = 128};
    if (argc == 2 && strcmp(argv[1], "--default") == 0) { /* the path trainers use */
        const seqrt_gemm_ops *g = seqrt_gemm_kernels();
        puts(g ? g->name : seqrt_gemm_path_name(SEQRT_GEMM_BLAS));
        return 0;
    }
    if (argc == 4) {
        s.batch = atoi(argv[1]), s.in = atoi(argv[2]), s.out = atoi(argv[3]);
        if (s.batch < 1 || s.in < 1 || s.out < 1) {
            fprintf(stderr, "usage: gemm_paths [BATCH IN OUT | --default]\n");
            return 2;
        }
    }
    size_t nx = (size_t)s.batch * s.in, nw = (size_t)s.in * s.out, ny = (size_t)s.batch * s.out;
    s.x = filled(nx, 1), s.w = filled(nw, 2), s.b = filled((size_t)s.out, 3);
    s.dy = filled(ny, 4), s.y = filled(ny, 5), s.dw = filled(nw, 6);
    double gflop = 2.0 * (double)nx * s.out / 1e3; /* per microsecond = GFLOP/s */
    printf("one thread, x[%d,%d] W[%d,%d]: median of up to %d calls\n", s.batch, s.in, s.in, s.out, REPS);
    for (int p = SEQRT_GEMM_PATHS - 1; p >= SEQRT_GEMM_BLAS; p--) {
        const seqrt_gemm_ops *g = seqrt_gemm_path_ops((seqrt_gemm_path)p);
        if (!g && p != SEQRT_GEMM_BLAS)
            continue;
        double xw = time_product(g, &s, 0), dw = time_product(g, &s, 1);
        printf("%-9s y = x W + b %7.1f us %6.1f GFLOP/s   dW = x^T dy %7.1f us %6.1f GFLOP/s\n",
               seqrt_gemm_path_name((seqrt_gemm_path)p), xw, gflop / xw, dw, gflop / dw);
    }
    return 0;
}
