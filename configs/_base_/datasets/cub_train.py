# CUB-200-2011 training images (5,994; `is_training_image == 1` in
# train_test_split.txt), in the data set's own layout under `data_root`:
# images/, images.txt, train_test_split.txt. Input and batch size 16 as the
# reference's CUB recipe (see image_folder.py).
_base_ = './image_folder.py'

train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        type='CUBImageDataset',
        data_root='data/CUB_200_2011',
        data_prefix=dict(img_path='images'),
        split='train'))
