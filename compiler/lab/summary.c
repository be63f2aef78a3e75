/*
 * summary.c: statistics over the runs, pairs, verdicts and summary.json
 * (summary.h).
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "lab/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *name)
{
    static const char *const prefixes[] = {"best_", "val_", "test_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            name += strlen(prefixes[i]);
    return name;
}

bool cmp_higher_better(const char *name)
{
    static const char *const lower[] = {"loss", "mae", "mse", "mape", "msle", "huber",
                                        "logcosh", "divergence", "poisson", "error",
                                        "crossentropy", "hinge", "seconds", "epochs"};
    const char *b = base_name(name);
    for (size_t i = 0; i < sizeof lower / sizeof lower[0]; i++)
        if (strstr(b, lower[i]))
            return false;
    return true;
}

static bool is_fraction(const char *name)
{
    const char *b = base_name(name);
    return strstr(b, "accuracy") || strncmp(b, "top_", 4) == 0 || strcmp(b, "auc") == 0 ||
           strcmp(b, "precision") == 0 || strcmp(b, "recall") == 0;
}

static int find_metric(const cmp_metric *ms, size_t n, cmp_kind kind, const char *source)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].kind == kind && strcmp(ms[i].source, source) == 0)
            return (int)i;
    return -1;
}

static void add_metric(cmp_metric *ms, size_t *n, size_t cap, cmp_kind kind,
                       const char *source)
{
    if (*n == cap || find_metric(ms, *n, kind, source) >= 0)
        return;
    cmp_metric *m = &ms[(*n)++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    snprintf(m->source, sizeof m->source, "%s", source);
    switch (kind) {
    case CMP_BEST: snprintf(m->key, sizeof m->key, "best_%s", source); break;
    case CMP_REACH: snprintf(m->key, sizeof m->key, "epochs_to_target"); break;
    default: snprintf(m->key, sizeof m->key, "%s", source); break;
    }
    m->higher_better = kind == CMP_REACH || kind == CMP_TIME ? false
                                                             : cmp_higher_better(source);
    m->is_loss = kind != CMP_REACH && kind != CMP_TIME && strcmp(base_name(source), "loss") == 0;
    m->points = kind != CMP_REACH && kind != CMP_TIME && is_fraction(source);
    m->paired = kind == CMP_TEST || kind == CMP_REACH ||
                ((kind == CMP_FINAL || kind == CMP_BEST) && strncmp(source, "val_", 4) == 0);
}

/* Every metric any run has, in a stable order: final columns, best val_
 * columns, test values, the target, time. */
static size_t collect_metrics(const cmp_study *s, cmp_metric *ms, size_t cap)
{
    size_t n = 0;
    for (size_t a = 0; a < s->narms; a++)
        for (size_t i = 0; i < s->nseeds; i++) {
            const history *h = &s->arms[a].hist[i];
            for (size_t c = 0; c < h->ncols; c++)
                /* not results: the time, and the learning rate a schedule
                 * set (the trainer's and Keras's CSVLogger's lr column) */
                if (strcmp(h->names[c], "seconds") != 0 && strcmp(h->names[c], "lr") != 0 &&
                    strcmp(h->names[c], "learning_rate") != 0)
                    add_metric(ms, &n, cap, CMP_FINAL, h->names[c]);
        }
    size_t nfinal = n;
    for (size_t k = 0; k < nfinal; k++)
        if (strncmp(ms[k].source, "val_", 4) == 0)
            add_metric(ms, &n, cap, CMP_BEST, ms[k].source);
    for (size_t a = 0; a < s->narms; a++)
        for (size_t i = 0; i < s->nseeds; i++)
            for (size_t t = 0; t < s->arms[a].test[i].n; t++)
                add_metric(ms, &n, cap, CMP_TEST, s->arms[a].test[i].names[t]);
    if (s->has_target)
        add_metric(ms, &n, cap, CMP_REACH, s->target_metric);
    add_metric(ms, &n, cap, CMP_TIME, "seconds");
    return n;
}

static double metric_value(const cmp_study *s, const cmp_arm *arm, size_t seed,
                           const cmp_metric *m)
{
    const history *h = &arm->hist[seed];
    int col = history_col(h, m->source);
    if (arm->diverged && arm->diverged[seed] && m->kind != CMP_REACH)
        return NAN;
    switch (m->kind) {
    case CMP_FINAL:
        return h->count ? history_at(h, h->count - 1, col) : NAN;
    case CMP_BEST: {
        double best = NAN;
        for (size_t r = 0; r < h->count; r++) {
            double v = history_at(h, r, col);
            if (isfinite(v) && (isnan(best) || (m->higher_better ? v > best : v < best)))
                best = v;
        }
        return best;
    }
    case CMP_TEST:
        return runs_test_value(&arm->test[seed], m->source);
    case CMP_REACH: {
        bool up = cmp_higher_better(m->source);
        for (size_t r = 0; r < h->count; r++) {
            double v = history_at(h, r, col);
            if (isfinite(v) && (up ? v >= s->target_value : v <= s->target_value))
                return h->epochs[r];
        }
        return NAN;
    }
    case CMP_TIME: {
        if (col < 0 || h->count == 0)
            return NAN;
        double t = 0;
        for (size_t r = 0; r < h->count; r++)
            t += history_at(h, r, col);
        return t;
    }
    }
    return NAN;
}

