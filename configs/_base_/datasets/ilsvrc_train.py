# ILSVRC 2012 training images: every image under `data_root`/train/
# (train/<wnid>/*.JPEG), scanned recursively. Input as the reference's
# recipe (see image_folder.py); its batch of 256 is 32 per GPU on 8 GPUs.
_base_ = './image_folder.py'

train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        data_root='data/imagenet', data_prefix=dict(img_path='train')))
