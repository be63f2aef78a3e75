/*
 * report.c: report.md and curves.svg for `seqc compare` (report.h).
 *
 * Everything here works from the study summary.c analysed: the numbers in
 * the report are the ones in summary.json and, seed by seed, in the CSV
 * files under runs/, so a reader can always check one against the other.
 * No value is bolded for being larger: only a verdict whose interval
 * excludes zero names a winner.
 */
#define _POSIX_C_SOURCE 200809L
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

/* ------------------------------------------------------------ headlines */

/* The first history column named val_<something> that is not a loss (the
 * model's first metric, e.g. val_accuracy), or NULL. */
static const char *first_val_metric(const cmp_study *s)
{
    for (size_t m = 0; m < s->nmetrics; m++) {
        const cmp_metric *mt = &s->metrics[m];
        if (mt->kind == CMP_FINAL && strncmp(mt->source, "val_", 4) == 0 && !mt->is_loss)
            return mt->source;
    }
    return NULL;
}

/* The metrics the verdict speaks of, in order: the first validation
 * metric (final and best), val_loss, the test metric and test_loss, the
 * epochs to the target. Returns how many were put in idx. */
static size_t headlines(const cmp_study *s, int *idx, size_t max)
{
    char keys[6][96];
    size_t nk = 0;
    const char *vm = first_val_metric(s);
    if (vm) {
        snprintf(keys[nk++], sizeof keys[0], "%s", vm);
        snprintf(keys[nk++], sizeof keys[0], "best_%s", vm);
    }
    snprintf(keys[nk++], sizeof keys[0], "val_loss");
    if (vm)
        snprintf(keys[nk++], sizeof keys[0], "test_%s", vm + 4);
    snprintf(keys[nk++], sizeof keys[0], "test_loss");
    snprintf(keys[nk++], sizeof keys[0], "epochs_to_target");
    size_t n = 0;
    for (size_t k = 0; k < nk && n < max; k++) {
        int m = cmp_metric_index(s, keys[k]);
        if (m >= 0)
            idx[n++] = m;
    }
    return n;
}

/* "val_accuracy (final)", "val_accuracy (best epoch)", "epochs to val_accuracy >= 0.95" */
static void metric_label(char *buf, size_t len, const cmp_study *s, const cmp_metric *m)
{
    switch (m->kind) {
    case CMP_FINAL: snprintf(buf, len, "%s (last epoch)", m->source); break;
    case CMP_BEST: snprintf(buf, len, "%s (best epoch)", m->source); break;
    case CMP_TEST: snprintf(buf, len, "%s (after training)", m->source); break;
    case CMP_REACH:
        snprintf(buf, len, "epochs to %s %s %g", m->source,
                 cmp_higher_better(m->source) ? ">=" : "<=", s->target_value);
        break;
    case CMP_TIME: snprintf(buf, len, "seconds of training"); break;
    }
}

