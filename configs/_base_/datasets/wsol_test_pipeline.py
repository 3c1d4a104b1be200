# Evaluation input of the WSOL recipes (method.md sections 4 and 5): resize
# to 480 x 480, centre crop 448. The ground-truth boxes (`gt_bboxes`) and
# foreground masks (when the sample has one), loaded by LoadWSOLAnnotations,
# go through the same transforms, so C2AM(test_cfg.output_frame='img_shape')
# gives maps in their frame; PackSegInputs keeps the boxes and the image
# class in each SegDataSample's metainfo for WSOLMetric.
wsol_test_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(type='LoadWSOLAnnotations'),
    dict(
        type='Resize',
        scale=(480, 480),
        keep_ratio=False,
        backend='pillow',
        interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=448),
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'gt_bboxes', 'gt_bboxes_labels', 'gt_label')),
]
