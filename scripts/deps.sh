#!/bin/sh
# Installs the Debian packages seqc needs, when they are missing.
# Sourced by scripts/test.sh and scripts/demo.sh; extra packages may be
# passed as arguments. Needs root (or sudo) only when something is missing.

# What scripts/test.sh adds: clang and libFuzzer for the coverage-guided
# fuzz targets (tests/fuzz; without them a plain driver runs instead);
# for seqc export's tests (tests/export), python3-numpy to read the data,
# python3-onnx for ONNX's checker, and node/npm to install and run
# onnxruntime-node. A package named "cmd:NAME=PKG" is wanted only when the
# command NAME is missing: a Node.js from elsewhere (e.g. NodeSource's,
# which bundles npm and conflicts with Debian's npm package) serves too.
SEQC_TEST_PACKAGES="clang libfuzzer-14-dev python3-numpy python3-onnx cmd:node=nodejs cmd:npm=npm"

seqc_install_deps() {
    need="gcc make cmake pkg-config re2c bison libcmocka-dev libopenblas-dev zlib1g-dev libzip-dev libxml2-utils libgsl-dev libprotobuf-c-dev protobuf-c-compiler openmpi-bin libopenmpi-dev $*"
    missing=""
    for p in $need; do
        case $p in
        cmd:*)
            cmd=${p#cmd:} && cmd=${cmd%%=*}
            command -v "$cmd" >/dev/null 2>&1 || missing="$missing ${p#*=}"
            continue
            ;;
        esac
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "seqc: installing missing packages:$missing"
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "seqc: missing packages:$missing; run as root or install them" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq || return 1
    $SUDO apt-get install -y -qq --no-install-recommends $missing || return 1
}
