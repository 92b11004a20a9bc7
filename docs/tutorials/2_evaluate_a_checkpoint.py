"""Tutorial 2: evaluate a pretraining checkpoint, in Python and from the
command line.

    python docs/tutorials/2_evaluate_a_checkpoint.py \\
        configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py \\
        work_dirs/main_job/epoch_22.pth

1. Load it strictly: every key of both encoders, ``weights_only=True``; a
   checkpoint of another model fails naming the keys.
2. Features of the config's own bank (training) and test sets.
3. k-NN (cosine, T = 0.07) and a linear probe on them, beside a randomly
   initialised encoder of the same shape (the floor).
4. The same numbers from ``tools/test.py``, the command to use for reports.

``--max-samples N`` scores the first N bank and test images only (the
numbers then are not the README's, which use all 50,000 / 10,000). Run
the tutorials from the repository root (the configs' data is under
``data/``; ``make data`` puts CIFAR-10 there).
"""
# %%
import argparse
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        '--max-samples', type=int, help='first N bank and test images')
    parser.add_argument('--data-root', help='CIFAR-10 elsewhere')
    parser.add_argument('--probe-epochs', type=int, default=100)
    return parser.parse_args()


def features(model, cfg, which, max_samples):
    """Target-encoder features and labels of the config's ``which`` set."""
    import copy

    from mmengine.runner import Runner

    from hjepa.evaluation import extract_features
    loader_cfg = copy.deepcopy(cfg.test_cfg.bank_dataloader if which ==
                               'bank' else cfg.test_dataloader)
    if max_samples is not None:
        loader_cfg.dataset.max_samples = max_samples
    loader = Runner.build_dataloader(loader_cfg)
    return extract_features(model, loader, 'target')


def main():
    args = parse_args()
    from hjepa.apis import get_model
    from hjepa.evaluation import knn_accuracy
    from hjepa.evaluation.linear_probe import linear_probe
    from hjepa.utils import load_config
    options = {} if args.data_root is None else {
        'test_dataloader.dataset.data_root': args.data_root,
        'test_cfg.bank_dataloader.dataset.data_root': args.data_root
    }
    cfg = load_config(args.config, options)

    # %% 1. Strict loading (the loader tools/test.py and get_model share).
    model = get_model(cfg, checkpoint=args.checkpoint)
    params = sum(p.numel() for p in model.target_encoder.parameters())
    print(f'loaded {args.checkpoint}: target encoder {params / 1e6:.2f} M '
          'parameters')

    # %% 2.-3. k-NN and a linear probe, pretrained against random init.
    for name, net in (('pretrained', model), ('random init', get_model(cfg))):
        bank_x, bank_y = features(net, cfg, 'bank', args.max_samples)
        test_x, test_y = features(net, cfg, 'test', args.max_samples)
        ks = [k for k in (10, 20, 200) if k <= len(bank_x)]
        knn = knn_accuracy(bank_x, bank_y, test_x, test_y, ks=ks)
        probe = linear_probe(
            bank_x, bank_y, test_x, test_y, epochs=args.probe_epochs)
        print(f'{name}: ' + ', '.join(f'k-NN k={k} {knn[f"top1_k{k}"]:.2f}'
                                      for k in ks) +
              f', linear probe {probe["top1"]:.2f} (lr {probe["best_lr"]:g})'
              f'; {len(bank_x)} bank / {len(test_x)} test images')

    # %% 4. The command for reports: k-NN alone, or every protocol (linear
    # probe, few-shot, fine-tuning, feature statistics, t-SNE) with
    # report.md and plots in the work dir.
    print('\nfrom the command line:\n'
          f'  python tools/test.py {args.config} {args.checkpoint}\n'
          f'  python tools/test.py {args.config} {args.checkpoint} '
          '--protocol all --work-dir work_dirs/eval_all')


if __name__ == '__main__':
    main()
