/*
 * svg.c: line charts as SVG (svg.h).
 *
 * Layout, in SVG user units (pixels at 100%):
 *
 *   +--------------------------------------------------------------+
 *   |                       figure title                           |
 *   |             legend: ---- a   - - a   ---- b   - - b         |
 *   |      panel title                    panel title              |
 *   |  y  +-----------+                y +-----------+             |
 *   |  l  |  plot     |                l |  plot     |             |
 *   |     +-----------+                  +-----------+             |
 *   |        x label                        x label                |
 *   +--------------------------------------------------------------+
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "lab/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PANEL_W     480.0  /* one panel, margins included */
#define SIDE_MARGIN 20.0
#define PLOT_LEFT   72.0   /* room for y tick labels and the y label */
#define PLOT_RIGHT  18.0
#define PLOT_TOP    104.0
#define PLOT_H      260.0
#define FIG_H       (PLOT_TOP + PLOT_H + 62.0)
#define MARKER_MAX  40     /* series with at most this many points get markers */

static const char *const palette[] = {
    "#1f77b4", /* blue */
    "#ff7f0e", /* orange */
    "#2ca02c", /* green */
    "#d62728", /* red */
    "#9467bd", /* purple */
    "#8c564b", /* brown */
    "#e377c2", /* pink */
    "#7f7f7f", /* grey */
    "#bcbd22", /* olive */
    "#17becf", /* cyan: the ten of matplotlib's tab10, in its order */
};

const char *svg_color(int index)
{
    int n = (int)(sizeof palette / sizeof palette[0]);
    return palette[((index % n) + n) % n];
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
    int len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    else if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return len;
}

void svg_write_escaped(FILE *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        switch (*s) {
        case '&': fputs("&amp;", out); s++; continue;
        case '<': fputs("&lt;", out); s++; continue;
        case '>': fputs("&gt;", out); s++; continue;
        case '"': fputs("&quot;", out); s++; continue;
        case '\'': fputs("&apos;", out); s++; continue;
        default: break;
        }
        if (*s < 0x20 || *s == 0x7F) { /* XML 1.0 forbids most of these */
            fputc('?', out);
            s++;
            continue;
        }
        int len = utf8_len(s);
        if (len == 0) {
            fputc('?', out);
            s++;
            continue;
        }
        fwrite(s, 1, (size_t)len, out);
        s += len;
    }
}

void svg_nice_ticks(double lo, double hi, int target, int integer,
                    svg_ticks *out)
{
    if (target < 1)
        target = 1;
    if (!isfinite(lo) || !isfinite(hi) || lo > hi) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo <= fabs(hi) * 1e-9 || hi == lo) {
        /* flat: give the value room on both sides */
        double d = integer ? 1.0 : fmax(fabs(lo) * 0.1, 1e-3);
        lo -= d;
        hi += d;
    }
    double raw = (hi - lo) / target;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    /* the 1-2-5 step nearest the raw one (Heckbert's "nice numbers") */
    double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
    if (integer && step < 1.0)
        step = 1.0;
    /* widen to whole steps; the small slack keeps 0.30000000000000004
     * from growing a step */
    double first = floor(lo / step + 1e-9);
    double last = ceil(hi / step - 1e-9);
    out->step = step;
    out->lo = first * step;
    out->hi = last * step;
    out->count = (int)(last - first) + 1;
    int dec = (int)-floor(log10(step) + 1e-9);
    out->decimals = dec > 0 ? dec : 0;
}

static double tick_value(const svg_ticks *t, int i)
{
    double v = t->lo + i * t->step;
    return fabs(v) < t->step * 1e-9 ? 0.0 : v; /* no "-0.00" */
}

