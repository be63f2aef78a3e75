/*
 * fuzz_checkpoint_seed.c: writes the checkpoint seed corpus with the real
 * writer, so the seeds follow the format whatever its version:
 *   fuzz_checkpoint_seed tests/fuzz/corpus/checkpoint
 * Each seed is one flags byte (see fuzz_checkpoint.c) then the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_checkpoint_model.h"
#include "loop/checkpoint.h"

/* saves, then copies flags + the file's bytes to dir/name */
static int write_seed(const char *dir, const char *name, unsigned char flags,
                      const seqrt_checkpoint_meta *meta)
{
    const seqrt_model *m = fuzz_checkpoint_model();
    float params[FUZZ_CKPT_PARAMS], opt[FUZZ_CKPT_OPT];
    for (int i = 0; i < FUZZ_CKPT_PARAMS; i++)
        params[i] = 0.25f * (float)(i - 8);
    for (int i = FUZZ_CKPT_TRAINABLE + 4; i < FUZZ_CKPT_PARAMS; i++)
        params[i] = 1.0f + 0.25f * (float)i; /* the moving variances */
    for (int i = 0; i < FUZZ_CKPT_OPT; i++)
        opt[i] = 0.001f * (float)i;
    char tmp[4096], out[4096];
    snprintf(tmp, sizeof tmp, "%s/.seed.ckpt", dir);
    snprintf(out, sizeof out, "%s/%s", dir, name);
    seqrt_error err;
    if (seqrt_checkpoint_save(tmp, m, params, opt, meta, NULL, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    FILE *in = fopen(tmp, "rb"), *o = fopen(out, "wb");
    if (!in || !o) {
        perror(out);
        return 1;
    }
    fputc(flags, o);
    int c;
    while ((c = fgetc(in)) != EOF)
        fputc(c, o);
    fclose(in);
    remove(tmp);
    return fclose(o) != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: fuzz_checkpoint_seed DIR\n", stderr);
        return 2;
    }
    seqrt_checkpoint_meta meta = {.step = 12, .epoch = 2, .epochs = 3, .seed = 42,
                                  .batch = 2, .lr = 0.001f};
    seqrt_rng_seed(&meta.rng, 42);
    seqrt_rng_seed(&meta.dropout_rng, 42 ^ 0x64726f706f7574ull);
    int bad = write_seed(argv[1], "valid", 0, &meta);
    bad |= write_seed(argv[1], "valid_fix_crc", 1, &meta);
    bad |= write_seed(argv[1], "valid_no_opt_state", 2, &meta);
    /* --init-from's reader, through the block table */
    bad |= write_seed(argv[1], "valid_weights_fix_crc", 5, &meta);
    /* version 4's recipe state and the best epoch's weights */
    float best[FUZZ_CKPT_PARAMS];
    for (int i = 0; i < FUZZ_CKPT_PARAMS; i++)
        best[i] = 0.5f * (float)i;
    meta.plateau_lr = 0.0005f;
    meta.plateau_wait = 1;
    meta.plateau_best = 0.25;
    meta.es_wait = 1;
    meta.best_epoch = 1;
    meta.best = 0.25;
    meta.flags = SEQRT_CKPT_HAS_BEST | SEQRT_CKPT_USE_BEST;
    meta.best_params = best;
    bad |= write_seed(argv[1], "valid_best", 0, &meta);
    return bad;
}
