"""mmc2am: C²AM class-agnostic activation maps for OpenMMLab.

Importing the package registers every component (see README, "Registry
rule"); configs do it with
``custom_imports=dict(imports=['mmc2am'], allow_failed_imports=False)``.
"""
from .engine.checkpoint_compat import register_local_loader
from .version import __version__

register_local_loader()

from . import datasets, engine, evaluation  # noqa: E402,F401
from . import models, visualization  # noqa: E402,F401

__all__ = ['__version__']
