"""One training loop for every experiment (hard labels, distillation, black-box), and evaluation.

The recipe is airbench94's (Keller Jordan, 2024), restated for a mean-reduced loss: Nesterov
SGD with a large learning rate, BatchNorm biases learning 64x faster, decoupled weight decay,
a linear warm-up then linear decay, and the numerics `course_utils.numerics` chooses for the device: on a GPU
channels_last and bf16 autocast (fp16 with a gradient scaler before compute capability 8.0); on a CPU the
fastest of fp32 and bf16 autocast, default layout or channels_last, measured once per machine.
"""
from __future__ import annotations

import contextlib
import itertools
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
    """Train `model` on `loader` and return its History: notebook 03's loop (its cell tagged `loop`), plus helpers.

    The loop is the page's: per epoch the whitening layer's bias learns or stays frozen; per step, under the
    chosen mixed precision (numerics.autocast), the teacher's logits without gradients on the very batch the
    student sees (when a `teacher` is given; it runs in eval mode), the student's logits,
    loss_fn(student_logits, teacher_logits, targets) -- or loss_fn(student_logits, targets) without a teacher --,
    zero_grad, backward, step, schedule step. What fit adds has a name each: `_whiten_bias` (the layer the
    recipe freezes), `_Backward` (fp16's gradient scaler on older GPUs), `_Recorder` (timing, the History, the
    check that the loss stayed finite, eval_data measured after each epoch, progress), `_guards` (GPU memory
    errors that say what to do), and fractional epochs. A models.Net must be whitened before
    (make_*(whiten_with=...)). verbose: 'epoch' (a line per epoch), 'bar' (a progress bar) or False. Keyword
    overrides change single TrainConfig fields.
    """
    cfg = cfg or TrainConfig()
    if overrides:
        cfg = TrainConfig(**{**cfg.__dict__, **overrides})
    if isinstance(cfg.epochs, bool) or not isinstance(cfg.epochs, numbers.Real) or not 0 < cfg.epochs < math.inf:
        raise ValueError(f"epochs must be a number > 0 (passes over the loader; fractions allowed), got {cfg.epochs!r}.")
    loss_fn = loss_fn or losses.hard_loss
    device = loader.images.device
    model.to(device, memory_format=numerics.for_device(device).memory_format)  # channels_last where it is faster
    whiten_bias = _whiten_bias(model, cfg)
    total = _total_steps(loader, cfg)
    opt, schedule = make_optimizer(model, cfg, loader.batch_size, total)
    backward, record = _Backward(device, cfg), _Recorder(model, device, total, eval_data, verbose)
    if teacher is not None:
        teacher.eval()  # frozen: BatchNorm uses its running statistics
    step, epoch = 0, 0
    with _guards(device, loader.batch_size):
        while step < total:
            model.train()
            if whiten_bias is not None:
                whiten_bias.requires_grad_(epoch < cfg.whiten_bias_epochs)  # the recipe: it learns early only
            record.start_epoch()
            for x, y in itertools.islice(loader, total - step):  # the last epoch may be a fraction of one
                with numerics.autocast(device, cfg.amp):
                    if teacher is not None:
                        with torch.no_grad():
                            t_logits = teacher(x)  # (B, C): the teacher's answer on the very same batch
                    out = model(x)  # (B, C)
                    loss = loss_fn(out, t_logits, y) if teacher is not None else loss_fn(out, y)
                opt.zero_grad(set_to_none=True)
                backward(loss, opt)  # loss.backward(); opt.step()
                schedule.step()
                step += 1
                record.step(loss, out, y)
            epoch += 1
            record.end_epoch(epoch)
    record.close()
    if whiten_bias is not None:
        whiten_bias.requires_grad_(True)
    model.eval()
    return record.history


def _whiten_bias(model: nn.Module, cfg: TrainConfig) -> torch.Tensor | None:
    """The bias the recipe lets learn for cfg.whiten_bias_epochs only (None: the recipe freezes nothing)."""
    if cfg.whiten_bias_epochs is None:
        return None
    if not isinstance(getattr(model, "whiten", None), nn.Conv2d):
        raise ValueError(f"cfg.whiten_bias_epochs={cfg.whiten_bias_epochs} freezes the bias of a whitening layer "
                         f"`model.whiten`, and this {type(model).__name__} has none: pass whiten_bias_epochs=None.")
    return model.whiten.bias