void report_write_verdict(FILE *out, const cmp_study *s, int markdown)
{
    int idx[8];
    size_t nh = headlines(s, idx, 8);
    for (size_t h = 0; h < nh; h++)
        for (size_t k = 0; k < s->npairs; k++) {
            const cmp_pair *p = &s->pairs[k];
            const cmp_metric *m = &s->metrics[p->metric];
            if (idx[h] != (int)p->metric)
                continue;
            /* on a terminal, the last epoch's values, the test accuracy and
             * the target; report.md has the rest */
            if (!markdown && (m->kind == CMP_BEST || (m->kind == CMP_TEST && m->is_loss)))
                continue;
            char label[160];
            metric_label(label, sizeof label, s, &s->metrics[p->metric]);
            fputs("- ", out);
            if (markdown)
                md_cell(out, label);
            else
                fputs(label, out);
            fprintf(out, ", %s vs %s: ", s->arms[p->a].name, s->arms[p->b].name);
            cmp_write_verdict(out, s, p, markdown);
            fputc('\n', out);
        }
    for (size_t a = 0; a < s->narms; a++) {
        size_t k = 0;
        for (size_t i = 0; i < s->nseeds; i++)
            k += s->arms[a].diverged && s->arms[a].diverged[i];
        if (k)
            fprintf(out, "- %s diverged (a NaN or infinite loss or weight) in %zu of %zu "
                         "seed%s: those runs have no final, best or test values (see "
                         "runs/%s-seed*.log).\n",
                    s->arms[a].name, k, s->nseeds, s->nseeds == 1 ? "" : "s",
                    s->arms[a].slug);
    }
    if (s->nseeds < 2)
        fputs("- One seed: no interval can be given and no winner named; run with "
              "--seeds 5 or more.\n", out);
    int r = cmp_metric_index(s, "epochs_to_target");
    if (r >= 0)
        for (size_t a = 0; a < s->narms; a++) {
            const stats_summary *st = cmp_stats(s, a, (size_t)r);
            if (st->n < s->nseeds)
                fprintf(out, "- %s reached %s %g in %zu of %zu seeds; the epochs to the "
                             "target count those seeds only.\n",
                        s->arms[a].name, s->target_metric, s->target_value, st->n, s->nseeds);
        }
}

static void write_stat_cells(FILE *out, const cmp_metric *m, const stats_summary *st)
{
    char mean[32], sd[32], lo[32], hi[32];
    cmp_metric plain = *m;
    plain.points = false; /* values as they are, not in points */
    if (m->points) {
        snprintf(mean, sizeof mean, "%.4f", st->mean);
        snprintf(sd, sizeof sd, "%.4f", st->sd);
        snprintf(lo, sizeof lo, "%.4f", st->lo);
        snprintf(hi, sizeof hi, "%.4f", st->hi);
    } else {
        cmp_format(mean, sizeof mean, &plain, st->mean, false);
        cmp_format(sd, sizeof sd, &plain, st->sd, false);
        cmp_format(lo, sizeof lo, &plain, st->lo, false);
        cmp_format(hi, sizeof hi, &plain, st->hi, false);
    }
    if (st->n == 0)
        fputs(" - | - | - | 0 |", out);
    else if (!st->has_ci)
        fprintf(out, " %s | - | none (one value) | %zu |", mean, st->n);
    else
        fprintf(out, " %s | %s | [%s, %s] | %zu |", mean, sd, lo, hi, st->n);
}

void report_write_arms(FILE *out, const cmp_study *s)
{
    fputs("| metric | arm | mean | sd | 95 % interval | n |\n"
          "|---|---|---:|---:|---|---:|\n", out);
    for (size_t m = 0; m < s->nmetrics; m++) {
        char label[160];
        metric_label(label, sizeof label, s, &s->metrics[m]);
        for (size_t a = 0; a < s->narms; a++) {
            fputs("| ", out);
            md_cell(out, label);
            fputs(" | ", out);
            md_cell(out, s->arms[a].name);
            fputs(" |", out);
            write_stat_cells(out, &s->metrics[m], cmp_stats(s, a, m));
            fputc('\n', out);
        }
    }
    fputc('\n', out);
}

void report_write_arm_lines(FILE *out, const cmp_study *s)
{
    const char *vm = first_val_metric(s);
    const char *keys[2] = {vm ? vm : "val_loss", vm ? "val_loss" : NULL};
    size_t width = 0;
    for (size_t a = 0; a < s->narms; a++)
        if (strlen(s->arms[a].name) > width)
            width = strlen(s->arms[a].name);
    for (size_t a = 0; a < s->narms; a++) {
        fprintf(out, "  %-*s", (int)width, s->arms[a].name);
        for (int k = 0; k < 2 && keys[k]; k++) {
            int m = cmp_metric_index(s, keys[k]);
            if (m < 0)
                continue;
            const stats_summary *st = cmp_stats(s, a, (size_t)m);
            int dec = s->metrics[m].points ? 4 : 3;
            fprintf(out, "  %s %.*f", keys[k], dec, st->mean);
            if (st->has_ci)
                fprintf(out, " [%.*f, %.*f]", dec, st->lo, dec, st->hi);
        }
        fputc('\n', out);
    }
}

