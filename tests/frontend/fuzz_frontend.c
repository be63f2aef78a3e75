/*
 * fuzz_frontend.c: robustness of the front end, built with AddressSanitizer
 * and UndefinedBehaviorSanitizer (any report aborts the run).
 *
 * For each file given (the models, and a few test files that use every
 * layer kind and every kind of syntax error): every prefix of it (truncated at every byte),
 * then a fixed number of copies with a few bytes changed, lines duplicated
 * or spans deleted, each parsed and checked in-process (the same
 * frontend_load_text that `seqc check` runs) and, when it passes, printed
 * as a summary. Diagnostics go to /dev/null. The random generator has a
 * fixed seed, so a failure repeats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "front/diag.h"
#include "front/frontend.h"
#include "front/summary.h"

enum { MUTATIONS_PER_FILE = 4000 };

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n) /* xorshift64*, uniform enough for fuzzing */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static long runs, accepted;

static void run(FILE *null, const char *text, size_t len)
{
    arena a;
    arena_init(&a);
    diag d;
    diag_init(&d, "fuzz.seq", NULL, 0, null);
    model m;
    if (frontend_load_text(&a, &d, text, len, &m) == 0) {
        summary_print(null, &m);
        const layer_kind bn = LAYER_BATCHNORM;
        if (model_without(&m, &bn, 1) == 0)
            summary_print(null, &m);
        accepted++;
    }
    runs++;
    arena_free(&a);
}

/* bytes a mutation writes: the language's own characters, digits, letters,
 * and a few that must be refused (NUL, invalid UTF-8, a UTF-8 letter) */
static const char alphabet[] = "{}=;#\n\r\t x.-e0123456789abdnrs_";

static void mutate(char *buf, size_t *len, size_t cap)
{
    int kind = (int)rnd(5);
    if (*len == 0)
        kind = 0;
    switch (kind) {
    case 0: /* insert a byte */
        if (*len + 1 < cap) {
            size_t at = rnd((uint32_t)*len + 1);
            memmove(buf + at + 1, buf + at, *len - at);
            buf[at] = alphabet[rnd(sizeof alphabet - 1)];
            (*len)++;
        }
        break;
    case 1: /* overwrite bytes */
    case 2:
        for (uint32_t n = 1 + rnd(3); n > 0; n--) {
            size_t at = rnd((uint32_t)*len);
            uint32_t r = rnd(20);
            buf[at] = r == 0 ? '\0' : r == 1 ? (char)0xFF : r == 2 ? (char)0xC3
                    : alphabet[rnd(sizeof alphabet - 1)];
        }
        break;
    case 3: { /* delete a span */
        size_t at = rnd((uint32_t)*len), n = 1 + rnd(12);
        if (at + n > *len)
            n = *len - at;
        memmove(buf + at, buf + at + n, *len - at - n);
        *len -= n;
        break;
    }
    case 4: { /* duplicate a span */
        size_t at = rnd((uint32_t)*len), n = 1 + rnd(40);
        if (at + n > *len)
            n = *len - at;
        if (*len + n < cap) {
            memmove(buf + at + n, buf + at, *len - at);
            (*len) += n;
        }
        break;
    }
    }
}

int main(int argc, char **argv)
{
    FILE *null = fopen("/dev/null", "w");
    if (!null) {
        perror("/dev/null");
        return 1;
    }
    for (int f = 1; f < argc; f++) {
        FILE *fp = fopen(argv[f], "rb");
        if (!fp) {
            perror(argv[f]);
            return 1;
        }
        static char orig[1 << 16];
        size_t n = fread(orig, 1, sizeof orig, fp);
        fclose(fp);
        for (size_t cut = 0; cut <= n; cut++)
            run(null, orig, cut);
        static char buf[1 << 17];
        for (int i = 0; i < MUTATIONS_PER_FILE; i++) {
            size_t len = n;
            memcpy(buf, orig, n);
            for (uint32_t k = 1 + rnd(3); k > 0; k--)
                mutate(buf, &len, sizeof buf);
            run(null, buf, len);
        }
    }
    fclose(null);
    printf("%ld inputs, %ld accepted, no sanitizer reports\n", runs, accepted);
    /* the checks past the parser were reached, or little was tested */
    return accepted > 0 ? 0 : 1;
}
