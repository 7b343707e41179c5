"""Training data: COCO-format person keypoints (:mod:`.coco`) and joint augmentation (:mod:`.transforms`)."""

from .coco import Batch, CocoKeypoints, DatasetConfig, Sample, Source, collate, read_annotations
from .transforms import AugmentConfig, AugmentParams, Augmented, affine_matrix, augment, draw_params

__all__ = ["Batch", "CocoKeypoints", "DatasetConfig", "Sample", "Source", "collate", "read_annotations",
           "AugmentConfig", "AugmentParams", "Augmented", "affine_matrix", "augment", "draw_params"]
