"""The registered weights: every network this package knows by name, with its files, hashes, licence and
provenance. The first entry, ``lightweight``, ships with the package."""

from __future__ import annotations

from ..codec import PafCodec
from ..skeleton import COCO_18, get_skeleton
from .registry import register_weights
from .spec import PreprocessSpec, WeightsSource, WeightsSpec

__all__: list[str] = []

_OMZ_FP16_INT8 = ("https://storage.openvinotoolkit.org/repositories/open_model_zoo/2022.1/models_bin/3/"
                  "human-pose-estimation-0001/FP16-INT8/")

register_weights(WeightsSpec(
    name="lightweight",
    architecture="lightweight",
    skeleton=COCO_18,
    # the IR normalises (pixel - 128) / 255 internally; the PyTorch network expects it done beforehand
    preprocess=PreprocessSpec(mean=128.0, std=255.0, channel_order="BGR", height=368, stride=8, pad_value=128.0,
                              pad="center", interpolation="cubic"),
    license="Apache-2.0",
    description="Lightweight OpenPose (MobileNetV1, CPM, 1 refinement stage), Intel Open Model Zoo "
                "human-pose-estimation-0001, COCO-18; 42.8 AP on a COCO val subset (OMZ model page)",
    sources=(
        WeightsSource("human-pose-estimation-0001.xml",
                      "2ea05c99126a7536622828586837dcde962a12dc8b427c0a847876ce9b2f2506", 437873,
                      _OMZ_FP16_INT8 + "human-pose-estimation-0001.xml", "openvino_ir"),
        WeightsSource("human-pose-estimation-0001.bin",
                      "47ae11b12bf8ce8c27f20cf902c9b665aae25a44513787d36a9a755fccdd2a47", 4170174,
                      _OMZ_FP16_INT8 + "human-pose-estimation-0001.bin", "openvino_ir", companion=True),
        WeightsSource("hpe0001_float32_ir_names.pth",
                      "a931b8c3b9954124a13b64943fde8648bc6d15462871bbd4de6fbca065761270", 16435033, None,
                      "state_dict"),
    ),
    # Lightweight OpenPose's training: Gaussian sigma 7 input pixels, PAF half-width 1 cell at stride 8
    codec=PafCodec(COCO_18, stride=8, sigma=7.0, paf_width=1.0),
    arch_kwargs=(("num_refinement_stages", 1), ("variant", "hpe-0001")),
    aliases=("hpe-0001", "lightweight-coco18"),
    published="https://github.com/openvinotoolkit/open_model_zoo/tree/master/models/intel/human-pose-estimation-0001",
))

register_weights(WeightsSpec(
    name="lightweight-370k",
    architecture="lightweight",
    skeleton=COCO_18,
    # the original evaluation code: (pixel - 128) / 256, centred padding with normalised 0, cubic resize
    preprocess=PreprocessSpec(mean=128.0, std=256.0, channel_order="BGR", height=368, stride=8, pad_value=128.0,
                              pad="center", interpolation="cubic"),
    license="Apache-2.0",
    description="Lightweight OpenPose original PyTorch checkpoint (checkpoint_iter_370000.pth, 1 refinement "
                "stage), COCO-18; 40.0 AP on COCO val2017 (paper)",
    sources=(
        # no sha256 is published for this file: it loads with a warning that it cannot be verified
        WeightsSource("checkpoint_iter_370000.pth", "", None,
                      "https://download.01.org/opencv/openvino_training_extensions/models/human_pose_estimation/"
                      "checkpoint_iter_370000.pth", "state_dict"),
    ),
    codec=PafCodec(COCO_18, stride=8, sigma=7.0, paf_width=1.0),
    arch_kwargs=(("num_refinement_stages", 1), ("variant", "original")),
    aliases=("lightweight-original",),
    published="https://github.com/Daniil-Osokin/lightweight-human-pose-estimation.pytorch",
))


