#!/usr/bin/env bash
# Fine-tune an mmseg config (configs/benchmarks/mmseg/) from an H-JEPA backbone:
#   bash tools/benchmarks/mmseg/train.sh CONFIG CHECKPOINT|random GPUS [args]
# See tools/benchmarks/finetune.sh.
exec bash "$(dirname "$0")/../finetune.sh" "$@"