def _total_steps(loader: data.Loader, cfg: TrainConfig) -> int:
    if len(loader) == 0:
        raise ValueError(f"the loader yields no batch: {len(loader.images)} images at batch_size {loader.batch_size}, and a "
                         "training loader drops its last incomplete batch. Use a batch_size of at most the number of images.")
    return max(1, round(cfg.epochs * len(loader)))


class _Backward:
    """loss.backward() then opt.step(); with fp16 autocast (GPUs before compute capability 8.0) through a gradient
    scaler, which multiplies the loss so that small gradients do not underflow, and skips inf/NaN steps."""

    def __init__(self, device: torch.device, cfg: TrainConfig):
        self.scaler = torch.amp.GradScaler("cuda", enabled=cfg.amp and amp_dtype(device) == torch.float16)

    def __call__(self, loss: torch.Tensor, opt: torch.optim.Optimizer) -> None:
        self.scaler.scale(loss).backward()  # without fp16: loss.backward()
        self.scaler.step(opt)  # without fp16: opt.step()
        self.scaler.update()


@contextlib.contextmanager
def _guards(device: torch.device, batch_size: int):
    """On a GPU: cuDNN's kernel search, value checks in the losses skipped (each would wait for the GPU), and an
    out-of-memory error that says what to do."""
    with contextlib.ExitStack() as stack:
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed batch shapes: let cuDNN pick its fastest kernels
            stack.enter_context(losses.fast_checks())
        stack.enter_context(_explain_out_of_memory("training", batch_size))
        yield


class _Recorder:
    """fit's bookkeeping: per epoch the mean loss (checked finite), the agreement with the targets, the training
    seconds (evaluation excluded), eval_data's accuracy; a line per epoch or a progress bar."""

    def __init__(self, model: nn.Module, device: torch.device, total: int, eval_data, verbose):
        self.model, self.device, self.eval_data, self.verbose = model, device, eval_data, verbose
        self.history, self.seconds = History(), 0.0
        self.bar = tqdm(total=total, leave=False) if verbose == "bar" else None

    def start_epoch(self) -> None:
        self.loss_sum = torch.zeros((), device=self.device)  # summed on the device: no host sync per step
        self.correct = torch.zeros((), device=self.device)
        self.seen = 0
        sync(self.device)
        self.t0 = time.perf_counter()

    def step(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor) -> None:
        n = len(out)
        self.seen += n
        self.loss_sum += loss.detach().float() * n
        target = y if y.ndim == 1 else y.argmax(-1)
        self.correct += (out.detach().argmax(-1) == target).sum()
        if self.bar is not None:
            self.bar.update(1)

    def end_epoch(self, epoch: int) -> None:
        sync(self.device)
        self.seconds += time.perf_counter() - self.t0
        h, seen = self.history, max(self.seen, 1)
        mean_loss = self.loss_sum.item() / seen
        _check_finite(mean_loss, epoch)
        h.epoch.append(epoch)
        h.train_loss.append(mean_loss)
        h.train_acc.append(self.correct.item() / seen)
        h.seconds.append(self.seconds)
        h.images_seen += self.seen
        if self.eval_data is not None:
            h.test_acc.append(evaluate(self.model, *self.eval_data))
        if self.verbose == "epoch":
            test = f"  test {h.test_acc[-1]:.2%}" if self.eval_data is not None else ""
            print(f"epoch {epoch:3d}  loss {mean_loss:.4f}  train {h.train_acc[-1]:.2%}{test}  "
                  f"{self.seconds:6.1f} s", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_finite(mean_loss: float, epoch: int) -> None:
    """A NaN or infinite loss never passes silently: the run diverged, and the error says what to try."""
    if not math.isfinite(mean_loss):
        raise FloatingPointError(f"the training loss became {mean_loss} in epoch {epoch}: the run diverged. "
                                 "Lower cfg.lr (or check the inputs) and train again.")


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
