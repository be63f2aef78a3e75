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
 * With --cnn it times instead one whole training step of the CNN made of
 * libseqrt's kernels (conv2d, per-channel batchnorm on [batch*h*w, c],
 * relu, maxpool2d, dense, fused softmax cross-entropy, one Adam step over
 * the 42,058 trainable parameters), the kernel calls a generated trainer
 * would make, without data loading, on 1 and 2 threads: once with the
 * three calls batchnorm, relu, maxpool2d after each convolution and once
 * with the fused call (conv_block.c) the compiler now makes of them, in
 * turn. With --blocks it times those blocks alone, fused and not. With
 * --layers it times only the default path's calls a trainer makes (forward,
 * backward with conv.c's groups) per layer, on 1 and 2 threads, with
 * Winograd F(2x2, 3x3) (conv_winograd.c) turned off and on in turn: the
 * quick check while changing conv.c or the GEMM tiles.
 * From the source tree, after building:
 *   cc -O2 -std=c11 -Iruntime/include -Iruntime/src bench/conv_paths.c \
 *      build/libseqrt.a $(pkg-config --cflags --libs openblas) -lz -lm -lpthread
 *   OPENBLAS_NUM_THREADS=1 ./a.out [BATCH]
 *   OPENBLAS_NUM_THREADS=1 ./a.out --cnn [BATCH]
 *   OPENBLAS_NUM_THREADS=1 ./a.out --blocks [BATCH]
 *   OPENBLAS_NUM_THREADS=1 ./a.out --layers [BATCH]
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

/* ------------------------------------------------- the CNN's whole step */

typedef struct cnn {
    seqrt_conv2d_shape c1, c2;
    seqrt_pool2d_shape p1, p2;
    int32_t *labels, *arg1, *arg2;
    float *x, *y1, *z1, *h1, *a1, *q1, *y2, *z2, *h2, *a2, *q2, *logits, *probs;
    float *w1, *b1, *g1, *be1, *mm1, *mv1, *is1, *w2, *b2, *g2, *be2, *mm2, *mv2, *is2;
    float *wd, *bd, *scratch, *grads, *m, *v;
    float *dlogits, *dq2, *da2, *dz2, *dy2, *dq1, *da1, *dz1, *dy1;
    float *dw1, *db1, *dg1, *dbe1, *dw2, *db2, *dg2, *dbe2, *dwd, *dbd;
    float *params; /* Adam runs over this many trainable floats */
    size_t n_params;
    int64_t t;
} cnn;

