"""C²AM: contrastive learning of class-agnostic activation maps."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from ..utils.encoder import encode


@MODELS.register_module()
class C2AM(BaseModel):
    """Class-agnostic activation maps learned by foreground-background
    contrast, with no labels.

    Call flow::

        inputs --backbone--> stages --neck--> Z [N, C, h, w]
          --head--> logits [N, 1, h, w], P = sigmoid(logits), fg, bg [N, C]
        loss:    C2AMLoss(fg, bg) -> loss_pos_bg, loss_neg, loss_pos_fg
        predict: polarity * logits --resize to input, un-pad, un-flip,
                 resize to ori_shape--> seg_logits (the map: the logits,
                 or P in [0, 1] with map_space='probability'),
                 P > threshold -> pred_sem_seg
        tensor:  polarity * logits [N, 1, h, w]

    Polarity: the loss does not say which side is the object, so the model
    keeps a ``polarity`` buffer (+1 or -1, saved with every checkpoint) that
    :class:`C2AMPolarityHook` sets once during training; until then maps are
    used as they are. Every consumer of maps goes through
    :meth:`apply_polarity`.

    Args:
        backbone (dict): Any mmseg or mmdet backbone config (use
            ``type='mmdet.X'`` for mmdet's under the mmseg scope).
        head (dict): Config of :class:`C2AMHead`.
        loss (dict): Config of :class:`C2AMLoss`.
            Defaults to ``dict(type='C2AMLoss')``.
        neck (dict, optional): Neck turning the backbone outputs into one
            map, e.g. :class:`ConcatStages`. Defaults to None (the last
            backbone output is used).
        data_preprocessor (dict, optional): E.g. ``SegDataPreProcessor``.
            Defaults to None.
        train_cfg (dict, optional): Unused; kept for config symmetry.
        test_cfg (dict, optional): ``threshold`` of ``pred_sem_seg`` on
            ``P`` (default 0.5), ``align_corners`` of the resize (default
            False), ``output_frame``: ``'ori_shape'`` (default, as mmseg
            segmentors: un-pad, un-flip, resize to the original image) or
            ``'img_shape'`` (un-pad only: the frame of the transformed input,
            e.g. a centre crop, where the pipeline also put ``gt_bboxes``),
            and ``map_space``, what ``seg_logits`` holds: ``'logit'``
            (default: the pre-sigmoid map) or ``'probability'`` (``P``, what
            the reference min-max normalises for its boxes). Min-max
            normalisation and relative thresholds, as the box procedure and
            the mask metrics use them, are not invariant to the sigmoid:
            it squeezes an object's confident pixels together near 1. On
            the demo's validation scenes logit maps gave GT-known 0.865
            and mask IoU 0.548 against 0.825 and 0.536 (README, demo
            section). Each sample's metainfo records ``map_space``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 loss: ConfigType = dict(type='C2AMLoss'),
                 neck: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = _build(backbone, 'backbone')
        self.neck = _build(neck, 'neck') if neck is not None else None
        self.head = _build(head, 'head')
        self.loss_module = _build(loss, 'loss')
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(
            threshold=0.5,
            align_corners=False,
            output_frame='ori_shape',
            map_space='logit')
        self.test_cfg.update(test_cfg or {})
        for key, allowed in (('output_frame', ('ori_shape', 'img_shape')),
                             ('map_space', ('logit', 'probability'))):
            if self.test_cfg[key] not in allowed:
                raise ValueError(
                    f'C2AM test_cfg.{key}="{self.test_cfg[key]}": use '
                    + ' or '.join(f'"{a}"' for a in allowed) + '.')
        self.register_buffer('polarity', torch.tensor(1.0))
        self.register_buffer('polarity_decided', torch.tensor(False))
        # Detached maps of the last training batch, read by the polarity hook.
        self.last_train_maps: Optional[Tensor] = None

    @property
    def flipped(self) -> bool:
        """Whether the saved polarity inverts the raw maps."""
        return bool(self.polarity < 0)

    def set_polarity(self, flip: bool) -> None:
        """Fix the polarity: ``flip=True`` makes every map ``1 - P``."""
        self.polarity.fill_(-1.0 if flip else 1.0)
        self.polarity_decided.fill_(True)

    def apply_polarity(self, logits: Tensor, mode: str = 'sign') -> Tensor:
        """Orient pre-sigmoid maps so that high values are the object.

        Args:
            logits (Tensor[N, 1, h, w]): Raw pre-sigmoid maps.
            mode (str): How a flip is applied. 'sign' (default): ``-x``, the
                consistent flip (``sigmoid(-x) = 1 - sigmoid(x)``).
                'reference': ``1 - x``, what the reference's WSSS inference
                computes before its ReLU.

        Returns:
            Tensor[N, 1, h, w]: Oriented maps (unchanged when not flipped).
        """
        if mode not in ('sign', 'reference'):
            raise ValueError(f'apply_polarity(mode="{mode}"): use "sign" or '
                             '"reference".')
        if not self.flipped:
            return logits
        return -logits if mode == 'sign' else 1 - logits

    def in_map_space(self, logits: Tensor) -> Tensor:
        """Oriented logits as ``test_cfg.map_space`` says maps are given:
        unchanged (``'logit'``) or through the sigmoid
        (``'probability'``)."""
        if self.test_cfg['map_space'] == 'probability':
            return logits.sigmoid()
        return logits

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """Backbone and neck.

        Args:
            inputs (Tensor[N, 3, H, W]): Normalised images.

        Returns:
            Tensor[N, C, h, w]: The feature map ``Z``.
        """
        return encode(self.backbone, self.neck, inputs)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList,
                                               Tensor]:
        """Dispatch to ``loss``, ``predict`` or the raw ``tensor`` output.

        Args:
            inputs (Tensor[N, 3, H, W]): Normalised images.
            data_samples (list[SegDataSample], optional): Their metainfo.
            mode (str): 'loss', 'predict' or 'tensor'. Defaults to 'tensor'.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.apply_polarity(
                self.head(self.extract_feat(inputs))['logits'])
        raise ValueError(f'C2AM.forward got mode="{mode}"; use "loss", '
                         '"predict" or "tensor".')

    def loss(self,
             inputs: Tensor,
             data_samples: Optional[SampleList] = None) -> Dict[str, Tensor]:
        """Contrastive loss of a batch (labels, if any, are not used). A
        batch needs at least 2 images (over all ranks when the loss gathers
        them); :class:`C2AMLoss` says so otherwise.

        Returns:
            dict[str, Tensor]: ``loss_pos_bg``, ``loss_neg``, ``loss_pos_fg``.
        """
        out = self.head(self.extract_feat(inputs))
        self.last_train_maps = out['map'].detach()
        return self.loss_module(out['fg'], out['bg'])

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """Object maps resized to each image's original shape.

        Returns:
            list[SegDataSample]: ``seg_logits`` holds the map
            (Tensor[1, H, W], polarity applied: the logits, or ``P`` in
            ``[0, 1]``, as ``test_cfg.map_space`` says; so does the
            metainfo's ``map_space``) and ``pred_sem_seg`` the mask
            ``P > test_cfg.threshold``.
        """
        logits = self.forward(inputs, mode='tensor')
        logits = F.interpolate(
            logits,
            size=inputs.shape[2:],
            mode='bilinear',
            align_corners=self.test_cfg['align_corners'])
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(len(inputs))]
        return [
            self._to_sample(logit, sample)
            for logit, sample in zip(logits, data_samples)
        ]

    def _to_sample(self, logit: Tensor,
                   sample: SegDataSample) -> SegDataSample:
        """Undo padding (and flip, resize to ``ori_shape``), threshold."""
        meta = sample.metainfo
        pad = meta.get('img_padding_size', meta.get('padding_size'))
        left, right, top, bottom = pad or (0, 0, 0, 0)
        h, w = logit.shape[-2:]
        logit = logit[:, top:h - bottom, left:w - right]
        if 'ori_shape' in meta and \
                self.test_cfg['output_frame'] == 'ori_shape':
            if meta.get('flip', False):
                dim = 2 if meta.get('flip_direction') == 'horizontal' else 1
                logit = logit.flip(dims=(dim, ))
            logit = F.interpolate(
                logit[None],
                size=meta['ori_shape'][:2],
                mode='bilinear',
                align_corners=self.test_cfg['align_corners'])[0]
        sample.set_metainfo(dict(map_space=self.test_cfg['map_space']))
        sample.set_data(
            dict(
                seg_logits=PixelData(data=self.in_map_space(logit)),
                pred_sem_seg=PixelData(data=(
                    logit.sigmoid() > self.test_cfg['threshold']).long())))
        return sample


def _build(cfg: ConfigType, key: str) -> torch.nn.Module:
    """Build a sub-module, naming the config key when the type is unknown."""
    try:
        return MODELS.build(cfg)
    except KeyError as err:
        raise KeyError(
            f'C2AM could not build its {key} from {dict(cfg)}: {err}. '
            'Check the type name; mmdet components are written '
            '"mmdet.Name" under default_scope="mmseg", and plugins need '
            "custom_imports=dict(imports=['mmc2am']).") from err
