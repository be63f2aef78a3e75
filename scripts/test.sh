#!/bin/sh
# Installs what is missing, then runs the tests in three build directories:
#
#   build/       RelWithDebInfo, -Werror: every test (extra arguments go to
#                this ctest, e.g. -L unit)
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (clang when
#                installed, so the fuzz targets are libFuzzer's): the runtime
#                unit tests, the training loop's, the end-to-end trainers,
#                the fuzz targets a few seconds each
#   build-tsan/  ThreadSanitizer: the threaded kernels (test_gemm), a
#                trainer on 2 threads, and the tests whose ranks are
#                threads (synchronized batchnorm, the loop's collectives)
#
# Each stage builds only the targets its tests need. SEQC_TEST_SANITIZERS=0
# runs the first stage only. Exit status: 0 when every stage passed.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/deps.sh"
seqc_install_deps $SEQC_TEST_PACKAGES
JOBS=$(nproc 2>/dev/null || echo 2)
FAILED=""

# stage NAME: prints a header and the time the previous stage took
stage() {
    now=$(date +%s)
    [ -n "${STAGE_START:-}" ] && echo "== ($((now - STAGE_START)) s)"
    STAGE_START=$now
    [ -n "$1" ] && echo "== $1"
    return 0
}

stage "build/: every test"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQC_WERROR=ON >/dev/null
cmake --build "$ROOT/build" --parallel "$JOBS"
(cd "$ROOT/build" && ctest --output-on-failure --parallel "$JOBS" "$@") || FAILED="$FAILED build"

if [ "${SEQC_TEST_SANITIZERS:-1}" != 0 ]; then
    # ASan + UBSan: the runtime, the loop, trainers end to end, fuzzing
    stage "build-asan/: AddressSanitizer + UndefinedBehaviorSanitizer"
    # clang: libFuzzer for the fuzz targets, and a ThreadSanitizer that
    # works with libseqrt (gcc builds its kernels as target_clones, whose
    # ifunc resolvers run before TSan's runtime is up and crash)
    if command -v clang >/dev/null 2>&1; then SAN_CC=clang; else SAN_CC=cc; fi
    CC=$SAN_CC cmake -S "$ROOT" -B "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSEQC_WERROR=ON -DSEQC_SANITIZE=address,undefined >/dev/null
    RUNTIME_TESTS="test_data test_data_npz test_rng test_dense test_batchnorm test_batchnorm_sync test_layernorm test_activation \
        test_loss test_preprocess test_metrics test_conv test_pool test_conv_block test_optimizer test_gemm \
        test_schedule test_loop_checkpoint test_loop_progress test_loop_history test_loop_shard test_export_fold \
        test_export_kinds"
    cmake --build "$ROOT/build-asan" --parallel "$JOBS" --target seqc $RUNTIME_TESTS \
        test_loop_trainer test_loop_outfile tiny_trainer tiny_trainer_nobias tiny_trainer_two \
        tiny_trainer_dropout tiny_trainer_norm \
        fuzz_pipeline fuzz_idx fuzz_csv fuzz_npz fuzz_npy fuzz_checkpoint fuzz_selftest
    (cd "$ROOT/build-asan" && LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp" ctest --output-on-failure --parallel "$JOBS" \
        -R "^(test_(data|data_npz|rng|dense|batchnorm|batchnorm_sync|layernorm|activation|loss|preprocess|metrics|conv|pool|conv_block|optimizer|schedule|gemm|export_fold|export_kinds|loop_.*)|backend_e2e|runtime_data_e2e|trainer_threads|fuzz_.*)\$") ||
        FAILED="$FAILED build-asan"

    # TSan: the thread pool under the kernels, a trainer on 2 threads, and
    # synchronized batchnorm's ranks (threads joined by the test's comm)
    stage "build-tsan/: ThreadSanitizer"
    CC=$SAN_CC cmake -S "$ROOT" -B "$ROOT/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSEQC_WERROR=ON -DSEQC_SANITIZE=thread >/dev/null
    cmake --build "$ROOT/build-tsan" --parallel "$JOBS" --target seqc test_gemm test_batchnorm_sync test_loop_shard
    (cd "$ROOT/build-tsan" && ctest --output-on-failure --parallel "$JOBS" \
        -R '^(test_gemm|test_batchnorm_sync|test_loop_shard|trainer_threads)$') || FAILED="$FAILED build-tsan"
fi
stage ""

if [ -n "$FAILED" ]; then
    echo "scripts/test.sh: tests failed in:$FAILED" >&2
    exit 1
fi
echo "scripts/test.sh: every stage passed"
