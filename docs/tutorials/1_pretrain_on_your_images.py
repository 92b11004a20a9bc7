"""Tutorial 1: pretrain H-JEPA on a folder of your own images, then embed
them by name.

    python docs/tutorials/1_pretrain_on_your_images.py \\
        --images data/cifar10/test/cat --work-dir work_dirs/tutorial_1

1. Look at what the folder holds (the same scan the training set does).
2. Pretrain with ``tools/train.py --data-root``, the command you would type.
3. Register the last checkpoint in your local model zoo under a name.
4. Embed the folder by that name, in three lines, and check the embeddings
   have not collapsed.

``--config`` picks the recipe (default: the seconds-long smoke config; the
CPU default is ``configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py``,
about an hour on two cores for 50,000 images). The cells (``# %%``) open as
a notebook in Jupyter (jupytext) or VS Code.
"""
# %%
import argparse
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMOKE = osp.join(REPO, 'configs', 'hjepa',
                 'hjepa_vit-tiny-p4_smoke_cifar10.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', required=True, help='a folder of images')
    parser.add_argument('--work-dir', default='work_dirs/tutorial_1')
    parser.add_argument('--config', default=SMOKE)
    parser.add_argument(
        '--epochs', type=int, help='override the config\'s epochs')
    parser.add_argument('--name', default='my_hjepa', help='zoo name')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    return parser.parse_args()


def main():
    args = parse_args()

    # %% 1. The folder. Class sub-folders are optional; hidden folders and
    # non-images are skipped; a corrupt image fails naming the file.
    from hjepa.datasets.image_folder import scan_image_folder
    paths, labels, classes = scan_image_folder(args.images)
    print(f'{len(paths)} images in {args.images}' +
          (f', {len(classes)} class folders' if classes else ''))

    # %% 2. Pretrain: the command line a user runs. --data-root makes the
    # folder the training set (resized to the encoder's input, then the
    # config's crops); the schedule follows --cfg-options
    # train_cfg.max_epochs.
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), args.config, '--data-root',
        args.images, '--work-dir', args.work_dir
    ]
    if args.amp:
        cmd.append('--amp')
    if args.epochs is not None:
        cmd += ['--cfg-options', f'train_cfg.max_epochs={args.epochs}']
    print('+ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    with open(osp.join(args.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    print(f'checkpoint: {checkpoint}')

    # %% 3. Register it: the user-local zoo ($HJEPA_HOME/model-index.yml)
    # records the config and the file's sha256; loading by name later
    # refuses the file if it has changed.
    from hjepa.apis import list_models, register_model
    register_model(args.name, args.config, checkpoint, overwrite=True)
    print(f'registered {args.name!r}; zoo: {list_models()}')

    # %% 4. Embeddings by name, in three lines.
    from hjepa.apis import FeatureExtractor, get_model
    model = get_model(args.name, pretrained=True)
    feats = FeatureExtractor(model)(args.images)
    print(f'embeddings: {tuple(feats.shape)}')

    # A collapsed encoder maps every image to nearly the same vector: an
    # effective rank near 1 and a mean cosine near 1. The random-init
    # encoder of the same shape is the floor to compare with.
    from hjepa.evaluation.feature_quality import feature_statistics
    random_feats = FeatureExtractor(get_model(args.config))(args.images)
    for what, f in (('pretrained', feats), ('random init', random_feats)):
        stats = feature_statistics(f)
        print(f'{what}: effective rank {stats["rank"]:.1f} of '
              f'{f.shape[1]}, mean cosine {stats["mean_cos"]:.2f}')


if __name__ == '__main__':
    main()
