/*
 * bug.h: the one path for a broken invariant inside seqc.
 *
 * A mistake in the user's model file is a diagnostic (front/diag.h) with a
 * location; everything after the check pass trusts the checked model, so a
 * pass that finds something wrong has found a bug in seqc, not in the file.
 * SEQC_BUG says so, names the source line of seqc that noticed, and aborts
 * (a core dump and a non-zero exit, never a silently wrong trainer):
 *
 *   seqc: internal error (a bug in seqc): compiler/ir/pass_shapes.c:40: ...
 */
#ifndef SEQC_BUG_H
#define SEQC_BUG_H

_Noreturn void seqc_bug(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* SEQC_BUG("tensor %s has no place", t->name) */
#define SEQC_BUG(...) seqc_bug(__FILE__, __LINE__, __VA_ARGS__)

/* SEQC_ASSERT(cond, "what it means", ...): SEQC_BUG when cond is false */
#define SEQC_ASSERT(cond, ...)                                                                   \
    do {                                                                                         \
        if (!(cond))                                                                             \
            seqc_bug(__FILE__, __LINE__, __VA_ARGS__);                                           \
    } while (0)

#endif /* SEQC_BUG_H */