static void write_pairs(FILE *out, const cmp_study *s)
{
    fputs("| metric | A | B | mean A - B | 95 % interval | seeds A better | seeds B better "
          "| verdict |\n|---|---|---|---:|---|---:|---:|---|\n", out);
    for (size_t k = 0; k < s->npairs; k++) {
        const cmp_pair *p = &s->pairs[k];
        const cmp_metric *m = &s->metrics[p->metric];
        const stats_summary *d = &p->p.diff;
        char label[160], mean[32], lo[32], hi[32];
        metric_label(label, sizeof label, s, m);
        fputs("| ", out);
        md_cell(out, label);
        fputs(" | ", out);
        md_cell(out, s->arms[p->a].name);
        fputs(" | ", out);
        md_cell(out, s->arms[p->b].name);
        if (!p->comparable) {
            fputs(" | not comparable | - | - | - | ", out);
        } else {
            cmp_format(mean, sizeof mean, m, d->mean, true);
            cmp_format(lo, sizeof lo, m, d->lo, true);
            cmp_format(hi, sizeof hi, m, d->hi, true);
            fprintf(out, " | %s%s | ", mean, m->points && d->n ? " pt" : "");
            if (d->has_ci)
                fprintf(out, "[%s, %s] | ", lo, hi);
            else
                fputs("none | ", out);
            fprintf(out, "%zu | %zu | ", p->p.wins_a, p->p.wins_b);
        }
        cmp_write_verdict(out, s, p, true);
        fputs(" |\n", out);
    }
    fputc('\n', out);
}

