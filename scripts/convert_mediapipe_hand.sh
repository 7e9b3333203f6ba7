#!/usr/bin/env bash
# Convert MediaPipe's palm detector and hand landmark model (Apache-2.0, Google) to ONNX for bench/hand_detector.py:
#
#     scripts/convert_mediapipe_hand.sh OUT_DIR
#
# writes OUT_DIR/palm_detection_full.onnx and OUT_DIR/hand_landmark_full.onnx (not shipped: the bench found they do
# not tell the hand beside a pet from the pet; docs/benchmarks.md, hand16). The .tflite files are those of the
# `mediapipe==0.10.14` wheel on PyPI (mediapipe/modules/palm_detection/, mediapipe/modules/hand_landmark/); the 1.x
# wheels no longer carry them. Same toolchain as convert_tfjs_model.sh, in a throwaway venv under /tmp:
# tensorflow-cpu==2.15.1, tf2onnx==1.17.0, onnx==1.16.2, numpy<2. The converted graphs' outputs match TensorFlow Lite's
# interpreter: palm box offsets within 6e-4 px and logits within 2e-4, landmarks within 3e-4 px (docs/benchmarks.md).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT="$(realpath -m "$1")"
WORK_DIR="${WORK_DIR:-/tmp/mediapipe-convert}"
VENV_DIR="${VENV_DIR:-/tmp/tfjs-venv}"
MEDIAPIPE_VERSION="0.10.14"

mkdir -p "$WORK_DIR" "$OUT"
if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    python3 -m venv "$VENV_DIR"
fi
"$VENV_DIR/bin/python" -m pip install --quiet \
    "tensorflow-cpu==2.15.1" "tf2onnx==1.17.0" "onnx==1.16.2" "numpy<2"

cd "$WORK_DIR"
if ! ls mediapipe-"$MEDIAPIPE_VERSION"-*.whl >/dev/null 2>&1; then
    "$VENV_DIR/bin/python" -m pip download --quiet --no-deps --python-version 3.11 --only-binary=:all: \
        --platform manylinux2014_x86_64 "mediapipe==$MEDIAPIPE_VERSION" -d .
fi
unzip -q -o mediapipe-"$MEDIAPIPE_VERSION"-*.whl \
    mediapipe/modules/palm_detection/palm_detection_full.tflite \
    mediapipe/modules/hand_landmark/hand_landmark_full.tflite \
    "mediapipe-$MEDIAPIPE_VERSION.dist-info/LICENSE"
cp "mediapipe-$MEDIAPIPE_VERSION.dist-info/LICENSE" "$OUT/MEDIAPIPE_LICENSE"

for model in palm_detection/palm_detection_full hand_landmark/hand_landmark_full; do
    "$VENV_DIR/bin/python" -m tf2onnx.convert --tflite "mediapipe/modules/$model.tflite" \
        --output "$OUT/$(basename "$model").onnx" --opset 17
done
cd "$OUT"
sha256sum palm_detection_full.onnx hand_landmark_full.onnx
