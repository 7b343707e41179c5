"""Optimiser groups, frozen parts (batch norm, backbone) and the warm-up schedule."""

from __future__ import annotations

import pytest
import torch

from openpose_py import models
from openpose_py.errors import TrainConfigError
from openpose_py.train.optim import (
    backbone_parameter_names, freeze, keep_frozen_norms_in_eval, make_optimizer, make_scheduler, param_groups,
    refinement_parameters,
)


def test_refinement_stages_get_four_times_the_learning_rate() -> None:
    light = models.create("lightweight", width=0.25, num_refinement_stages=2)
    refine = refinement_parameters(light)
    named = dict(light.named_parameters())
    assert refine == {n for n in named if n.startswith("refinement_stages.")}
    groups = param_groups(light, 1e-4, 5e-4, 4.0)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    assert sum(len(g["params"]) for g in groups) == len(named)
    assert lr_of[id(named["refinement_stages.1.pafs.1.0.weight"])] == (pytest.approx(4e-4), 5e-4)
    assert lr_of[id(named["refinement_stages.1.pafs.1.0.bias"])] == (pytest.approx(8e-4), 0.0)
    assert lr_of[id(named["initial_stage.pafs.1.0.weight"])] == (pytest.approx(1e-4), 5e-4)
    assert lr_of[id(named["model.0.0.weight"])] == (pytest.approx(1e-4), 5e-4)
    # the CMU network: stages 2-6 are the refinement stages, found without relying on its layer names
    cmu = models.create("cmu-coco")
    refine = refinement_parameters(cmu)
    assert "Mconv1_stage2_L1.weight" in refine and "Mconv7_stage6_L2.bias" in refine
    assert not {"conv1_1.weight", "conv4_4_CPM.weight", "conv5_5_CPM_L2.bias"} & refine


def _step(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    model.train()
    keep_frozen_norms_in_eval(model)
    out = model(torch.rand(2, 3, 32, 32))
    loss = sum(t.square().mean() for s in out for t in s)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_frozen_batch_norm_keeps_its_statistics_and_parameters() -> None:
    """A train-mode step with batch norm frozen leaves every running mean/var and affine parameter as it was; the
    same step unfrozen rewrites the statistics from the batch (what fine-tuning with batch 4 would do)."""
    torch.manual_seed(0)
    net = models.create("lightweight", width=0.25, num_refinement_stages=1, variant="original")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    frozen = freeze(net, ["bn"])
    assert frozen and all(".num_batches_tracked" not in n for n in frozen)
    _step(net, make_optimizer(net, "adam", 1e-2, 0.0, 4.0, 0.9))
    after = net.state_dict()
    norms = [k for k in before if "running_" in k or k in frozen]
    assert norms and all(torch.equal(before[k], after[k]) for k in norms)
    assert not torch.equal(before["initial_stage.pafs.1.0.weight"], after["initial_stage.pafs.1.0.weight"])
    torch.manual_seed(0)
    free = models.create("lightweight", width=0.25, num_refinement_stages=1, variant="original")
    _step(free, make_optimizer(free, "adam", 1e-2, 0.0, 4.0, 0.9))
    assert not torch.equal(before["model.0.1.running_mean"], free.state_dict()["model.0.1.running_mean"])


def test_frozen_backbone_stays_put_and_leaves_the_optimiser() -> None:
    net = models.create("lightweight", width=0.25, num_refinement_stages=1)
    names = backbone_parameter_names(net)
    assert names and all(n.startswith("model.") for n in names)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    freeze(net, ["backbone"])
    optimizer = make_optimizer(net, "adam", 1e-2, 5e-4, 4.0, 0.9)
    in_groups = {id(p) for g in optimizer.param_groups for p in g["params"]}
    named = dict(net.named_parameters())
    assert not in_groups & {id(named[n]) for n in names}
    _step(net, optimizer)
    after = net.state_dict()
    assert all(torch.equal(before[n], after[n]) for n in names)
    assert not torch.equal(before["cpm.align.0.weight"], after["cpm.align.0.weight"])
    with torch.device("meta"):  # names only: no need to allocate the VGG-19 network
        cmu = backbone_parameter_names(models.create("cmu-coco"))
    assert "conv1_1.weight" in cmu and "conv4_2.bias" in cmu and "conv4_3_CPM.weight" not in cmu
    with pytest.raises(TrainConfigError, match="cannot freeze"):
        freeze(net, ["heads"])


def test_warm_up_then_step_decay() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1.0)
    scheduler = make_scheduler(optimizer, warmup_steps=3, lr_step=5, lr_gamma=0.5)
    rates = []
    for _ in range(11):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25])
