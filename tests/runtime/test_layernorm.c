/* test_layernorm.c: layernorm and groupnorm (Keras LayerNormalization and
 * GroupNormalization, channels last): forward values against a double
 * computation written here, a hand-checked case, and every gradient
 * against finite differences at odd shapes, with and without gamma/beta. */
#include "kernel_test.h"

#include "seqrt.h"

/* Normalization of x[n, per, ch] per sample and group of ch/groups
 * channels (layernorm: per = 1 row at a time, groups = 1). L = sum r * y. */
typedef struct gn_ctx {
    int n, per, ch, groups;
    int has_gamma, has_beta;
    double eps, *x, *gamma, *beta, *r;
} gn_ctx;

static double gn_ref(void *p)
{
    const gn_ctx *c = p;
    int cpg = c->ch / c->groups;
    double t = 0;
    for (int s = 0; s < c->n; s++)
        for (int g = 0; g < c->groups; g++) {
            double mu = 0, var = 0, m = (double)c->per * cpg;
            for (int q = 0; q < c->per; q++)
                for (int k = g * cpg; k < (g + 1) * cpg; k++)
                    mu += c->x[(s * c->per + q) * c->ch + k];
            mu /= m;
            for (int q = 0; q < c->per; q++)
                for (int k = g * cpg; k < (g + 1) * cpg; k++) {
                    double d = c->x[(s * c->per + q) * c->ch + k] - mu;
                    var += d * d;
                }
            var /= m;
            for (int q = 0; q < c->per; q++)
                for (int k = g * cpg; k < (g + 1) * cpg; k++) {
                    int j = (s * c->per + q) * c->ch + k;
                    double h = (c->x[j] - mu) / sqrt(var + c->eps);
                    double y = (c->has_gamma ? c->gamma[k] : 1.0) * h +
                               (c->has_beta ? c->beta[k] : 0.0);
                    t += c->r[j] * y;
                }
        }
    return t;
}

/* one row by hand: x = [1, 2, 3, 6], mean 3, biased variance 3.5 */
static void ln_hand(void **state)
{
    const float x[4] = {1, 2, 3, 6}, gamma[4] = {1, 2, 1, 1}, beta[4] = {0, 0, 1, 0};
    float y[4], xhat[4], inv_std[1];
    seqrt_layernorm_forward(1, 4, x, gamma, beta, 1e-3f, y, xhat, inv_std);
    double s = 1.0 / sqrt(3.5 + 1e-3);
    assert_close(inv_std[0], s, 1e-6);
    assert_close(y[0], -2 * s, 1e-6);
    assert_close(y[1], 2 * -1 * s, 1e-6);
    assert_close(y[2], 1.0, 1e-6);
    assert_close(y[3], 3 * s, 1e-6);
    /* inference (no saved tensors) computes the same */
    float y2[4];
    seqrt_layernorm_forward(1, 4, x, gamma, beta, 1e-3f, y2, NULL, NULL);
    for (int i = 0; i < 4; i++)
        assert_close(y2[i], y[i], 0.0);
}

/* a sample's output does not depend on the other samples of the batch */
static void norm_per_sample(void **state)
{
    enum { N = 4, P = 3, C = 6 };
    trand r = {41};
    float *x = frand(&r, N * P * C, -3, 3), y[N * P * C], y1[P * C];
    seqrt_groupnorm_forward(N, P, C, 2, x, NULL, NULL, 1e-3f, y, NULL, NULL);
    seqrt_groupnorm_forward(1, P, C, 2, x + 2 * P * C, NULL, NULL, 1e-3f, y1, NULL, NULL);
    for (int i = 0; i < P * C; i++)
        assert_close(y1[i], y[2 * P * C + i], 0.0);
    free(x);
}

