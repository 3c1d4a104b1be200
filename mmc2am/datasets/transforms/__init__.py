"""Loading transforms."""
from .loading import (LoadImageBGR8, UnreadableImageError, read_image_bgr8,
                      to_bgr_uint8)
from .wsss_labels import LoadCueAnnotation, LoadRefinedCAMLabel

__all__ = [
    'LoadImageBGR8', 'UnreadableImageError', 'read_image_bgr8', 'to_bgr_uint8',
    'LoadRefinedCAMLabel', 'LoadCueAnnotation'
]
