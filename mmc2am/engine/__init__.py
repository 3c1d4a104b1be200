from .hooks import C2AMPolarityHook
from .optimizers import AutocastOptimWrapper

__all__ = ['AutocastOptimWrapper', 'C2AMPolarityHook']
