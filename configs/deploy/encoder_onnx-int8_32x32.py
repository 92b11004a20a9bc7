# ONNX INT8 (ONNX Runtime dynamic quantization of the fp32 export's
# MatMul/Gemm weights) of the target encoder for 32x32 images, any batch.
# Input: float RGB on the 0-255 scale [N, 3, 32, 32]; output: [N, D].
export_config = dict(
    format='onnx-int8',
    opset_version=17,
    dynamic_batch=True,
    input_size=(32, 32))
codebase_config = dict(encoder='target', pooling='avg')
quantize_config = dict(weight_type='QInt8', per_channel=False)
