"""One training loop for every experiment (hard labels, distillation, black-box), and evaluation.

The recipe is airbench94's (Keller Jordan, 2024), restated for a mean-reduced loss: Nesterov
SGD with a large learning rate, BatchNorm biases learning 64x faster, decoupled weight decay,
a linear warm-up then linear decay, and the numerics `course_utils.numerics` chooses for the device: on a GPU
channels_last and bf16 autocast (fp16 with a gradient scaler before compute capability 8.0); on a CPU the
fastest of fp32 and bf16 autocast, default layout or channels_last, measured once per machine.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from . import data, losses, numerics


@dataclass
class TrainConfig:
    epochs: float = 10  # passes over the loader (fractions allowed)
    lr: float = 1.5  # peak learning rate at batch size 1024; scaled linearly with the batch size
    momentum: float = 0.85  # Nesterov momentum
    decay: float = 0.002  # lr x weight decay at batch 1024: the share of each weight removed per step
    bias_lr_scale: float = 64.0  # BatchNorm biases learn this much faster (no decay increase)
    warmup: float = 0.23  # share of the steps spent warming up from 0.2 x lr to lr
    final_lr: float = 0.07  # the learning rate ends at this share of its peak
    whiten_bias_epochs: float | None = 3  # model.whiten's bias trains this long, then freezes (None: no such layer)
    amp: bool = True  # mixed precision as numerics.for_device chooses (False: float32 everywhere)


# The course's two recipes. Students take a quarter of the teacher's learning rate: the distillation
# loss at high T has larger early gradients than cross-entropy's (bench/README.md).
TEACHER_RECIPE = TrainConfig(epochs=18, lr=1.5)
STUDENT_RECIPE = TrainConfig(epochs=10, lr=0.4)


@dataclass
class History:
    """What fit() measured, one entry per epoch."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)  # agreement with argmax of the targets
    test_acc: list = field(default_factory=list)  # when eval data was given
    seconds: list = field(default_factory=list)  # cumulative training time, evaluation excluded
    images_seen: int = 0  # images trained on (the loader drops each epoch's ragged last batch)

    @property
    def train_seconds(self) -> float:
        return self.seconds[-1] if self.seconds else 0.0

    @property
    def images_per_second(self) -> float:
        """Training throughput: images actually trained on per second of training."""
        return self.images_seen / self.train_seconds if self.train_seconds else 0.0


def _param_groups(model: nn.Module, cfg: TrainConfig, lr: float, decay: float) -> list[dict]:
    bn_biases, others = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if isinstance(module, nn.BatchNorm2d) and name == "bias":
                bn_biases.append(p)
            elif p.requires_grad:
                others.append(p)
    lr_b = lr * cfg.bias_lr_scale
    return [dict(params=bn_biases, lr=lr_b, weight_decay=decay / lr_b, initial_lr=lr_b),
            dict(params=others, lr=lr, weight_decay=decay / lr, initial_lr=lr)]


def make_optimizer(model: nn.Module, cfg: TrainConfig, batch_size: int, total_steps: int):
    """The recipe's optimiser and its schedule: (SGD with Nesterov momentum, a LambdaLR stepped once per step).

    lr and decay are quoted at batch 1024 and scaled linearly with `batch_size`. The schedule warms up
    from 0.2 x lr to lr over the first `cfg.warmup` share of `total_steps`, then decays linearly to
    `cfg.final_lr` x lr.
    """
    scale = batch_size / 1024
    lr, decay = cfg.lr * scale, cfg.decay * scale
    opt = torch.optim.SGD(_param_groups(model, cfg, lr, decay), lr=lr, momentum=cfg.momentum, nesterov=True)
    warm = max(1, int(cfg.warmup * total_steps))

    def lr_factor(step: int) -> float:
        if step < warm:
            return 0.2 + 0.8 * step / warm
        return 1.0 + (cfg.final_lr - 1.0) * (step - warm) / max(1, total_steps - warm)

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)