/* One row per arm, one column per seed: the value of metric m. */
static void write_per_seed(FILE *out, const cmp_study *s, int m)
{
    if (m < 0)
        return;
    const cmp_metric *mt = &s->metrics[m];
    char label[160];
    metric_label(label, sizeof label, s, mt);
    fputs("### ", out);
    md_cell(out, label);
    fputs("\n\n| arm |", out);
    for (size_t i = 0; i < s->nseeds; i++)
        fprintf(out, " seed %llu |", (unsigned long long)s->seeds[i]);
    fputs("\n|---|", out);
    for (size_t i = 0; i < s->nseeds; i++)
        fputs("---:|", out);
    fputc('\n', out);
    cmp_metric plain = *mt;
    plain.points = false;
    for (size_t a = 0; a < s->narms; a++) {
        fputs("| ", out);
        md_cell(out, s->arms[a].name);
        fputs(" |", out);
        for (size_t i = 0; i < s->nseeds; i++) {
            char v[32];
            double x = cmp_value(s, (size_t)a, (size_t)m, i);
            if (mt->points && isfinite(x))
                snprintf(v, sizeof v, "%.4f", x);
            else
                cmp_format(v, sizeof v, &plain, x, false);
            fprintf(out, " %s |", v);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* ------------------------------------------------------------- settings */

typedef enum setting_id {
    SET_FILE, SET_MODEL, SET_WITHOUT, SET_REPLACED, SET_OPTIMIZER, SET_LR, SET_BATCH, SET_LOSS,
    SET_EPOCHS, SET_DATA, SET_SPLIT, SET_SHUFFLE, SET_DROPOUT, SET_DENSE, SET_BN, SET_RANKS,
    SET_COUNT
} setting_id;

static const char *const setting_names[SET_COUNT] = {
    "model file", "model", "layers dropped", "layers replaced", "optimizer", "learning rate", "batch", "loss",
    "epochs", "data", "validation split", "shuffle", "dropout layers", "dense layers",
    "batchnorm statistics", "MPI ranks per run",
};

static void setting_text(char *buf, size_t len, const cmp_settings *c, setting_id id)
{
    switch (id) {
    case SET_FILE: snprintf(buf, len, "`%s`", c->file); break;
    case SET_MODEL: snprintf(buf, len, "%s", c->model); break;
    case SET_WITHOUT: snprintf(buf, len, "%s", *c->without ? c->without : "-"); break;
    case SET_REPLACED:
        snprintf(buf, len, "%s", c->replaced && *c->replaced ? c->replaced : "-");
        break;
    case SET_OPTIMIZER: snprintf(buf, len, "%s", c->optimizer); break;
    case SET_LR: snprintf(buf, len, "%g", c->lr); break;
    case SET_BATCH: snprintf(buf, len, "%ld", c->batch); break;
    case SET_LOSS: snprintf(buf, len, "%s", c->loss); break;
    case SET_EPOCHS: snprintf(buf, len, "%ld", c->epochs); break;
    case SET_DATA: snprintf(buf, len, "`%s`", c->data); break;
    case SET_SPLIT: snprintf(buf, len, "%s", c->val_split); break;
    case SET_SHUFFLE: snprintf(buf, len, "%s", c->shuffle ? "true" : "false"); break;
    case SET_DROPOUT: snprintf(buf, len, "%d", c->dropout_layers); break;
    case SET_DENSE: snprintf(buf, len, "%s", c->dense); break;
    case SET_BN: snprintf(buf, len, "%s", c->batchnorm ? c->batchnorm : "-"); break;
    case SET_RANKS: snprintf(buf, len, "%ld", c->ranks > 1 ? c->ranks : 1L); break;
    case SET_COUNT: buf[0] = '\0'; break;
    }
}

static bool setting_differs(const cmp_study *s, setting_id id)
{
    char first[1024], other[1024];
    setting_text(first, sizeof first, &s->arms[0].set, id);
    for (size_t a = 1; a < s->narms; a++) {
        setting_text(other, sizeof other, &s->arms[a].set, id);
        if (strcmp(first, other) != 0)
            return true;
    }
    return false;
}

/* The MPI ranks of the runs: 1, or --ranks P (every arm the same) */
static long report_ranks(const cmp_study *s)
{
    long r = 1;
    for (size_t a = 0; a < s->narms; a++)
        if (s->arms[a].set.ranks > r)
            r = s->arms[a].set.ranks;
    return r;
}

/* With --ranks P, under the settings: what the batch means. */
static void write_ranks(FILE *out, const cmp_study *s)
{
    long p = report_ranks(s);
    if (p < 2)
        return;
    fprintf(out, "Each run trained data-parallel on %ld MPI processes (`--ranks %ld`): the "
                 "batch above is the global batch of every step, split over the %ld ranks",
            p, p, p);
    if (!setting_differs(s, SET_BATCH)) {
        long b = s->arms[0].set.batch;
        if (b % p == 0)
            fprintf(out, " (%ld rows each)", b / p);
        else
            fprintf(out, " (%ld or %ld rows each)", b / p + 1, b / p);
    }
    fputs(", which add their gradients before every step. A `batchnorm` layer normalizes "
          "with the whole batch's statistics, or, written with `sync=false`, with each "
          "rank's own rows' (docs/scale-out.md).\n\n", out);
}

static void write_settings(FILE *out, const cmp_study *s)
{
    fputs("| setting |", out);
    for (size_t a = 0; a < s->narms; a++) {
        fputc(' ', out);
        md_cell(out, s->arms[a].name);
        fputs(" |", out);
    }
    fputs(" |\n|---|", out);
    for (size_t a = 0; a < s->narms; a++)
        fputs("---|", out);
    fputs("---|\n", out);
    for (int id = 0; id < SET_COUNT; id++) {
        /* only a study with a --replace arm has the row, only one with
           --ranks the ranks' and the batchnorm statistics' (in one
           process, sync= changes nothing) */
        if (id == SET_REPLACED && !setting_differs(s, SET_REPLACED))
            continue;
        if ((id == SET_RANKS || id == SET_BN) && report_ranks(s) < 2)
            continue;
        fprintf(out, "| %s |", setting_names[id]);
        for (size_t a = 0; a < s->narms; a++) {
            char text[1024];
            setting_text(text, sizeof text, &s->arms[a].set, (setting_id)id);
            fputc(' ', out);
            md_cell(out, text);
            fputs(" |", out);
        }
        fprintf(out, " %s |\n", setting_differs(s, (setting_id)id) ? "**differs**" : "");
    }
    fputc('\n', out);
}

void report_same_start(const cmp_study *s, int *same_weights, int *same_order)
{
    *same_weights = !setting_differs(s, SET_DENSE);
    *same_order = !setting_differs(s, SET_BATCH) && !setting_differs(s, SET_DATA) &&
                  !setting_differs(s, SET_SPLIT) && !setting_differs(s, SET_SHUFFLE);
}

static void write_start(FILE *out, const cmp_study *s)
{
    int w, o;
    report_same_start(s, &w, &o);
    if (s->narms < 2)
        return;
    if (w && o)
        fputs("Same start: for each seed, every arm draws the same initial weights for "
              "its dense layers (the arms have the same dense layers, and the layers they "
              "differ in draw nothing) and sees the mini-batches in the same order (same "
              "batch size, data, validation split and shuffle). The differences below are "
              "paired seed by seed.\n\n", out);
    else {
        fprintf(out, "Same initial weights: %s. Same mini-batch order: %s. The differences "
                     "below are still paired by seed, but the pairs share less than the "
                     "seed alone would suggest.\n\n",
                w ? "yes, the dense layers are the same in every arm"
                  : "no, the dense layers differ (see the settings)",
                o ? "yes" : setting_differs(s, SET_BATCH)
                                ? "no, the batch sizes differ"
                                : "no, the data, the validation split or the shuffle differ");
    }
    if (setting_differs(s, SET_DROPOUT))
        fputs("The arms differ in dropout layers: dropout draws its masks from a generator "
              "stream of its own, so the shuffles stay aligned.\n\n", out);
}

static void write_validation(FILE *out, const cmp_study *s)
{
    const char *split = s->arms[0].set.val_split;
    if (setting_differs(s, SET_SPLIT))
        fputs("Validation: the last fraction of the training data that each arm's settings "
              "give (above)", out);
    else
        fprintf(out, "Validation: the last %g %% of the training data (--validation-split "
                     "%s, from %s)", strtod(split, NULL) * 100, split,
                s->arms[0].set.val_split_from);
    fputs(", before shuffling, as Keras takes it (an .npz with x_val validates on x_val "
          "instead): per-epoch curves and the best epoch come from it, never from the test "
          "set.", out);
    size_t with_test = 0, runs = 0;
    for (size_t a = 0; a < s->narms; a++)
        for (size_t i = 0; i < s->nseeds; i++, runs++)
            with_test += s->arms[a].test[i].n > 0;
    if (with_test == runs)
        fputs(" The test set is evaluated once, after training (test_ rows).\n\n", out);
    else if (with_test == 0)
        fputs(" No run reported a test set, so there are no test_ rows.\n\n", out);
    else
        fprintf(out, " %zu of %zu runs reported a test set (test_ rows count those).\n\n",
                with_test, runs);
}

/* Each variant's model summary once (arms at several learning rates share
 * one). */
static void write_models(FILE *out, const cmp_study *s)
{
    fputs("## Models\n\n", out);
    for (size_t a = 0; a < s->narms; a++) {
        bool seen = false;
        for (size_t b = 0; b < a; b++)
            seen |= s->arms[b].variant == s->arms[a].variant;
        const char *sum = s->arms[a].summary;
        if (seen || !sum)
            continue;
        const char *replaced = s->arms[a].set.replaced ? s->arms[a].set.replaced : "";
        fprintf(out, "%s%s%s%s%s:\n\n```\n%s%s```\n\n", s->arms[a].set.model,
                *s->arms[a].set.without ? " without " : "", s->arms[a].set.without,
                *replaced ? " with " : "", replaced, sum,
                *sum && sum[strlen(sum) - 1] != '\n' ? "\n" : "");
    }
}

int report_write_md(FILE *out, const cmp_study *s)
{
    fprintf(out, "# %s\n\n", s->title);
    fprintf(out, "seqc %s, %zu arm%s x %zu seed%s (", s->version, s->narms,
            s->narms == 1 ? "" : "s", s->nseeds, s->nseeds == 1 ? "" : "s");
    for (size_t i = 0; i < s->nseeds; i++)
        fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)s->seeds[i]);
    if (report_ranks(s) >= 2)
        fprintf(out, "); every run is a separate MPI job of %ld processes, reproducible from "
                     "its seed.", report_ranks(s));
    else
        fputs("); every run is a separate process, bit-reproducible from its seed.", out);
    if (s->limit > 0)
        fprintf(out, " Only the first %ld samples of each set were used (--limit).", s->limit);
    fputs("\n\n", out);
    if (s->command)
        fprintf(out, "```\n%s\n```\n\n", s->command);
    fputs("## Settings\n\n", out);
    write_settings(out, s);
    write_ranks(out, s);
    write_start(out, s);
    write_validation(out, s);
    fputs("## Verdict\n\n", out);
    report_write_verdict(out, s, 1);
    fputs("\nA winner is named only when the 95 % interval of the paired difference "
          "excludes zero; \"seeds A better\" counts the seeds on each side.\n\n", out);
    fputs("![mean curves with +-sd bands, and the paired difference](curves.svg)\n\n", out);
    fputs("## Per arm\n\n", out);
    report_write_arms(out, s);
    fputs("## Paired differences\n\n", out);
    write_pairs(out, s);
    fputs("## Per seed\n\n", out);
    int idx[8];
    size_t nh = headlines(s, idx, 8);
    for (size_t h = 0; h < nh; h++)
        if (s->metrics[idx[h]].kind != CMP_BEST)
            write_per_seed(out, s, idx[h]);
    fputs("Histories: `runs/ARM-seedS.csv`, trainer output: `runs/ARM-seedS.log`, ARM one "
          "of:", out);
    for (size_t a = 0; a < s->narms; a++)
        fprintf(out, "%s `%s`", a ? "," : "", s->arms[a].slug);
    fputs(".\n\n", out);
    write_models(out, s);
    return ferror(out) ? -1 : 0;
}

/* ----------------------------------------------------------- curves.svg */

/* The most epochs any seed of arm a trained. */
static size_t arm_epochs(const cmp_study *s, const cmp_arm *arm)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nseeds; i++)
        if (arm->hist[i].count > n)
            n = arm->hist[i].count;
    return n;
}

