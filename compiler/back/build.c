/*
 * build.c: `seqc build`'s second half, running the C compiler on the
 * generated trainer. No shell is involved: the command is an argv for
 * proc_start (util/proc.h), so paths with spaces or quotes are passed as
 * they are. The program is compiled in a private temporary directory and
 * put at its output through seqrt's writer (symlinks, devices, atomic).
 *
 * -O2 and no -march=native: the generated file is straight-line calls
 * into libseqrt (built by CMake with its own flags: -O3, AVX-512 or AVX2 kernels
 * chosen at run time), so tuning it for the machine gains nothing and
 * would make the trainer non-portable. -pthread: libseqrt runs a worker
 * thread pool (runtime/src/loop/parallel.c).
 *
 * --mpi builds the same C file with the MPI C compiler wrapper and
 * -DSEQRT_MPI, linked with libseqrt_mpi.a (MPI's side of data-parallel
 * training, built only when CMake found MPI) before libseqrt.a: libseqrt
 * and seqc themselves never need MPI.
 */
#define _POSIX_C_SOURCE 200809L
#include "back/build.h"
#include "util/proc.h"

#include "seqrt.h" /* seqrt_outfile: the one writer that never destroys */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SEQC_C_COMPILER
#define SEQC_C_COMPILER "cc"
#endif
#ifndef SEQC_MPI_C_COMPILER /* CMake's MPI_C_COMPILER; "" when it found none */
#define SEQC_MPI_C_COMPILER ""
#endif
#ifndef SEQC_LINK_LIBS
#define SEQC_LINK_LIBS "-lopenblas;-lzip;-lz;-lm"
#endif

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir holds seqrt.h and lib_dir holds libseqrt.a: fill the outputs */
static bool try_dirs(const char *inc, const char *lib_dir, char *include_dir, size_t isize,
                     char *lib_path, size_t lsize)
{
    char h[4200], l[4200];
    snprintf(h, sizeof h, "%s/seqrt.h", inc);
    snprintf(l, sizeof l, "%s/libseqrt.a", lib_dir);
    if (!is_file(h) || !is_file(l))
        return false;
    snprintf(include_dir, isize, "%s", inc);
    snprintf(lib_path, lsize, "%s", l);
    return true;
}

int build_find_runtime(char *include_dir, size_t isize, char *lib_path, size_t lsize)
{
    /* 1. relative to this executable: PREFIX/bin/seqc */
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0; /* exe is now the executable's directory */
            char *bin = strrchr(exe, '/');
            if (bin && strcmp(bin, "/bin") == 0) {
                *bin = 0; /* the prefix */
                char inc[4160], lib[4160];
                snprintf(inc, sizeof inc, "%s/include", exe);
                /* the configured libdir relative to its prefix (lib, lib64,
                 * lib/x86_64-linux-gnu), then plain lib */
                const char *cfg_inc = SEQC_INSTALL_INCLUDE_DIR, *cfg_lib = SEQC_INSTALL_LIB_DIR;
                const char *cut = strrchr(cfg_inc, '/');
                size_t plen = cut ? (size_t)(cut - cfg_inc) : 0;
                if (plen > 0 && strncmp(cfg_lib, cfg_inc, plen) == 0 && cfg_lib[plen] == '/') {
                    snprintf(lib, sizeof lib, "%s%s", exe, cfg_lib + plen);
                    if (try_dirs(inc, lib, include_dir, isize, lib_path, lsize))
                        return 0;
                }
                snprintf(lib, sizeof lib, "%s/lib", exe);
                if (try_dirs(inc, lib, include_dir, isize, lib_path, lsize))
                    return 0;
            }
        }
    }
    /* 2. the build tree, 3. the configured prefix */
    if (try_dirs(SEQC_BUILD_INCLUDE_DIR, SEQC_BUILD_LIB_DIR, include_dir, isize, lib_path,
                 lsize))
        return 0;
    if (try_dirs(SEQC_INSTALL_INCLUDE_DIR, SEQC_INSTALL_LIB_DIR, include_dir, isize,
                 lib_path, lsize))
        return 0;
    fprintf(stderr,
            "seqc: error: cannot find the runtime (libseqrt.a and seqrt.h): looked beside "
            "seqc (PREFIX/lib, PREFIX/include), in the build tree (%s) and in %s; "
            "build it with `cmake --build` or install it with `cmake --install`\n",
            SEQC_BUILD_LIB_DIR, SEQC_INSTALL_LIB_DIR);
    return 1;
}