static void check_case(trand *r, int n, int per, int ch, int groups, int layer, int has_gamma,
                       int has_beta, double worst[4])
{
    size_t total = (size_t)n * per * ch;
    float *x = frand(r, total, -2, 2), *dy = frand(r, total, -1, 1);
    float *gamma = frand(r, (size_t)ch, 0.5, 1.5), *beta = frand(r, (size_t)ch, -1, 1);
    float *y = falloc(total), *xhat = falloc(total), *dx = falloc(total);
    float *inv_std = falloc((size_t)n * per * groups), *dg = falloc((size_t)ch),
          *db = falloc((size_t)ch);
    const float *gp = has_gamma ? gamma : NULL, *bp = has_beta ? beta : NULL;
    if (layer) {
        seqrt_layernorm_forward(n * per, ch, x, gp, bp, 1e-3f, y, xhat, inv_std);
        seqrt_layernorm_backward(n * per, ch, xhat, gp, inv_std, dy, dx, has_gamma ? dg : NULL,
                                 has_beta ? db : NULL);
    } else {
        seqrt_groupnorm_forward(n, per, ch, groups, x, gp, bp, 1e-3f, y, xhat, inv_std);
        seqrt_groupnorm_backward(n, per, ch, groups, xhat, gp, inv_std, dy, dx,
                                 has_gamma ? dg : NULL, has_beta ? db : NULL);
    }
    /* layernorm is a groupnorm of one group over one row */
    gn_ctx c = {layer ? n * per : n, layer ? 1 : per, ch, layer ? 1 : groups, has_gamma,
                has_beta, 1e-3, widen(x, total), widen(gamma, (size_t)ch),
                widen(beta, (size_t)ch), widen(dy, total)};
    double *rs = c.r, *e = dalloc(total);
    c.r = e;
    for (size_t i = 0; i < total; i++) {
        for (size_t j = 0; j < total; j++)
            e[j] = j == i;
        double d = fabs(y[i] - gn_ref(&c));
        worst[3] = d > worst[3] ? d : worst[3];
    }
    c.r = rs;
    free(e);
    double *num = dalloc(total);
    gc_numeric(gn_ref, &c, c.x, total, num);
    double err = gc_rel_err(dx, num, total);
    worst[0] = err > worst[0] ? err : worst[0];
    if (has_gamma) {
        gc_numeric(gn_ref, &c, c.gamma, (size_t)ch, num);
        err = gc_rel_err(dg, num, (size_t)ch);
        worst[1] = err > worst[1] ? err : worst[1];
    }
    if (has_beta) {
        gc_numeric(gn_ref, &c, c.beta, (size_t)ch, num);
        err = gc_rel_err(db, num, (size_t)ch);
        worst[2] = err > worst[2] ? err : worst[2];
    }
    free(num);
    free(c.x); free(c.gamma); free(c.beta); free(c.r);
    free(x); free(dy); free(gamma); free(beta); free(y); free(xhat); free(dx);
    free(inv_std); free(dg); free(db);
}

static void report4(const char *name, const double w[4])
{
    char buf[96];
    printf("%s forward max_abs_err=%.1e\n", name, w[3]);
    assert_true(w[3] < 1e-4);
    snprintf(buf, sizeof buf, "%s.dx", name);
    gc_report(buf, w[0]);
    snprintf(buf, sizeof buf, "%s.dgamma", name);
    gc_report(buf, w[1]);
    snprintf(buf, sizeof buf, "%s.dbeta", name);
    gc_report(buf, w[2]);
}

static void ln_gradcheck(void **state)
{
    trand r = {42};
    double w[4] = {0}, w2[4] = {0};
    /* rows as samples (after dense) and rows as pixels (after conv2d). Not
     * 2 values a row: they normalize to about +-1 whatever x is, so the
     * true dx is of the order of eps and float rounding of xhat dominates */
    static const int shapes[][3] = {{1, 1, 3}, {3, 1, 5}, {2, 3, 7}, {5, 4, 3}, {1, 9, 13}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], 1, 1, 1, 1, w);
    report4("layernorm", w);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], 1, 1, 0, 1, w2);
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], 1, 1, 1, 0, w2);
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], 1, 1, 0, 0, w2);
    }
    report4("layernorm_without_gamma_or_beta", w2);
}

