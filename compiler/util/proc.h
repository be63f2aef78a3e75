/*
 * proc.h: running another program (the C compiler, a trainer) without a
 * shell: argv goes to posix_spawn as it is, so paths with spaces or quotes
 * need no quoting.
 */
#ifndef SEQC_PROC_H
#define SEQC_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Starts argv[0] (looked up in PATH when it has no '/'), with its stdout
 * and stderr going to out_fd when out_fd >= 0 (inherited otherwise).
 * Returns the child's pid, or -1 with errno set when it could not be
 * started, including when the program does not exist or cannot be run. */
pid_t proc_start(char *const argv[], int out_fd);

/* Waits for pid. Returns its exit status (0-255), or -1 when it was killed
 * (*signal set to the signal) or could not be waited for (*signal 0). */
int proc_wait(pid_t pid, int *signal);

/*
 * The program a tool is run as (the MPI compiler wrapper, mpiexec): the
 * environment variable's value when it is set and not blank, as given
 * (its first word must be a program: a path, or a name in path, the
 * ':'-separated PATH; later words are its options), never a fallback;
 * else `configured` (the one CMake found: a path to an executable file);
 * else `name` in path. Writes the command into out. Returns 0; 1 when the
 * variable names no program; 2 when nothing was found.
 */
int proc_find_tool(const char *env_value, const char *configured, const char *name,
                   const char *path, char *out, size_t size);

#endif
