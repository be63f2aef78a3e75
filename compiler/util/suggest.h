/*
 * suggest.h: "did you mean ...?" for misspelt names.
 */
#ifndef SEQC_SUGGEST_H
#define SEQC_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance (Levenshtein plus swapping two
 * neighbours), compared case-insensitively. Words longer than 64 bytes
 * give a large distance. */
int suggest_distance(const char *a, const char *b);

/* The candidate closest to word, or NULL when none is close enough to be
 * a likely typo (distance at most 1 for short words, up to 3 for long). */
const char *suggest(const char *word, const char *const *candidates, size_t n);

#endif