/* Which pairs of arms are compared (summary.h). */
static size_t choose_pairs(const cmp_study *s, size_t *pa, size_t *pb)
{
    size_t n = 0;
    bool one_variant = true;
    for (size_t a = 1; a < s->narms; a++)
        one_variant &= s->arms[a].variant == s->arms[0].variant;
    if (s->nlr > 1 && !one_variant) {
        /* each variant against the first variant at the same learning rate */
        for (size_t b = 0; b < s->narms; b++)
            for (size_t a = 0; a < b; a++)
                if (s->arms[a].lr_index == s->arms[b].lr_index &&
                    s->arms[a].variant != s->arms[b].variant) {
                    pa[n] = a, pb[n++] = b;
                    break;
                }
        return n;
    }
    if (s->narms <= 4) {
        for (size_t a = 0; a < s->narms; a++)
            for (size_t b = a + 1; b < s->narms; b++)
                pa[n] = a, pb[n++] = b;
        return n;
    }
    for (size_t b = 1; b < s->narms; b++)
        pa[n] = 0, pb[n++] = b;
    return n;
}

/* malloc of n items, at least one so that 0 items is not a failure */
static void *alloc_n(size_t n, size_t size)
{
    return malloc((n ? n : 1) * size);
}

int cmp_analyze(cmp_study *s)
{
    enum { MAX_METRICS = 3 * HISTORY_MAX_COLUMNS + RUNS_TEST_MAX + 2 };
    cmp_metric ms[MAX_METRICS];
    size_t nm = collect_metrics(s, ms, MAX_METRICS);
    size_t na = s->narms, ns = s->nseeds;
    size_t maxpairs = na * (na > 0 ? na - 1 : 0) / 2 + na;
    s->metrics = alloc_n(nm, sizeof *s->metrics);
    s->values = alloc_n(na * nm * ns, sizeof *s->values);
    s->stats = alloc_n(na * nm, sizeof *s->stats);
    s->pairs = alloc_n(maxpairs * nm, sizeof *s->pairs);
    size_t *pa = alloc_n(maxpairs, sizeof *pa);
    size_t *pb = alloc_n(maxpairs, sizeof *pb);
    if (!s->metrics || !s->values || !s->stats || !s->pairs || !pa || !pb) {
        free(pa);
        free(pb);
        cmp_free(s);
        return -1;
    }
    memcpy(s->metrics, ms, nm * sizeof *ms);
    s->nmetrics = nm;
    for (size_t a = 0; a < na; a++)
        for (size_t m = 0; m < nm; m++) {
            double *v = &s->values[(a * nm + m) * ns];
            for (size_t i = 0; i < ns; i++)
                v[i] = metric_value(s, &s->arms[a], i, &ms[m]);
            stats_describe(v, ns, &s->stats[a * nm + m]);
        }
    size_t np = choose_pairs(s, pa, pb);
    s->npairs = 0;
    for (size_t k = 0; k < np; k++)
        for (size_t m = 0; m < nm; m++) {
            if (!ms[m].paired)
                continue;
            cmp_pair *p = &s->pairs[s->npairs++];
            memset(p, 0, sizeof *p);
            p->a = pa[k];
            p->b = pb[k];
            p->metric = m;
            p->comparable = !ms[m].is_loss ||
                            strcmp(s->arms[p->a].set.loss, s->arms[p->b].set.loss) == 0;
            stats_pair(&s->values[(p->a * nm + m) * ns], &s->values[(p->b * nm + m) * ns], ns,
                       ms[m].higher_better, &p->p);
        }
    free(pa);
    free(pb);
    return 0;
}

void cmp_free(cmp_study *s)
{
    free(s->metrics);
    free(s->values);
    free(s->stats);
    free(s->pairs);
    s->metrics = NULL;
    s->values = NULL;
    s->stats = NULL;
    s->pairs = NULL;
    s->nmetrics = s->npairs = 0;
}

double cmp_value(const cmp_study *s, size_t a, size_t m, size_t i)
{
    return s->values[(a * s->nmetrics + m) * s->nseeds + i];
}

const stats_summary *cmp_stats(const cmp_study *s, size_t a, size_t m)
{
    return &s->stats[a * s->nmetrics + m];
}