/* Mean and sd over the seeds of f(seed, row), per row: the curve and its band. */
typedef double (*seed_value)(const cmp_study *s, size_t arm, size_t seed, size_t row,
                             const char *col, size_t other);

static double hist_value(const cmp_study *s, size_t arm, size_t seed, size_t row,
                         const char *col, size_t other)
{
    (void)other;
    return history_get(&s->arms[arm].hist[seed], row, col);
}

static double diff_value(const cmp_study *s, size_t arm, size_t seed, size_t row,
                         const char *col, size_t other)
{
    return history_get(&s->arms[arm].hist[seed], row, col) -
           history_get(&s->arms[other].hist[seed], row, col);
}

/* Fills x, mean, lo, hi (n rows): mean -+ sd over the seeds with a
 * finite value; lo and hi are NaN where fewer than two seeds have one. */
static void curve(const cmp_study *s, size_t arm, size_t other, const char *col,
                  seed_value f, size_t n, double *x, double *mean, double *lo, double *hi)
{
    double vals[s->nseeds ? s->nseeds : 1];
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < s->nseeds; i++)
            vals[i] = f(s, arm, i, r, col, other);
        stats_summary st;
        stats_describe(vals, s->nseeds, &st);
        x[r] = (double)(r + 1);
        mean[r] = st.mean;
        lo[r] = st.n >= 2 ? st.mean - st.sd : NAN;
        hi[r] = st.n >= 2 ? st.mean + st.sd : NAN;
    }
}