/* The finite range of one coordinate over every series of a panel. */
static void data_range(const svg_panel *p, int want_y, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < p->nseries; s++) {
        const svg_series *se = &p->series[s];
        for (size_t i = 0; i < se->n; i++) {
            if (!isfinite(se->x[i]) || !isfinite(se->y[i]))
                continue;
            double v = want_y ? se->y[i] : se->x[i];
            if (v < *lo)
                *lo = v;
            if (v > *hi)
                *hi = v;
        }
    }
    for (size_t b = 0; b < p->nbands; b++) {
        const svg_band *bd = &p->bands[b];
        for (size_t i = 0; i < bd->n; i++) {
            if (!isfinite(bd->x[i]) || !isfinite(bd->lo[i]) || !isfinite(bd->hi[i]))
                continue;
            double v0 = want_y ? bd->lo[i] : bd->x[i], v1 = want_y ? bd->hi[i] : bd->x[i];
            *lo = fmin(*lo, fmin(v0, v1));
            *hi = fmax(*hi, fmax(v0, v1));
        }
    }
    if (p->zero_line && want_y) {
        *lo = fmin(*lo, 0.0);
        *hi = fmax(*hi, 0.0);
    }
    if (*lo > *hi) /* nothing finite: svg_nice_ticks picks [0, 1] */
        *lo = *hi = NAN;
}

typedef struct frame {
    double x0, y0, w, h; /* plot area: left, top, width, height */
    svg_ticks xt, yt;
} frame;

static double map_x(const frame *f, double v)
{
    return f->x0 + (v - f->xt.lo) / (f->xt.hi - f->xt.lo) * f->w;
}

static double map_y(const frame *f, double v)
{
    return f->y0 + f->h - (v - f->yt.lo) / (f->yt.hi - f->yt.lo) * f->h;
}

static void write_text(FILE *out, double x, double y, const char *anchor,
                       const char *extra, const char *text)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y,
            anchor, extra ? extra : "");
    svg_write_escaped(out, text);
    fputs("</text>\n", out);
}

static void write_axes(FILE *out, const frame *f, const svg_panel *p)
{
    char label[64];
    fputs("<g class=\"axes\" font-size=\"12\" fill=\"#333\">\n", out);
    /* grid and y ticks */
    for (int i = 0; i < f->yt.count; i++) {
        double v = tick_value(&f->yt, i);
        double y = map_y(f, v);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" "
                     "y2=\"%.2f\" stroke=\"#e5e5e5\"/>\n",
                f->x0, y, f->x0 + f->w, y);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" "
                     "stroke=\"#333\"/>\n",
                f->x0 - 5, y, f->x0, y);
        snprintf(label, sizeof label, "%.*f", f->yt.decimals, v);
        write_text(out, f->x0 - 8, y + 4, "end", NULL, label);
    }
    /* x ticks */
    for (int i = 0; i < f->xt.count; i++) {
        double v = tick_value(&f->xt, i);
        double x = map_x(f, v);
        fprintf(out, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" "
                     "y2=\"%.1f\" stroke=\"#f0f0f0\"/>\n",
                x, f->y0, x, f->y0 + f->h);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
                     "stroke=\"#333\"/>\n",
                x, f->y0 + f->h, x, f->y0 + f->h + 5);
        snprintf(label, sizeof label, "%.*f", f->xt.decimals, v);
        write_text(out, x, f->y0 + f->h + 19, "middle", NULL, label);
    }
    /* frame */
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                 "fill=\"none\" stroke=\"#333\"/>\n",
            f->x0, f->y0, f->w, f->h);
    /* labels */
    write_text(out, f->x0 + f->w / 2, f->y0 + f->h + 42, "middle",
               " font-size=\"13\"", p->xlabel);
    char rot[96];
    double ly = f->y0 + f->h / 2, lx = f->x0 - 54;
    snprintf(rot, sizeof rot, " font-size=\"13\" transform=\"rotate(-90 %.1f %.1f)\"",
             lx, ly);
    write_text(out, lx, ly, "middle", rot, p->ylabel);
    write_text(out, f->x0 + f->w / 2, f->y0 - 10, "middle",
               " font-size=\"15\" font-weight=\"bold\"", p->title);
    fputs("</g>\n", out);
}