int cmp_metric_index(const cmp_study *s, const char *key)
{
    for (size_t m = 0; m < s->nmetrics; m++)
        if (strcmp(s->metrics[m].key, key) == 0)
            return (int)m;
    return -1;
}

void cmp_format(char *buf, size_t len, const cmp_metric *m, double v, bool diff)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (isinf(v))
        snprintf(buf, len, v > 0 ? "inf" : "-inf");
    else if (m->points && diff)
        snprintf(buf, len, "%.2f", v * 100);
    else if (m->points)
        snprintf(buf, len, "%.4f", v);
    else if (m->kind == CMP_REACH)
        snprintf(buf, len, "%.1f", v);
    else if (m->kind == CMP_TIME)
        snprintf(buf, len, "%.2f", v);
    else
        snprintf(buf, len, "%.4g", v);
}

static const char *unit_of(const cmp_metric *m)
{
    return m->points ? " points" : m->kind == CMP_REACH ? " epochs" : "";
}

void cmp_write_verdict(FILE *out, const cmp_study *s, const cmp_pair *p, bool markdown)
{
    const cmp_metric *m = &s->metrics[p->metric];
    const cmp_arm *A = &s->arms[p->a], *B = &s->arms[p->b];
    const stats_summary *d = &p->p.diff;
    char mean[32], lo[32], hi[32];
    if (!p->comparable) {
        fprintf(out, "not comparable: %s trains with %s, %s with %s", A->name, A->set.loss,
                B->name, B->set.loss);
        return;
    }
    if (d->n == 0) {
        fputs("no verdict: no seed has a value on both sides", out);
        return;
    }
    if (!d->has_ci) {
        cmp_format(mean, sizeof mean, m, d->mean, true);
        fprintf(out, "one seed only, no interval: %s minus %s = %s%s", A->name, B->name, mean,
                unit_of(m));
        return;
    }
    int sign = stats_sign(d);
    if (sign == 0) {
        cmp_format(lo, sizeof lo, m, d->lo, true);
        cmp_format(hi, sizeof hi, m, d->hi, true);
        fprintf(out, "no difference detected: [%s, %s]%s (%s minus %s)", lo, hi, unit_of(m),
                A->name, B->name);
        return;
    }
    /* the winner's advantage, as a positive number and its interval */
    bool a_wins = (sign > 0) == m->higher_better;
    double adv = fabs(d->mean), alo = sign > 0 ? d->lo : -d->hi, ahi = sign > 0 ? d->hi : -d->lo;
    cmp_format(mean, sizeof mean, m, adv, true);
    cmp_format(lo, sizeof lo, m, alo, true);
    cmp_format(hi, sizeof hi, m, ahi, true);
    const char *bold = markdown ? "**" : "";
    fprintf(out, "%s%s%s better by %s%s [%s, %s], %zu of %zu seeds", bold,
            a_wins ? A->name : B->name, bold, mean, unit_of(m), lo, hi,
            a_wins ? p->p.wins_a : p->p.wins_b, d->n);
}

/* ----------------------------------------------------------------- JSON */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.10g", v);
    else
        fputs("null", out);
}

static void json_stats(FILE *out, const stats_summary *st)
{
    fputs("{\"mean\": ", out);
    json_number(out, st->mean);
    fputs(", \"sd\": ", out);
    json_number(out, st->sd);
    fputs(", \"ci95\": ", out);
    if (st->has_ci) {
        fputc('[', out);
        json_number(out, st->lo);
        fputs(", ", out);
        json_number(out, st->hi);
        fputc(']', out);
    } else {
        fputs("null", out);
    }
    fprintf(out, ", \"n\": %zu}", st->n);
}

static void json_settings(FILE *out, const cmp_settings *c)
{
    fputs("{\"file\": ", out);
    json_string(out, c->file);
    fputs(", \"model\": ", out);
    json_string(out, c->model);
    fputs(", \"without\": ", out);
    json_string(out, c->without);
    fputs(", \"replaced\": ", out);
    json_string(out, c->replaced ? c->replaced : "");
    fputs(", \"optimizer\": ", out);
    json_string(out, c->optimizer);
    fputs(", \"lr\": ", out);
    json_number(out, c->lr);
    fprintf(out, ", \"batch\": %ld, \"epochs\": %ld, \"loss\": ", c->batch, c->epochs);
    json_string(out, c->loss);
    fputs(", \"data\": ", out);
    json_string(out, c->data);
    fputs(", \"validation_split\": ", out);
    json_number(out, strtod(c->val_split, NULL));
    fprintf(out, ", \"shuffle\": %s, \"dropout_layers\": %d, \"dense_layers\": ",
            c->shuffle ? "true" : "false", c->dropout_layers);
    json_string(out, c->dense);
    fputs(", \"batchnorm\": ", out);
    json_string(out, c->batchnorm ? c->batchnorm : "-");
    fprintf(out, ", \"ranks\": %ld}", c->ranks > 1 ? c->ranks : 1L);
}

