import numpy as np
import torch
from PIL import Image

from hjepa.visualization import plot_masks, plot_training_curves

# matplotlib's first colour (C0, tab10's first), in which a panel's first
# curve and the first target block are drawn
C0 = np.array([31, 119, 180])


def pixels(path):
    return np.asarray(Image.open(path).convert('RGB')).reshape(-1, 3)


def share_near(rgb, colour, tol=4):
    return float((np.abs(rgb - colour).max(1) <= tol).mean())


def test_training_curves_draw_what_the_run_logged(tmp_path):
    rows = [
        dict(step=s, loss_level0=1 / s, loss_level1=0.5 / s)
        for s in range(1, 20)
    ]
    out = tmp_path / 'curves.png'
    assert plot_training_curves(rows,
                                str(out)) == ['loss per level (weighted)']
    assert Image.open(out).size == (550, 396)  # 5 x 3.6 in at 110 dpi
    assert share_near(pixels(out), C0) > 1e-3  # the level-0 curve
    rows += [{
        'step': 10,
        'collapse/target_image_rank': 5.0
    }, {
        'step': 19,
        'online_knn/top1_k20': 30.0
    }]
    panels = plot_training_curves(rows, str(out))
    assert panels == [
        'loss per level (weighted)', 'effective rank (probe batch)',
        'online k-NN top-1 (%)'
    ]
    assert Image.open(out).size == (1650, 396)  # one 5-inch panel each


def test_masks_show_context_clear_and_targets_coloured(tmp_path):
    """White images: context patches stay white, hidden ones are darkened
    to 15% grey (alpha 0.85 black), the first target block is C0 at alpha
    0.45 over the darkened image."""
    images = torch.zeros(3, 3, 16, 16)  # normalised 0 -> mean 255: white
    masks = dict(
        context=torch.tensor([[0, 1, 2]] * 3),
        targets=torch.tensor([[[5, 6, 9, 10]]] * 3))
    out = tmp_path / 'masks.png'
    plot_masks(images, masks, 4, [255.0] * 3, [1.0] * 3, str(out))
    assert Image.open(out).size == (528, 374)  # 1.6 in per image, 3.4 in
    rgb = pixels(out)
    hidden = np.full(3, 0.15 * 255)
    target = 0.45 * C0 + 0.55 * hidden
    # each image's lower panel: 3 context, 4 target, 9 other patches
    shares = [share_near(rgb, c) for c in (hidden, target)]
    assert shares[0] > 0 and shares[1] > 0
    assert 1.8 < shares[0] / shares[1] < 2.7  # 9 hidden vs 4 target patches
