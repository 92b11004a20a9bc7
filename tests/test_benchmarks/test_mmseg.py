"""UperNet with the H-JEPA backbone trains and evaluates in mmseg."""
from tests.test_benchmarks.common import SEG_COMPOSITE, fine_tune_tiny


def test_upernet_trains_and_evaluates_on_composite_set(
        tmp_path, composite_root, tiny_backbone_checkpoint):
    runner = fine_tune_tiny(
        SEG_COMPOSITE,
        tmp_path,
        composite_root,
        tiny_backbone_checkpoint,
        out_indices=(0, 1, 2, 3))
    assert 0 <= runner.message_hub.get_scalar('val/mIoU').current() <= 100