static void write_series(FILE *out, const frame *f, const svg_series *s)
{
    const char *color = svg_color(s->color);
    fputs("<path class=\"curve", out);
    if (s->cls && *s->cls) {
        fputc(' ', out);
        svg_write_escaped(out, s->cls);
    }
    fputs("\" id=\"", out);
    svg_write_escaped(out, s->id);
    fputs("\" d=\"", out);
    int pen_down = 0, written = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
            pen_down = 0; /* a gap: the next finite point starts anew */
            continue;
        }
        fprintf(out, "%s%c%.2f %.2f", written ? " " : "", pen_down ? 'L' : 'M',
                map_x(f, s->x[i]), map_y(f, s->y[i]));
        pen_down = written = 1;
    }
    fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                 "stroke-linejoin=\"round\" stroke-linecap=\"round\"%s/>\n",
            color, s->dashed ? " stroke-dasharray=\"7 5\"" : "");
    if (s->n > MARKER_MAX)
        return;
    fprintf(out, "<g class=\"markers\" fill=\"%s\">", s->dashed ? "#fff" : color);
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->x[i]) && isfinite(s->y[i]))
            fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" stroke=\"%s\" "
                         "stroke-width=\"1.5\"/>",
                    map_x(f, s->x[i]), map_y(f, s->y[i]), color);
    fputs("</g>\n", out);
}

static int band_ok(const svg_band *b, size_t i)
{
    return isfinite(b->x[i]) && isfinite(b->lo[i]) && isfinite(b->hi[i]);
}

/* The band as one path: each run of finite points is a closed piece, the
 * upper edge left to right, then the lower edge back. */
static void write_band(FILE *out, const frame *f, const svg_band *b)
{
    fputs("<path class=\"band", out);
    if (b->cls && *b->cls) {
        fputc(' ', out);
        svg_write_escaped(out, b->cls);
    }
    fputs("\" id=\"", out);
    svg_write_escaped(out, b->id);
    fputs("\" d=\"", out);
    int written = 0;
    for (size_t i = 0; i < b->n;) {
        if (!band_ok(b, i)) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < b->n && band_ok(b, end))
            end++;
        for (size_t k = i; k < end; k++)
            fprintf(out, "%s%c%.2f %.2f", written++ ? " " : "", k == i ? 'M' : 'L',
                    map_x(f, b->x[k]), map_y(f, b->hi[k]));
        for (size_t k = end; k-- > i;)
            fprintf(out, " L%.2f %.2f", map_x(f, b->x[k]), map_y(f, b->lo[k]));
        fputs(" Z", out);
        i = end;
    }
    fprintf(out, "\" fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\"/>\n",
            svg_color(b->color));
}

/* Pulls the ends of t in to [limit_lo, limit_hi] where the data (lo, hi)
 * allows; the limits are whole multiples of any 1-2-5 step used for
 * values in [0, 1], so the ticks stay on round numbers. */
static void clamp_ticks(svg_ticks *t, double lo, double hi, double limit_lo,
                        double limit_hi)
{
    if (t->lo < limit_lo && !(lo < limit_lo))
        t->lo = ceil(limit_lo / t->step - 1e-9) * t->step;
    if (t->hi > limit_hi && !(hi > limit_hi))
        t->hi = floor(limit_hi / t->step + 1e-9) * t->step;
    if (t->hi <= t->lo) /* data squeezed against a limit: back off one step */
        t->lo = t->hi - t->step;
    t->count = (int)floor((t->hi - t->lo) / t->step + 0.5) + 1;
}

static void write_panel(FILE *out, double left, double top, const svg_panel *p)
{
    frame f;
    f.x0 = left + PLOT_LEFT;
    f.y0 = top;
    f.w = PANEL_W - PLOT_LEFT - PLOT_RIGHT;
    f.h = PLOT_H;
    double lo, hi;
    data_range(p, 0, &lo, &hi);
    svg_nice_ticks(lo, hi, 10, p->x_integer, &f.xt);
    data_range(p, 1, &lo, &hi);
    /* a little air above and below so no point sits on the frame */
    double pad = (hi - lo) * 0.03;
    svg_nice_ticks(lo - pad, hi + pad, 6, 0, &f.yt);
    if (p->y_limited)
        clamp_ticks(&f.yt, lo, hi, p->y_lo, p->y_hi);

    fputs("<g class=\"panel\">\n", out);
    write_axes(out, &f, p);
    for (size_t b = 0; b < p->nbands; b++)
        write_band(out, &f, &p->bands[b]);
    if (p->zero_line && f.yt.lo < 0 && f.yt.hi > 0)
        fprintf(out, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" "
                     "y2=\"%.2f\" stroke=\"#555\" stroke-dasharray=\"3 3\"/>\n",
                f.x0, map_y(&f, 0), f.x0 + f.w, map_y(&f, 0));
    for (size_t s = 0; s < p->nseries; s++)
        write_series(out, &f, &p->series[s]);
    fputs("</g>\n", out);
}

