"""Mixed precision by autocast alone, on any device."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Run forward passes under ``torch.autocast`` without loss scaling.

    mmengine's ``AmpOptimWrapper`` needs CUDA (it builds a ``GradScaler``);
    bfloat16 has float32's exponent range and needs no scaling, so this
    wrapper gives ``--amp`` on CPUs too. C²AM's similarities and logs are
    computed in float32 regardless (see :class:`C2AMLoss`).

    Args:
        dtype (str | torch.dtype): Autocast dtype. Defaults to 'bfloat16'.
        **kwargs: :class:`mmengine.optim.OptimWrapper` arguments.
    """

    def __init__(self,
                 *args,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype,
                                                              str) else dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=self.cast_dtype):
            yield
