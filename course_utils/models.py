"""The teacher and the student: one airbench-style conv family with a width knob.

    input (3, 32, 32)
    -> whitening conv 2x2 (fixed patch-whitening filters, learned bias), GELU      (24, 31, 31)
    -> block(w1): conv3x3, maxpool2, BN, GELU, conv3x3, BN, GELU                 (w1, 15, 15)
    -> block(w2)                                                                  (w2, 7, 7)
    -> block(w3)                                                                  (w3, 3, 3)
    -> maxpool3, linear(w3 -> 10), times `scale`                                  (10,)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .data import normalize

TEACHER_WIDTHS = (64, 256, 256)  # airbench94's widths: about 2M parameters
STUDENT_WIDTHS = (24, 64, 96)  # about 8x fewer FLOPs per image than the teacher


@dataclass(frozen=True)
class NetConfig:
    widths: tuple = TEACHER_WIDTHS  # channels of the three blocks
    whiten_width: int = 24  # 2 x (3 colours x 2 x 2 pixels): +/- each whitening filter
    bn_momentum: float = 0.4  # PyTorch convention: weight of the newest batch in the running stats
    scale: float = 1 / 9  # output multiplier: keeps the first logits small
    num_classes: int = 10


class ConvBNAct(nn.Sequential):
    """conv3x3 (no bias) -> [maxpool2] -> BatchNorm (bias only) -> GELU."""

    def __init__(self, c_in: int, c_out: int, pool: bool, bn_momentum: float):
        conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        nn.init.dirac_(conv.weight[:c_in])  # start the first c_in filters as identity maps
        bn = nn.BatchNorm2d(c_out, momentum=bn_momentum, eps=1e-12)
        bn.weight.requires_grad_(False)  # the scale is redundant before GELU + next conv
        layers = [conv] + ([nn.MaxPool2d(2)] if pool else []) + [bn, nn.GELU()]
        super().__init__(*layers)


class Head(nn.Linear):
    """The last layer, computed as one dot product per image and class instead of a matrix product: some CPUs
    block a matrix product by the batch size, so an image's logits would move (by ~1e-7) with the batch it
    comes in, and an API must answer an image the same whatever batch it is sent in."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, in) -> (B, out)
        out = (x[:, None, :] * self.weight).sum(-1)  # (B, 1, in) * (out, in), summed over in
        return out if self.bias is None else out + self.bias


class Net(nn.Module):
    """The course's conv net; `make_teacher()` and `make_student()` build the two sizes."""

    def __init__(self, cfg: NetConfig = NetConfig()):
        super().__init__()
        self.cfg = cfg
        w1, w2, w3 = cfg.widths
        self.whiten = nn.Conv2d(3, cfg.whiten_width, 2, bias=True)
        self.whiten.weight.requires_grad_(False)  # set from data by init_whitening, then fixed
        c = cfg.whiten_width
        blocks = []
        for w in (w1, w2, w3):
            blocks += [ConvBNAct(c, w, pool=True, bn_momentum=cfg.bn_momentum),
                       ConvBNAct(w, w, pool=False, bn_momentum=cfg.bn_momentum)]
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.head = Head(w3, cfg.num_classes, bias=False)
        self.register_buffer("whitened", torch.zeros((), dtype=torch.bool))  # set by init_whitening

    def is_whitened(self) -> bool:
        return bool(self.whitened)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 3, 32, 32) normalised float
        x = nn.functional.gelu(self.whiten(x))  # (B, 24, 31, 31)
        x = self.blocks(x)  # (B, w3, 3, 3)
        x = torch.amax(x, dim=(2, 3))  # (B, w3): the final 3x3 max-pool
        return self.head(x) * self.cfg.scale  # (B, 10) logits


