/*
 * fileio.c: atomic output files (write a temporary, then rename), the
 * checks an output path passes before any work, and the one bounded
 * whole-file reader.
 */
#define _POSIX_C_SOURCE 200809L
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seqrt.h"

/* Through libseqrt's one safe writer (runtime/src/data/outfile.c): a
 * regular file replaced atomically, a symlink written through, a device
 * written in place, a directory or a missing directory refused. */
int file_write_atomic(const char *path, const char *who,
                      int (*writer)(FILE *f, const void *ctx), const void *ctx)
{
    seqrt_error err = {{0}};
    if (seqrt_write_file(path, writer, ctx, &err) != 0) {
        fprintf(stderr, "%s: error: %s\n", who, err.msg);
        return 1;
    }
    return 0;
}

/* "64 MiB", "100 bytes": a limit as a reader would write it */
static void format_size(char *buf, size_t n, size_t bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(buf, n, "%zu MiB", bytes / (1024 * 1024));
    else
        snprintf(buf, n, "%zu bytes", bytes);
}

static int too_large(char *why, size_t whylen, size_t max_bytes)
{
    char lim[32];
    format_size(lim, sizeof lim, max_bytes);
    snprintf(why, whylen, "larger than %s, the limit for this file", lim);
    return -1;
}

/* read() until EOF or more than max bytes; the buffer grows as bytes
 * arrive, so a header's or st_size's claim never sizes it */
static int read_fd(int fd, size_t max_bytes, char **text, size_t *len, char *why, size_t whylen)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        if (n + 1 == cap) {
            size_t bigger = cap <= SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
            if (bigger - 1 > max_bytes + 1) /* room for max_bytes + 1 and the NUL */
                bigger = max_bytes + 2;
            char *nb = realloc(buf, bigger);
            if (!nb)
                free(buf);
            buf = nb;
            cap = bigger;
            continue;
        }
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(why, whylen, "cannot read: %s", strerror(errno));
            free(buf);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > max_bytes) {
            free(buf);
            return too_large(why, whylen, max_bytes);
        }
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int file_read_all(const char *path, size_t max_bytes, char **text, size_t *len, char *why,
                  size_t whylen)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0)
        snprintf(why, whylen, "cannot read: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        snprintf(why, whylen, "is a directory, not a file");
    else if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_bytes)
        too_large(why, whylen, max_bytes);
    else
        rc = read_fd(fd, max_bytes, text, len, why, whylen);
    close(fd);
    return rc;
}

const char *path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

size_t path_stem_len(const char *path)
{
    const char *base = path_base(path);
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".seq") == 0)
        n -= 4;
    return n;
}

/* path's directory ("." for a bare name) must exist and be a directory */
static int check_output_dir(const char *path, char *why, size_t whylen)
{
    const char *base = path_base(path);
    size_t n = (size_t)(base - path);
    char dir[4096];
    if (n >= sizeof dir) {
        snprintf(why, whylen, "the path is too long");
        return -1;
    }
    if (n == 0) {
        dir[0] = '.', dir[1] = '\0';
    } else {
        if (n > 1)
            n--; /* "a/b" -> "a", but "/x" -> "/" */
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            snprintf(why, whylen, "the directory %s does not exist", dir);
        else if (errno == ENOTDIR)
            snprintf(why, whylen, "%s is not a directory", dir);
        else
            snprintf(why, whylen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a directory", dir);
        return -1;
    }
    /* the writer makes a temporary file beside the output: it needs the
     * directory, not only the file, to be writable */
    if (access(dir, W_OK) != 0) {
        snprintf(why, whylen, "cannot write in the directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int file_check_target(const char *path, const char *const *inputs, size_t ninputs, char *why,
                      size_t whylen)
{
    struct stat out;
    if (stat(path, &out) != 0)
        return 0; /* a new file (or a dangling link, which the writer follows) */
    if (S_ISDIR(out.st_mode)) {
        snprintf(why, whylen, "it is a directory");
        return -1;
    }
    for (size_t i = 0; i < ninputs; i++) {
        struct stat in;
        if (stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
            snprintf(why, whylen, "it is the input %s", inputs[i]);
            return -1;
        }
    }
    return 0;
}

int file_check_output(const char *path, const char *const *inputs, size_t ninputs, char *why,
                      size_t whylen)
{
    if (*path_base(path) == '\0') {
        snprintf(why, whylen, "it names a directory, not a file");
        return -1;
    }
    if (check_output_dir(path, why, whylen) != 0)
        return -1;
    return file_check_target(path, inputs, ninputs, why, whylen);
}
