import os.path as osp
import sys

from setuptools import Extension, find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(osp.dirname(__file__), 'mmc2am', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmc2am',
    version=read_version(),
    description='C2AM (contrastive class-agnostic activation maps) for '
    'OpenMMLab: mmsegmentation and mmdetection plugin',
    packages=find_packages(exclude=('tests', 'configs', 'tools')),
    python_requires='>=3.8',
    install_requires=[
        'torch>=1.8',
        'mmengine>=0.10.0,<0.11.0',
        'mmcv>=2.1.0,<2.2.0',
        'mmsegmentation>=1.2.0,<1.3.0',
        'mmdet>=3.3.0,<3.4.0',
        'numpy',
        'opencv-python',
        'ftfy',
        'regex',
    ],
    extras_require={'tests': ['pytest']},
    # Exact outer-contour tracing for the box sweep. Optional: without a C
    # compiler the sweep traces with OpenCV and gives the same boxes.
    ext_modules=[
        Extension(
            'mmc2am.functional._outer_contours',
            ['mmc2am/functional/csrc/outer_contours.c'],
            # Python's own flags carry -fwrapv, which slows its loops by a
            # sixth; the code has no signed overflow.
            extra_compile_args=[] if sys.platform == 'win32' else
            ['-fno-wrapv'],
            optional=True)
    ],
)
