"""Training: masked L2 loss over all stages (:mod:`.loss`), the resumable distributed sampler (:mod:`.sampling`),
checkpoints (:mod:`.checkpoint`), configuration (:mod:`.config`) and the loop (:mod:`.trainer`)."""

from .config import TrainConfig, TrainConfigError, load_config_file
from .loss import LossReport, StageLoss, masked_l2, pose_loss
from .trainer import Trainer, TrainResult, train

__all__ = ["TrainConfig", "TrainConfigError", "load_config_file", "LossReport", "StageLoss", "masked_l2",
           "pose_loss", "Trainer", "TrainResult", "train"]
