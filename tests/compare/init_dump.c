/*
 * init_dump.c: what a generated trainer starts from. Compiled by
 * same_init.sh together with one trainer's C (TRAINER_C, a path in
 * quotes, included with SEQRT_NO_MAIN so it brings no main) and run as
 *
 *   init_dump SEED OUT.bin
 *
 * it draws the initial weights exactly as the trainer does (one generator
 * seeded with SEED, then model.init) and writes, in this order: the
 * weights of dense_1, dense_2 and dense_3 (float32), the generator's
 * state after init, and the first epoch's order of 1000 samples drawn
 * from it. Two variants that share those dense layers must write the
 * same bytes: the same start and the same mini-batches.
 */
#define SEQRT_NO_MAIN
#include TRAINER_C

#include <stdio.h>
#include <stdlib.h>

/* a layer's weights: from its W to its bias, which the layout puts next */
static int dump(FILE *out, const float *params, long from, long to)
{
    if (to <= from)
        return -1;
    return fwrite(params + from, sizeof(float), (size_t)(to - from), out) ==
                   (size_t)(to - from) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: init_dump SEED OUT.bin\n");
        return 2;
    }
    float *params = calloc(PARAM_COUNT, sizeof *params);
    uint32_t order[1000];
    FILE *out = fopen(argv[2], "wb");
    if (!params || !out) {
        fprintf(stderr, "init_dump: cannot allocate or open %s\n", argv[2]);
        return 1;
    }
    seqrt_rng rng;
    seqrt_rng_seed(&rng, strtoull(argv[1], NULL, 10));
    model.init(params, &rng);
    int bad = dump(out, params, DENSE_KERNEL, DENSE_BIAS) ||
              dump(out, params, DENSE_1_KERNEL, DENSE_1_BIAS) ||
              dump(out, params, DENSE_2_KERNEL, DENSE_2_BIAS);
    bad |= fwrite(&rng, sizeof rng, 1, out) != 1;
    for (uint32_t i = 0; i < 1000; i++)
        order[i] = i;
    seqrt_rng_shuffle(&rng, order, 1000);
    bad |= fwrite(order, sizeof order, 1, out) != 1;
    bad |= fclose(out) != 0;
    free(params);
    if (bad) {
        fprintf(stderr, "init_dump: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