/* Rough width of text at font size 12 in DejaVu Sans (about 6.8 units a
 * character on average): enough to lay out and centre the legend. */
static double text_width(const char *s)
{
    double w = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c & 0xC0) != 0x80) /* count code points, not bytes */
            w += 6.8;
    return w;
}

#define LEGEND_SAMPLE  30.0 /* the line drawn before each label */
#define LEGEND_GAP     6.0
#define LEGEND_SPACING 26.0
#define LEGEND_TOP     62.0
#define LEGEND_ROW     18.0

static double legend_item_width(const svg_legend_item *it)
{
    return LEGEND_SAMPLE + LEGEND_GAP + text_width(it->label);
}

/* Width of legend items [first, first+k) on one row. */
static double legend_row_width(const svg_figure *fig, size_t first, size_t k)
{
    double total = 0;
    for (size_t i = first; i < first + k && i < fig->nlegend; i++)
        total += (i > first ? LEGEND_SPACING : 0) + legend_item_width(&fig->legend[i]);
    return total;
}

/* The legend goes on as few centred rows as fit, with the same number of
 * items on each (so two variants x two splits wrap as 2 + 2, not 3 + 1).
 * Returns the number of rows so the panels can move down. */
static int write_legend(FILE *out, double width, const svg_figure *fig)
{
    double room = width - 2 * SIDE_MARGIN;
    size_t per_row = fig->nlegend;
    for (; per_row > 1; per_row--) {
        int fits = 1;
        for (size_t first = 0; first < fig->nlegend; first += per_row)
            fits &= legend_row_width(fig, first, per_row) <= room;
        if (fits)
            break;
    }
    if (per_row > 0) { /* balance: as many rows, as even as they can be */
        size_t nrows = (fig->nlegend + per_row - 1) / per_row;
        per_row = (fig->nlegend + nrows - 1) / nrows;
    }
    int rows = 0;
    fputs("<g class=\"legend\" font-size=\"12\" fill=\"#333\">\n", out);
    for (size_t first = 0; first < fig->nlegend; first += per_row, rows++) {
        double x = (width - legend_row_width(fig, first, per_row)) / 2;
        double y = LEGEND_TOP + rows * LEGEND_ROW;
        if (x < SIDE_MARGIN)
            x = SIDE_MARGIN;
        for (size_t i = first; i < first + per_row && i < fig->nlegend; i++) {
            const svg_legend_item *it = &fig->legend[i];
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                         "stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                    x, y - 4, x + LEGEND_SAMPLE, y - 4, svg_color(it->color),
                    it->dashed ? " stroke-dasharray=\"7 5\"" : "");
            write_text(out, x + LEGEND_SAMPLE + LEGEND_GAP, y, "start", NULL,
                       it->label);
            x += legend_item_width(it) + LEGEND_SPACING;
        }
    }
    fputs("</g>\n", out);
    return rows;
}

int svg_write_figure(FILE *out, const svg_figure *fig)
{
    double width = 2 * SIDE_MARGIN + (fig->npanels ? fig->npanels : 1) * PANEL_W;
    /* the legend's height is known once it is laid out: write it to a
     * string first so the svg element can carry the final height */
    char *legend_text = NULL;
    size_t legend_len = 0;
    FILE *legend = open_memstream(&legend_text, &legend_len);
    if (!legend)
        return -1;
    int rows = write_legend(legend, width, fig);
    if (fclose(legend) != 0) {
        free(legend_text);
        return -1;
    }
    double shift = rows > 1 ? (rows - 1) * LEGEND_ROW : 0;
    double height = FIG_H + shift;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
            width, height, width, height);
    fputs("<title>", out);
    svg_write_escaped(out, fig->title);
    fputs("</title>\n", out);
    fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    write_text(out, width / 2, 30, "middle",
               " font-size=\"18\" font-weight=\"bold\" fill=\"#111\"", fig->title);
    fwrite(legend_text, 1, legend_len, out);
    free(legend_text);
    for (size_t p = 0; p < fig->npanels; p++)
        write_panel(out, SIDE_MARGIN + p * PANEL_W, PLOT_TOP + shift, &fig->panels[p]);
    fputs("</svg>\n", out);
    return ferror(out) ? -1 : 0;
}