def make_net(widths=TEACHER_WIDTHS, whiten_with: torch.Tensor | None = None, **kw) -> Net:
    """A Net of these widths; whiten_with: uint8 training images (N, 3, 32, 32) to set its first layer from
    (init_whitening on an even sample of them). Without them, call init_whitening before training."""
    net = Net(NetConfig(widths=tuple(widths), **kw))
    if whiten_with is not None:
        init_whitening(net, whiten_with[:: max(1, len(whiten_with) // 2000)])  # ~2,000 images, spread evenly
    return net


def make_teacher(whiten_with: torch.Tensor | None = None, **kw) -> Net:
    """The teacher: airbench94's widths (64, 256, 256)."""
    return make_net(TEACHER_WIDTHS, whiten_with, **kw)


def make_student(whiten_with: torch.Tensor | None = None, **kw) -> Net:
    """The student: the same family, narrower (24, 64, 96)."""
    return make_net(STUDENT_WIDTHS, whiten_with, **kw)


@torch.no_grad()
def init_whitening(model: Net, images: torch.Tensor, eps: float = 5e-4) -> None:
    """Set the first conv to whiten 2x2 patches of `images` (uint8 (N, 3, 32, 32), a few thousand).

    The filters are the patch covariance's eigenvectors scaled by 1/sqrt(eigenvalue): the first
    layer hands the blocks decorrelated, unit-variance inputs from the first step (airbench's trick).
    """
    w = model.whiten.weight  # (24, 3, 2, 2)
    patches = normalize(images).float().unfold(2, 2, 1).unfold(3, 2, 1)  # (N, 3, 31, 31, 2, 2)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 12)  # (N*31*31, 12)
    patches = (patches.cpu() if patches.device.type == "mps" else patches).double()  # Apple's MPS has no float64
    patches = patches - patches.mean(0)
    cov = patches.T @ patches / len(patches)  # (12, 12)
    eigvals, eigvecs = torch.linalg.eigh(cov)
    filters = (eigvecs.T / torch.sqrt(eigvals + eps)[:, None]).reshape(12, 3, 2, 2)
    w.copy_(torch.cat([filters, -filters]).to(w))  # +/- each filter, so GELU keeps both signs
    model.whitened.fill_(True)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def flops_per_image(model: nn.Module, counts: dict | None = None) -> int:
    """Floating-point operations of one forward pass on one 32x32 image (a multiply-add is 2 FLOPs);
    `counts`, when given, receives them per module."""
    p = next(model.parameters())
    was_training = model.training
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 32, 32, device=p.device, dtype=p.dtype))
    model.train(was_training)
    # a Head's dot products are elementwise products and sums, which the counter does not see: 2 x in x out each
    heads = {name: 2 * m.in_features * m.out_features for name, m in model.named_modules() if isinstance(m, Head)}
    if counts is not None:
        counts.update(counter.get_flop_counts())
        root = type(model).__name__
        for name, flops in heads.items():
            counts[f"{root}.{name}"] = {"head dot products": flops}
    return int(counter.get_total_flops()) + sum(heads.values())


def _layers(module: nn.Module, prefix: str = ""):
    """(name, module) of each layer that holds weights, in forward order; plain Sequential containers opened."""
    for name, child in module.named_children():
        if type(child) is nn.Sequential:
            yield from _layers(child, f"{prefix}{name}.")
        elif count_params(child):
            yield f"{prefix}{name}", child


def layer_table(model: nn.Module) -> list[dict]:
    """One row per layer with weights, read from one forward pass: name, output shape, parameters, FLOPs per image."""
    layers, shapes, counts = list(_layers(model)), {}, {}
    hooks = [m.register_forward_hook(lambda m, i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
             for name, m in layers]
    flops_per_image(model, counts)
    for h in hooks:
        h.remove()
    root = type(model).__name__
    return [{"layer": name, "output": shapes[name], "params": count_params(m),
             "flops": int(sum(counts[f"{root}.{name}"].values()))} for name, m in layers]


def layer_rows(model: nn.Module) -> list[dict]:
    """layer_table as the page shows it (show.table): the output shape as text "(C, H, W)", FLOPs in millions."""
    return [{"layer": r["layer"], "output": str(r["output"]), "params": r["params"], "mflops": r["flops"] / 1e6}
            for r in layer_table(model)]


def size_comparison(teacher: nn.Module, student: nn.Module) -> str:
    """Three lines: each net's widths, parameters and MFLOPs per image, then how much smaller the student is."""
    t_flops, s_flops = flops_per_image(teacher), flops_per_image(student)
    t_params, s_params = count_params(teacher), count_params(student)
    return (f"teacher widths {teacher.cfg.widths}: {t_params:,d} parameters, {t_flops / 1e6:.1f} MFLOPs per image\n"
            f"student widths {student.cfg.widths}:  {s_params:,d} parameters, {s_flops / 1e6:.1f} MFLOPs per image\n"
            f"the student needs {t_flops / s_flops:.1f}x fewer FLOPs per image and is {t_params / s_params:.1f}x smaller")
