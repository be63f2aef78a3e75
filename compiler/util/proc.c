/*
 * proc.c: starting and waiting for a child program (proc.h).
 *
 * posix_spawnp rather than fork and exec: glibc reports a program that
 * cannot be run as the call's error, so the parent prints one message
 * with the reason instead of the child printing it after the fork.
 */
#define _POSIX_C_SOURCE 200809L
#include "util/proc.h"

#include <errno.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

pid_t proc_start(char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    int err = posix_spawn_file_actions_init(&fa);
    if (err == 0 && out_fd >= 0) {
        err = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        if (err == 0)
            err = posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
    }
    /* what this process buffered must come out before the child's output */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = -1;
    if (err == 0)
        err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return pid;
}

int proc_wait(pid_t pid, int *signal)
{
    int ws;
    *signal = 0;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        *signal = WTERMSIG(ws);
    return -1;
}

/* name is a program: an executable regular file at that path, or, without
 * a '/', in one of path's directories (':'-separated; "" is the current
 * directory, as in execvp; no PATH: execvp's default) */
static bool is_program(const char *name, const char *path)
{
    struct stat st;
    if (!*name)
        return false;
    if (strchr(name, '/'))
        return stat(name, &st) == 0 && S_ISREG(st.st_mode) && access(name, X_OK) == 0;
    for (const char *p = path ? path : "/usr/bin:/bin"; p;) {
        const char *colon = strchr(p, ':');
        int n = colon ? (int)(colon - p) : (int)strlen(p);
        char full[4200];
        snprintf(full, sizeof full, "%.*s%s%s", n, p, n ? "/" : "", name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return true;
        p = colon ? colon + 1 : NULL;
    }
    return false;
}

int proc_find_tool(const char *env_value, const char *configured, const char *name,
                   const char *path, char *out, size_t size)
{
    if (env_value && env_value[strspn(env_value, " \t")]) {
        char first[4096];
        size_t skip = strspn(env_value, " \t"), n = strcspn(env_value + skip, " \t");
        snprintf(first, sizeof first, "%.*s", (int)n, env_value + skip);
        snprintf(out, size, "%s", env_value);
        return is_program(first, path) ? 0 : 1;
    }
    if (configured && *configured && strchr(configured, '/') && is_program(configured, path)) {
        snprintf(out, size, "%s", configured);
        return 0;
    }
    if (is_program(name, path)) {
        snprintf(out, size, "%s", name);
        return 0;
    }
    return 2;
}