static void gn_gradcheck(void **state)
{
    trand r = {43};
    double w[4] = {0}, w2[4] = {0};
    /* n, per (positions), channels, groups: flat (per 1), images, one
     * channel per group (instance norm) and one group (layer norm over
     * the whole sample); never 2 values a group (see ln_gradcheck) */
    static const int shapes[][4] = {{1, 1, 6, 2}, {3, 1, 8, 2}, {2, 5, 6, 3},
                                    {3, 4, 9, 9}, {2, 3, 5, 1}, {1, 7, 12, 4}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 0, 1, 1, w);
    report4("groupnorm", w);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 0, 0, 1, w2);
        check_case(&r, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 0, 1, 0, w2);
    }
    report4("groupnorm_without_gamma_or_beta", w2);
}

/* Against PyTorch 1.13 (Debian's python3-torch), in float64:
 *   x[n, p, c] (NHWC) = 2 sin(0.7 i) + (i mod 3), i the flat index;
 *   gamma[c] = 0.5 + 0.25 c, beta[c] = 0.1 c - 0.2, eps 1e-3, N 2, P 3, C 6
 *   F.group_norm(x.permute(0, 2, 1), 3, gamma, beta, eps=1e-3).permute(0, 2, 1)
 *   F.layer_norm(x, (6,), gamma, beta, eps=1e-3)
 * (torch's group_norm is channels first, hence the permutes). */
static void norm_against_torch(void **state)
{
    (void)state;
    enum { N = 2, P = 3, C = 6, G = 3, T = N * P * C };
    static const double want_gn[T] = {
        -0.363327155, 0.80396193, 1.7152587, 0.626422627, 0.359559382, 0.0519657191,
        -0.94678216, -0.829439819, -0.149070923, -0.593612138, 1.00462649, 3.1813777,
        0.208763105, 0.477497204, 0.156270945, -1.88588389, -2.2731402, -0.5728967,
        -0.340806465, 0.829497316, 1.72078356, 0.600912711, 0.295547751, -0.0214740129,
        -0.957506746, -0.822592811, -0.118799665, -0.545373569, 1.05470578, 3.19269412,
        0.196792055, 0.445377229, 0.120196164, -1.90826421, -2.25922441, -0.510754089
    };
    static const double want_ln[T] = {
        -0.968424273, 0.192147916, 1.80580986, -0.00446089748, 0.00337801731,
        -0.476723194, -0.837025675, -0.754310544, 0.0061459032, -0.346364031,
        1.42962383, 3.23590764, 0.275402058, 0.573103651, 0.61867789, -1.96829022,
        -1.37939903, 0.721069806, -0.939792204, 0.228510651, 1.82401279, -0.0357915906,
        -0.0708919919, -0.563125643, -0.848676912, -0.755845504, 0.0194839663,
        -0.318032647, 1.44079801, 3.20422645, 0.274358188, 0.555098258, 0.593397496,
        -1.9982995, -1.35448286, 0.823920763
    };
    float x[T], gamma[C], beta[C], y[T];
    for (int i = 0; i < T; i++)
        x[i] = (float)(2 * sin(0.7 * i) + (i % 3));
    for (int c = 0; c < C; c++) {
        gamma[c] = (float)(0.5 + 0.25 * c);
        beta[c] = (float)(0.1 * c - 0.2);
    }
    seqrt_groupnorm_forward(N, P, C, G, x, gamma, beta, 1e-3f, y, NULL, NULL);
    for (int i = 0; i < T; i++)
        assert_close(y[i], want_gn[i], 2e-6);
    seqrt_layernorm_forward(N * P, C, x, gamma, beta, 1e-3f, y, NULL, NULL);
    for (int i = 0; i < T; i++)
        assert_close(y[i], want_ln[i], 2e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ln_hand),
        cmocka_unit_test(norm_against_torch),
        cmocka_unit_test(norm_per_sample),
        cmocka_unit_test(ln_gradcheck),
        cmocka_unit_test(gn_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
