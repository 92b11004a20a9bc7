#!/usr/bin/env bash
# The GPU rows of docs/results.md in one call on a bare GPU machine
# (torch only):
# ViT-B/16 H-JEPA at 224 px, bf16, every block compiled, at batch 128 (the
# MFU row), the same eager, the patch level alone (the hierarchy's cost)
# and batch 256; batches 512 and 1024 (where the host no longer bounds the
# step) with and without the hierarchy, and with the predictor attending
# group by group (--grouped-attention) or with cuDNN's benchmark mode
# (--cudnn-benchmark); and the FSDP tests. Each run has
# its own time limit so that one that hangs in compilation leaves the
# others their time. Made here first:
#   python tools/benchmarks/bare_gpu_pack.py --python-version 3.12 \
#       --out work_dirs/bare_wheels --tests
# then, on the GPU machine in a copy of the repository (carrying
# work_dirs/bare_wheels):
#   OUT=some/folder [ROWS="hierarchy_b512 fsdp ..."] \
#       bash tools/benchmarks/gpu_rows.sh
# ROWS picks runs by name (default: all). One JSON per run, fsdp.log and
# one log, all.log, go to $OUT.
cd "$(dirname "$0")/../.."
OUT=${OUT:-work_dirs/gpu_rows}
mkdir -p "$OUT"
PY=${PY:-python3}
export PYTHONUNBUFFERED=1
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-/tmp/hjepa_inductor}
M="tools/benchmarks/bare_gpu_mfu.py --wheels work_dirs/bare_wheels"
KNOWN="hierarchy_b128 hierarchy_b128_eager patch_only_b128 hierarchy_b256
    hierarchy_b512 hierarchy_b512_grouped hierarchy_b512_cudnn_bench
    patch_only_b512 hierarchy_b1024 fsdp"
ROWS=${ROWS:-$KNOWN}
for name in $ROWS; do  # a misspelt row would otherwise run nothing, exit 0
    if [[ " $(echo $KNOWN) " != *" $name "* ]]; then
        echo "ROWS: unknown row '$name'; the rows are: $(echo $KNOWN)" >&2
        exit 2
    fi
done
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
    --format=csv 2>&1 | tee "$OUT/nvidia_smi.csv"
selected() { [[ " $(echo $ROWS) " == *" $1 "* ]]; }
run() {  # run NAME SECONDS ARGS...
    local name=$1 limit=$2
    shift 2
    selected "$name" || return 0
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
run hierarchy_b512 ${T5:-100} --batch 512 --no-peak --profile
run hierarchy_b512_grouped ${T9:-90} --batch 512 --no-peak --grouped-attention
run hierarchy_b512_cudnn_bench ${T10:-100} --batch 512 --no-peak --profile \
    --cudnn-benchmark
run patch_only_b512 ${T6:-80} --batch 512 --levels 1 --no-peak
run hierarchy_b1024 ${T7:-110} --batch 1024 --no-peak
if selected fsdp; then
    # pytest and hjepa.models' dependencies from the carried wheels, after
    # what the machine has (bare_gpu_mfu.unpack_wheels, as --wheels does);
    # without a GPU the tests would all skip, so that is a failure here
    echo "=== fsdp: tests/test_models/test_fsdp.py"
    timeout ${T8:-120} $PY -c "import sys
sys.path[:0] = ['.', 'tools/benchmarks']
from bare_gpu_mfu import unpack_wheels
unpack_wheels('work_dirs/bare_wheels')
import pytest, torch
if not torch.cuda.is_available():
    sys.exit('fsdp: torch sees no GPU here; the FSDP tests need one')
sys.exit(pytest.main(sys.argv[1:]))" --noconftest -p no:cacheprovider \
        -q -rs tests/test_models/test_fsdp.py >"$OUT/fsdp.log" 2>&1
    rc=$?
    tail -n 25 "$OUT/fsdp.log"
    echo "=== fsdp exit $rc"
    [ "$rc" = 0 ] || failed="$failed fsdp"
fi
if [ -n "$failed" ]; then
    echo "failed:$failed" >&2
    exit 1
fi
