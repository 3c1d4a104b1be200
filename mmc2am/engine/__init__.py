from .hooks import C2AMPolarityHook
from .optimizers import AutocastOptimWrapper
from .runner import WSOLTestLoop

__all__ = ['AutocastOptimWrapper', 'C2AMPolarityHook', 'WSOLTestLoop']