static void cnn_setup(cnn *k, int batch)
{
    k->c1 = (seqrt_conv2d_shape){28, 28, 1, 3, 3, 32, 1, 1, 1, 1, 1, 1, 28, 28};
    k->c2 = (seqrt_conv2d_shape){14, 14, 32, 3, 3, 64, 1, 1, 1, 1, 0, 0, 12, 12};
    k->p1 = (seqrt_pool2d_shape){28, 28, 32, 2, 2, 2, 2, 0, 0, 14, 14};
    k->p2 = (seqrt_pool2d_shape){12, 12, 64, 2, 2, 2, 2, 0, 0, 6, 6};
    size_t B = (size_t)batch, n1 = B * 28 * 28 * 32, q1 = B * 14 * 14 * 32;
    size_t n2 = B * 12 * 12 * 64, q2 = B * 6 * 6 * 64;
    k->labels = malloc(B * sizeof *k->labels);
    k->arg1 = malloc(q1 * sizeof *k->arg1), k->arg2 = malloc(q2 * sizeof *k->arg2);
    if (!k->labels || !k->arg1 || !k->arg2) {
        fprintf(stderr, "conv_paths: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < B; i++)
        k->labels[i] = (int32_t)(i % 10);
    k->x = filled(B * 784, 11);
    k->y1 = filled(n1, 0), k->z1 = filled(n1, 0), k->h1 = filled(n1, 0), k->a1 = filled(n1, 0);
    k->q1 = filled(q1, 0);
    k->y2 = filled(n2, 0), k->z2 = filled(n2, 0), k->h2 = filled(n2, 0), k->a2 = filled(n2, 0);
    k->q2 = filled(q2, 0);
    k->logits = filled(B * 10, 0), k->probs = filled(B * 10, 0);
    k->w1 = filled(288, 12), k->b1 = filled(32, 13), k->g1 = filled(32, 14), k->be1 = filled(32, 15);
    k->mm1 = filled(32, 16), k->mv1 = filled(32, 17), k->is1 = filled(32, 0);
    k->w2 = filled(18432, 18), k->b2 = filled(64, 19), k->g2 = filled(64, 20), k->be2 = filled(64, 21);
    k->mm2 = filled(64, 22), k->mv2 = filled(64, 23), k->is2 = filled(64, 0);
    for (int i = 0; i < 32; i++)
        k->mv1[i] = 1.0f;
    for (int i = 0; i < 64; i++)
        k->mv2[i] = 1.0f;
    k->wd = filled(23040, 24), k->bd = filled(10, 25);
    size_t s1 = seqrt_conv2d_scratch_per_sample(&k->c1), s2 = seqrt_conv2d_scratch_per_sample(&k->c2);
    k->scratch = filled(B * (s1 > s2 ? s1 : s2), 0);
    k->dlogits = filled(B * 10, 0), k->dq2 = filled(q2, 0), k->da2 = filled(n2, 0);
    k->dz2 = filled(n2, 0), k->dy2 = filled(n2, 0), k->dq1 = filled(q1, 0);
    k->da1 = filled(n1, 0), k->dz1 = filled(n1, 0), k->dy1 = filled(n1, 0);
    k->dw1 = filled(288, 0), k->db1 = filled(32, 0), k->dg1 = filled(32, 0), k->dbe1 = filled(32, 0);
    k->dw2 = filled(18432, 0), k->db2 = filled(64, 0), k->dg2 = filled(64, 0), k->dbe2 = filled(64, 0);
    k->dwd = filled(23040, 0), k->dbd = filled(10, 0);
    k->n_params = 42058; /* 288+32 + 64 + 18432+64 + 128 + 23040+10: the trainable ones */
    k->params = filled(k->n_params, 26), k->grads = filled(k->n_params, 27);
    k->m = filled(k->n_params, 0), k->v = filled(k->n_params, 0);
    for (size_t i = 0; i < k->n_params; i++)
        k->m[i] = 0.0f, k->v[i] = 0.0f;
    k->t = 0;
}

/* the step with each `batchnorm; relu; maxpool2d` as one fused call
 * (conv_block.c), as the compiler's fusion pass emits it */
static void cnn_step_fused(cnn *k, int batch)
{
    const int B = batch;
    float *st1 = k->h1, *st2 = k->h2; /* stats [2c]: the unfused xhat's room */
    int32_t *a1 = k->arg1, *a2 = k->arg2;
    seqrt_conv2d_forward(B, &k->c1, k->x, k->w1, k->b1, k->y1, k->scratch);
    seqrt_bn_relu_maxpool_forward_train(B, &k->p1, k->y1, k->g1, k->be1, k->mm1, k->mv1, 0.99f,
                                        1e-3f, k->q1, a1, st1, k->z1);
    seqrt_conv2d_forward(B, &k->c2, k->q1, k->w2, k->b2, k->y2, k->scratch);
    seqrt_bn_relu_maxpool_forward_train(B, &k->p2, k->y2, k->g2, k->be2, k->mm2, k->mv2, 0.99f,
                                        1e-3f, k->q2, a2, st2, k->z2);
    seqrt_dense_forward(B, 2304, 10, k->q2, k->wd, k->bd, k->logits);
    (void)seqrt_softmax_xent_forward(B, 10, k->logits, k->labels, k->probs);
    seqrt_softmax_xent_backward(B, B, 10, k->probs, k->labels, k->dlogits);
    seqrt_dense_backward(B, 2304, 10, k->q2, k->wd, k->dlogits, k->dq2, k->dwd, k->dbd);
    seqrt_bn_relu_maxpool_backward(B, &k->p2, k->y2, k->g2, st2, a2, k->dq2, k->dy2, k->dg2,
                                   k->dbe2, k->z2);
    seqrt_conv2d_backward(B, &k->c2, k->q1, k->w2, k->dy2, k->dq1, k->dw2, k->db2, k->scratch);
    seqrt_bn_relu_maxpool_backward(B, &k->p1, k->y1, k->g1, st1, a1, k->dq1, k->dy1, k->dg1,
                                   k->dbe1, k->z1);
    seqrt_conv2d_backward(B, &k->c1, k->x, k->w1, k->dy1, NULL, k->dw1, k->db1, k->scratch);
    seqrt_adam_step(k->n_params, k->params, k->grads, k->m, k->v, ++k->t, 1e-3f, 0.9f, 0.999f,
                    1e-7f);
}

static void cnn_step(cnn *k, int batch)
{
    const int B = batch, f1 = B * 28 * 28, f2 = B * 12 * 12;
    const size_t n1 = (size_t)f1 * 32, n2 = (size_t)f2 * 64;
    /* forward */
    seqrt_conv2d_forward(B, &k->c1, k->x, k->w1, k->b1, k->y1, k->scratch);
    seqrt_batchnorm_forward_train(f1, 32, k->y1, k->g1, k->be1, k->mm1, k->mv1, 0.99f, 1e-3f,
                                  k->z1, k->h1, k->is1);
    seqrt_relu_forward(n1, k->z1, k->a1);
    seqrt_maxpool2d_forward(B, &k->p1, k->a1, k->q1, k->arg1);
    seqrt_conv2d_forward(B, &k->c2, k->q1, k->w2, k->b2, k->y2, k->scratch);
    seqrt_batchnorm_forward_train(f2, 64, k->y2, k->g2, k->be2, k->mm2, k->mv2, 0.99f, 1e-3f,
                                  k->z2, k->h2, k->is2);
    seqrt_relu_forward(n2, k->z2, k->a2);
    seqrt_maxpool2d_forward(B, &k->p2, k->a2, k->q2, k->arg2);
    seqrt_dense_forward(B, 2304, 10, k->q2, k->wd, k->bd, k->logits);
    (void)seqrt_softmax_xent_forward(B, 10, k->logits, k->labels, k->probs);
    /* backward */
    seqrt_softmax_xent_backward(B, B, 10, k->probs, k->labels, k->dlogits);
    seqrt_dense_backward(B, 2304, 10, k->q2, k->wd, k->dlogits, k->dq2, k->dwd, k->dbd);
    seqrt_maxpool2d_backward(B, &k->p2, k->arg2, k->dq2, k->da2);
    seqrt_relu_backward(n2, k->z2, k->a2, k->da2, k->dz2);
    seqrt_batchnorm_backward(f2, 64, k->h2, k->g2, k->is2, k->dz2, k->dy2, k->dg2, k->dbe2);
    seqrt_conv2d_backward(B, &k->c2, k->q1, k->w2, k->dy2, k->dq1, k->dw2, k->db2, k->scratch);
    seqrt_maxpool2d_backward(B, &k->p1, k->arg1, k->dq1, k->da1);
    seqrt_relu_backward(n1, k->z1, k->a1, k->da1, k->dz1);
    seqrt_batchnorm_backward(f1, 32, k->h1, k->g1, k->is1, k->dz1, k->dy1, k->dg1, k->dbe1);
    seqrt_conv2d_backward(B, &k->c1, k->x, k->w1, k->dy1, NULL, k->dw1, k->db1, k->scratch);
    /* the update: one Adam step over a buffer the size of the trainable
     * parameters (a trainer keeps them, and their gradients, contiguous) */
    seqrt_adam_step(k->n_params, k->params, k->grads, k->m, k->v, ++k->t, 1e-3f, 0.9f, 0.999f,
                    1e-7f);
}

static int cnn_main(int batch)
{
    static double t[REPS];
    cnn k;
    cnn_setup(&k, batch);
    printf("the CNN's whole training step, batch %d, the fastest and the median of %d steps\n",
           batch, REPS);
    /* unfused and fused in turn, so that both see the same load */
    for (int threads = 1; threads <= 2; threads++)
        for (int fused = 0; fused <= 1; fused++) {
            seqrt_set_threads(threads);
            for (int r = -REPS / 10; r < REPS; r++) {
                double t0 = now_ms();
                if (fused)
                    cnn_step_fused(&k, batch);
                else
                    cnn_step(&k, batch);
                if (r >= 0)
                    t[r] = now_ms() - t0;
            }
            qsort(t, REPS, sizeof t[0], cmp_double);
            int steps = (8000 + batch - 1) / batch;
            printf("  %d thread%s, %s: %.3f ms (median %.3f) per step; %d steps (8,000 "
                   "samples): %.3f s\n",
                   threads, threads > 1 ? "s" : " ", fused ? "fused  " : "unfused", t[0],
                   t[REPS / 2], steps, t[0] * steps / 1e3);
        }
    seqrt_set_threads(1);
    return 0;
}

/* ------------------------- batchnorm + relu + maxpool2d: fused or not */

/* which: 0 unfused forward, 1 unfused backward, 2 fused forward, 3 fused
 * backward; block b: 0 the CNN's first (28x28x32), 1 its second */
static void block_call(cnn *k, int batch, int b, int which)
{
    const int f = batch * (b ? 144 : 784), c = b ? 64 : 32;
    const size_t n = (size_t)f * c;
    const seqrt_pool2d_shape *p = b ? &k->p2 : &k->p1;
    float *y = b ? k->y2 : k->y1, *z = b ? k->z2 : k->z1, *h = b ? k->h2 : k->h1;
    float *a = b ? k->a2 : k->a1, *q = b ? k->q2 : k->q1, *dq = b ? k->dq2 : k->dq1;
    float *da = b ? k->da2 : k->da1, *dz = b ? k->dz2 : k->dz1, *dy = b ? k->dy2 : k->dy1;
    float *g = b ? k->g2 : k->g1, *be = b ? k->be2 : k->be1, *is = b ? k->is2 : k->is1;
    float *mm = b ? k->mm2 : k->mm1, *mv = b ? k->mv2 : k->mv1;
    float *dg = b ? k->dg2 : k->dg1, *dbe = b ? k->dbe2 : k->dbe1;
    int32_t *arg = b ? k->arg2 : k->arg1;
    switch (which) {
    case 0:
        seqrt_batchnorm_forward_train(f, c, y, g, be, mm, mv, 0.99f, 1e-3f, z, h, is);
        seqrt_relu_forward(n, z, a);
        seqrt_maxpool2d_forward(batch, p, a, q, arg);
        break;
    case 1:
        seqrt_maxpool2d_backward(batch, p, arg, dq, da);
        seqrt_relu_backward(n, z, a, da, dz);
        seqrt_batchnorm_backward(f, c, h, g, is, dz, dy, dg, dbe);
        break;
    case 2: /* stats in h, scratch in z (both large enough) */
        seqrt_bn_relu_maxpool_forward_train(batch, p, y, g, be, mm, mv, 0.99f, 1e-3f, q, arg, h,
                                            z);
        break;
    default:
        seqrt_bn_relu_maxpool_backward(batch, p, y, g, h, arg, dq, dy, dg, dbe, z);
        break;
    }
}

static int blocks_main(int batch)
{
    static double t[REPS];
    static const char *const what[] = {"unfused forward ", "unfused backward",
                                       "fused forward   ", "fused backward  "};
    cnn k;
    cnn_setup(&k, batch);
    printf("batchnorm + relu + maxpool2d 2 after the CNN's convolutions, batch %d, the "
           "fastest and the median of %d calls\n", batch, REPS);
    for (int threads = 1; threads <= 2; threads++) {
        seqrt_set_threads(threads);
        for (int b = 0; b < 2; b++)
            for (int which = 0; which < 4; which++) {
                /* the forward before each backward, untimed: argmax and stats */
                for (int r = -REPS / 10; r < REPS; r++) {
                    if (which & 1)
                        block_call(&k, batch, b, which - 1);
                    double t0 = now_ms();
                    block_call(&k, batch, b, which);
                    if (r >= 0)
                        t[r] = now_ms() - t0;
                }
                qsort(t, REPS, sizeof t[0], cmp_double);
                printf("  %d thread%s, %s, %s: %.3f ms (median %.3f)\n", threads,
                       threads > 1 ? "s" : " ", b ? "[N,12,12,64]" : "[N,28,28,32]", what[which],
                       t[0], t[REPS / 2]);
            }
    }
    seqrt_set_threads(1);
    return 0;
}

/* Winograd (conv_winograd.c) off and on in turn, per layer: the layer
 * that does not qualify times the same path twice */
static int main_layers(int batch, layer *layers)
{
    static const char *const how[2] = {"no Winograd", "default"};
    printf("default path, batch %d, the fastest and the median of %d calls\n", batch, REPS);
    for (int threads = 1; threads <= 2; threads++) {
        seqrt_set_threads(threads);
        double total[2] = {0, 0};
        for (int i = 0; i < 2; i++)
            for (int wino = 0; wino < 2; wino++) {
                layer *l = &layers[i];
                seqrt_winograd_enable(wino);
                double mf, mb, tf = best_ms(batch, l, FWD_PER_SAMPLE, 0, &mf);
                double tb = best_ms(batch, l, BWD_GROUPS, CONV_GROUPS, &mb);
                printf("  %d thread%s, %-36s %-12s forward %6.3f ms (median %6.3f), "
                       "backward %6.3f ms (median %6.3f)\n",
                       threads, threads > 1 ? "s" : " ", l->name, how[wino], tf, mf, tb, mb);
                total[wino] += tf + tb;
            }
        for (int wino = 0; wino < 2; wino++)
            printf("  %d thread%s, both layers, %s, forward + backward: %.3f ms\n", threads,
                   threads > 1 ? "s" : " ", how[wino], total[wino]);
    }
    seqrt_winograd_enable(1);
    seqrt_set_threads(1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--cnn") == 0)
        return cnn_main(argc > 2 ? atoi(argv[2]) : 32);
    if (argc > 1 && strcmp(argv[1], "--blocks") == 0)
        return blocks_main(argc > 2 ? atoi(argv[2]) : 32);
    int only_layers = argc > 1 && strcmp(argv[1], "--layers") == 0;
    int batch = argc > 1 + only_layers ? atoi(argv[1 + only_layers]) : 32;
    if (batch < 1) {
        fprintf(stderr, "usage: conv_paths [--cnn | --blocks | --layers] [BATCH]\n");
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
    if (only_layers)
        return main_layers(batch, layers);
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
