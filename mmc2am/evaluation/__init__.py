"""Metrics (registered into mmseg's METRICS)."""
from .metrics import WSOLMetric

__all__ = ['WSOLMetric']
