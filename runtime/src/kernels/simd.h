/*
 * simd.h: SEQRT_CLONES, for the runtime's hot elementwise loops (private).
 *
 * libseqrt is built for plain x86-64 so it runs on any machine, but the
 * loops that dominate a step after the GEMMs (the Adam update, batchnorm,
 * activations, turning bytes into floats) are much faster with wider
 * vectors: the Adam step over the tutorial's 110k parameters took 57 us
 * with SSE2, 30 us with AVX2 and 21 us with AVX-512 (one Zen 5 core).
 * GCC's target_clones compiles such a function once per listed ISA and
 * picks the best at load time (an ifunc, resolved by the dynamic linker
 * from the CPU's features). The clones run the same IEEE operations in
 * the same order (-ffp-contract=off in ISO C mode: no FMA contraction),
 * so every clone gives the same bits.
 */
#ifndef SEQRT_SIMD_H
#define SEQRT_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SEQRT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SEQRT_CLONES
#endif

#endif /* SEQRT_SIMD_H */
