/*
 * outfile.c: the one way libseqrt and seqc write an output file
 * (checkpoints, histories, generated C, reports). It depends on libc only,
 * so the small data library that seqc links can carry it.
 *
 * What it promises, whatever the target is:
 *   - a regular file (or a name that does not exist yet) is replaced
 *     atomically: the contents go to TARGET.seqc-tmp.PID in the same
 *     directory, are flushed and fsync'ed, the file is closed and renamed
 *     over TARGET, then the directory is fsync'ed so the rename itself
 *     survives a power cut. A crash at any moment leaves the old file or
 *     the new one, never half of one;
 *   - a symbolic link is written through: the link is followed to its
 *     final target and that file is replaced as above; the link stays;
 *   - an existing non-regular file (a character device such as /dev/null,
 *     a FIFO) is written directly, never replaced by a regular file, and
 *     a write, flush or close error is reported (/dev/full: "No space left
 *     on device"); a FIFO that no process reads is an error, not a hang;
 *   - a directory, a missing parent directory or a directory that cannot
 *     be written is refused with the reason, before anything is written;
 *   - SIGXFSZ is ignored, so a file size limit (ulimit -f) gives EFBIG and
 *     a clear error instead of killing the process;
 *   - temporary files of writers that died (kill -9, power loss) for the
 *     same target are removed when a new writer starts, only when the PID
 *     in their name is not alive, so they never pile up.
 * Every error is one line, "cannot write PATH: REASON".
 */
#define _POSIX_C_SOURCE 200809L
#include "seqrt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Marks a temporary file as ours: TARGET + TMP_TAG + decimal PID. */
#define TMP_TAG ".seqc-tmp."

/* Symbolic links followed before giving up, as the kernel's own limit. */
enum { MAX_LINK_HOPS = 40 };

/* dir receives the directory part of path ("." when there is none). */
static void dir_of(const char *path, char dir[SEQRT_PATH_MAX])
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/name": the root */
    memcpy(dir, path, n);
    dir[n] = '\0';
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/*
 * Follows symbolic links from path to the file that would be written
 * (which need not exist: a dangling link creates its target). Returns 0,
 * or -1 with err set.
 */
static int resolve(const char *path, char target[SEQRT_PATH_MAX], seqrt_error *err)
{
    if (strlen(path) >= SEQRT_PATH_MAX)
        return seqrt_fail(err, "cannot write %s: path too long", path);
    strcpy(target, path);
    for (int hop = 0; hop < MAX_LINK_HOPS; hop++) {
        struct stat st;
        if (lstat(target, &st) != 0 || !S_ISLNK(st.st_mode))
            return 0; /* a missing name or a missing directory is judged later */
        char link[SEQRT_PATH_MAX];
        ssize_t n = readlink(target, link, sizeof link - 1);
        if (n < 0)
            return seqrt_fail(err, "cannot write %s: %s", path, strerror(errno));
        link[n] = '\0';
        if (link[0] == '/') {
            strcpy(target, link);
        } else {
            char dir[SEQRT_PATH_MAX];
            dir_of(target, dir);
            int len = snprintf(target, SEQRT_PATH_MAX, "%.*s/%s", SEQRT_PATH_MAX, dir, link);
            if (len < 0 || len >= SEQRT_PATH_MAX)
                return seqrt_fail(err, "cannot write %s: path too long", path);
        }
    }
    return seqrt_fail(err, "cannot write %s: %s", path, strerror(ELOOP));
}

/* What writing path means: its final target, and whether it is an
 * existing non-regular file that must be written directly. */
typedef struct out_plan {
    char        target[SEQRT_PATH_MAX];
    char        dir[SEQRT_PATH_MAX];
    int         exists;
    int         direct;
    struct stat st;
} out_plan;

static int plan(const char *path, out_plan *p, seqrt_error *err)
{
    memset(p, 0, sizeof *p);
    if (path[0] == '\0')
        return seqrt_fail(err, "cannot write an empty file name");
    if (resolve(path, p->target, err))
        return -1;
    dir_of(p->target, p->dir);
    if (stat(p->target, &p->st) == 0) {
        p->exists = 1;
        if (S_ISDIR(p->st.st_mode))
            return seqrt_fail(err, "cannot write %s: it is a directory", path);
        if (!S_ISREG(p->st.st_mode)) {
            p->direct = 1;
            if (access(p->target, W_OK) != 0)
                return seqrt_fail(err, "cannot write %s: %s", path, strerror(errno));
            return 0;
        }
    } else if (errno != ENOENT) {
        return seqrt_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    /* replaced through a temporary beside it: the directory must take one */
    struct stat dst;
    if (stat(p->dir, &dst) != 0) {
        if (errno == ENOENT)
            return seqrt_fail(err, "cannot write %s: directory %s does not exist", path,
                            p->dir);
        return seqrt_fail(err, "cannot write %s: directory %s: %s", path, p->dir,
                        strerror(errno));
    }
    if (!S_ISDIR(dst.st_mode))
        return seqrt_fail(err, "cannot write %s: %s is not a directory", path, p->dir);
    if (access(p->dir, W_OK | X_OK) != 0)
        return seqrt_fail(err, "cannot write %s: directory %s: %s", path, p->dir,
                        strerror(errno));
    return 0;
}

/* Is name "BASE.seqc-tmp.PID"? Returns the PID, or 0. */
static long tmp_owner(const char *name, const char *base)
{
    size_t bl = strlen(base), tl = strlen(TMP_TAG);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, TMP_TAG, tl) != 0)
        return 0;
    const char *digits = name + bl + tl;
    if (*digits < '1' || *digits > '9')
        return 0;
    char *end;
    errno = 0;
    long pid = strtol(digits, &end, 10);
    return errno || *end != '\0' ? 0 : pid;
}

