/*
 * svg.h: a small plotting module: line charts as a standalone SVG file.
 *
 * A figure is a title, a legend row and one or more panels side by side.
 * Each panel has axes with "nice" ticks (steps of 1, 2 or 5 times a power
 * of ten), grid lines, axis labels and a set of series drawn as one <path>
 * each (class and id given by the caller, so a test or a stylesheet can
 * find them). Points whose x or y is NaN or infinite are skipped and break
 * the line; a flat series gets a non-zero range around its value; short
 * series also get a marker per point so a single epoch is still visible.
 * A panel may also hold bands (a translucent area between two curves).
 * All caller text is escaped for XML and made valid UTF-8.
 */
#ifndef SEQC_SVG_H
#define SEQC_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct svg_series {
    const char   *id;     /* unique id attribute (letters, digits, - and _) */
    const char   *cls;    /* extra class names, e.g. "variant-0 loss train" */
    int           color;  /* index into the palette (svg_color) */
    int           dashed; /* nonzero: dashed stroke */
    size_t        n;      /* points */
    const double *x, *y;  /* x[n], y[n] */
} svg_series;

/* A translucent band between lo and hi along x (mean -+ sd, an
 * interval), drawn under the curves as one <path class="band ...">;
 * non-finite points break it into pieces. */
typedef struct svg_band {
    const char   *id;     /* unique id attribute */
    const char   *cls;    /* extra class names */
    int           color;  /* palette index, as the curve it goes with */
    size_t        n;
    const double *x, *lo, *hi; /* x[n], lo[n], hi[n] */
} svg_band;

typedef struct svg_panel {
    const char       *title;    /* above the plot area */
    const char       *xlabel, *ylabel;
    int               x_integer;/* x ticks only at whole numbers (epochs) */
    size_t            nseries;
    const svg_series *series;
    /* y_limited: the y axis never goes beyond [y_lo, y_hi] (accuracy lives
     * in [0, 1], a loss is never negative), whatever the padding and the
     * rounding to whole ticks would do; data outside still widens it */
    int               y_limited;
    double            y_lo, y_hi;
    size_t            nbands;   /* bands under the series (may be 0) */
    const svg_band   *bands;
    int               zero_line;/* a line at y = 0 (a difference's "no effect") */
} svg_panel;

typedef struct svg_legend_item {
    const char *label;
    int         color;
    int         dashed;
} svg_legend_item;

typedef struct svg_figure {
    const char            *title;
    size_t                 npanels;
    const svg_panel       *panels;
    size_t                 nlegend;
    const svg_legend_item *legend;
} svg_figure;

/* An axis range and its ticks: lo + i*step for i in [0, count). */
typedef struct svg_ticks {
    double lo, hi, step;
    int    count;
    int    decimals; /* digits after the point the labels need */
} svg_ticks;

/* Ticks covering [lo, hi] with about `target` intervals, range widened to
 * whole steps. A flat or empty range (lo == hi, or no finite values) is
 * widened first so the result always has hi > lo. integer: step >= 1. */
void svg_nice_ticks(double lo, double hi, int target, int integer,
                    svg_ticks *out);

/* "#1f77b4", ...: distinct colours, cycled. */
const char *svg_color(int index);

/* Writes text with & < > " ' escaped, control characters and bytes that
 * are not valid UTF-8 replaced by '?'. */
void svg_write_escaped(FILE *out, const char *text);

/* Writes the whole document. Returns 0, or -1 when writing failed. */
int svg_write_figure(FILE *out, const svg_figure *fig);

#endif
