# The CPU default of 8b523fd-6901e9c (the coarse levels' queries in every
# predictor block: hjepa_vit-tiny-d6-p4_full-queries_1xb128-22e_cifar10.py,
# as this leaf was measured) with VICReg's variance and covariance terms
# (VarianceCovarianceReg, weight 0.05) on the average-pooled context
# embedding: every dimension's batch std held above 1, off-diagonal
# covariances pushed to 0, against the bunched pooled features the default
# learns (mean cosine 0.88 after `make train`). As the main job on the
# Intel Xeon with AMX (2 cores, both threads, --amp):
#   python tools/run_main_job.py \
#       <this config> \
#       --margin 0.95 --no-register --work-dir work_dirs/main_job_vicreg
# fitted 19 epochs (0.45 s/iteration timed), trained 61.6 minutes (the
# loop ran 1.11x the timing: 18 epochs would have kept to the hour) and
# scored 57.03 k-NN (k=20), 58.36 / 62.71 linear probe (last layer / last
# four), 61.79 fine-tuned (`tools/test.py ... --protocol all`), against
# the default's 52.18 and 56.38 / 60.76 with 13 epochs (docs/results.md, "The
# main job"). At an equal wall-clock budget the terms help one-level I-JEPA
# more than the hierarchy (configs/ablations/vicreg.py). The leaf was
# hjepa_vit-tiny-d6-p4_vicreg_1xb128-22e_cifar10.py until that name went
# to the CPU default since query_depth=1 with the same terms; it inherits
# that leaf, with the queries back in every predictor block.
_base_ = './hjepa_vit-tiny-d6-p4_vicreg_1xb128-22e_cifar10.py'
model = dict(predictor=dict(query_depth=None))
