"""Metric classes."""
from .localizer_metric import LocalizerMetric
from .wsol_metric import WSOLMetric

__all__ = ['LocalizerMetric', 'WSOLMetric']
