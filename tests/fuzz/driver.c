/*
 * driver.c: runs a fuzz target without libFuzzer (a compiler without it,
 * e.g. gcc), with the command line of a libFuzzer binary, so the CTest
 * and bench/fuzz.sh are the same either way:
 *
 *   fuzz_X [-max_total_time=SECONDS] [-seed=N] [-dict=FILE] [-flag=...] DIR|FILE...
 *
 * Every file (and every file in each DIR) is run as it is, then cut at
 * every length up to 4 KiB, then mutated (bytes changed, inserted,
 * deleted, spans duplicated, dictionary words inserted) until the time is
 * up. Not coverage-guided: it finds what is near the seeds. The random
 * generator starts from -seed (default 1), so a run repeats.
 * -close_fd_mask=2 (or 3) silences the target's stderr (its error
 * messages) but not the sanitizers' reports. Other -flags of libFuzzer
 * are accepted and ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

enum { MAX_INPUT = 1 << 20, MAX_WORDS = 256, MAX_SEEDS = 4096 };

typedef struct driver {
    uint64_t rng;
    char    *words[MAX_WORDS];  /* dictionary entries, unescaped */
    size_t   word_len[MAX_WORDS];
    int      nwords;
    uint8_t *seeds[MAX_SEEDS];
    size_t   seed_len[MAX_SEEDS];
    int      nseeds;
    long     runs;
} driver;

