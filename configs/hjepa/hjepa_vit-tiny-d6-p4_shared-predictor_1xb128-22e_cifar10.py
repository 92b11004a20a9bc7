# The CPU default as it was until the multiway predictor became the default
# (docs/results.md "The hierarchy against I-JEPA"): the coarse levels' query
# tokens on the block predictor's own weights, weighted 0.5 each. Every
# ablation config that ran before that change runs on this one, so its arms
# mean what its docs/results.md table measured.
_base_ = ['./hjepa_vit-tiny-d6-p4_regions-2-4_1xb128-22e_cifar10.py']

model = dict(
    predictor=dict(multiway=False, query_depth=None),
    head=dict(level_weights=(1.0, 0.5, 0.5)))
