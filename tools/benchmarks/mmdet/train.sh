#!/usr/bin/env bash
# Fine-tune an mmdet config (configs/benchmarks/mmdet/) from an H-JEPA backbone:
#   bash tools/benchmarks/mmdet/train.sh CONFIG CHECKPOINT|random GPUS [args]
# See tools/benchmarks/finetune.sh.
exec bash "$(dirname "$0")/../finetune.sh" "$@"
