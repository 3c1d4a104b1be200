"""Metric classes."""
from .wsol_metric import WSOLMetric

__all__ = ['WSOLMetric']
