"""Load backbone weights from checkpoints whatever prefix their keys carry."""
import re
from collections import Counter
from typing import Dict, Mapping, Optional, Tuple

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

# Keys under which training frameworks nest the weights.
_STATE_DICT_KEYS = ('state_dict', 'model', 'model_state', 'network')
# Prefixes of the slow / momentum copy in self-supervised checkpoints.
_MOMENTUM_ENCODER = re.compile(r'(encoder_k|momentum|teacher|ema)')


def unwrap_state_dict(checkpoint: Mapping) -> Dict:
    """Return the weights of a loaded checkpoint file.

    Args:
        checkpoint (Mapping): What ``torch.load`` returned.

    Returns:
        dict: Parameter name to tensor.
    """
    for key in _STATE_DICT_KEYS:
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            return dict(checkpoint[key])
    return dict(checkpoint)


def find_key_prefix(keys, target_keys) -> Tuple[str, int]:
    """Find the prefix that, stripped, maps most checkpoint keys to targets.

    Every split of a key at a ``.`` is a candidate: the part before it is a
    prefix (e.g. ``module.encoder_q.`` for MoCo v2, ``backbone.`` for an
    OpenMMLab model, ``''`` for torchvision) when the part after it names a
    parameter of the target module.

    Args:
        keys (Iterable[str]): Checkpoint keys.
        target_keys (Iterable[str]): State-dict keys of the module to load.

    Returns:
        tuple[str, int]: The best prefix and how many keys it maps. Ties go
        to a prefix that does not name a momentum / key encoder (MoCo keeps
        ``encoder_k`` beside ``encoder_q``), then to the shorter one.
    """
    targets = set(target_keys)
    votes: Counter = Counter()
    for key in keys:
        parts = key.split('.')
        for cut in range(len(parts)):
            if '.'.join(parts[cut:]) in targets:
                votes['.'.join(parts[:cut]) + ('.' if cut else '')] += 1
    if not votes:
        return '', 0
    prefix, count = min(
        votes.items(),
        key=lambda kv: (-kv[1], _MOMENTUM_ENCODER.search(kv[0]) is not None,
                        len(kv[0])))
    return prefix, count


@WEIGHT_INITIALIZERS.register_module()
class PretrainedAnyPrefix:
    """Initialise a module from a checkpoint whose keys carry any prefix.

    Works like mmengine's ``Pretrained`` init, but finds the key prefix by
    itself, so the same config line loads a torchvision / ImageNet ResNet-50
    (no prefix), MoCo v2 (``module.encoder_q.``), DetCo or an OpenMMLab model
    (``backbone.``). Keys without a match (classifier heads, momentum
    encoders) are ignored and reported.

    Args:
        checkpoint (str): Path (or URL) of the checkpoint.
        prefix (str, optional): Force this prefix instead of detecting it.
            Defaults to None.
        map_location (str): Where to load tensors. Defaults to 'cpu'.
        min_matched (float): Fraction of the module's parameters that must be
            found in the checkpoint; below it loading fails with an error
            naming the file. Defaults to 0.5.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu',
                 min_matched: float = 0.5) -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.min_matched = min_matched

    def __call__(self, module: nn.Module) -> None:
        state = unwrap_state_dict(
            _load_checkpoint(self.checkpoint, self.map_location))
        target = module.state_dict()
        prefix = self.prefix
        if prefix is None:
            prefix, _ = find_key_prefix(state.keys(), target.keys())
        stripped = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
        matched = [k for k in stripped if k in target]
        if len(matched) < self.min_matched * len(target):
            raise KeyError(
                f'checkpoint "{self.checkpoint}" matches only {len(matched)} '
                f'of the {len(target)} weights of {type(module).__name__} '
                f'(key prefix {prefix!r}). Check that the checkpoint is for '
                'this backbone, or set init_cfg.prefix.')
        print_log(
            f'load {len(matched)}/{len(target)} weights of '
            f'{type(module).__name__} from {self.checkpoint} '
            f'(key prefix {prefix!r}, {len(state) - len(matched)} checkpoint '
            'keys unused)',
            logger='current')
        load_state_dict(
            module, {k: stripped[k]
                     for k in matched}, strict=False, logger='current')
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info
            update_init_info(
                module,
                init_info=f'PretrainedAnyPrefix: load from {self.checkpoint}')
