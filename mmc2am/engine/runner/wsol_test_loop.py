"""Test WSOL maps at a box threshold chosen on a held-out split."""
import copy
from typing import Dict, List, Optional, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner import TestLoop, autocast
from mmseg.registry import LOOPS
from torch.utils.data import DataLoader

from mmc2am.evaluation.metrics.wsol_metric import WSOLMetric

EvaluatorType = Union[Evaluator, Dict, List]


@LOOPS.register_module()
class WSOLTestLoop(TestLoop):
    """Choose the box threshold on a held-out split, then test with it.

    The protocol of "Evaluating WSOL Right" (Choe et al., CVPR 2020;
    method.md section 5.4), in one ``tools/test.py`` run:

    1. the model's maps of ``held_out_dataloader`` go through
       ``held_out_evaluator`` (a :class:`WSOLMetric`), whose
       ``best_threshold`` (the first grid threshold of best GT-known) is
       the chosen ``tau``;
    2. every :class:`WSOLMetric` of the test evaluator that has no
       ``threshold`` of its own is built with ``threshold=tau``, and the
       test split runs as in mmengine's ``TestLoop`` (hooks included), so
       ``GT-known`` and ``Top-k Loc`` are reported at ``tau``.

    The held-out metrics are returned and logged with the test metrics,
    under the held-out evaluator's prefix (``held_out/MaxBoxAcc``,
    ``held_out/best_threshold``...); ``tau`` is kept in
    :attr:`threshold` (read by :class:`WSOLVisualizationHook`). A test
    metric given a ``threshold`` (e.g. ``--cfg-options
    test_evaluator.threshold=0.3``) keeps it; when none needs one, or there
    is no held-out split, step 1 is skipped (and the held-out split is not
    even built).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The test split.
        evaluator (Evaluator | dict | list): The test metrics; a config
            (not a built ``Evaluator``) when a threshold is to be set.
        held_out_dataloader (DataLoader | dict, optional): The held-out
            split with ground-truth boxes. Defaults to None.
        held_out_evaluator (dict | list): Its metrics. Defaults to
            ``dict(type='WSOLMetric', curve=False, prefix='held_out')``.
        fp16 (bool): Autocast inference. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: EvaluatorType,
                 held_out_dataloader: Optional[Union[DataLoader, Dict]] = None,
                 held_out_evaluator: Union[Dict, List] = dict(
                     type='WSOLMetric', curve=False, prefix='held_out'),
                 fp16: bool = False) -> None:
        self._evaluator_cfg = copy.deepcopy(evaluator) if isinstance(
            evaluator, (dict, list)) else None
        super().__init__(runner, dataloader, evaluator, fp16)
        self.threshold: Optional[float] = None
        # Built when a threshold is to be chosen (not for a given one).
        self.held_out_dataloader = held_out_dataloader
        self.held_out_evaluator = held_out_evaluator

    def _open_metrics(self) -> List[int]:
        """Indices of the test WSOLMetrics without a threshold."""
        return [
            index for index, metric in enumerate(self.evaluator.metrics)
            if isinstance(metric, WSOLMetric) and metric.threshold is None
        ]

    @torch.no_grad()
    def choose_threshold(self) -> Dict[str, float]:
        """Run the held-out split; set :attr:`threshold`.

        Returns:
            dict: The held-out metrics.
        """
        if isinstance(self.held_out_dataloader, dict):
            self.held_out_dataloader = self.runner.build_dataloader(
                self.held_out_dataloader, seed=self.runner.seed)
        if not isinstance(self.held_out_evaluator, Evaluator):
            self.held_out_evaluator = self.runner.build_evaluator(
                self.held_out_evaluator)
        self.held_out_evaluator.dataset_meta = getattr(
            self.held_out_dataloader.dataset, 'metainfo', None)
        self.runner.model.eval()
        for data_batch in self.held_out_dataloader:
            with autocast(enabled=self.fp16):
                outputs = self.runner.model.test_step(data_batch)
            self.held_out_evaluator.process(
                data_samples=outputs, data_batch=data_batch)
        metrics = self.held_out_evaluator.evaluate(
            len(self.held_out_dataloader.dataset))
        chosen = [
            v for k, v in metrics.items() if k.endswith('best_threshold')
        ]
        if not chosen:
            raise KeyError(
                'WSOLTestLoop: the held-out evaluator reported no '
                f'best_threshold (got {sorted(metrics)}); use a WSOLMetric.')
        self.threshold = float(chosen[0])
        print_log(
            f'WSOLTestLoop: box threshold {self.threshold:g} chosen on the '
            f'{len(self.held_out_dataloader.dataset)} held-out images',
            logger='current')
        return metrics

    def _set_threshold(self, indices: List[int]) -> None:
        """Rebuild the test evaluator with :attr:`threshold` set in the
        metrics at ``indices``."""
        if self._evaluator_cfg is None:
            raise TypeError(
                'WSOLTestLoop needs the test evaluator as a config (dict or '
                'list) to set its threshold; it got a built Evaluator.')
        cfgs = self._evaluator_cfg
        cfgs = copy.deepcopy(cfgs if isinstance(cfgs, list) else [cfgs])
        for index in indices:
            cfgs[index]['threshold'] = self.threshold
        meta = self.evaluator.dataset_meta
        self.evaluator = self.runner.build_evaluator(cfgs)
        self.evaluator.dataset_meta = meta

    def run(self) -> dict:
        """Choose the threshold (if needed), then test (see the class
        doc)."""
        held_out: Dict[str, float] = {}
        open_metrics = self._open_metrics()
        if open_metrics and self.held_out_dataloader is not None:
            held_out = self.choose_threshold()
            self._set_threshold(open_metrics)
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.test_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        metrics.update(held_out)
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics
