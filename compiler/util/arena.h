/*
 * arena.h: one arena per compilation. Everything the front end and the
 * passes allocate (AST nodes, strings, IR) lives here and is freed at once.
 * Allocation failure prints "seqc: out of memory" and exits 1: the compiler
 * has nothing to save and no partial output to protect at that point.
 */
#ifndef SEQC_ARENA_H
#define SEQC_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
} arena;

void  arena_init(arena *a);
void  arena_free(arena *a);
/* zeroed, aligned for any type */
void *arena_alloc(arena *a, size_t size);
void *arena_array(arena *a, size_t count, size_t size); /* overflow-checked */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