/* One group of a variant ("final", "best"): "key": {stats}, ... */
static void json_group(FILE *out, const cmp_study *s, size_t a, const char *group,
                       cmp_kind k1, cmp_kind k2)
{
    fprintf(out, ",\n      \"%s\": {", group);
    bool first = true;
    for (size_t m = 0; m < s->nmetrics; m++) {
        const cmp_metric *mt = &s->metrics[m];
        if (mt->kind != k1 && mt->kind != k2)
            continue;
        fprintf(out, "%s\n        ", first ? "" : ",");
        json_string(out, mt->kind == CMP_BEST ? mt->source : mt->key);
        fputs(": ", out);
        json_stats(out, cmp_stats(s, a, m));
        first = false;
    }
    fputs(first ? "}" : "\n      }", out);
}

int cmp_write_json(FILE *out, const cmp_study *s)
{
    fputs("{\n  \"seqc_version\": ", out);
    json_string(out, s->version);
    fputs(",\n  \"command\": ", out);
    json_string(out, s->command);
    fputs(",\n  \"seeds\": [", out);
    for (size_t i = 0; i < s->nseeds; i++)
        fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)s->seeds[i]);
    fputs("],\n  \"target\": ", out);
    if (s->has_target) {
        fputs("{\"metric\": ", out);
        json_string(out, s->target_metric);
        fputs(", \"value\": ", out);
        json_number(out, s->target_value);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(",\n  \"variants\": [", out);
    for (size_t a = 0; a < s->narms; a++) {
        const cmp_arm *arm = &s->arms[a];
        fprintf(out, "%s\n    {\"name\": ", a ? "," : "");
        json_string(out, arm->name);
        fputs(",\n      \"slug\": ", out);
        json_string(out, arm->slug);
        fputs(",\n      \"settings\": ", out);
        json_settings(out, &arm->set);
        fputs(",\n      \"seeds\": [", out);
        for (size_t i = 0; i < s->nseeds; i++)
            fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)s->seeds[i]);
        fputs("],\n      \"diverged\": [", out);
        for (size_t i = 0, k = 0; i < s->nseeds; i++)
            if (arm->diverged && arm->diverged[i])
                fprintf(out, "%s%llu", k++ ? ", " : "", (unsigned long long)s->seeds[i]);
        fputc(']', out);
        json_group(out, s, a, "final", CMP_FINAL, CMP_TEST);
        json_group(out, s, a, "best", CMP_BEST, CMP_BEST);
        int r = cmp_metric_index(s, "epochs_to_target");
        if (r >= 0) {
            fputs(",\n      \"epochs_to_target\": ", out);
            json_stats(out, cmp_stats(s, a, (size_t)r));
        }
        int t = cmp_metric_index(s, "seconds");
        if (t >= 0) {
            fputs(",\n      \"seconds\": ", out);
            json_stats(out, cmp_stats(s, a, (size_t)t));
        }
        fputs("}", out);
    }
    fputs("\n  ],\n  \"paired\": [", out);
    for (size_t k = 0; k < s->npairs; k++) {
        const cmp_pair *p = &s->pairs[k];
        fprintf(out, "%s\n    {\"a\": ", k ? "," : "");
        json_string(out, s->arms[p->a].name);
        fputs(", \"b\": ", out);
        json_string(out, s->arms[p->b].name);
        fputs(", \"metric\": ", out);
        json_string(out, s->metrics[p->metric].key);
        fprintf(out, ", \"comparable\": %s, \"mean_diff\": ", p->comparable ? "true" : "false");
        const stats_summary *d = &p->p.diff;
        json_number(out, p->comparable ? d->mean : NAN);
        fputs(", \"sd\": ", out);
        json_number(out, p->comparable ? d->sd : NAN);
        fputs(", \"ci95\": ", out);
        if (p->comparable && d->has_ci) {
            fputc('[', out);
            json_number(out, d->lo);
            fputs(", ", out);
            json_number(out, d->hi);
            fputc(']', out);
        } else {
            fputs("null", out);
        }
        fprintf(out, ", \"n\": %zu, \"wins_a\": %zu, \"wins_b\": %zu, \"verdict\": ",
                p->comparable ? d->n : 0, p->comparable ? p->p.wins_a : 0,
                p->comparable ? p->p.wins_b : 0);
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (mem) {
            cmp_write_verdict(mem, s, p, false);
            fclose(mem);
        }
        json_string(out, text ? text : "");
        free(text);
        fputc('}', out);
    }
    fputs("\n  ]\n}\n", out);
    return ferror(out) ? -1 : 0;
}
