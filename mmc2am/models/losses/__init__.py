from .c2am_loss import C2AMLoss

__all__ = ['C2AMLoss']
