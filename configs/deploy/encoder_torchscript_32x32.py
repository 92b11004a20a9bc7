# TorchScript (traced, frozen) of the target encoder for 32x32 images; the
# batch size is free. Input: float RGB on the 0-255 scale [N, 3, 32, 32]
# (normalised inside); output: avg-pooled [N, D].
export_config = dict(format='torchscript', input_size=(32, 32))
codebase_config = dict(encoder='target', pooling='avg')
