"""The subset of Caffe's ``caffe.proto`` schema that network definitions and trained weights use, built in code.

No ``caffe_pb2`` is available, so the message types are assembled from a field table into a private descriptor pool
(private so that a real ``caffe_pb2`` imported in the same process cannot clash with it). Field numbers, types and
labels are the official ones (BVLC ``src/caffe/proto/caffe.proto``), so the binary ``.caffemodel`` wire format and the
``.prototxt`` text format both parse with :mod:`google.protobuf`; fields outside this subset are kept as unknown fields
in binary files and rejected in text files.

Exported message classes: :data:`NetParameter` (``layer`` = field 100, legacy ``layers`` = field 2),
:data:`LayerParameter`, :data:`V1LayerParameter`, :data:`BlobProto`, :data:`BlobShape`.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["NetParameter", "LayerParameter", "V1LayerParameter", "BlobProto", "BlobShape", "V1_LAYER_TYPES"]

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _F.TYPE_STRING, "bool": _F.TYPE_BOOL, "float": _F.TYPE_FLOAT, "double": _F.TYPE_DOUBLE,
    "int32": _F.TYPE_INT32, "uint32": _F.TYPE_UINT32, "int64": _F.TYPE_INT64,
}
_PACKAGE = "caffe"

#: V1LayerParameter.LayerType, the legacy enum of layer types (no PReLU: it postdates the V1 format).
V1_LAYER_TYPES: dict[str, int] = {
    "NONE": 0, "ACCURACY": 1, "BNLL": 2, "CONCAT": 3, "CONVOLUTION": 4, "DATA": 5, "DROPOUT": 6, "EUCLIDEAN_LOSS": 7,
    "FLATTEN": 8, "HDF5_DATA": 9, "HDF5_OUTPUT": 10, "IM2COL": 11, "IMAGE_DATA": 12, "INFOGAIN_LOSS": 13,
    "INNER_PRODUCT": 14, "LRN": 15, "MULTINOMIAL_LOGISTIC_LOSS": 16, "POOLING": 17, "RELU": 18, "SIGMOID": 19,
    "SOFTMAX": 20, "SOFTMAX_LOSS": 21, "SPLIT": 22, "TANH": 23, "WINDOW_DATA": 24, "ELTWISE": 25, "POWER": 26,
    "SIGMOID_CROSS_ENTROPY_LOSS": 27, "HINGE_LOSS": 28, "MEMORY_DATA": 29, "ARGMAX": 30, "THRESHOLD": 31,
    "DUMMY_DATA": 32, "SLICE": 33, "MVN": 34, "ABSVAL": 35, "SILENCE": 36, "CONTRASTIVE_LOSS": 37, "EXP": 38,
    "DECONVOLUTION": 39,
}

# message -> nested enums {enum name: {value name: number}}
_ENUMS: dict[str, dict[str, dict[str, int]]] = {
    "PoolingParameter": {"PoolMethod": {"MAX": 0, "AVE": 1, "STOCHASTIC": 2}},
    "V1LayerParameter": {"LayerType": V1_LAYER_TYPES},
}

# message -> fields (name, number, type, label[, default]); label "?" optional, "*" repeated, "*p" packed repeated.
# A type that is not a scalar names a message of this table or one of the enums above. Messages are listed before use.
_MESSAGES: dict[str, tuple[tuple, ...]] = {
    "BlobShape": (("dim", 1, "int64", "*p"),),
    "BlobProto": (
        ("shape", 7, "BlobShape", "?"), ("data", 5, "float", "*p"), ("diff", 6, "float", "*p"),
        ("double_data", 8, "double", "*p"), ("double_diff", 9, "double", "*p"),
        # legacy 4-D shape, written by Caffe before BlobShape existed
        ("num", 1, "int32", "?", "0"), ("channels", 2, "int32", "?", "0"), ("height", 3, "int32", "?", "0"),
        ("width", 4, "int32", "?", "0"),
    ),
    "FillerParameter": (
        ("type", 1, "string", "?", "constant"), ("value", 2, "float", "?"), ("min", 3, "float", "?"),
        ("max", 4, "float", "?", "1"), ("mean", 5, "float", "?"), ("std", 6, "float", "?", "1"),
        ("sparse", 7, "int32", "?", "-1"),
    ),
    "ParamSpec": (("name", 1, "string", "?"), ("lr_mult", 3, "float", "?", "1"), ("decay_mult", 4, "float", "?", "1")),
    "ConvolutionParameter": (
        ("num_output", 1, "uint32", "?"), ("bias_term", 2, "bool", "?", "true"), ("pad", 3, "uint32", "*"),
        ("kernel_size", 4, "uint32", "*"), ("stride", 6, "uint32", "*"), ("dilation", 18, "uint32", "*"),
        ("pad_h", 9, "uint32", "?", "0"), ("pad_w", 10, "uint32", "?", "0"), ("kernel_h", 11, "uint32", "?"),
        ("kernel_w", 12, "uint32", "?"), ("stride_h", 13, "uint32", "?"), ("stride_w", 14, "uint32", "?"),
        ("group", 5, "uint32", "?", "1"), ("weight_filler", 7, "FillerParameter", "?"),
        ("bias_filler", 8, "FillerParameter", "?"), ("axis", 16, "int32", "?", "1"),
    ),
    "PoolingParameter": (
        ("pool", 1, "PoolingParameter.PoolMethod", "?", "MAX"), ("pad", 4, "uint32", "?", "0"),
        ("pad_h", 9, "uint32", "?", "0"), ("pad_w", 10, "uint32", "?", "0"), ("kernel_size", 2, "uint32", "?"),
        ("kernel_h", 5, "uint32", "?"), ("kernel_w", 6, "uint32", "?"), ("stride", 3, "uint32", "?", "1"),
        ("stride_h", 7, "uint32", "?"), ("stride_w", 8, "uint32", "?"), ("global_pooling", 12, "bool", "?", "false"),
    ),
    "ConcatParameter": (("axis", 2, "int32", "?", "1"), ("concat_dim", 1, "uint32", "?", "1")),
    "ReLUParameter": (("negative_slope", 1, "float", "?", "0"),),
    "PReLUParameter": (("filler", 1, "FillerParameter", "?"), ("channel_shared", 2, "bool", "?", "false")),
    "InputParameter": (("shape", 1, "BlobShape", "*"),),
    "LayerParameter": (
        ("name", 1, "string", "?"), ("type", 2, "string", "?"), ("bottom", 3, "string", "*"),
        ("top", 4, "string", "*"), ("loss_weight", 5, "float", "*"), ("param", 6, "ParamSpec", "*"),
        ("blobs", 7, "BlobProto", "*"), ("propagate_down", 11, "bool", "*"),
        ("concat_param", 104, "ConcatParameter", "?"), ("convolution_param", 106, "ConvolutionParameter", "?"),
        ("input_param", 143, "InputParameter", "?"), ("pooling_param", 121, "PoolingParameter", "?"),
        ("prelu_param", 131, "PReLUParameter", "?"), ("relu_param", 123, "ReLUParameter", "?"),
    ),
    "V1LayerParameter": (
        ("bottom", 2, "string", "*"), ("top", 3, "string", "*"), ("name", 4, "string", "?"),
        ("type", 5, "V1LayerParameter.LayerType", "?"), ("blobs", 6, "BlobProto", "*"),
        ("blobs_lr", 7, "float", "*"), ("weight_decay", 8, "float", "*"),
        ("concat_param", 9, "ConcatParameter", "?"), ("convolution_param", 10, "ConvolutionParameter", "?"),
        ("pooling_param", 19, "PoolingParameter", "?"), ("relu_param", 30, "ReLUParameter", "?"),
    ),
    "NetParameter": (
        ("name", 1, "string", "?"), ("input", 3, "string", "*"), ("input_shape", 8, "BlobShape", "*"),
        ("input_dim", 4, "int32", "*"), ("force_backward", 5, "bool", "?", "false"),
        ("layer", 100, "LayerParameter", "*"), ("layers", 2, "V1LayerParameter", "*"),
    ),
}


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(name="openpose_py/caffe_subset.proto", package=_PACKAGE, syntax="proto2")
    for message, fields in _MESSAGES.items():
        msg = fdp.message_type.add(name=message)
        for enum_name, values in _ENUMS.get(message, {}).items():
            enum = msg.enum_type.add(name=enum_name)
            for value_name, number in values.items():
                enum.value.add(name=value_name, number=number)
        for name, number, type_name, label, *default in fields:
            field = msg.field.add(name=name, number=number)
            field.label = _F.LABEL_REPEATED if label.startswith("*") else _F.LABEL_OPTIONAL
            if label == "*p":
                field.options.packed = True
            if type_name in _SCALARS:
                field.type = _SCALARS[type_name]
            else:
                is_enum = "." in type_name
                field.type = _F.TYPE_ENUM if is_enum else _F.TYPE_MESSAGE
                field.type_name = f".{_PACKAGE}.{type_name}"
            if default:
                field.default_value = default[0]
    return fdp


def _build() -> dict[str, type]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_descriptor())
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
            for name in _MESSAGES}


_CLASSES = _build()
NetParameter = _CLASSES["NetParameter"]
LayerParameter = _CLASSES["LayerParameter"]
V1LayerParameter = _CLASSES["V1LayerParameter"]
BlobProto = _CLASSES["BlobProto"]
BlobShape = _CLASSES["BlobShape"]