static uint32_t rnd(driver *d, uint32_t n) /* xorshift64*, n > 0 */
{
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return (uint32_t)((d->rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static void run(driver *d, const uint8_t *data, size_t size)
{
    LLVMFuzzerTestOneInput(data, size);
    d->runs++;
}

static void add_seed(driver *d, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    uint8_t *buf = malloc(MAX_INPUT);
    size_t n = buf ? fread(buf, 1, MAX_INPUT, f) : 0;
    fclose(f);
    if (!buf || d->nseeds == MAX_SEEDS) {
        free(buf);
        return;
    }
    d->seeds[d->nseeds] = buf;
    d->seed_len[d->nseeds++] = n;
}

static void add_path(driver *d, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(1);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_seed(d, path);
        return;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        perror(path);
        exit(1);
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            add_seed(d, full);
    }
    closedir(dir);
}

/* libFuzzer dictionary lines: name="bytes" with \\, \" and \xNN escapes */
static void load_dict(driver *d, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[1024];
    while (fgets(line, sizeof line, f) && d->nwords < MAX_WORDS) {
        char *q = strchr(line, '"'), *end = strrchr(line, '"');
        if (line[0] == '#' || !q || end == q)
            continue;
        char *w = malloc((size_t)(end - q)), *o = w;
        for (char *p = q + 1; p < end; p++) {
            if (*p == '\\' && p[1] == 'x' && p + 3 < end) {
                char hex[3] = {p[2], p[3], 0};
                *o++ = (char)strtol(hex, NULL, 16);
                p += 3;
            } else if (*p == '\\' && p + 1 < end) {
                *o++ = *++p;
            } else {
                *o++ = *p;
            }
        }
        d->words[d->nwords] = w;
        d->word_len[d->nwords++] = (size_t)(o - w);
    }
    fclose(f);
}

/* one random edit of buf[0..*len), capacity MAX_INPUT */
static void mutate(driver *d, uint8_t *buf, size_t *len)
{
    static const uint8_t special[] = {0, 0xFF, 0x7F, 0x80, 0xC3, '\n', ' ', '0', '9', '-', '.'};
    uint32_t kind = rnd(d, *len ? 6 : 1);
    size_t at = rnd(d, (uint32_t)*len + 1);
    switch (kind) {
    case 0: /* insert a dictionary word, or a byte */
        if (d->nwords > 0 && rnd(d, 2)) {
            int w = (int)rnd(d, (uint32_t)d->nwords);
            size_t n = d->word_len[w];
            if (*len + n <= MAX_INPUT) {
                memmove(buf + at + n, buf + at, *len - at);
                memcpy(buf + at, d->words[w], n);
                *len += n;
            }
        } else if (*len < MAX_INPUT) {
            memmove(buf + at + 1, buf + at, *len - at);
            buf[at] = (uint8_t)rnd(d, 256);
            (*len)++;
        }
        break;
    case 1: /* set a byte to a random or a special value */
        if (at < *len)
            buf[at] = rnd(d, 2) ? (uint8_t)rnd(d, 256) : special[rnd(d, sizeof special)];
        break;
    case 2: /* flip a bit */
        if (at < *len)
            buf[at] ^= (uint8_t)(1u << rnd(d, 8));
        break;
    case 3: { /* delete a span */
        size_t n = 1 + rnd(d, 16);
        if (at + n > *len)
            n = *len - at;
        memmove(buf + at, buf + at + n, *len - at - n);
        *len -= n;
        break;
    }
    case 4: { /* duplicate a span */
        size_t n = 1 + rnd(d, 64);
        if (at + n > *len)
            n = *len - at;
        if (*len + n <= MAX_INPUT) {
            memmove(buf + at + n, buf + at, *len - at);
            *len += n;
        }
        break;
    }
    case 5: /* overwrite 4 bytes with a little-endian extreme value */
        if (at + 4 <= *len) {
            static const uint32_t v[] = {0, 1, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0x10000u};
            uint32_t x = v[rnd(d, sizeof v / sizeof v[0])];
            for (int i = 0; i < 4; i++)
                buf[at + (size_t)i] = (uint8_t)(x >> (8 * i));
        }
        break;
    }
}

int main(int argc, char **argv)
{
    static driver d;
    double seconds = 5;
    int close_mask = 0;
    d.rng = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "-max_total_time=", 16) == 0)
            seconds = atof(a + 16);
        else if (strncmp(a, "-seed=", 6) == 0)
            d.rng = strtoull(a + 6, NULL, 10) | 1;
        else if (strncmp(a, "-close_fd_mask=", 15) == 0)
            close_mask = atoi(a + 15);
        else if (strncmp(a, "-dict=", 6) == 0)
            load_dict(&d, a + 6);
        else if (a[0] == '-')
            ; /* another libFuzzer flag: nothing to do here */
        else
            add_path(&d, a);
    }
    if (d.nseeds == 0) {
        fputs("fuzz driver: no input files (give seed files or directories)\n", stderr);
        return 1;
    }
    if (close_mask & 2) { /* reports go to a copy of stderr, the rest nowhere */
        int keep = dup(2);
        FILE *null = fopen("/dev/null", "w");
        if (keep < 0 || !null)
            return 1;
        __sanitizer_set_report_fd((void *)(intptr_t)keep);
        dup2(fileno(null), 2);
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int s = 0; s < d.nseeds; s++) {
        size_t n = d.seed_len[s] < 4096 ? d.seed_len[s] : 4096;
        run(&d, d.seeds[s], d.seed_len[s]);
        for (size_t cut = 0; cut < n; cut++)
            run(&d, d.seeds[s], cut);
    }
    uint8_t *buf = malloc(MAX_INPUT);
    if (!buf)
        return 1;
    double elapsed = 0;
    while (elapsed < seconds) {
        for (int k = 0; k < 64; k++) {
            int s = (int)rnd(&d, (uint32_t)d.nseeds);
            size_t len = d.seed_len[s];
            memcpy(buf, d.seeds[s], len);
            for (uint32_t m = 1 + rnd(&d, 4); m > 0; m--)
                mutate(&d, buf, &len);
            run(&d, buf, len);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        elapsed = (double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec);
    }
    printf("Done %ld runs in %.0f second(s) (plain driver: %d seed files, no sanitizer reports)\n",
           d.runs, elapsed, d.nseeds);
    free(buf);
    return 0;
}