class GPUMemoryError(RuntimeError):
    """The GPU ran out of memory; the message says how to fit (the quick profile, a smaller batch, a restart)."""


@contextlib.contextmanager
def _explain_out_of_memory(what: str, batch_size: int):
    try:
        yield
    except torch.OutOfMemoryError as err:
        raise GPUMemoryError(
            f"The GPU ran out of memory while {what} at batch size {batch_size}. Use the quick profile "
            f"(COURSE_PROFILE=quick, then restart the kernel), or a smaller batch (e.g. {max(1, batch_size // 2)}); "
            "restarting the kernel also frees the memory that earlier cells still hold.") from err


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype fit and predict use on `device` (None: float32): on CUDA bf16 from compute capability
    8.0 (A100, H100, RTX 30xx and later), fp16 before it (T4, V100), trained with a gradient scaler; on a CPU
    what numerics measured to be fastest here."""
    return numerics.for_device(device).autocast_dtype


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fit(model: nn.Module, loader: data.Loader, loss_fn=None, cfg: TrainConfig | None = None,
        teacher: nn.Module | None = None, eval_data: tuple | None = None, verbose: str | bool = "epoch",
        **overrides) -> History:
    """Train `model` on `loader` and return its History: notebook 03's loop, plus timing and a record.

    Per step: the teacher's logits without gradients (when a `teacher` is given), the student's logits,
    loss_fn(student_logits, teacher_logits, targets) -- or loss_fn(student_logits, targets) without a
    teacher --, zero_grad, backward, step, schedule step. The teacher runs in eval mode on the very
    batch the student sees (augmentation included). A models.Net must be whitened before (make_*(whiten_with=...)).
    eval_data: (uint8 images, labels) measured after each epoch. verbose: 'epoch' (a line per
    epoch), 'bar' (a progress bar) or False. Keyword overrides change single TrainConfig fields.
    """
    cfg = cfg or TrainConfig()
    if overrides:
        cfg = TrainConfig(**{**cfg.__dict__, **overrides})
    if isinstance(cfg.epochs, bool) or not isinstance(cfg.epochs, numbers.Real) or not 0 < cfg.epochs < math.inf:
        raise ValueError(f"epochs must be a number > 0 (passes over the loader; fractions allowed), got {cfg.epochs!r}.")
    loss_fn = loss_fn or losses.hard_loss
    device = loader.images.device
    layout = numerics.for_device(device).memory_format  # channels_last where it is faster
    model.to(device, memory_format=layout)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed batch shapes: let cuDNN pick its fastest kernels
    whiten_bias = None
    if cfg.whiten_bias_epochs is not None:
        if not isinstance(getattr(model, "whiten", None), nn.Conv2d):
            raise ValueError(f"cfg.whiten_bias_epochs={cfg.whiten_bias_epochs} freezes the bias of a whitening layer "
                             f"`model.whiten`, and this {type(model).__name__} has none: pass whiten_bias_epochs=None.")
        whiten_bias = model.whiten.bias
    if teacher is not None:
        teacher.eval()  # frozen: BatchNorm uses its running statistics

    if len(loader) == 0:
        raise ValueError(f"the loader yields no batch: {len(loader.images)} images at batch_size {loader.batch_size}, and a "
                         "training loader drops its last incomplete batch. Use a batch_size of at most the number of images.")
    total = max(1, round(cfg.epochs * len(loader)))
    opt, schedule = make_optimizer(model, cfg, loader.batch_size, total)
    hist, step, seconds = History(), 0, 0.0
    bar = None
    if verbose == "bar":
        bar = tqdm(total=total, leave=False)
    checks = losses.fast_checks() if device.type == "cuda" else contextlib.nullcontext()
    # fp16 gradients can underflow: the scaler multiplies the loss, unscales the gradients, skips inf/NaN steps
    scaler = torch.amp.GradScaler("cuda", enabled=cfg.amp and amp_dtype(device) == torch.float16)
    epoch = 0
    with checks, _explain_out_of_memory("training", loader.batch_size):
        while step < total:
            model.train()
            if whiten_bias is not None:
                whiten_bias.requires_grad_(epoch < cfg.whiten_bias_epochs)
            sync(device)
            t0 = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            seen = 0
            for x, y in loader:
                if step >= total:
                    break
                x = x.contiguous(memory_format=layout)  # a no-op when the loader yields this layout
                with numerics.autocast(device, cfg.amp):
                    if teacher is not None:
                        with torch.no_grad():
                            t_logits = teacher(x)  # (B, C)
                    out = model(x)  # (B, C)
                    loss = loss_fn(out, t_logits, y) if teacher is not None else loss_fn(out, y)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()  # without fp16: loss.backward()
                scaler.step(opt)  # without fp16: opt.step()
                scaler.update()
                schedule.step()
                step += 1
                n = len(x)
                seen += n
                loss_sum += loss.detach().float() * n
                target = y if y.ndim == 1 else y.argmax(-1)
                correct += (out.detach().argmax(-1) == target).sum()
                if bar is not None:
                    bar.update(1)
            sync(device)
            seconds += time.perf_counter() - t0
            epoch += 1
            mean_loss = loss_sum.item() / max(seen, 1)
            if mean_loss != mean_loss or mean_loss in (float("inf"), float("-inf")):
                raise FloatingPointError(f"the training loss became {mean_loss} in epoch {epoch}: the run diverged. "
                                         "Lower cfg.lr (or check the inputs) and train again.")
            hist.epoch.append(epoch)
            hist.train_loss.append(mean_loss)
            hist.train_acc.append(correct.item() / max(seen, 1))
            hist.seconds.append(seconds)
            hist.images_seen += seen
            if eval_data is not None:
                hist.test_acc.append(evaluate(model, *eval_data))
            if verbose == "epoch":
                test = f"  test {hist.test_acc[-1]:.2%}" if eval_data is not None else ""
                print(f"epoch {epoch:3d}  loss {mean_loss:.4f}  train {hist.train_acc[-1]:.2%}{test}  "
                      f"{seconds:6.1f} s", flush=True)
    if bar is not None:
        bar.close()
    if whiten_bias is not None:
        whiten_bias.requires_grad_(True)
    model.eval()
    return hist


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000, tta: bool = False) -> torch.Tensor:
    """Logits (N, C) float32 for uint8 images (N, 3, 32, 32); normalisation inside.

    tta=True averages the logits of each image and its mirror image (flip test-time augmentation).
    """
    if images.dtype != torch.uint8 or images.ndim != 4 or tuple(images.shape[1:]) != (3, 32, 32):
        raise ValueError(f"predict expects uint8 images shaped (N, 3, 32, 32) as course_utils.data holds them, "
                         f"got {images.dtype} {tuple(images.shape)}. Convert with (x * 255).round().to(torch.uint8).")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    layout = numerics.for_device(device).memory_format
    outs = []
    with _explain_out_of_memory("predicting", batch_size):
        for i in range(0, len(images), batch_size):
            x = data.normalize(images[i:i + batch_size].to(device)).contiguous(memory_format=layout)
            with numerics.autocast(device):
                z = model(x).float()
                if tta:
                    z = 0.5 * (z + model(x.flip(3)).float())
            outs.append(z)
    model.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0, 10, device=device)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, tta: bool = False,
             batch_size: int = 1000) -> float:
    """Top-1 accuracy in [0, 1] on uint8 images; tta=True uses flip test-time augmentation."""
    if len(labels) != len(images) or len(images) == 0:
        raise ValueError(f"evaluate needs one label per image and at least one image, got {len(images)} images and "
                         f"{len(labels)} labels.")
    logits = predict(model, images, batch_size=batch_size, tta=tta)
    return (logits.argmax(-1) == labels.to(logits.device)).float().mean().item()
