"""The Open Model Zoo ``human-pose-estimation-0001`` IR and the ``lightweight`` network (variant ``hpe-0001``): the table
from IR layer names to module names, and the check that an IR really is that network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Mapping

from torch import Tensor

from ....errors import ArchitectureMismatchError
from ....models.lightweight import MOBILENET_BLOCKS, REFINEMENT_BLOCKS
from ...registry import get_spec
from ...shapes import check_fits
from .ir import read_ir

__all__ = ["hpe0001_ir_layers", "ir_refinement_stages", "ir_to_module_state_dict", "hpe0001_state_dict_from_ir_names",
           "load_openvino_ir", "is_hpe0001_ir_names"]


def hpe0001_ir_layers(num_refinement_stages: int = 1) -> tuple[tuple[str, str], ...]:
    """(IR conv layer name, module prefix) for every conv of the hpe-0001 variant, in network order.

    A state_dict keyed by IR names (``<layer>.weight`` / ``<layer>.bias``) maps to module keys by swapping the
    prefix. Refinement stage ``s`` (0-based) is the IR's ``stage{s + 2}``.
    """
    pairs = [("conv1", "model.0.0")]
    for i, (name, *_rest) in enumerate(MOBILENET_BLOCKS, start=1):
        pairs += [(f"{name}/dw", f"model.{i}.0"), (f"{name}/sep", f"model.{i}.3")]
    pairs += [
        ("conv4_3_CPM/al/WithoutBiases", "cpm.align.0"), ("conv4_3_CPM/red/WithoutBiases", "cpm.reduce.0"),
        ("conv4_3_CPM/dw1", "cpm.trunk.0.0"), ("conv4_3_CPM/dw1/1x1/WithoutBiases", "cpm.trunk.0.2"),
        ("conv4_3_CPM/dw2", "cpm.trunk.1.0"), ("conv4_3_CPM/dw2/1x1/WithoutBiases", "cpm.trunk.1.2"),
        ("conv4_3_CPM/dw3", "cpm.trunk.2.0"), ("conv4_3_CPM/inc/WithoutBiases", "cpm.trunk.2.2"),
        ("conv4_4_CPM/WithoutBiases", "cpm.conv.0"),
    ]
    pairs += [(f"conv5_{j + 1}_CPM_L1/WithoutBiases", f"initial_stage.trunk.{j}.0") for j in range(3)]
    # L1 = PAF branch, L2 = heatmap branch (CMU naming)
    for branch, head in (("L1", "pafs"), ("L2", "heatmaps")):
        pairs += [(f"conv5_4_CPM_{branch}/WithoutBiases", f"initial_stage.{head}.0.0"),
                  (f"conv5_5_CPM_{branch}/WithoutBiases", f"initial_stage.{head}.1.0")]
    for s in range(num_refinement_stages):
        stage, prefix = f"stage{s + 2}", f"refinement_stages.{s}"
        for b in range(REFINEMENT_BLOCKS):
            ir = f"Mconv{b + 1}_{stage}_L1"
            pairs += [(f"{ir}/sq/WithoutBiases", f"{prefix}.trunk.{b}.initial.0"),
                      (f"{ir}/3x3/WithoutBiases", f"{prefix}.trunk.{b}.trunk.0.0"),
                      (f"{ir}/3x3/2/WithoutBiases", f"{prefix}.trunk.{b}.trunk.1.0")]
        for branch, head in (("L2", "heatmaps"), ("L1", "pafs")):
            pairs += [(f"Mconv6_{stage}_{branch}/WithoutBiases", f"{prefix}.{head}.0.0"),
                      (f"Mconv7_{stage}_{branch}/WithoutBiases", f"{prefix}.{head}.1.0")]
    return tuple(pairs)


def ir_refinement_stages(ir_keys: Mapping[str, object] | set[str]) -> int:
    """How many refinement stages a state_dict keyed by IR names holds (stage2, stage3, ... present)."""
    n = 0
    while any(k.startswith(f"Mconv1_stage{n + 2}_") for k in ir_keys):
        n += 1
    return n


def ir_to_module_state_dict(ir_state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Rename a state_dict keyed by hpe-0001 IR layer names to this module's keys.

    Keys without a counterpart are kept unchanged, so a strict load reports them as unexpected.
    """
    table = dict(hpe0001_ir_layers(ir_refinement_stages(set(ir_state))))
    out: dict[str, Tensor] = {}
    for key, value in ir_state.items():
        layer, _, param = key.rpartition(".")
        out[f"{table[layer]}.{param}" if layer in table else key] = value
    return out


def is_hpe0001_ir_names(tensors: Mapping[str, object]) -> bool:
    """Whether a state_dict is keyed by hpe-0001 IR layer names (as the ``hpe0001_float32_ir_names.pth`` file is)."""
    return "conv1.weight" in tensors and "conv4_3_CPM/al/WithoutBiases.weight" in tensors


def hpe0001_state_dict_from_ir_names(tensors: Mapping[str, Tensor], source: str | Path) -> dict[str, Tensor]:
    """Rename IR-named tensors for ``lightweight`` (variant hpe-0001) and check every name and shape.

    Raises :class:`ArchitectureMismatchError` naming what was expected and what was found.
    """
    stages = ir_refinement_stages(set(tensors))
    expected_layers = dict(hpe0001_ir_layers(stages))
    found_layers = {key.rpartition(".")[0] for key in tensors}
    missing = [name for name in expected_layers if name not in found_layers]
    unexpected = sorted(found_layers - set(expected_layers))
    if missing or unexpected or stages == 0:
        raise ArchitectureMismatchError(
            f"{source}: not a human-pose-estimation-0001 (lightweight) network: expected {len(expected_layers)} conv "
            f"layers ({', '.join(list(expected_layers)[:3])}, ...), found {len(found_layers)}; "
            f"missing {len(missing)} ({', '.join(missing[:3]) or '-'}), "
            f"unexpected {len(unexpected)} ({', '.join(unexpected[:3]) or '-'})"
        )
    renamed = ir_to_module_state_dict(tensors)
    spec = get_spec("lightweight")
    check_fits(renamed, replace(spec, arch_kwargs=(("num_refinement_stages", stages), ("variant", "hpe-0001"))),
               str(source))
    return renamed


def load_openvino_ir(xml_path: str | Path, bin_path: str | Path | None = None) -> dict[str, Tensor]:
    """State_dict for ``create("lightweight", variant="hpe-0001")`` read from a ``human-pose-estimation-0001`` IR.

    An IR of another network raises :class:`ArchitectureMismatchError`.
    """
    return hpe0001_state_dict_from_ir_names(read_ir(xml_path, bin_path).tensors, xml_path)
