#!/usr/bin/env bash
# The side-by-side speed rows of docs/results.md, one after another, on
# this machine:
#   bash tools/benchmarks/speed_rows.sh                     # 2 threads
#   OMP_NUM_THREADS=1 CORE=1 bash tools/benchmarks/speed_rows.sh  # as there
# Logs and JSON go to work_dirs/bench/.
set -x
cd "$(dirname "$0")/../.."
mkdir -p work_dirs/bench
P=.venv/bin/python
B=tools/benchmarks/pretrain_throughput.py
H=configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py
I=configs/ijepa/ijepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py
O=work_dirs/bench
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# same math (exact I-JEPA on both): this code vs the pinned d09e685
# (d09e685 names the leaf by its 16 epochs then; the model is the same)
taskset -c ${CORE:-0,1} $P $B $I --amp --baseline-commit d09e685 --baseline-config configs/ijepa/ijepa_vit-tiny-d6-p4_1xb128-16e_cifar10.py --json $O/same_math.json > $O/same_math.log 2>&1
# the CPU default vs d09e685's CPU default (model change included), profiled
taskset -c ${CORE:-0,1} $P $B $H --amp --profile --no-peak --baseline-commit d09e685 --json $O/default.json > $O/default.log 2>&1
# compile vs eager
taskset -c ${CORE:-0,1} $P $B $H --amp --compile --no-peak --baseline-options model.compile=False --json $O/compile.json > $O/compile.log 2>&1
# activation checkpointing of encoder + predictor blocks vs plain
taskset -c ${CORE:-0,1} $P $B $H --amp --no-peak --cfg-options model.backbone.with_cp=True model.predictor.with_cp=True --baseline-options model.backbone.with_cp=False model.predictor.with_cp=False --json $O/with_cp.json > $O/with_cp.log 2>&1
# the hierarchy's extra cost: the default vs the patch level alone, same layout
cat > $O/one_level_shared.py <<CFG
_base_ = ['$PWD/$H']
model = dict(
    predictor=dict(multiway=False, query_depth=None),
    head=dict(levels=[dict(kind='patch')], level_weights=(1.0, )))
CFG
taskset -c ${CORE:-0,1} $P $B $H --amp --no-peak --steps 15 --warmup 3 --baseline-config $O/one_level_shared.py --json $O/hierarchy_cost.json > $O/hierarchy_cost.log 2>&1
