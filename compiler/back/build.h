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

/* Everything a build needs from the system, found before any work (so a
 * missing piece is reported before anything is written). */
typedef struct build_env {
    bool mpi;                /* seqc build --mpi */
    char include_dir[4096];  /* holds seqrt.h */
    char lib_path[4096];     /* libseqrt.a */
    char mpi_lib_path[4200]; /* --mpi: libseqrt_mpi.a, beside libseqrt.a */
    char mpicc[4096];        /* --mpi: the MPI C compiler, as to run it */
} build_env;

/* Fills *e: the runtime (build_find_runtime) and, with mpi, the MPI C
 * compiler (build_find_mpicc with $MPICC, the one CMake found when seqc
 * was configured, and PATH) and libseqrt_mpi.a in libseqrt.a's directory.
 * Returns 0, or 1 after printing what is missing and how to get it. */
int build_prepare(build_env *e, bool mpi);

/* build_trainer with a prepared environment. With e->mpi the compiler is
 * e->mpicc (not $CC: an MPI wrapper chooses its own, Open MPI's from
 * $OMPI_CC), the file is compiled with -DSEQRT_MPI (its main calls
 * seqrt_mpi_main) and libseqrt_mpi.a is linked before libseqrt.a, whose
 * seqrt_main it calls. */
int build_compile(const build_env *e, const char *c_path, const char *out_path, bool verbose);

/* The MPI C compiler: env_mpicc ($MPICC) when it is set and not empty,
 * and nothing else then; else configured (CMake's MPI_C_COMPILER, "" when
 * CMake found none) when it is an executable file; else mpicc in the
 * directories of path ($PATH). A name without '/' is looked up in path.
 * Writes the command (the words of $MPICC, with its first word as given)
 * to out. Returns 0; 1 when $MPICC names no program; 2 when there is no
 * $MPICC and no MPI C compiler was found. */
int build_find_mpicc(const char *env_mpicc, const char *configured, const char *path,
                     char *out, size_t size);

#endif
