"""Decide, once, whether the learned class-agnostic map must be inverted."""
from typing import Optional

import torch
from mmengine.dist import all_reduce, broadcast
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from mmc2am.functional.polarity import (border_centre_sums,
                                        reference_needs_flip)

DATA_BATCH = Optional[dict]


@HOOKS.register_module()
class C2AMPolarityHook(Hook):
    """Fix the polarity of a :class:`C2AM` model early in training.

    ``mode='border_centre'`` (default) accumulates, over every training
    batch until the decision, the mean of the maps on their border ring and
    in their centre (summed over all ranks), and inverts the maps when the
    border mean is higher. ``mode='reference'`` reproduces the reference:
    the first map of the last batch before the decision is binarised at 0.5
    and inverted when more than half of its 1-pixel border is on.

    The decision is taken after the first epoch for epoch-based loops, or
    after ``decide_after_iters`` iterations for iteration-based ones, saved
    in the model's ``polarity`` buffer (so in every checkpoint) and logged.
    A model that was already decided (resumed, or loaded) is left alone, and
    so is a model without a polarity (e.g. a classifier trained under the
    same runtime config).

    Args:
        mode (str): 'border_centre' or 'reference'.
            Defaults to 'border_centre'.
        decide_after_iters (int, optional): Decide after this many training
            iterations. Defaults to None: after the first epoch for
            epoch-based loops, after 10% of ``max_iters`` (at least 1)
            otherwise.
        border (int): Width of the border ring, in map pixels. Defaults to 1.
    """

    priority = 'NORMAL'

    def __init__(self,
                 mode: str = 'border_centre',
                 decide_after_iters: Optional[int] = None,
                 border: int = 1) -> None:
        if mode not in ('border_centre', 'reference'):
            raise ValueError(f'C2AMPolarityHook(mode="{mode}"): use '
                             '"border_centre" or "reference".')
        if decide_after_iters is not None and decide_after_iters < 1:
            raise ValueError('C2AMPolarityHook(decide_after_iters='
                             f'{decide_after_iters}) must be >= 1.')
        self.mode = mode
        self.decide_after_iters = decide_after_iters
        self.border = border
        self._sums = torch.zeros(4, dtype=torch.float64)

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _decision_iter(self, runner) -> int:
        """1-based training iteration after which to decide."""
        if self.decide_after_iters is not None:
            return self.decide_after_iters
        loop = runner.train_loop
        if hasattr(loop, 'max_epochs'):
            return len(loop.dataloader)
        return max(1, runner.max_iters // 10)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        model = self._model(runner)
        if not hasattr(model, 'polarity_decided') or bool(
                model.polarity_decided) or model.last_train_maps is None:
            return
        maps = model.last_train_maps
        if self.mode == 'border_centre':
            border_sum, centre_sum, n_border, n_centre = border_centre_sums(
                maps, self.border)
            batch = torch.stack([
                border_sum.double().cpu(),
                centre_sum.double().cpu(),
                torch.tensor(float(n_border), dtype=torch.float64),
                torch.tensor(float(n_centre), dtype=torch.float64)
            ])
            self._sums += batch
        if runner.iter + 1 >= self._decision_iter(runner):
            self._decide(runner, model, maps)

    def _decide(self, runner, model, maps) -> None:
        if self.mode == 'reference':
            flip = reference_needs_flip(maps)
            detail = 'reference rule: binarised border of one map'
        else:
            sums = self._sums.clone()
            all_reduce(sums)
            border_mean = float(sums[0] / sums[2])
            centre_mean = float(sums[1] / sums[3])
            flip = border_mean > centre_mean
            detail = (f'border mean {border_mean:.4f} vs centre mean '
                      f'{centre_mean:.4f} over {int(sums[2])} border pixels')
        # Every rank applies rank 0's decision.
        flag = torch.tensor([float(flip)])
        broadcast(flag, src=0)
        flip = bool(flag.item() > 0.5)
        model.set_polarity(flip)
        print_log(
            f'C2AM polarity decided at iteration {runner.iter + 1}: maps '
            f'{"INVERTED (P := 1 - P)" if flip else "kept as they are"} '
            f'({detail}).',
            logger='current')
