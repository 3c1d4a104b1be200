"""Build trained models (C²AM, classifiers, segmentors) for inference outside
a Runner.
"""
import logging
import os.path as osp

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS


def init_c2am(cfg: Config,
              checkpoint: str,
              device: str = 'cpu',
              output_frame: str = 'img_shape') -> torch.nn.Module:
    """The C²AM of a config with a checkpoint's weights and polarity.

    The config's pretrained initialisations (``init_cfg`` of the model and
    its backbone) are dropped: the weights come from the checkpoint, so the
    pretrained files need not exist where the model is used. Call it under
    the config's default scope (``init_default_scope``).

    Args:
        cfg (Config): A config whose ``model`` is a :class:`C2AM`.
        checkpoint (str): The trained checkpoint (with its ``polarity``).
        device (str): Where the model goes. Defaults to 'cpu'.
        output_frame (str): ``test_cfg.output_frame`` of the model:
            'img_shape' (default: maps in the frame of the transformed
            input) or 'ori_shape'.

    Returns:
        torch.nn.Module: The model in eval mode. A checkpoint without a
        polarity decision is used as it is, with a warning.

    Raises:
        TypeError: The config's model is not a C2AM.
        FileNotFoundError: The checkpoint does not exist.
        RuntimeError: Its weights do not fit the model (missing, unexpected
            or differently shaped parameters).
    """
    test_cfg = dict(cfg.model.get('test_cfg') or {}, output_frame=output_frame)
    model = build_without_init(cfg, test_cfg=test_cfg)
    if not hasattr(model, 'polarity_decided'):
        raise TypeError(f'{cfg.filename} builds a {type(model).__name__}; a '
                        'C2AM model is needed.')
    load_weights(model, cfg, checkpoint)
    if not bool(model.polarity_decided):
        print_log(
            f'{checkpoint} has no polarity decision (C2AMPolarityHook did '
            'not run): maps are used as they are.',
            logger='current',
            level=logging.WARNING)
    return model.to(device).eval()


def init_classifier(cfg: Config,
                    checkpoint: str,
                    device: str = 'cpu') -> torch.nn.Module:
    """The CAM classifier of a config with a checkpoint's weights.

    As :func:`init_c2am`, for a model with ``cams(inputs)`` (e.g.
    :class:`GAPClassifier`).

    Args:
        cfg (Config): A config whose ``model`` has a ``cams`` method.
        checkpoint (str): The trained checkpoint.
        device (str): Where the model goes. Defaults to 'cpu'.

    Returns:
        torch.nn.Module: The model in eval mode.

    Raises:
        TypeError: The config's model has no ``cams`` method.
        FileNotFoundError: The checkpoint does not exist.
        RuntimeError: Its weights do not fit the model.
    """
    model = build_without_init(cfg)
    if not callable(getattr(model, 'cams', None)):
        raise TypeError(f'{cfg.filename} builds a {type(model).__name__}, '
                        'which has no cams(); a GAPClassifier is needed.')
    load_weights(model, cfg, checkpoint)
    return model.to(device).eval()


def init_segmentor(cfg: Config,
                   checkpoint: str,
                   device: str = 'cpu') -> torch.nn.Module:
    """The segmentation model of a config (e.g. the cue refinement's
    ``EncoderDecoder``) with a checkpoint's weights.

    As :func:`init_c2am`, for any model of the registry (its ``test_cfg``
    kept).

    Args:
        cfg (Config): A config with a ``model``.
        checkpoint (str): The trained checkpoint.
        device (str): Where the model goes. Defaults to 'cpu'.

    Returns:
        torch.nn.Module: The model in eval mode.

    Raises:
        FileNotFoundError: The checkpoint does not exist.
        RuntimeError: Its weights do not fit the model.
    """
    model = build_without_init(cfg)
    load_weights(model, cfg, checkpoint)
    return model.to(device).eval()


def build_without_init(cfg: Config, **overrides) -> torch.nn.Module:
    """The config's model with its pretrained initialisations (``init_cfg``
    of the model and its backbone) dropped and ``overrides`` set.

    The model config stays a ``ConfigDict``, as ``MODELS.build(cfg.model)``
    gives it (mmseg's segmentors read ``test_cfg.mode`` as an attribute).
    """
    model_cfg = ConfigDict(cfg.model.to_dict())
    model_cfg.pop('init_cfg', None)
    model_cfg.get('backbone', {}).pop('init_cfg', None)
    model_cfg.update(overrides)
    return MODELS.build(model_cfg)


def load_weights(model: torch.nn.Module, cfg: Config, checkpoint: str) -> None:
    """Load a checkpoint strictly; errors name the checkpoint and config.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist.')
    try:
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            logger='current')
    except RuntimeError as err:
        raise RuntimeError(
            f'{checkpoint} does not fit the model of {cfg.filename}: {err}. '
            'Use the config the checkpoint was trained with.') from err