/* Storage for the series and bands of one figure, freed at once. */
typedef struct plot_store {
    double     **bufs;
    size_t       nbufs, capbufs;
    char       **texts;
    size_t       ntexts, captexts;
} plot_store;

static double *store_doubles(plot_store *ps, size_t n)
{
    if (ps->nbufs == ps->capbufs) {
        size_t cap = ps->capbufs ? ps->capbufs * 2 : 64;
        double **nb = realloc(ps->bufs, cap * sizeof *nb);
        if (!nb)
            return NULL;
        ps->bufs = nb;
        ps->capbufs = cap;
    }
    double *b = malloc((n ? n : 1) * sizeof *b);
    if (b)
        ps->bufs[ps->nbufs++] = b;
    return b;
}

static const char *store_text(plot_store *ps, const char *fmt1, const char *a,
                              const char *b, const char *c)
{
    if (ps->ntexts == ps->captexts) {
        size_t cap = ps->captexts ? ps->captexts * 2 : 64;
        char **nt = realloc(ps->texts, cap * sizeof *nt);
        if (!nt)
            return NULL;
        ps->texts = nt;
        ps->captexts = cap;
    }
    size_t len = strlen(fmt1) + strlen(a) + strlen(b) + strlen(c) + 1;
    char *t = malloc(len);
    if (!t)
        return NULL;
    snprintf(t, len, fmt1, a, b, c);
    ps->texts[ps->ntexts++] = t;
    return t;
}

