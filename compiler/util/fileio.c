/* fileio.c: atomic output files (write a temporary, then rename). */
#include "util/fileio.h"

#include <errno.h>
#include <string.h>
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
