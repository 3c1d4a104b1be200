from .hooks import C2AMPolarityHook

__all__ = ['C2AMPolarityHook']
