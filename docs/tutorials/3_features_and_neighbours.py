"""Tutorial 3: embeddings of your images and their nearest neighbours.

    python docs/tutorials/3_features_and_neighbours.py \\
        --model my_hjepa --gallery data/cifar10/test --queries 5 \\
        --out work_dirs/tutorial_3/neighbours.png

or, without the zoo, ``--config CONFIG --checkpoint CKPT``.

1. Embed a gallery folder with :class:`hjepa.apis.FeatureExtractor`.
2. Pick query images (the gallery's first of every N-th, or ``--query-dir``).
3. Cosine nearest neighbours of each query; where the gallery holds class
   folders, how many neighbours share the query's class (precision@k).
4. A PNG grid: each row a query and its neighbours.
"""
# %%
import argparse
import os
import os.path as osp


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', help='a zoo name (hjepa.apis.list_models)')
    parser.add_argument('--config', help='or a config ...')
    parser.add_argument('--checkpoint', help='... and its checkpoint')
    parser.add_argument('--gallery', required=True, help='a folder of images')
    parser.add_argument(
        '--query-dir', help='query images (default: from the gallery)')
    parser.add_argument(
        '--queries', type=int, default=5, help='gallery images as queries')
    parser.add_argument('--k', type=int, default=5, help='neighbours')
    parser.add_argument('--max-images', type=int, help='first N of gallery')
    parser.add_argument('--out', help='PNG grid of queries and neighbours')
    args = parser.parse_args()
    if (args.model is None) == (args.config is None):
        parser.error('give --model NAME or --config CONFIG [--checkpoint]')
    return args


def grid_image(rows, size=64):
    """One PIL image: a row of tiles per list of image paths."""
    from PIL import Image
    width = max(len(r) for r in rows)
    canvas = Image.new('RGB', (width * (size + 4), len(rows) * (size + 4)),
                       'white')
    for i, row in enumerate(rows):
        for j, path in enumerate(row):
            with Image.open(path) as img:
                tile = img.convert('RGB').resize((size, size))
            canvas.paste(tile, (j * (size + 4), i * (size + 4)))
    return canvas


def main():
    args = parse_args()
    import torch
    import torch.nn.functional as F

    from hjepa.apis import FeatureExtractor, get_model
    from hjepa.datasets.image_folder import scan_image_folder

    if args.model is not None:
        model = get_model(args.model, pretrained=True)
    else:
        model = get_model(args.config, checkpoint=args.checkpoint)
    extractor = FeatureExtractor(model)  # target encoder, average-pooled

    # %% 1. The gallery.
    paths, labels, classes = scan_image_folder(args.gallery)
    if args.max_images is not None:
        # every class keeps its share: take evenly spaced images
        step = max(1, len(paths) // args.max_images)
        paths, labels = paths[::step], labels[::step]
    gallery = F.normalize(extractor(paths), dim=1)
    print(f'gallery: {len(paths)} images, features {tuple(gallery.shape)}')

    # %% 2. Queries: other images, or gallery images spread over the set
    # (each then excludes itself from its neighbours).
    if args.query_dir is not None:
        q_paths, q_labels, _ = scan_image_folder(args.query_dir)
        queries = F.normalize(extractor(q_paths), dim=1)
        own = None
    else:
        if not 1 <= args.queries <= len(paths):
            raise ValueError(f'--queries {args.queries} must be in '
                             f'[1, {len(paths)}]')
        own = torch.linspace(0, len(paths) - 1, args.queries).long()
        q_paths = [paths[i] for i in own]
        q_labels = [labels[i] for i in own]
        queries = gallery[own]
    if not 1 <= args.k < len(paths):
        raise ValueError(f'--k {args.k} must be in [1, {len(paths) - 1}]')

    # %% 3. Cosine similarity, top k.
    sim = queries @ gallery.T
    if own is not None:
        sim[torch.arange(len(own)), own] = -2  # not its own neighbour
    top_sim, top_idx = sim.topk(args.k, dim=1)
    rows, hits = [], []
    for q, (path, idx, s) in enumerate(zip(q_paths, top_idx, top_sim)):
        print(f'query {osp.relpath(path, args.gallery)}')
        for i, v in zip(idx.tolist(), s.tolist()):
            print(f'  {v:.3f}  {osp.relpath(paths[i], args.gallery)}')
        rows.append([path] + [paths[i] for i in idx.tolist()])
        if classes and q_labels[q] >= 0:
            hits.append(sum(labels[i] == q_labels[q] for i in idx.tolist()))
    if hits:
        print(f'precision@{args.k} (neighbours of the query\'s class): '
              f'{100 * sum(hits) / (len(hits) * args.k):.1f}% over '
              f'{len(hits)} queries ({100 / len(classes):.1f}% by chance)')

    # %% 4. The picture.
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        grid_image(rows).save(args.out)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
