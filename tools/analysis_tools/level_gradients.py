"""How much each level's loss pulls on the context encoder and predictor,
and in which direction, for a checkpoint (or a fresh model).

    python tools/analysis_tools/level_gradients.py CONFIG [CHECKPOINT] \\
        [--batches 4] [--batch-size 128] [--seed 0] [--out FILE.json] \\
        [--cfg-options KEY=VALUE ...]

For a few training batches of the config's data (augmented as in
training), every loss term of a step (``loss_level{l}``, as weighted in
the loss, and any regulariser or crop term) is backpropagated on its own,
and for the context encoder (``backbone``) and the predictor the tool
prints the gradient's norm, its ratio to level 0's and its cosine to level
0's gradient, each the mean over the batches. Without ``CHECKPOINT`` the
model is a fresh initialisation. Nothing is trained or written except
``--out``.
"""
import argparse
import json
import os.path as osp
import statistics
import sys

import torch

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from hjepa.utils import CfgOptionsAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='per-level gradient norms and cosines of a step')
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint', nargs='?', help='checkpoint (default: a fresh model)')
    parser.add_argument('--batches', type=int, default=4)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the numbers here (JSON)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    args = parser.parse_args(argv)
    for name in ('batches', 'batch_size'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} '
                         f'{getattr(args, name)} must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmengine.dataset import default_collate

    from hjepa.models.utils.level_gradients import level_gradients
    from hjepa.registry import DATASETS, MODELS
    from hjepa.utils import load_config, register_all_modules
    from hjepa.utils.checkpoint import load_model_weights
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if args.checkpoint:
        skipped = load_model_weights(model, args.checkpoint, 'context')
        if skipped:
            raise SystemExit(
                f'{args.checkpoint} does not hold the whole model of '
                f'{args.config} (the gradients need the predictor and head '
                f'too); not loaded: {skipped[:5]}')
    model.train()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    gen = torch.Generator().manual_seed(args.seed)
    rows = {}
    for _ in range(args.batches):
        idx = torch.randint(len(dataset), (args.batch_size, ), generator=gen)
        batch = default_collate([dataset[int(i)] for i in idx])
        inputs = model.data_preprocessor(batch, True)['inputs']
        for term, row in level_gradients(model, inputs).items():
            rows.setdefault(term, []).append(row)

    def mean(values):
        return statistics.fmean(values)

    summary = {}
    for term, per_batch in rows.items():
        summary[term] = {'loss': mean(r['loss'] for r in per_batch)}
        for group in ('backbone', 'predictor'):
            summary[term][group] = {
                key: mean(r[group][key] for r in per_batch)
                for key in ('norm', 'ratio', 'cosine')
            }
    print(f'{args.checkpoint or "fresh model"}: {args.batches} batches of '
          f'{args.batch_size}, mean per batch')
    print('| term | loss | encoder grad norm | / level 0 | cosine to level 0 '
          '| predictor grad norm | / level 0 | cosine to level 0 |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for term, s in summary.items():
        e, p = s['backbone'], s['predictor']
        print(f"| {term} | {s['loss']:.4f} | {e['norm']:.3g} | "
              f"{e['ratio']:.2f} | {e['cosine']:+.2f} | {p['norm']:.3g} | "
              f"{p['ratio']:.2f} | {p['cosine']:+.2f} |")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    config=args.config,
                    checkpoint=args.checkpoint,
                    batches=args.batches,
                    batch_size=args.batch_size,
                    seed=args.seed,
                    terms=summary),
                f,
                indent=2)


if __name__ == '__main__':
    main()
