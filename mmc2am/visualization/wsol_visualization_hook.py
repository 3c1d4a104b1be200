"""Draw WSOL predictions during validation and testing."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from .wsol_sample import draw_wsol_sample, input_rgb


@HOOKS.register_module()
class WSOLVisualizationHook(Hook):
    """Draw maps with predicted (green) and ground-truth (red) boxes.

    Every ``interval``-th image of validation and test is drawn by
    :func:`draw_wsol_sample` and passed to the runner's visualizer
    (``add_image``: its backends, local files or TensorBoard) or shown.
    A drop-in for mmseg's ``SegVisualizationHook`` as
    ``default_hooks.visualization``, so ``tools/test.py --show-dir DIR``
    switches it on and saves under ``DIR``.

    Args:
        draw (bool): Draw at all. Defaults to False.
        interval (int): Draw every ``interval``-th image. Defaults to 50.
        threshold (float, optional): Box threshold. Defaults to None: the
            one :class:`WSOLTestLoop` chose on its held-out split, else 0.5.
        scale (int): Enlarge drawings by this factor. Defaults to 1.
        show (bool): Show in a window instead of saving. Defaults to False.
        wait_time (float): Seconds a shown window stays. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 threshold: Optional[float] = None,
                 scale: int = 1,
                 show: bool = False,
                 wait_time: float = 0.) -> None:
        if interval < 1:
            raise ValueError(f'WSOLVisualizationHook(interval={interval}) '
                             'must be >= 1.')
        self.draw = draw
        self.interval = interval
        self.threshold = threshold
        self.scale = scale
        self.show = show
        self.wait_time = wait_time
        self._seen = dict(val=0, test=0)

    def _tau(self, runner) -> float:
        if self.threshold is not None:
            return self.threshold
        chosen = getattr(
            getattr(runner, '_test_loop', None), 'threshold', None)
        return 0.5 if chosen is None else float(chosen)

    def _draw_batch(self, runner, mode: str, data_batch: dict,
                    outputs: Sequence) -> None:
        if not self.draw:
            return
        for i, sample in enumerate(outputs):
            index = self._seen[mode]
            self._seen[mode] += 1
            if index % self.interval:
                continue
            inputs = data_batch['inputs'][i] if data_batch else None
            img = input_rgb(inputs) if inputs is not None else None
            drawing = draw_wsol_sample(runner.visualizer, img, sample,
                                       self._tau(runner), self.scale)
            name = f'{mode}_{osp.splitext(osp.basename(sample.img_path))[0]}'
            if self.show:
                mmcv.imshow(drawing[..., ::-1], name, self.wait_time)
            else:
                runner.visualizer.add_image(name, drawing, step=index)

    def before_val(self, runner) -> None:
        self._seen['val'] = 0

    def before_test(self, runner) -> None:
        self._seen['test'] = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence) -> None:
        """Draw the validation images due."""
        self._draw_batch(runner, 'val', data_batch, outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        """Draw the test images due."""
        self._draw_batch(runner, 'test', data_batch, outputs)
