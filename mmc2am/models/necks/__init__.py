from .concat_stages import ConcatStages

__all__ = ['ConcatStages']
