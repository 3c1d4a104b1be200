"""Visualisation of maps and boxes."""
from .wsol_sample import draw_wsol_sample
from .wsol_visualization_hook import WSOLVisualizationHook

__all__ = ['WSOLVisualizationHook', 'draw_wsol_sample']