static void store_free(plot_store *ps)
{
    for (size_t i = 0; i < ps->nbufs; i++)
        free(ps->bufs[i]);
    for (size_t i = 0; i < ps->ntexts; i++)
        free(ps->texts[i]);
    free(ps->bufs);
    free(ps->texts);
}

/* One curve and its band into a panel's arrays; -1 out of memory. */
static int add_curve(plot_store *ps, const cmp_study *s, size_t arm, size_t other,
                     const char *col, seed_value f, const char *id, const char *cls,
                     int color, int dashed, svg_series *se, svg_band *bd)
{
    size_t n = arm_epochs(s, &s->arms[arm]);
    double *x = store_doubles(ps, n), *mean = store_doubles(ps, n);
    double *lo = store_doubles(ps, n), *hi = store_doubles(ps, n);
    const char *band_id = store_text(ps, "%s%s%s", id, "-band", "");
    if (!x || !mean || !lo || !hi || !band_id)
        return -1;
    curve(s, arm, other, col, f, n, x, mean, lo, hi);
    *se = (svg_series){id, cls, color, dashed, n, x, mean};
    *bd = (svg_band){band_id, cls, color, n, x, lo, hi};
    return 0;
}

int report_write_svg(FILE *out, const cmp_study *s)
{
    /* panels: loss; the first metric (train and val), when there is one;
     * the paired difference in its validation value (or in val_loss) */
    const char *vm = first_val_metric(s);
    const char *metric = vm ? vm + 4 : NULL; /* "accuracy" */
    const char *diff_col = vm ? vm : "val_loss";
    size_t na = s->narms, ndiff = 0;
    for (size_t k = 0; k < s->npairs; k++)
        ndiff += s->pairs[k].comparable && s->metrics[s->pairs[k].metric].kind == CMP_FINAL &&
                 strcmp(s->metrics[s->pairs[k].metric].source, diff_col) == 0;
    size_t per_panel = na * 2 > ndiff ? na * 2 : ndiff;
    plot_store ps = {0};
    svg_series *series = calloc(3 * per_panel + 1, sizeof *series);
    svg_band *bands = calloc(3 * per_panel + 1, sizeof *bands);
    svg_legend_item *legend = calloc(na * 2 + ndiff + 1, sizeof *legend);
    int rc = -1;
    if (!series || !bands || !legend)
        goto done;
    const char *words[2] = {"loss", metric};
    size_t nplain = metric ? 2 : 1, nl = 0;
    svg_panel panels[3];
    memset(panels, 0, sizeof panels);
    for (size_t p = 0; p < nplain; p++) {
        svg_series *se = series + p * per_panel;
        svg_band *bd = bands + p * per_panel;
        size_t k = 0;
        for (size_t a = 0; a < na; a++)
            for (int split = 0; split < 2; split++, k++) {
                const char *word = words[p];
                const char *col = split ? store_text(&ps, "val_%s%s%s", word, "", "")
                                        : word;
                const char *id = store_text(&ps, "%s-%s-%s", s->arms[a].slug, word,
                                            split ? "val" : "train");
                char arm_cls[32];
                snprintf(arm_cls, sizeof arm_cls, "variant-%zu", a);
                const char *cls = store_text(&ps, "%s %s %s", arm_cls, p ? "metric" : "loss",
                                             split ? "val" : "train");
                if (!col || !id || !cls ||
                    add_curve(&ps, s, a, 0, col, hist_value, id, cls, (int)a, split, &se[k],
                              &bd[k]) != 0)
                    goto done;
                if (p == 0) {
                    const char *lab = store_text(&ps, "%s (%s)%s", s->arms[a].name,
                                                 split ? "validation" : "training", "");
                    if (!lab)
                        goto done;
                    legend[nl++] = (svg_legend_item){lab, (int)a, split};
                }
            }
        panels[p] = (svg_panel){p ? metric : "Loss", "Epoch", p ? metric : "Loss", 1, k, se,
                                1, 0.0, p == 1 && strstr(metric, "accuracy") ? 1.0 : INFINITY,
                                k, bd, 0};
    }
    size_t np = nplain;
    if (ndiff > 0) {
        svg_series *se = series + np * per_panel;
        svg_band *bd = bands + np * per_panel;
        size_t k = 0;
        for (size_t q = 0; q < s->npairs; q++) {
            const cmp_pair *p = &s->pairs[q];
            const cmp_metric *m = &s->metrics[p->metric];
            if (!p->comparable || m->kind != CMP_FINAL || strcmp(m->source, diff_col) != 0)
                continue;
            char num[32];
            snprintf(num, sizeof num, "%zu", k);
            const char *id = store_text(&ps, "diff-%s%s%s", num, "", "");
            const char *lab = store_text(&ps, "%s minus %s%s", s->arms[p->a].name,
                                         s->arms[p->b].name, "");
            int color = (int)(na + k);
            if (!id || !lab ||
                add_curve(&ps, s, p->a, p->b, diff_col, diff_value, id, "difference", color, 0,
                          &se[k], &bd[k]) != 0)
                goto done;
            legend[nl++] = (svg_legend_item){lab, color, 0};
            k++;
        }
        const char *title = store_text(&ps, "Paired difference in %s%s%s", diff_col, "", "");
        if (!title)
            goto done;
        panels[np++] = (svg_panel){title, "Epoch", diff_col, 1, k, se, 0, 0, 0, k, bd, 1};
    }
    char title[600];
    snprintf(title, sizeof title, "%s on %s: mean of %zu seed%s, band +-1 sd", s->title,
             s->dataset, s->nseeds, s->nseeds == 1 ? "" : "s");
    svg_figure fig = {title, np, panels, nl, legend};
    rc = svg_write_figure(out, &fig);
done:
    store_free(&ps);
    free(series);
    free(bands);
    free(legend);
    return rc;
}
