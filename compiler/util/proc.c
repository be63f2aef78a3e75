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
#include <spawn.h>
#include <stdio.h>
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
