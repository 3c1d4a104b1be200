from .c2am import C2AM

__all__ = ['C2AM']