_CMU_MODELS = "http://vcl.snu.ac.kr/OpenPose/models/pose/"
_CMU_PUBLISHED = "https://github.com/CMU-Perceptual-Computing-Lab/openpose (models/getModels.sh)"
_CMU_LICENSE = "CMU OpenPose academic or non-profit non-commercial research licence"
# the CVPR'17 demo and the C++ OpenPose: x / 256 - 0.5 on BGR, height 368, bottom/right padding with 128
_CMU_PREPROCESS = PreprocessSpec(mean=128.0, std=256.0, channel_order="BGR", height=368, stride=8, pad_value=128.0,
                                 pad="bottom_right", interpolation="cubic")


def _cmu_codec(skeleton_name: str) -> PafCodec:
    """The CMU training's targets: Gaussian sigma 7 input pixels, PAF half-width 1 cell at stride 8."""
    return PafCodec(get_skeleton(skeleton_name), stride=8, sigma=7.0, paf_width=1.0)


register_weights(WeightsSpec(
    name="cmu-coco",
    architecture="cmu-coco",
    skeleton=COCO_18,
    preprocess=_CMU_PREPROCESS,
    codec=_cmu_codec("COCO_18"),
    license=_CMU_LICENSE,
    description="CMU OpenPose COCO-18 (VGG-19, 6 stages x 2 branches, CVPR 2017), pose_iter_440000, 52.31 M "
                "parameters; 61.8 AP on COCO test-dev with multi-scale testing (paper)",
    sources=(
        # the widely used PyTorch conversion (the one ControlNet and ComfyUI annotators download): a state_dict keyed
        # by the Caffe layer names
        WeightsSource("body_pose_model.pth", "25a948c16078b0f08e236bda51a385d855ef4c153598947c28c0d47ed94bb746",
                      209267595, "https://huggingface.co/lllyasviel/Annotators/resolve/main/body_pose_model.pth",
                      "state_dict"),
        WeightsSource("pose_iter_440000.caffemodel",
                      "b4cf475576abd7b15d5316f1ee65eb492b5c9f5865e70a2e7882ed31fb682549", 209274056,
                      _CMU_MODELS + "coco/pose_iter_440000.caffemodel", "caffemodel"),
    ),
    aliases=("cmu-coco18", "openpose-coco"),
    published=_CMU_PUBLISHED,
))

register_weights(WeightsSpec(
    name="cmu-body25",
    architecture="cmu-body25",
    skeleton=get_skeleton("BODY_25"),
    preprocess=_CMU_PREPROCESS,
    codec=_cmu_codec("BODY_25"),
    license=_CMU_LICENSE,
    description="CMU OpenPose BODY_25 (VGG-19 front end, 4 PAF + 2 heatmap stages, PReLU; TPAMI 2019), "
                "pose_iter_584000, 26.17 M parameters",
    sources=(
        WeightsSource("pose_iter_584000.caffemodel",
                      "44e3d7ebd8c8b62d4366d67127f1b562611a9e8fd0f4f3cdeeb4bb4a6ed12be6", 104715850,
                      _CMU_MODELS + "body_25/pose_iter_584000.caffemodel", "caffemodel"),
    ),
    aliases=("openpose-body25",),
    published=_CMU_PUBLISHED,
))

register_weights(WeightsSpec(
    name="cmu-mpi",
    architecture="cmu-mpi",
    skeleton=get_skeleton("MPI_15"),
    preprocess=_CMU_PREPROCESS,
    codec=_cmu_codec("MPI_15"),
    license=_CMU_LICENSE,
    description="CMU OpenPose MPI-15 (the COCO design with 16 heatmaps and 28 PAFs), pose_iter_160000, "
                "51.48 M parameters",
    sources=(
        # no sha256 is published (OpenCV's download_models.py lists sha1 a344f4da6b52892e44a0ca8a4c68ee605fc611cf):
        # the file loads with a warning that it cannot be verified
        WeightsSource("pose_iter_160000.caffemodel", "", None, _CMU_MODELS + "mpi/pose_iter_160000.caffemodel",
                      "caffemodel"),
    ),
    aliases=("openpose-mpi",),
    published=_CMU_PUBLISHED,
))
