"""Mask R-CNN with the H-JEPA backbone trains and evaluates in mmdet."""
import torch
from mmengine.structures import InstanceData

from tests.test_benchmarks.common import DET_COMPOSITE, fine_tune_tiny


def score_ground_truth(runner):
    """The configured evaluator's metrics for the validation set's own
    boxes and masks given as predictions (score 1)."""
    evaluator = runner.val_evaluator
    dataset = runner.val_dataloader.dataset
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        truth = sample.gt_instances
        sample.pred_instances = InstanceData(
            bboxes=truth.bboxes.tensor,
            labels=truth.labels,
            scores=torch.ones(len(truth.labels)),
            masks=torch.from_numpy(truth.masks.to_ndarray()).bool())
        evaluator.process(data_samples=[sample])
    return evaluator.evaluate(len(dataset))


def test_mask_rcnn_trains_and_evaluates_on_composite_set(
        tmp_path, composite_root, tiny_backbone_checkpoint):
    runner = fine_tune_tiny(DET_COMPOSITE, tmp_path, composite_root,
                            tiny_backbone_checkpoint)
    for metric in ('bbox_mAP', 'segm_mAP'):
        assert f'val/coco/{metric}' in runner.message_hub.log_scalars
    # the evaluator reads the annotations the loader reads: the ground
    # truth, scored as a prediction, is perfect
    metrics = score_ground_truth(runner)
    assert metrics['coco/bbox_mAP'] == 1.0
    assert metrics['coco/segm_mAP'] == 1.0
