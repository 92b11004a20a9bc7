import torch

from hjepa.visualization import plot_masks, plot_training_curves


def test_training_curves_draw_what_the_run_logged(tmp_path):
    rows = [
        dict(step=s, loss_level0=1 / s, loss_level1=0.5 / s)
        for s in range(1, 20)
    ]
    out = tmp_path / 'curves.png'
    assert plot_training_curves(rows,
                                str(out)) == ['loss per level (weighted)']
    rows += [{
        'step': 10,
        'collapse/target_image_rank': 5.0
    }, {
        'step': 19,
        'online_knn/top1_k20': 30.0
    }]
    panels = plot_training_curves(rows, str(out))
    assert len(panels) == 3
    assert out.stat().st_size > 1000


def test_masks_are_drawn(tmp_path):
    images = torch.randn(3, 3, 16, 16)
    masks = dict(
        context=torch.tensor([[0, 1, 2]] * 3),
        targets=torch.tensor([[[5, 6], [9, 10]]] * 3))
    out = tmp_path / 'masks.png'
    plot_masks(images, masks, 4, [0.0] * 3, [255.0] * 3, str(out))
    assert out.stat().st_size > 1000
