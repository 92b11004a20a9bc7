from .feature_quality import (alignment, effective_rank, feature_statistics,
                              mean_cosine, normalized_std, uniformity)
from .features import extract_features
from .few_shot import few_shot_accuracy
from .finetune import finetune
from .knn import knn_accuracy, knn_predict, knn_scores
from .knn_loop import KNNTestLoop
from .linear_probe import linear_probe
from .protocol_loop import ProtocolTestLoop
from .protocols import (EvalData, EvalSubject, FeatureQualityProtocol,
                        FewShotProtocol, FineTuneProtocol, KNNProtocol,
                        LinearProbeProtocol)

__all__ = [
    'extract_features', 'knn_accuracy', 'knn_predict', 'knn_scores',
    'KNNTestLoop', 'ProtocolTestLoop', 'linear_probe', 'few_shot_accuracy',
    'finetune', 'effective_rank', 'normalized_std', 'mean_cosine', 'alignment',
    'uniformity', 'feature_statistics', 'EvalData', 'EvalSubject',
    'KNNProtocol', 'LinearProbeProtocol', 'FewShotProtocol',
    'FeatureQualityProtocol', 'FineTuneProtocol'
]
