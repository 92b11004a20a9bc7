"""UperNet with the H-JEPA backbone trains and evaluates in mmseg."""
import numpy as np
import torch
from PIL import Image

from tests.test_benchmarks.common import SEG_COMPOSITE, fine_tune_tiny


def miou_by_hand(runner, num_classes=11):
    """mIoU (%) of the runner's model on its validation canvases against
    the label maps read from disk with PIL: one confusion matrix, IoU per
    class that occurs in the maps or the predictions, averaged."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    runner.model.eval()
    with torch.no_grad():
        for batch in runner.val_dataloader:
            for sample in runner.model.test_step(batch):
                pred = sample.pred_sem_seg.data[0].numpy()
                truth = np.asarray(Image.open(sample.seg_map_path))
                assert pred.shape == truth.shape
                confusion += np.bincount(
                    truth.ravel() * num_classes + pred.ravel(),
                    minlength=num_classes**2).reshape(num_classes, -1)
    hits = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - hits
    return 100 * (hits[union > 0] / union[union > 0]).mean()


def test_upernet_trains_and_evaluates_on_composite_set(
        tmp_path, composite_root, tiny_backbone_checkpoint):
    runner = fine_tune_tiny(
        SEG_COMPOSITE,
        tmp_path,
        composite_root,
        tiny_backbone_checkpoint,
        out_indices=(0, 1, 2, 3))
    logged = runner.message_hub.get_scalar('val/mIoU').current()
    assert abs(logged - miou_by_hand(runner)) < 0.006  # logged to 2 places