/*
 * Removes the temporary files for target left by writers that are gone.
 * A PID that is alive (kill answers, or refuses with EPERM) keeps its
 * file: it may be writing now. Our own PID's file is stale too: this
 * process writes one file per target at a time, so one already there was
 * left by a dead process that had the same PID.
 */
static void remove_stale(const char *dir, const char *target)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    const char *base = base_of(target);
    long self = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = tmp_owner(e->d_name, base);
        if (pid <= 0)
            continue;
        if (pid == self || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char stale[SEQRT_PATH_MAX];
            int n = snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name);
            if (n > 0 && (size_t)n < sizeof stale)
                unlink(stale);
        }
    }
    closedir(d);
}

int seqrt_outfile_check(const char *path, seqrt_error *err)
{
    out_plan p;
    if (plan(path, &p, err))
        return -1;
    if (!p.direct)
        remove_stale(p.dir, p.target);
    return 0;
}

int seqrt_outfile_open(seqrt_outfile *o, const char *path, seqrt_error *err)
{
    memset(o, 0, sizeof *o);
    o->fd_lock = -1;
    out_plan p;
    if (strlen(path) >= sizeof o->path)
        return seqrt_fail(err, "cannot write %s: path too long", path);
    strcpy(o->path, path);
    if (plan(path, &p, err))
        return -1;
    strcpy(o->target, p.target);

    /* EFBIG from write() is reported like any other error; the default
     * action of SIGXFSZ would kill the process without a word. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGXFSZ, &sa, NULL);

    int fd;
    if (p.direct) {
        /* a device or a FIFO: written in place, never replaced. A FIFO is
         * opened without blocking, so one that no process reads is an
         * error instead of a hang; its writes then block as usual. */
        int fifo = S_ISFIFO(p.st.st_mode);
        fd = open(p.target, O_WRONLY | O_NOCTTY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
        if (fd < 0 && fifo && errno == ENXIO)
            return seqrt_fail(err, "cannot write %s: it is a FIFO that no process reads", path);
        if (fd < 0)
            return seqrt_fail(err, "cannot write %s: %s", path, strerror(errno));
        if (fifo)
            (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    } else {
        remove_stale(p.dir, p.target);
        int n = snprintf(o->tmp, sizeof o->tmp, "%s%s%ld", p.target, TMP_TAG,
                         (long)getpid());
        if (n < 0 || (size_t)n >= sizeof o->tmp)
            return seqrt_fail(err, "cannot write %s: path too long", path);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            int e = errno;
            o->tmp[0] = '\0';
            return seqrt_fail(err, "cannot write %s: %s", path, strerror(e));
        }
        if (p.exists) /* the replacement keeps the permissions of the file it replaces */
            (void)fchmod(fd, p.st.st_mode & 07777);
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int e = errno;
        close(fd);
        seqrt_outfile_abort(o);
        return seqrt_fail(err, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int seqrt_outfile_write(seqrt_outfile *o, const void *data, size_t n)
{
    if (n > 0 && fwrite(data, 1, n, o->f) != n) {
        if (!o->error)
            o->error = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

/* fsync of the directory makes the rename durable; file systems that
 * cannot sync a directory (EINVAL) make no such promise to break. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return e;
}

int seqrt_outfile_commit(seqrt_outfile *o, int want_lock, seqrt_error *err)
{
    int e = o->error;
    errno = 0;
    if (fflush(o->f) != 0 && !e)
        e = errno ? errno : EIO;
    if (ferror(o->f) && !e)
        e = EIO;
    if (!e && o->tmp[0] && fsync(fileno(o->f)) != 0)
        e = errno;
    if (!e && want_lock && o->tmp[0]) {
        /* Locked before the rename, so the file is never at TARGET unlocked;
         * the duplicate keeps the lock after fclose (and is not inherited by
         * programs this process runs). */
        o->fd_lock = fcntl(fileno(o->f), F_DUPFD_CLOEXEC, 0);
        if (o->fd_lock < 0 || flock(o->fd_lock, LOCK_EX | LOCK_NB) != 0)
            e = errno;
    }
    if (fclose(o->f) != 0 && !e)
        e = errno;
    o->f = NULL;
    if (!e && o->tmp[0]) {
        if (rename(o->tmp, o->target) != 0) {
            e = errno;
        } else {
            o->tmp[0] = '\0';
            char dir[SEQRT_PATH_MAX];
            dir_of(o->target, dir);
            e = sync_dir(dir);
        }
    }
    if (e) {
        seqrt_outfile_abort(o);
        return seqrt_fail(err, "cannot write %s: %s", o->path, strerror(e));
    }
    return 0;
}

void seqrt_outfile_abort(seqrt_outfile *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
    if (o->fd_lock >= 0)
        close(o->fd_lock);
    o->fd_lock = -1;
}

int seqrt_write_file(const char *path, int (*writer)(FILE *f, const void *ctx),
                     const void *ctx, seqrt_error *err)
{
    seqrt_outfile o;
    if (seqrt_outfile_open(&o, path, err))
        return -1;
    errno = 0;
    if (writer(o.f, ctx) != 0) {
        int e = errno;
        seqrt_outfile_abort(&o);
        if (e)
            return seqrt_fail(err, "cannot write %s: %s", path, strerror(e));
        return seqrt_fail(err, "cannot write %s: the writer failed", path);
    }
    return seqrt_outfile_commit(&o, 0, err);
}
