# shellcheck shell=bash
# bench/common.sh: shell helpers shared by bench/run.sh, bench/cnn.sh and
# bench/tabular.sh.
# Sourced, not run. The caller sets ROOT (the source tree), BENCH (its own
# name, for messages) and OUT (its output directory, for own_cpu).

# Timed programs see OpenBLAS pick its kernel from the CPU: this environment
# may pin OpenBLAS to its AVX2 kernels with these two variables, which
# halves sgemm speed on an AVX-512 machine.
CLEAN_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# usage STATUS: the "# usage:" lines of the calling script's header, on
# stdout for --help (0), on stderr for a bad command line (and exits).
usage() {
    if [ "$1" = 0 ]; then exec 3>&1; else exec 3>&2; fi
    awk '/^# usage: / { on = 1 } on && /^#  / || /^# usage: / { print substr($0, 3); next } { on = 0 }' "$0" >&3
    exit "$1"
}
say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$BENCH" "$*" >&2; exit 1; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# ------------------------------------------------------------ IDX data sets
has_idx() { [ -e "$1/$2" ] || [ -e "$1/$2.gz" ]; }
data_complete() {
    local f
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
             t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        has_idx "$1" "$f" || return 1
    done
}
# fashion_links: the trainer wants DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
# if Debian's dataset-fashion-mnist names them differently, links them
# under those names in a temporary directory (removed on exit) and prints it.
fashion_links() {
    local links f src
    links=$(mktemp -d /tmp/seqc-bench-data.XXXXXX)
    for f in train-images-idx3 train-labels-idx1 t10k-images-idx3 t10k-labels-idx1; do
        src=$(dpkg -L dataset-fashion-mnist 2>/dev/null | grep -E "/${f}[-.]ubyte(\.gz)?$" | head -1)
        [ -n "$src" ] || { rm -rf "$links"; die "dataset-fashion-mnist has no ${f}-ubyte file"; }
        case $src in *.gz) ln -s "$src" "$links/${f}-ubyte.gz" ;; *) ln -s "$src" "$links/${f}-ubyte" ;; esac
    done
    echo "$links"
}
# train_count DIR: training samples, from the labels file's IDX header
# (count at bytes 4..7).
train_count() {
    local f=$1/train-labels-idx1-ubyte hdr
    if [ -e "$f.gz" ]; then
        # head closes the pipe after 8 bytes: gzip's SIGPIPE is expected.
        hdr=$(gzip -dc "$f.gz" 2>/dev/null | head -c 8 | od -An -tu1 || true)
    else
        hdr=$(od -An -tu1 -N8 "$f")
    fi
    # shellcheck disable=SC2086 # od's numbers, joined onto one line
    echo $hdr | awk 'NF == 8 { print (($5 * 256 + $6) * 256 + $7) * 256 + $8 }'
}

# ------------------------------------------------------------ seqc
# build_seqc BUILD: configures BUILD once and brings seqc and libseqrt up to
# date (a no-op when they are), so a benchmark never times a stale seqc or
# libseqrt; prints the seqc it built.
build_seqc() {
    local build=$1 s
    mkdir -p "$build"
    if [ ! -f "$build/CMakeCache.txt" ]; then
        say "configuring seqc in $build" >&2
        cmake -S "$ROOT" -B "$build" >"$build/bench-cmake.log" 2>&1 \
            || { tail -20 "$build/bench-cmake.log" >&2; die "cmake configure failed (log: $build/bench-cmake.log)"; }
    fi
    cmake --build "$build" --parallel 2 --target seqc seqrt >>"$build/bench-cmake.log" 2>&1 \
        || { tail -30 "$build/bench-cmake.log" >&2; die "build failed (log: $build/bench-cmake.log)"; }
    for s in "$build/seqc" "$build/compiler/seqc"; do
        [ -x "$s" ] && { echo "$s"; return 0; }
    done
    die "no seqc in $build after building"
}

# ------------------------------------------------------------ machine
# Busy CPU seconds of the whole machine so far (/proc/stat: user, nice,
# system, irq, softirq, steal), and the CPU seconds of this script's
# finished children (bash's `times`). Their difference over the run is what
# other processes took from the benchmark.
machine_cpu() { awk -v tck="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / tck; exit }' /proc/stat; }
# own_cpu reads $OUT/times.txt, which the caller writes with
# `times >"$OUT/times.txt"`: `times` must run in the script's own shell,
# not in a $(...) subshell, to see its children.
own_cpu() { awk 'END { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%.2f", t }' "$OUT/times.txt"; }

# ------------------------------------------------------------ histories
# column CSV NAME SKIP: values of a history CSV column (found by name),
# skipping the first SKIP epochs.
column() {
    awk -F, -v c="$2" -v skip="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; if (!k) exit 1; next }
        NR - 1 > skip { print $k }' "$1"
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# "mean std n" of the numbers on stdin (sample standard deviation).
mean_std() { awk '{ s += $1; q += $1 * $1; n++ } END { if (!n) { print "nan nan 0"; exit } m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0; if (v < 0) v = 0; printf "%.4f %.4f %d\n", m, sqrt(v), n }'; }
final_val_acc() {
    local f
    for f in "$@"; do column "$f" val_accuracy 0 | tail -1; done | mean_std
}
max_rss_mb() { cat "$@" | awk '{ if ($1 > m) m = $1 } END { printf "%.1f", m / 1024 }'; }

# run_timed LOG RSSFILE CMD...: runs CMD with the clean OpenBLAS environment
# under /usr/bin/time, peak RSS (KB) into RSSFILE.
run_timed() {
    local log=$1 rss=$2; shift 2
    if ! "${CLEAN_ENV[@]}" /usr/bin/time -f '%M' -o "$rss.tmp" "$@" >"$log" 2>&1; then
        tail -20 "$log" >&2
        die "failed: $* (log: $log)"
    fi
    tail -1 "$rss.tmp" >"$rss"
    rm -f "$rss.tmp"
}
