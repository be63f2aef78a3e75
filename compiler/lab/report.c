/*
 * report.c: report.md and curves.svg for `seqc compare` (report.h).
 *
 * Everything here works from finished histories: the numbers in the
 * report are the ones in the CSV files next to it, so a reader can always
 * check one against the other.
 */
#include "lab/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/svg.h"

void report_slug(const char *name, char *buf, size_t len)
{
    size_t n = 0;
    int dash = 0;
    if (len == 0)
        return;
    for (const unsigned char *s = (const unsigned char *)name; *s && n + 1 < len; s++) {
        int keep = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                   (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.';
        if (keep) {
            buf[n++] = (char)*s;
            dash = 0;
        } else if (!dash && n > 0) {
            buf[n++] = '-';
            dash = 1;
        }
    }
    while (n > 0 && buf[n - 1] == '-')
        n--;
    if (n == 0 && len > 1)
        buf[n++] = '_';
    buf[n] = '\0';
}

int report_best_epoch(const history *h, history_metric m, int higher_better)
{
    int best = 0;
    double bv = 0;
    for (size_t i = 0; i < h->count; i++) {
        double v = h->rows[i].v[m];
        if (!isfinite(v))
            continue;
        if (best == 0 || (higher_better ? v > bv : v < bv)) {
            best = (int)i + 1;
            bv = v;
        }
    }
    return best;
}

int report_first_reach(const history *h, history_metric m, double threshold)
{
    for (size_t i = 0; i < h->count; i++)
        if (isfinite(h->rows[i].v[m]) && h->rows[i].v[m] >= threshold)
            return (int)i + 1;
    return 0;
}

/* ------------------------------------------------------------ report.md */

static void fmt_value(char *buf, size_t len, double v, history_metric m)
{
    if (isnan(v))
        snprintf(buf, len, "nan");
    else if (isinf(v))
        snprintf(buf, len, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, len, m == HIST_SECONDS ? "%.2f" : "%.4f", v);
}

/* Markdown table cells must not contain '|' or line breaks. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

/* Display width of a line: code points, so box-drawing characters in a
 * summary count as one column each. */
static size_t columns(const char *s, size_t bytes)
{
    size_t w = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

typedef struct lines {
    size_t      count;
    const char *start[512];
    size_t      len[512];
} lines;

static void split_lines(const char *text, lines *l)
{
    l->count = 0;
    const char *p = text ? text : "";
    while (*p && l->count < 512) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        l->start[l->count] = p;
        l->len[l->count++] = len;
        p += len + (nl ? 1 : 0);
    }
}

/* Both summaries in one code block, side by side when that stays narrow
 * enough to read, one after the other otherwise. */
static void write_summaries(FILE *out, const report_info *r)
{
    static lines a, b; /* 8 KB each: too big for a comfortable stack frame */
    split_lines(r->v[0].summary, &a);
    split_lines(r->v[1].summary, &b);
    size_t wa = columns(r->v[0].name, strlen(r->v[0].name));
    size_t wb = columns(r->v[1].name, strlen(r->v[1].name));
    for (size_t i = 0; i < a.count; i++) {
        size_t w = columns(a.start[i], a.len[i]);
        if (w > wa)
            wa = w;
    }
    for (size_t i = 0; i < b.count; i++) {
        size_t w = columns(b.start[i], b.len[i]);
        if (w > wb)
            wb = w;
    }
    fputs("## Models\n\n", out);
    if (wa + wb + 4 <= 170) {
        fputs("```\n", out);
        size_t rows = (a.count > b.count ? a.count : b.count) + 2;
        for (size_t i = 0; i < rows; i++) {
            const char *ls, *rs;
            size_t ll, rl;
            if (i == 0) {
                ls = r->v[0].name, ll = strlen(ls);
                rs = r->v[1].name, rl = strlen(rs);
            } else if (i == 1) {
                ls = rs = "";
                ll = rl = 0;
            } else {
                size_t k = i - 2;
                ls = k < a.count ? a.start[k] : "";
                ll = k < a.count ? a.len[k] : 0;
                rs = k < b.count ? b.start[k] : "";
                rl = k < b.count ? b.len[k] : 0;
            }
            fwrite(ls, 1, ll, out);
            if (rl > 0) {
                for (size_t w = columns(ls, ll); w < wa + 4; w++)
                    fputc(' ', out);
                fwrite(rs, 1, rl, out);
            }
            fputc('\n', out);
        }
        fputs("```\n\n", out);
    } else {
        for (int v = 0; v < REPORT_VARIANTS; v++) {
            fprintf(out, "%s:\n\n```\n%s%s```\n\n", r->v[v].name,
                    r->v[v].summary ? r->v[v].summary : "",
                    r->v[v].summary && *r->v[v].summary &&
                            r->v[v].summary[strlen(r->v[v].summary) - 1] != '\n'
                        ? "\n" : "");
        }
    }
}

static const history_metric table_metrics[] = {
    HIST_LOSS, HIST_ACCURACY, HIST_VAL_LOSS, HIST_VAL_ACCURACY, HIST_SECONDS,
};
#define NTABLE (sizeof table_metrics / sizeof table_metrics[0])

static int higher_better(history_metric m)
{
    return m == HIST_ACCURACY || m == HIST_VAL_ACCURACY;
}

void report_write_table(FILE *out, const report_info *r)
{
    fputs("A = ", out);
    md_cell(out, r->v[0].name);
    fputs(", B = ", out);
    md_cell(out, r->v[1].name);
    fputs(". The better value of each pair is in bold (seconds are not "
          "compared).\n\n", out);
    fputs("| epoch |", out);
    for (size_t k = 0; k < NTABLE; k++)
        fprintf(out, " %s A | %s B |", history_metric_name(table_metrics[k]),
                history_metric_name(table_metrics[k]));
    fputs("\n|---:|", out);
    for (size_t k = 0; k < NTABLE; k++)
        fputs("---:|---:|", out);
    fputc('\n', out);

    size_t rows = r->v[0].hist->count > r->v[1].hist->count
                      ? r->v[0].hist->count : r->v[1].hist->count;
    for (size_t i = 0; i < rows; i++) {
        fprintf(out, "| %zu |", i + 1);
        for (size_t k = 0; k < NTABLE; k++) {
            history_metric m = table_metrics[k];
            double va = history_get(r->v[0].hist, i, m);
            double vb = history_get(r->v[1].hist, i, m);
            int bold_a = 0, bold_b = 0;
            if (m != HIST_SECONDS && isfinite(va) && isfinite(vb) && va != vb) {
                int a_wins = higher_better(m) ? va > vb : va < vb;
                bold_a = a_wins;
                bold_b = !a_wins;
            }
            char ba[32], bb[32];
            fmt_value(ba, sizeof ba, va, m);
            fmt_value(bb, sizeof bb, vb, m);
            if (i >= r->v[0].hist->count)
                snprintf(ba, sizeof ba, "-");
            if (i >= r->v[1].hist->count)
                snprintf(bb, sizeof bb, "-");
            fprintf(out, " %s%s%s | %s%s%s |", bold_a ? "**" : "", ba,
                    bold_a ? "**" : "", bold_b ? "**" : "", bb, bold_b ? "**" : "");
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* "0.9612 (best 0.9650 at epoch 8)" */
static void write_final_and_best(FILE *out, const history *h, history_metric m)
{
    char buf[32];
    double last = h->count ? h->rows[h->count - 1].v[m] : NAN;
    fmt_value(buf, sizeof buf, last, m);
    fprintf(out, "final %s", buf);
    int best = report_best_epoch(h, m, higher_better(m));
    if (best > 0) {
        fmt_value(buf, sizeof buf, h->rows[best - 1].v[m], m);
        fprintf(out, ", best %s at epoch %d", buf, best);
    }
}

static void write_metric_verdict(FILE *out, const report_info *r, history_metric m)
{
    const history *ha = r->v[0].hist, *hb = r->v[1].hist;
    fprintf(out, "- **%s** (%s is better): %s ", history_metric_name(m),
            higher_better(m) ? "higher" : "lower", r->v[0].name);
    write_final_and_best(out, ha, m);
    fprintf(out, "; %s ", r->v[1].name);
    write_final_and_best(out, hb, m);
    double va = ha->count ? ha->rows[ha->count - 1].v[m] : NAN;
    double vb = hb->count ? hb->rows[hb->count - 1].v[m] : NAN;
    if (!isfinite(va) || !isfinite(vb)) {
        fputs(". No verdict: a final value is not a number.\n", out);
        return;
    }
    char diff[32];
    fmt_value(diff, sizeof diff, fabs(va - vb), m);
    if (strcmp(diff, "0.0000") == 0 || va == vb) {
        fputs(". Final values tie.\n", out);
        return;
    }
    int a_wins = higher_better(m) ? va > vb : va < vb;
    fprintf(out, ". **%s** ends %s by %s", a_wins ? r->v[0].name : r->v[1].name,
            higher_better(m) ? "higher" : "lower", diff);
    if (higher_better(m))
        fprintf(out, " (%.2f percentage points)", fabs(va - vb) * 100);
    fputs(".\n", out);
}

/* Validation-accuracy milestones worth naming: the two highest of these
 * that either variant reached, so the lines say something for MNIST (0.95,
 * 0.97) and for harder data (0.80, 0.85) alike. */
static const double milestones[] = {0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99};

static void write_milestones(FILE *out, const report_info *r)
{
    double best = -INFINITY;
    for (int v = 0; v < REPORT_VARIANTS; v++) {
        int e = report_best_epoch(r->v[v].hist, HIST_VAL_ACCURACY, 1);
        if (e > 0 && r->v[v].hist->rows[e - 1].v[HIST_VAL_ACCURACY] > best)
            best = r->v[v].hist->rows[e - 1].v[HIST_VAL_ACCURACY];
    }
    int n = (int)(sizeof milestones / sizeof milestones[0]);
    int top = n - 1;
    while (top >= 0 && !(milestones[top] <= best))
        top--;
    if (top < 0) {
        fprintf(out, "- **val_accuracy milestones**: neither variant reached %.2f.\n",
                milestones[0]);
        return;
    }
    for (int k = top >= 1 ? top - 1 : top; k <= top; k++) {
        double t = milestones[k];
        int ea = report_first_reach(r->v[0].hist, HIST_VAL_ACCURACY, t);
        int eb = report_first_reach(r->v[1].hist, HIST_VAL_ACCURACY, t);
        fprintf(out, "- **val_accuracy >= %.2f** first reached: ", t);
        for (int v = 0; v < REPORT_VARIANTS; v++) {
            int e = v == 0 ? ea : eb;
            fprintf(out, "%s%s ", v ? "; " : "", r->v[v].name);
            if (e)
                fprintf(out, "at epoch %d", e);
            else
                fputs("never", out);
        }
        if (ea && eb && ea != eb)
            fprintf(out, ". %s got there %d epoch%s sooner", ea < eb ? r->v[0].name
                                                                  : r->v[1].name,
                    abs(ea - eb), abs(ea - eb) == 1 ? "" : "s");
        else if (ea && !eb)
            fprintf(out, ". Only %s got there", r->v[0].name);
        else if (eb && !ea)
            fprintf(out, ". Only %s got there", r->v[1].name);
        else if (ea && ea == eb)
            fputs(". Same epoch", out);
        fputs(".\n", out);
    }
}

static void write_time(FILE *out, const report_info *r)
{
    fputs("- **seconds**: ", out);
    for (int v = 0; v < REPORT_VARIANTS; v++) {
        const history *h = r->v[v].hist;
        double total = 0;
        for (size_t i = 0; i < h->count; i++)
            if (isfinite(h->rows[i].v[HIST_SECONDS]))
                total += h->rows[i].v[HIST_SECONDS];
        fprintf(out, "%s%s %.2f s in all (%.2f s per epoch)", v ? "; " : "",
                r->v[v].name, total, h->count ? total / (double)h->count : 0.0);
    }
    fputs(".\n", out);
}

void report_write_verdict(FILE *out, const report_info *r)
{
    write_metric_verdict(out, r, HIST_VAL_ACCURACY);
    write_metric_verdict(out, r, HIST_VAL_LOSS);
    write_metric_verdict(out, r, HIST_ACCURACY);
    write_metric_verdict(out, r, HIST_LOSS);
    write_milestones(out, r);
    write_time(out, r);
    fputc('\n', out);
}

int report_write_md(FILE *out, const report_info *r)
{
    fprintf(out, "# %s\n\n", r->title);
    fputs("| | |\n|---|---|\n", out);
    fputs("| data | `", out);
    md_cell(out, r->data_dir);
    fputs("` |\n", out);
    fprintf(out, "| epochs | %d |\n", r->epochs);
    fprintf(out, "| seed | %llu |\n", (unsigned long long)r->seed);
    if (r->limit > 0)
        fprintf(out, "| samples | the first %ld for training and the first %ld for "
                     "validation (--limit) |\n", r->limit, r->limit);
    for (int v = 0; v < REPORT_VARIANTS; v++) {
        fprintf(out, "| %s | ", v == 0 ? "A" : "B");
        md_cell(out, r->v[v].name);
        fputs(" (`", out);
        md_cell(out, r->v[v].csv);
        fputs("`) |\n", out);
    }
    fputs("\nBoth variants start from the same seed: the layers they share get "
          "the same initial weights and the mini-batches come in the same "
          "order.\n\n", out);
    if (r->note)
        fprintf(out, "Note: %s\n\n", r->note);
    if (r->command)
        fprintf(out, "```\n%s\n```\n\n", r->command);
    fputs("![loss and accuracy by epoch](curves.svg)\n\n", out);

    fputs("## Verdict\n\n", out);
    report_write_verdict(out, r);
    fputs("## Per epoch\n\n", out);
    report_write_table(out, r);
    write_summaries(out, r);
    return ferror(out) ? -1 : 0;
}

/* ----------------------------------------------------------- curves.svg */

int report_write_svg(FILE *out, const report_info *r)
{
    /* per variant: buf[v][0] = epochs, then loss, val_loss, accuracy,
     * val_accuracy; each panel holds variants x {train, val} */
    enum { NV = REPORT_VARIANTS };
    static const char *const metric_word[2] = {"loss", "accuracy"};
    static const char *const split_word[2] = {"train", "val"};
    double *buf[NV][5] = {{0}};
    svg_series series[2][NV * 2];
    char ids[2][NV * 2][160], cls[2][NV * 2][64];
    char legend_text[NV * 2][300];
    svg_legend_item legend[NV * 2];
    int rc = -1;

    for (int v = 0; v < NV; v++) {
        const history *h = r->v[v].hist;
        size_t n = h->count;
        for (int k = 0; k < 5; k++) {
            buf[v][k] = malloc((n ? n : 1) * sizeof(double));
            if (!buf[v][k])
                goto done;
        }
        for (size_t i = 0; i < n; i++) {
            buf[v][0][i] = (double)(i + 1);
            buf[v][1][i] = h->rows[i].v[HIST_LOSS];
            buf[v][2][i] = h->rows[i].v[HIST_VAL_LOSS];
            buf[v][3][i] = h->rows[i].v[HIST_ACCURACY];
            buf[v][4][i] = h->rows[i].v[HIST_VAL_ACCURACY];
        }
        for (int s = 0; s < 2; s++) {
            snprintf(legend_text[v * 2 + s], sizeof legend_text[0], "%s (%s)",
                     r->v[v].name, s == 0 ? "training" : "validation");
            legend[v * 2 + s].label = legend_text[v * 2 + s];
            legend[v * 2 + s].color = v;
            legend[v * 2 + s].dashed = s;
        }
    }
    for (int p = 0; p < 2; p++)
        for (int v = 0; v < NV; v++)
            for (int s = 0; s < 2; s++) {
                svg_series *se = &series[p][v * 2 + s];
                char slug[128];
                report_slug(r->v[v].slug ? r->v[v].slug : r->v[v].name, slug,
                            sizeof slug);
                snprintf(ids[p][v * 2 + s], sizeof ids[0][0], "%s-%s-%s", slug,
                         metric_word[p], split_word[s]);
                snprintf(cls[p][v * 2 + s], sizeof cls[0][0], "variant-%d %s %s",
                         v, metric_word[p], split_word[s]);
                se->id = ids[p][v * 2 + s];
                se->cls = cls[p][v * 2 + s];
                se->color = v;
                se->dashed = s;
                se->n = r->v[v].hist->count;
                se->x = buf[v][0];
                se->y = buf[v][1 + p * 2 + s];
            }
    svg_panel panels[2] = {
        {"Loss", "Epoch", "Loss", 1, NV * 2, series[0], 1, 0.0, INFINITY},
        {"Accuracy", "Epoch", "Accuracy", 1, NV * 2, series[1], 1, 0.0, 1.0},
    };
    char title[600];
    snprintf(title, sizeof title, "%s on %s", r->title, r->dataset);
    svg_figure fig = {title, 2, panels, NV * 2, legend};
    rc = svg_write_figure(out, &fig);
done:
    for (int v = 0; v < NV; v++)
        for (int k = 0; k < 5; k++)
            free(buf[v][k]);
    return rc;
}
