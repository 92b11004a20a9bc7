"""Mask R-CNN with the H-JEPA backbone trains and evaluates in mmdet."""
from tests.test_benchmarks.common import DET_COMPOSITE, fine_tune_tiny


def test_mask_rcnn_trains_and_evaluates_on_composite_set(
        tmp_path, composite_root, tiny_backbone_checkpoint):
    runner = fine_tune_tiny(DET_COMPOSITE, tmp_path, composite_root,
                            tiny_backbone_checkpoint)
    for metric in ('bbox_mAP', 'segm_mAP'):
        value = runner.message_hub.get_scalar(f'val/coco/{metric}').current()
        assert 0 <= value <= 1
