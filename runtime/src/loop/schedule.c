/*
 * schedule.c: the learning rate of each epoch, Keras's ReduceLROnPlateau,
 * and the "is this value better" rule that early stopping and save_best
 * share (seqrt.h states every formula). Pure functions of their
 * arguments and of the small states the loop checkpoints, so a resumed
 * run computes exactly the rates the uninterrupted one did.
 */
#include "seqrt.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

float seqrt_schedule_lr(const seqrt_schedule *s, float lr, long epoch, long epochs,
                        float plateau_lr)
{
    double base = (double)lr;
    long warm = s->warmup > 0 ? s->warmup : 0;
    if (epoch <= warm)
        return (float)(base * (double)epoch / (double)warm);
    long k = epoch - warm - 1;
    long span = epochs - warm < 1 ? 1 : epochs - warm;
    switch (s->kind) {
    case SEQRT_SCHED_STEP:
        return (float)(base * pow(s->factor, (double)(k / (s->every > 0 ? s->every : 1))));
    case SEQRT_SCHED_EXPONENTIAL:
        return (float)(base * pow(s->factor, (double)k));
    case SEQRT_SCHED_COSINE:
        return (float)(s->min_lr + (base - s->min_lr) *
                                       (1.0 + cos(M_PI * (double)k / (double)span)) / 2.0);
    case SEQRT_SCHED_PLATEAU:
        return plateau_lr;
    case SEQRT_SCHED_CONSTANT:
    case SEQRT_SCHED_COUNT_:
        break;
    }
    return lr;
}

double seqrt_monitor_worst(const seqrt_monitor *m)
{
    return m->maximize ? -INFINITY : INFINITY;
}

int seqrt_monitor_improves(const seqrt_monitor *m, double value, double best,
                           double min_delta)
{
    if (isnan(value))
        return 0;
    return m->maximize ? value > best + min_delta : value < best - min_delta;
}

void seqrt_plateau_start(const seqrt_schedule *s, seqrt_plateau_state *st, float lr)
{
    st->lr = lr;
    st->wait = 0;
    st->best = seqrt_monitor_worst(&s->monitor);
}

/* Keras ReduceLROnPlateau.on_epoch_end with cooldown 0: the comparison of
 * the old rate with min_lr is in float, as Keras's np.float32(min_lr). */
int seqrt_plateau_update(const seqrt_schedule *s, seqrt_plateau_state *st, long epoch,
                         double value)
{
    if (s->kind != SEQRT_SCHED_PLATEAU || epoch <= s->warmup)
        return 0;
    if (seqrt_monitor_improves(&s->monitor, value, st->best, s->min_delta)) {
        st->best = value;
        st->wait = 0;
        return 0;
    }
    st->wait++;
    if ((int)st->wait < s->patience)
        return 0;
    float old = st->lr;
    if (!(old > (float)s->min_lr))
        return 0;
    double next = (double)old * s->factor;
    st->lr = (float)(next > s->min_lr ? next : s->min_lr);
    st->wait = 0;
    return 1;
}

/* Keras EarlyStopping.on_epoch_end (baseline None); Keras counts epochs
 * from 0, so its "epoch > 0" is epoch > 1 here. */
int seqrt_best_update(const seqrt_monitor *m, double min_delta, const seqrt_early_stopping *es,
                      seqrt_best_state *st, long epoch, double value)
{
    st->wait++;
    if (seqrt_monitor_improves(m, value, st->best, min_delta)) {
        st->best = value;
        st->best_epoch = (uint32_t)epoch;
        st->wait = 0;
        return 1;
    }
    if (es && es->enabled && (long)st->wait >= es->patience && epoch > 1)
        st->stopped = (uint32_t)epoch;
    return 0;
}
