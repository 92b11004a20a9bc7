# ONNX fp32 of the target encoder giving every patch token [N, L, D] of
# 32x32 images (0-255 float RGB, normalised inside), any batch.
export_config = dict(
    format='onnx', opset_version=17, dynamic_batch=True, input_size=(32, 32))
codebase_config = dict(encoder='target', pooling='tokens')
