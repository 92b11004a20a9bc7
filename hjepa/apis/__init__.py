"""Use a trained encoder: a model by name or config, embeddings of images.

    from hjepa.apis import get_model, FeatureExtractor
    model = get_model('hjepa_vit-tiny-d6-p4_cifar10', pretrained=True)
    feats = FeatureExtractor(model)('path/to/folder')  # [N, 192]
"""
from .feature_extractor import FeatureExtractor
from .inference import get_model
from .model_zoo import (ModelEntry, get_entry, hjepa_home, list_models,
                        register_model)

__all__ = [
    'FeatureExtractor', 'get_model', 'list_models', 'register_model',
    'get_entry', 'hjepa_home', 'ModelEntry'
]
