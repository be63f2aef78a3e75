/* fileio.c: atomic output files (write a temporary, then rename). */
#include "util/fileio.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int file_write_atomic(const char *path, const char *who,
                      int (*writer)(FILE *f, const void *ctx), const void *ctx)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        fprintf(stderr, "%s: error: cannot write %s: path too long\n", who, path);
        return 1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "%s: error: cannot write %s: %s\n", who, path, strerror(errno));
        return 1;
    }
    errno = 0;
    int bad = writer(f, ctx);
    if (ferror(f))
        bad = -1;
    if (fclose(f) != 0)
        bad = -1;
    if (bad != 0 || rename(tmp, path) != 0) {
        int e = errno;
        fprintf(stderr, "%s: error: cannot write %s: %s\n", who, path,
                e ? strerror(e) : "the writer failed");
        remove(tmp);
        return 1;
    }
    return 0;
}
