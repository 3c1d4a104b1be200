from .c2am_head import C2AMHead

__all__ = ['C2AMHead']
