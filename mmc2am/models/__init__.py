from .classifiers import GAPClassifier
from .heads import C2AMHead
from .localizers import BoxRegressor
from .losses import C2AMLoss
from .necks import ConcatStages
from .segmentors import C2AM
from .utils import PretrainedAnyPrefix

__all__ = [
    'C2AM', 'C2AMHead', 'C2AMLoss', 'ConcatStages', 'GAPClassifier',
    'PretrainedAnyPrefix', 'BoxRegressor'
]
