"""Localizers trained on pseudo boxes (registered into mmdet's MODELS)."""
from .box_regressor import BoxRegressor

__all__ = ['BoxRegressor']