/* Appends the words of s (split at spaces and at CMake's ';') to argv. */
static void add_words(char **argv, int *argc, int max, char *s)
{
    for (char *w = strtok(s, " ;\t"); w && *argc < max - 1; w = strtok(NULL, " ;\t"))
        argv[(*argc)++] = w;
}

/*
 * Copies the compiled program at tmp to out through seqrt's output writer,
 * so a symlink is written through, a device stays a device and a crash
 * never leaves half a program. A new file gets rwxr-xr-x less the umask;
 * a replaced one keeps its permissions, plus execute wherever it has read.
 */
static int install_program(const char *tmp, const char *out)
{
    seqrt_error err = {{0}};
    struct stat before;
    int existed = stat(out, &before) == 0;
    FILE *in = fopen(tmp, "rb");
    seqrt_outfile o;
    if (!in || seqrt_outfile_open(&o, out, &err) != 0) {
        if (!in)
            fprintf(stderr, "seqc: error: cannot read %s: %s\n", tmp, strerror(errno));
        else
            fprintf(stderr, "seqc: error: %s\n", err.msg);
        if (in)
            fclose(in);
        return 1;
    }
    if (o.tmp[0] && existed) {
        mode_t m = before.st_mode & 07777;
        (void)fchmod(fileno(o.f), m | (m & 0444) >> 2);
    } else if (o.tmp[0]) {
        mode_t mask = umask(0);
        umask(mask);
        (void)fchmod(fileno(o.f), 0755 & ~mask);
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (seqrt_outfile_write(&o, buf, n) != 0)
            break;
    int bad = ferror(in);
    fclose(in);
    if (bad) {
        seqrt_outfile_abort(&o);
        fprintf(stderr, "seqc: error: cannot read %s\n", tmp);
        return 1;
    }
    if (seqrt_outfile_commit(&o, 0, &err) != 0) {
        fprintf(stderr, "seqc: error: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int build_find_mpicc(const char *env_mpicc, const char *configured, const char *path,
                     char *out, size_t size)
{
    return proc_find_tool(env_mpicc, configured, "mpicc", path, out, size);
}

int build_prepare(build_env *e, bool mpi)
{
    memset(e, 0, sizeof *e);
    e->mpi = mpi;
    if (build_find_runtime(e->include_dir, sizeof e->include_dir, e->lib_path,
                           sizeof e->lib_path) != 0)
        return 1;
    if (!mpi)
        return 0;
    const char *env = getenv("MPICC");
    int rc = build_find_mpicc(env, SEQC_MPI_C_COMPILER, getenv("PATH"), e->mpicc,
                              sizeof e->mpicc);
    if (rc == 1) {
        fprintf(stderr, "seqc: error: seqc build --mpi needs an MPI C compiler (mpicc): "
                        "$MPICC is '%s', which is not a program; set MPICC to the MPI C "
                        "compiler, or unset it to use mpicc\n", env);
        return 1;
    }
    if (rc == 2) {
        fprintf(stderr, "seqc: error: seqc build --mpi needs an MPI C compiler (mpicc), and "
                        "there is none on PATH: on Debian, apt-get install openmpi-bin "
                        "libopenmpi-dev (or set MPICC to one)\n");
        return 1;
    }
    /* beside the libseqrt.a found: the two are built together */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", e->lib_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(e->mpi_lib_path, sizeof e->mpi_lib_path, "%s/libseqrt_mpi.a", dir);
    if (!is_file(e->mpi_lib_path)) {
        fprintf(stderr, "seqc: error: this seqc was built without MPI support "
                        "(libseqrt_mpi.a not found in %s): reconfigure with MPI installed "
                        "(on Debian, apt-get install openmpi-bin libopenmpi-dev) and build "
                        "again\n", dir);
        return 1;
    }
    return 0;
}

int build_trainer(const char *c_path, const char *out_path, bool verbose)
{
    build_env e;
    if (build_prepare(&e, false) != 0)
        return 1;
    return build_compile(&e, c_path, out_path, verbose);
}

int build_compile(const build_env *e, const char *c_path, const char *out_path, bool verbose)
{
    /* the compiler: --mpi's wrapper; else $CC, else the configured one if
     * it still exists, else cc */
    const char *env_cc = getenv("CC");
    char *cc;
    if (e->mpi)
        cc = strdup(e->mpicc);
    else if (env_cc && *env_cc)
        cc = strdup(env_cc);
    else if (access(SEQC_C_COMPILER, X_OK) == 0)
        cc = strdup(SEQC_C_COMPILER);
    else
        cc = strdup("cc");
    char *libs = strdup(SEQC_LINK_LIBS);
    /* the compiler writes into a private directory; install_program then
     * puts the program at out_path */
    const char *tmpdir = getenv("TMPDIR");
    char dir[4200], tmp_out[4300], inc_flag[4200];
    snprintf(dir, sizeof dir, "%s/seqc-cc-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    snprintf(inc_flag, sizeof inc_flag, "-I%s", e->include_dir);
    if (!cc || !libs) {
        fputs("seqc: out of memory\n", stderr);
        exit(1);
    }
    if (!mkdtemp(dir)) {
        fprintf(stderr, "seqc: error: cannot make a temporary directory %s: %s\n", dir,
                strerror(errno));
        free(cc);
        free(libs);
        return 1;
    }
    snprintf(tmp_out, sizeof tmp_out, "%s/trainer", dir);

    enum { MAXARGS = 64 };
    char *argv[MAXARGS];
    int argc = 0;
    add_words(argv, &argc, MAXARGS, cc);
    /* --mpi: main calls seqrt_mpi_main (-DSEQRT_MPI), which calls into
     * libseqrt: libseqrt_mpi.a comes first */
    char *fixed[] = {"-std=c11", "-O2", "-pthread", inc_flag,
                     e->mpi ? "-DSEQRT_MPI" : NULL, "-o", tmp_out, (char *)c_path,
                     e->mpi ? (char *)e->mpi_lib_path : NULL, (char *)e->lib_path};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && argc < MAXARGS - 1; i++)
        if (fixed[i])
            argv[argc++] = fixed[i];
    add_words(argv, &argc, MAXARGS, libs);
    argv[argc] = NULL;

    if (verbose) {
        for (int i = 0; i < argc; i++)
            fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
        fputc('\n', stderr);
    }

    int status = 1, sig;
    pid_t pid = proc_start(argv, -1);
    int rc = pid < 0 ? -1 : proc_wait(pid, &sig);
    if (pid < 0) {
        fprintf(stderr, "seqc: error: cannot run the C compiler '%s': %s "
                        "(set %s to choose another)\n", argv[0], strerror(errno),
                e->mpi ? "MPICC" : "CC");
    } else if (rc == 0) {
        status = install_program(tmp_out, out_path);
    } else {
        fprintf(stderr, "seqc: error: the C compiler failed on %s (its messages are "
                        "above); this is a bug in seqc or a broken runtime install\n",
                c_path);
    }
    remove(tmp_out);
    rmdir(dir);
    free(cc);
    free(libs);
    return status;
}
