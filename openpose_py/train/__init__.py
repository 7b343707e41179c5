"""Training: masked L2 loss over all stages (:mod:`.loss`), targets and their step-0 check (:mod:`.targets`), the
resumable distributed sampler (:mod:`.sampling`), checkpoints (:mod:`.checkpoint`), configuration (:mod:`.config`),
network initialisation (:mod:`.initialise`, :mod:`.vgg19`), optimiser and frozen parts (:mod:`.optim`), process
setup (:mod:`.distributed`), metric sinks (:mod:`.metrics`), held-out validation (:mod:`.validation`), the output
folder (:mod:`.outputs`), divergence (:mod:`.divergence`) and the loop (:mod:`.trainer`)."""

from .config import TrainConfig, TrainConfigError, load_config_file
from .loss import LossReport, StageLoss, masked_l2, pose_loss
from .targets import TargetCheck, check_targets
from .trainer import Trainer, TrainResult, train

__all__ = ["TrainConfig", "TrainConfigError", "load_config_file", "LossReport", "StageLoss", "masked_l2",
           "pose_loss", "TargetCheck", "check_targets", "Trainer", "TrainResult", "train"]
