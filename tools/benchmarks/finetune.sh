#!/usr/bin/env bash
# Fine-tune an mmdet or mmseg config from an H-JEPA backbone checkpoint:
#   bash tools/benchmarks/finetune.sh CONFIG CHECKPOINT GPUS [tools/train.py args]
# CHECKPOINT is what tools/model_converters/hjepa_to_backbone.py writes (keys
# `backbone.*`), or `random` for a randomly initialised backbone. GPUS=1 runs
# tools/train.py in this process (on a CPU too); more launch
# tools/dist_train.sh (torchrun; NNODES, NODE_RANK, MASTER_ADDR and PORT as
# there). Later `--cfg-options` add to (and may override) the checkpoint's.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT|random GPUS [tools/train.py args]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
[[ $GPUS =~ ^[1-9][0-9]*$ ]] || {
    echo "GPUS '$GPUS' must be a positive integer" \
        "(usage: $0 CONFIG CHECKPOINT|random GPUS [tools/train.py args])" >&2
    exit 2
}
TOOLS="$(cd "$(dirname "$0")/.." && pwd)"

if [ "$CHECKPOINT" = random ]; then
    INIT="model.backbone.init_cfg=None"
elif [ -f "$CHECKPOINT" ]; then
    # refuses an unconverted pretraining checkpoint, whose backbone.* keys
    # are the context encoder's
    PYTHONPATH="$TOOLS/..":${PYTHONPATH:-} ${PYTHON:-python} -c \
        'import sys; from hjepa.utils.checkpoint import check_backbone_checkpoint as check; check(sys.argv[1])' \
        "$CHECKPOINT"
    INIT="model.backbone.init_cfg.checkpoint=$CHECKPOINT"
else
    echo "checkpoint $CHECKPOINT is not a file (expected a backbone" \
        "checkpoint from hjepa_to_backbone.py, or 'random')" >&2
    exit 2
fi

if [ "$GPUS" -eq 1 ]; then
    ${PYTHON:-python} "$TOOLS/train.py" "$CONFIG" --cfg-options "$INIT" "${@:4}"
else
    bash "$TOOLS/dist_train.sh" "$CONFIG" "$GPUS" --cfg-options "$INIT" "${@:4}"
fi
