from .features import extract_features
from .knn import knn_accuracy, knn_predict
from .knn_loop import KNNTestLoop

__all__ = ['extract_features', 'knn_accuracy', 'knn_predict', 'KNNTestLoop']
