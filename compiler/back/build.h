/*
 * build.h: compiling a generated trainer with the system C compiler.
 */
#ifndef SEQC_BUILD_H
#define SEQC_BUILD_H

#include <stdbool.h>
#include <stddef.h>

/* Where libseqrt.a and seqrt.h are. First match wins:
 *   1. beside the running seqc: PREFIX/bin/seqc -> PREFIX/lib, PREFIX/include
 *      (an installed or relocated copy);
 *   2. the build tree seqc was built in (SEQC_BUILD_LIB_DIR, ..._INCLUDE_DIR);
 *   3. the configured install prefix (SEQC_INSTALL_LIB_DIR, ..._INCLUDE_DIR).
 * Returns 0, or 1 after printing where it looked. */
int build_find_runtime(char *include_dir, size_t isize, char *lib_path, size_t lsize);

/* Compiles c_path into the executable out_path: cc -std=c11 -O2 against
 * libseqrt, OpenBLAS, zlib and libm. The compiler is $CC when set, else
 * the one seqc was configured with, else "cc". The executable is written
 * to OUT.tmp.PID and renamed, so out_path is either the old file or the
 * whole new one. verbose prints the command. Returns 0, or 1 after an
 * error message (the compiler's own output goes to stderr as it comes). */
int build_trainer(const char *c_path, const char *out_path, bool verbose);

#endif
