/*
 * runs.c: trainers in parallel with their logs, and the test line (runs.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "lab/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/proc.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "runs 3/10 done, ETA 12 s": the ETA from the pace so far, which with J
 * runs at a time already counts the parallelism. */
static void show_progress(FILE *f, bool tty, size_t done, size_t total, double elapsed)
{
    if (!f)
        return;
    fprintf(f, "%sruns %zu/%zu done", tty ? "\r" : "", done, total);
    if (done > 0 && done < total)
        fprintf(f, ", ETA %.0f s", elapsed / (double)done * (double)(total - done));
    else if (done == total)
        fprintf(f, " in %.1f s", elapsed);
    fputs(tty ? (done == total ? "\n" : "   ") : "\n", f);
    fflush(f);
}

/* A failed run's log: the whole of it up to LOG_WHOLE_LINES lines, else
 * its last LOG_TAIL_LINES lines. */
#define LOG_WHOLE_LINES 24
#define LOG_TAIL_LINES  8

/* The end of a log, to show why a run failed. */
static void print_log_tail(const char *path)
{
    char *text, why[256];
    size_t len;
    if (file_read_all(path, (size_t)64 << 20, &text, &len, why, sizeof why) != 0)
        return;
    size_t total = 0;
    for (size_t i = 0; i < len; i++)
        total += text[i] == '\n' || (i + 1 == len && text[i] != '\n');
    size_t keep = total <= LOG_WHOLE_LINES ? total : LOG_TAIL_LINES;
    size_t start = len, lines = 0;
    while (start > 0 && lines < keep) {
        start--;
        if (text[start] == '\n' && start + 1 < len)
            lines++;
    }
    if (text[start] == '\n')
        start++;
    fprintf(stderr, keep == total ? "--- %s:\n" : "--- the end of %s:\n", path);
    fwrite(text + start, 1, len - start, stderr);
    if (len > 0 && text[len - 1] != '\n')
        fputc('\n', stderr);
    fputs("---\n", stderr);
    free(text);
}

int runs_find_mpiexec(const char *env_mpiexec, const char *configured, const char *path,
                      char *out, size_t size)
{
    return proc_find_tool(env_mpiexec, configured, "mpiexec", path, out, size);
}

bool runs_log_diverged(const char *text)
{
    return strstr(text, "error: loss became ") || strstr(text, "became non-finite");
}

/* Whether the finished job j diverged: status 1 and the message in its log. */
static bool job_diverged(const run_job *j)
{
    char *text, why[256];
    size_t len;
    if (j->status != 1 ||
        file_read_all(j->log_path, (size_t)64 << 20, &text, &len, why, sizeof why) != 0)
        return false;
    bool d = runs_log_diverged(text);
    free(text);
    return d;
}

static pid_t start_job(run_job *j)
{
    int fd = open(j->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "seqc compare: error: cannot write %s: %s\n", j->log_path,
                strerror(errno));
        return -1;
    }
    pid_t pid = proc_start(j->argv, fd);
    int e = errno;
    close(fd);
    if (pid < 0)
        fprintf(stderr, "seqc compare: error: cannot run %s: %s\n", j->argv[0], strerror(e));
    return pid;
}

int runs_execute(run_job *jobs, size_t n, int parallel, FILE *progress, bool tty)
{
    if (parallel < 1)
        parallel = 1;
    pid_t *pids = calloc(n ? n : 1, sizeof *pids);
    if (!pids) {
        fputs("seqc: out of memory\n", stderr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i].status = -2;
        jobs[i].diverged = false;
    }
    size_t next = 0, running = 0, done = 0;
    bool failed = false;
    double t0 = now_seconds();
    show_progress(progress, tty, 0, n, 0);
    while (done < n) {
        while (!failed && next < n && running < (size_t)parallel) {
            pids[next] = start_job(&jobs[next]);
            if (pids[next] < 0) {
                jobs[next].status = -1;
                failed = true;
                break;
            }
            next++;
            running++;
        }
        if (running == 0)
            break;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "seqc compare: error: waiting for the trainers: %s\n",
                    strerror(errno));
            free(pids);
            return -1;
        }
        size_t k = 0;
        while (k < next && pids[k] != pid)
            k++;
        if (k == next) /* not one of ours (cannot happen: seqc starts no other child) */
            continue;
        pids[k] = 0;
        running--;
        done++;
        jobs[k].status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        jobs[k].diverged = job_diverged(&jobs[k]);
        if (jobs[k].status != 0 && !jobs[k].diverged && !failed) {
            failed = true;
            if (progress && tty)
                fputc('\n', progress);
            if (WIFSIGNALED(st))
                fprintf(stderr, "seqc compare: error: training %s was killed by signal %d "
                                "(log: %s)\n", jobs[k].label, WTERMSIG(st), jobs[k].log_path);
            else
                fprintf(stderr, "seqc compare: error: training %s failed (exit status %d, "
                                "log: %s)\n", jobs[k].label, jobs[k].status, jobs[k].log_path);
            print_log_tail(jobs[k].log_path);
        }
        if (!failed)
            show_progress(progress, tty, done, n, now_seconds() - t0);
    }
    free(pids);
    return failed ? -1 : 0;
}

/* One "name: value" pair at *p (name [a-z0-9_]+ starting "test_"). */
static int parse_pair(const char **p, run_test *out)
{
    const char *s = *p, *colon = strstr(s, ": ");
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof out->names[0] ||
        strncmp(s, "test_", 5) != 0)
        return -1;
    for (const char *c = s; c < colon; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return -1;
    if (out->n == RUNS_TEST_MAX)
        return -1;
    char *end;
    double v = strtod(colon + 2, &end);
    if (end == colon + 2)
        return -1;
    memcpy(out->names[out->n], s, (size_t)(colon - s));
    out->names[out->n][colon - s] = '\0';
    out->values[out->n++] = v;
    *p = end;
    return 0;
}

int runs_parse_test_line(const char *text, run_test *out, char *err, size_t errlen)
{
    out->n = 0;
    const char *line = NULL;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, "test_loss: ", 11) == 0)
            line = p;
    if (!line)
        return 0;
    const char *p = line;
    for (;;) {
        if (parse_pair(&p, out) != 0)
            break;
        if (*p == '\n' || *p == '\0' || (*p == '\r' && (p[1] == '\n' || !p[1])))
            return 0;
        if (strncmp(p, " - ", 3) != 0)
            break;
        p += 3;
    }
    size_t len = strcspn(line, "\r\n");
    snprintf(err, errlen, "a broken test line: '%.*s'", (int)(len > 200 ? 200 : len), line);
    out->n = 0;
    return -1;
}

double runs_test_value(const run_test *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->names[i], name) == 0)
            return t->values[i];
    return NAN;
}
