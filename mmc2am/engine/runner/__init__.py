"""Loops (registered into mmseg's LOOPS)."""
from .wsol_test_loop import WSOLTestLoop

__all__ = ['WSOLTestLoop']
