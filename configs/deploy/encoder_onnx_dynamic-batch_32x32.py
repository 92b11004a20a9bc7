# ONNX fp32 of the evaluated (target) encoder for 32x32 images, any batch.
# The exported graph holds the data preprocessor's normalisation: it takes
# float RGB on the 0-255 scale [N, 3, 32, 32] and gives avg-pooled [N, D].
export_config = dict(
    format='onnx', opset_version=17, dynamic_batch=True, input_size=(32, 32))
codebase_config = dict(encoder='target', pooling='avg')
