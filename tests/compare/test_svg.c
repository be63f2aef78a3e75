/* test_svg.c: nice ticks, XML escaping, and a figure that xmllint accepts
 * with one curve per variant, metric and split. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "lab/svg.h"

static void test_ticks_fractional(void **state)
{
    (void)state;
    svg_ticks t;
    svg_nice_ticks(0.013, 0.31, 6, 0, &t);
    assert_close(t.step, 0.05, 1e-12);
    assert_close(t.lo, 0.0, 1e-12);
    assert_close(t.hi, 0.35, 1e-12);
    assert_int_equal(t.count, 8);
    assert_int_equal(t.decimals, 2);

    svg_nice_ticks(0.8512, 0.9788, 6, 0, &t);
    assert_close(t.step, 0.02, 1e-12);
    assert_close(t.lo, 0.84, 1e-12);
    assert_close(t.hi, 0.98, 1e-12);
    assert_int_equal(t.count, 8);

    svg_nice_ticks(12, 870, 6, 0, &t);
    assert_close(t.step, 100, 1e-9);
    assert_close(t.lo, 0, 1e-9);
    assert_close(t.hi, 900, 1e-9);
    assert_int_equal(t.count, 10);
    assert_int_equal(t.decimals, 0);
}

static void test_ticks_integer(void **state)
{
    (void)state;
    svg_ticks t;
    svg_nice_ticks(1, 10, 10, 1, &t);
    assert_close(t.step, 1, 0);
    assert_close(t.lo, 1, 0);
    assert_close(t.hi, 10, 0);
    assert_int_equal(t.count, 10);
    svg_nice_ticks(1, 3, 10, 1, &t); /* 0.2 steps would be epochs 1.2 ... */
    assert_close(t.step, 1, 0);
    svg_nice_ticks(1, 50, 10, 1, &t);
    assert_close(t.step, 5, 0);
    assert_close(t.lo, 0, 0);
    assert_close(t.hi, 50, 0);
}

/* One epoch, a flat curve, nothing finite: the range is never empty. */
static void test_ticks_degenerate(void **state)
{
    (void)state;
    svg_ticks t;
    svg_nice_ticks(1, 1, 10, 1, &t);
    assert_true(t.hi > t.lo);
    assert_true(t.lo <= 1 && t.hi >= 1);
    svg_nice_ticks(0.5, 0.5, 6, 0, &t);
    assert_true(t.hi > t.lo);
    assert_true(t.lo <= 0.5 && t.hi >= 0.5);
    assert_true(t.count >= 2);
    svg_nice_ticks(0, 0, 6, 0, &t);
    assert_true(t.hi > t.lo);
    svg_nice_ticks(NAN, NAN, 6, 0, &t);
    assert_close(t.lo, 0, 0);
    assert_close(t.hi, 1, 1e-12);
}

static char *escaped(const char *s)
{
    static char buf[256];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    svg_write_escaped(f, s);
    fclose(f);
    return buf;
}

