#!/bin/sh
# onnxruntime.sh: installs onnxruntime's CPU runtime for node (the npm
# package onnxruntime-node, --ignore-scripts: its binaries are in the
# package) into CACHE, once, for the ONNX tests (onnx.sh).
#   onnxruntime.sh CACHE
# Exit 77 (skipped) only when the npm registry cannot be reached.
set -eu
CACHE=$1
if [ -f "$CACHE/node_modules/onnxruntime-node/package.json" ]; then
    echo "onnxruntime-node $(sed -n 's/^ *"version": "\(.*\)",/\1/p' "$CACHE/node_modules/onnxruntime-node/package.json") in $CACHE"
    exit 0
fi
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
    echo "onnxruntime: FAIL: node and npm are needed (apt-get install nodejs npm)" >&2
    exit 1
}
mkdir -p "$CACHE"
if ! npm install --ignore-scripts --no-audit --no-fund --prefix "$CACHE" onnxruntime-node; then
    if ! npm ping >/dev/null 2>&1; then
        echo "onnxruntime: SKIP: the npm registry cannot be reached, so onnxruntime-node cannot be installed"
        exit 77
    fi
    echo "onnxruntime: FAIL: npm install onnxruntime-node failed with the registry reachable" >&2
    exit 1
fi
echo "onnxruntime-node installed in $CACHE"
