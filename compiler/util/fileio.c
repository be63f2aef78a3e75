/* fileio.c: output files, written through libseqrt's one safe writer
 * (runtime/src/data/outfile.c: atomic replace, symlinks written through,
 * devices written in place, directories refused). */
#include "util/fileio.h"

#include "seqrt.h"

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
