from .polarity_hook import C2AMPolarityHook

__all__ = ['C2AMPolarityHook']
