from .pretrained import PretrainedAnyPrefix

__all__ = ['PretrainedAnyPrefix']