static void test_escape(void **state)
{
    (void)state;
    assert_string_equal(escaped("a<b & \"c\" 'd'>"),
                        "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    assert_string_equal(escaped("tab\there"), "tab?here");
    assert_string_equal(escaped("caf\xc3\xa9"), "caf\xc3\xa9");   /* valid UTF-8 kept */
    assert_string_equal(escaped("bad\xff\xc3("), "bad?" "?(");       /* invalid replaced */
    assert_string_equal(escaped("\xed\xa0\x80"), "???");          /* a surrogate */
}

/* Runs xmllint on path; returns its exit status. */
static int xmllint(const char *path)
{
    if (XMLLINT[0] == '\0')
        fail_msg("xmllint not found at configure time: apt-get install libxml2-utils");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' --noout '%s'", XMLLINT, path);
    return system(cmd);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Two panels x two variants x train/val = 8 curves, with the awkward
 * inputs: NaN and inf in a curve, a one-point curve, a flat curve and
 * names that need escaping. */
static void test_figure(void **state)
{
    (void)state;
    double x[4] = {1, 2, 3, 4};
    double loss_a[4] = {0.5, 0.3, NAN, 0.2};
    double loss_b[4] = {0.6, INFINITY, 0.35, 0.25};
    double flat[4] = {0.9, 0.9, 0.9, 0.9};
    double one[1] = {0.7};
    svg_series left[4] = {
        {"a-loss-train", "variant-0 loss train", 0, 0, 4, x, loss_a},
        {"a-loss-val", "variant-0 loss val", 0, 1, 4, x, loss_b},
        {"b-loss-train", "variant-1 loss train", 1, 0, 4, x, flat},
        {"b-loss-val", "variant-1 loss val", 1, 1, 1, x, one},
    };
    svg_series right[4] = {
        {"a-accuracy-train", "variant-0 accuracy train", 0, 0, 4, x, flat},
        {"a-accuracy-val", "variant-0 accuracy val", 0, 1, 4, x, flat},
        {"b-accuracy-train", "variant-1 accuracy train", 1, 0, 1, x, one},
        {"b-accuracy-val", "variant-1 accuracy val", 1, 1, 1, x, one},
    };
    svg_panel panels[2] = {
        {"Loss", "Epoch", "Loss", 1, 4, left, 0, 0, 0, 0, NULL, 0},
        {"Accuracy & <friends>", "Epoch", "Accuracy", 1, 4, right, 0, 0, 0, 0, NULL, 0},
    };
    svg_legend_item legend[2] = {{"a \"quoted\" <name>", 0, 0}, {"b & c", 1, 1}};
    svg_figure fig = {"title <with> & 'marks'", 2, panels, 2, legend};

    char path[] = "/tmp/seqc-svg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_int_equal(svg_write_figure(f, &fig), 0);
    fclose(f);

    assert_int_equal(xmllint(path), 0);
    const char *svg = slurp(path);
    assert_int_equal(count(svg, "<path class=\"curve"), 8);
    assert_int_equal(count(svg, "id=\"a-loss-train\""), 1);
    assert_int_equal(count(svg, "id=\"b-accuracy-val\""), 1);
    assert_int_equal(count(svg, "stroke-dasharray"), 4 + 1); /* 4 curves + legend */
    /* no NaN or inf reaches a coordinate */
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    /* the NaN breaks a-loss-train into two pieces: M L, then M */
    const char *p = strstr(svg, "id=\"a-loss-train\" d=\"");
    assert_non_null(p);
    const char *end = strchr(p + 21, '"');
    size_t moves = 0;
    for (const char *c = p + 21; c < end; c++)
        moves += *c == 'M';
    assert_int_equal(moves, 2);
    assert_non_null(strstr(svg, "title &lt;with&gt; &amp; &apos;marks&apos;"));
    remove(path);
}

static char *figure_text(const svg_panel *panel)
{
    static char buf[1 << 16];
    memset(buf, 0, sizeof buf);
    svg_figure fig = {"t", 1, panel, 0, NULL};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(svg_write_figure(f, &fig), 0);
    fclose(f);
    return buf;
}

/* Accuracy up to 0.9956 would get a padded axis up to 1.02; limited to
 * [0, 1] it stops at 1.00. Without the limit the padding shows. */
static void test_y_limits(void **state)
{
    (void)state;
    double x[3] = {1, 2, 3}, y[3] = {0.84, 0.95, 0.9956};
    svg_series s = {"acc", "", 0, 0, 3, x, y};
    svg_panel p = {"Accuracy", "Epoch", "Accuracy", 1, 1, &s, 1, 0.0, 1.0, 0, NULL, 0};
    const char *svg = figure_text(&p);
    assert_non_null(strstr(svg, ">1.00</text>"));
    assert_null(strstr(svg, ">1.02</text>"));
    assert_non_null(strstr(svg, ">0.82</text>"));
    p.y_limited = 0;
    svg = figure_text(&p);
    assert_non_null(strstr(svg, ">1.02</text>"));
}

/* A file that is not well-formed XML makes xmllint fail: the check above
 * can fail. */
/* Bands: one closed piece per run of finite points, drawn before the
 * curves, widening the y range; a zero line when 0 is inside it. */
static void test_bands(void **state)
{
    (void)state;
    double x[4] = {1, 2, 3, 4};
    double mean[4] = {0.1, 0.2, 0.3, 0.4};
    double lo[4] = {0.05, NAN, 0.25, 0.35}, hi[4] = {0.15, 0.3, 0.35, 0.45};
    double lo2[4] = {-0.5, -0.4, -0.3, -0.2}, hi2[4] = {0.1, 0.1, 0.1, 2.0};
    svg_series s = {"m", "", 0, 0, 4, x, mean};
    svg_band b[2] = {{"m-band", "variant-0", 0, 4, x, lo, hi},
                     {"n-band", "variant-1", 1, 4, x, lo2, hi2}};
    svg_panel p = {"D", "Epoch", "d", 1, 1, &s, 0, 0, 0, 2, b, 1};
    const char *svg = figure_text(&p);
    assert_int_equal(count(svg, "<path class=\"band"), 2);
    assert_int_equal(count(svg, "fill-opacity=\"0.18\""), 2);
    assert_true(strstr(svg, "id=\"n-band\"") < strstr(svg, "<path class=\"curve"));
    /* m-band: the NaN at epoch 2 leaves two pieces, each closed */
    const char *key = "id=\"m-band\" d=\"", *m = strstr(svg, key);
    assert_non_null(m);
    m += strlen(key);
    const char *end = strchr(m, '"');
    size_t moves = 0, closes = 0;
    for (const char *c = m; c < end; c++) {
        moves += *c == 'M';
        closes += *c == 'Z';
    }
    assert_int_equal(moves, 2);
    assert_int_equal(closes, 2);
    /* n-band's 2.0 and -0.5 are inside the axis: ticks reach them */
    assert_non_null(strstr(svg, ">2.0</text>"));
    assert_non_null(strstr(svg, ">-0.5</text>"));
    assert_int_equal(count(svg, "class=\"zero\""), 1);
    assert_null(strstr(svg, "nan"));
}

static void test_xmllint_rejects(void **state)
{
    (void)state;
    char path[] = "/tmp/seqc-svg-bad-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("<svg><text>a & b</text></svg>\n", f);
    fclose(f);
    assert_int_not_equal(xmllint(path), 0);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_fractional),
        cmocka_unit_test(test_ticks_integer),
        cmocka_unit_test(test_ticks_degenerate),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_figure),
        cmocka_unit_test(test_y_limits),
        cmocka_unit_test(test_bands),
        cmocka_unit_test(test_xmllint_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
