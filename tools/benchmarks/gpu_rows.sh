#!/usr/bin/env bash
# The README's GPU rows in one call on a bare GPU machine (torch only):
# ViT-B/16 H-JEPA at 224 px, bf16, every block compiled, at batch 128 (the
# MFU row), the same eager, the patch level alone (the hierarchy's cost)
# and batch 256. Each run has its own time limit so that one that hangs in
# compilation leaves the others their time. Made here first:
#   python tools/benchmarks/bare_gpu_pack.py --python-version 3.12 \
#       --out work_dirs/bare_wheels
# then, on the GPU machine in a copy of the repository (carrying
# work_dirs/bare_wheels):
#   OUT=some/folder bash tools/benchmarks/gpu_rows.sh
# One JSON per run and one log, all.log, go to $OUT (6 files).
cd "$(dirname "$0")/../.."
OUT=${OUT:-work_dirs/gpu_rows}
mkdir -p "$OUT"
PY=${PY:-python3}
export PYTHONUNBUFFERED=1
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-/tmp/hjepa_inductor}
M="tools/benchmarks/bare_gpu_mfu.py --wheels work_dirs/bare_wheels"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
    --format=csv 2>&1 | tee "$OUT/nvidia_smi.csv"
run() {  # run NAME SECONDS ARGS...
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit} s): $*"
    timeout "$limit" $PY $M "$@" --json "$OUT/$name.json" 2>&1 |
        tee -a "$OUT/all.log" | grep -v -E "^\s*$|Warning|warn\(" | tail -n 8
    local rc=${PIPESTATUS[0]}
    echo "=== $name exit $rc"
    [ "$rc" = 0 ] || failed="$failed $name"
}
failed=""

run hierarchy_b128 ${T1:-150} --profile
run hierarchy_b128_eager ${T2:-50} --no-compile --no-peak
run patch_only_b128 ${T3:-80} --levels 1 --no-peak
run hierarchy_b256 ${T4:-70} --batch 256 --no-peak
if [ -n "$failed" ]; then
    echo "failed:$failed" >&2
    exit 1
fi
