"""The training loop: it learns, it repeats under a seed, and the teacher is used as promised."""
import functools

import pytest
import torch
from torch import nn

from course_utils import config, data, losses, models, numerics, train


def toy_data(n=256, seed=0):
    """Two easy classes told apart by brightness: any working loop learns them in a few steps."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 100, (n, 3, 32, 32), generator=g) + 120 * labels.view(n, 1, 1, 1)
    return images.to(torch.uint8), labels


def test_fit_learns_and_reports_history():
    x, y = toy_data()
    config.set_seed(0)
    m = models.make_student(whiten_with=x)
    h = train.fit(m, data.Loader(x, y, batch_size=64), epochs=3, eval_data=(x, y), verbose=False)
    assert h.epoch == [1, 2, 3] and len(h.train_loss) == len(h.test_acc) == 3
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.test_acc[-1] > 0.95
    assert h.train_seconds > 0 and not m.training
    loader = data.Loader(x[:200], y[:200], batch_size=64)  # 3 full batches per epoch, the ragged 8 dropped
    h = train.fit(models.make_student(whiten_with=x), loader, epochs=2, verbose=False)
    assert h.images_seen == 2 * 3 * 64 and h.images_per_second == h.images_seen / h.train_seconds


def test_fit_is_deterministic_under_a_seed_on_cpu():
    x, y = toy_data()
    weights = []
    for _ in range(2):
        config.set_seed(3)
        m = models.make_student(whiten_with=x)
        train.fit(m, data.Loader(x, y, batch_size=64, seed=3), epochs=1, verbose=False)
        weights.append(torch.cat([p.detach().flatten() for p in m.parameters()]))
    assert torch.equal(weights[0], weights[1])


class Spy(nn.Module):
    """Records what it was shown and in which mode; answers with a fixed linear map."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3 * 32 * 32, 10)
        self.seen, self.modes, self.grad_enabled = [], [], []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        self.modes.append(self.training)
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.lin(x.flatten(1))


def test_teacher_sees_the_students_augmented_batch_in_eval_mode_without_grad():
    x, y = toy_data(64)
    student, teacher = Spy(), Spy()
    teacher.train()
    kd = functools.partial(losses.distillation_loss, T=4.0, alpha=0.5)
    train.fit(student, data.Loader(x, y, batch_size=32, augment=True), kd, teacher=teacher, epochs=2, verbose=False,
              whiten_bias_epochs=None)
    assert len(teacher.seen) == len(student.seen) == 4
    assert all(torch.equal(a, b) for a, b in zip(teacher.seen, student.seen))
    assert not any(teacher.modes) and not any(teacher.grad_enabled)
    assert all(p.grad is None for p in teacher.parameters())


def test_soft_targets_flow_through_the_same_loop():
    x, y = toy_data()
    probs = torch.nn.functional.one_hot(y, 10).float() * 0.9 + 0.01
    config.set_seed(0)
    m = models.make_student(whiten_with=x)
    h = train.fit(m, data.Loader(x, probs, batch_size=64), losses.soft_target_loss, epochs=2, verbose=False)
    assert h.train_acc[-1] > 0.9


def test_divergence_is_reported():
    x, y = toy_data(64)
    m = models.make_student(whiten_with=x)
    with pytest.raises(FloatingPointError, match="the run diverged"):
        train.fit(m, data.Loader(x, y, batch_size=32), lambda out, t: out.sum() * float("nan"), epochs=1,
                  verbose=False)


def test_predict_and_evaluate():
    x, y = toy_data(50)
    m = models.make_student().eval()
    z = train.predict(m, x, batch_size=16)
    assert z.shape == (50, 10) and z.dtype == torch.float32
    assert torch.allclose(z, m(data.normalize(x)), atol=1e-5)
    zt = train.predict(m, x, tta=True)
    assert torch.allclose(zt, 0.5 * (m(data.normalize(x)) + m(data.normalize(x).flip(3))), atol=1e-5)
    acc = train.evaluate(m, x, y)
    assert acc == pytest.approx((z.argmax(1) == y).float().mean().item())
    with pytest.raises(ValueError, match=r"predict expects uint8 images shaped \(N, 3, 32, 32\)"):
        train.predict(m, x.float())


def test_memory_format_is_a_layout_not_a_change_of_numbers(monkeypatch):
    """The chosen layout (channels_last here) reaches the loader's batches, fit's model and predict's inputs;
    the same training in the default NCHW layout gives the same numbers up to float rounding."""
    assert data.MEMORY_FORMAT == torch.channels_last
    x, y = toy_data(128)
    batch, _ = next(iter(data.Loader(x, y, batch_size=32)))
    assert batch.is_contiguous(memory_format=torch.channels_last)
    runs = {}
    for layout in (torch.channels_last, torch.contiguous_format):
        name = "channels_last" if layout == torch.channels_last else "contiguous"
        monkeypatch.setattr(numerics, "_chosen", {"cpu": numerics.Numerics("float32", name)})
        monkeypatch.setattr(data, "MEMORY_FORMAT", layout)
        config.set_seed(0)
        m = models.make_student(whiten_with=x)
        h = train.fit(m, data.Loader(x, y, batch_size=32, seed=0), epochs=2, verbose=False)
        assert m.blocks[0][0].weight.is_contiguous(memory_format=layout)
        runs[layout] = (h.train_loss, train.predict(m, x))
    (loss_cl, z_cl), (loss_nchw, z_nchw) = runs[torch.channels_last], runs[torch.contiguous_format]
    assert loss_cl == pytest.approx(loss_nchw, rel=1e-3)
    assert torch.allclose(z_cl, z_nchw, atol=1e-3) and torch.equal(z_cl.argmax(1), z_nchw.argmax(1))


def test_verbose_epoch_prints_one_line_per_epoch(capsys):
    x, y = toy_data(64)
    train.fit(models.make_student(whiten_with=x), data.Loader(x, y, batch_size=32), epochs=2, verbose="epoch")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch   1")


# notebook 03's distillation loop, copied from the notebook as the learner reads it (tqdm left out)
def distill(student, teacher, loader, loss_fn, cfg):
    """Train `student` to imitate a frozen `teacher` (and the labels) on `loader`'s batches."""
    opt, schedule = train.make_optimizer(student, cfg, loader.batch_size, cfg.epochs * len(loader))
    teacher.eval()  # frozen: BatchNorm uses its running statistics
    for epoch in range(cfg.epochs):
        student.train()
        student.whiten.bias.requires_grad_(epoch < cfg.whiten_bias_epochs)  # the recipe: it learns early only
        for x, y in loader:  # x: (B, 3, 32, 32) augmented images, y: (B,) labels
            with torch.no_grad():
                t_logits = teacher(x)  # (B, 10): the teacher's answer on the very same batch
            s_logits = student(x)  # (B, 10)
            loss = loss_fn(s_logits, t_logits, y)  # alpha * CE + (1 - alpha) * T^2 * KL
            opt.zero_grad(set_to_none=True)
            loss.backward()  # gradients reach the student only
            opt.step()
            schedule.step()  # the learning rate of the next step
    student.whiten.bias.requires_grad_(True)
    return student.eval()


def test_the_notebooks_loop_and_fit_give_bit_identical_weights():
    x, y = toy_data(192)
    y = torch.randint(0, 10, (192,), generator=torch.Generator().manual_seed(0))
    config.set_seed(0)
    teacher = models.make_teacher(whiten_with=x)
    kd = functools.partial(losses.distillation_loss, T=4.0, alpha=0.5)
    cfg = train.TrainConfig(epochs=4, lr=1.5, whiten_bias_epochs=2)  # 4 epochs of 3 steps: the bias freezes midway
    weights = []
    for run in (distill, train.fit):
        config.set_seed(1)
        student = models.make_student(whiten_with=x).to(memory_format=data.MEMORY_FORMAT)
        loader = data.Loader(x, y, batch_size=64, seed=2)
        if run is distill:
            distill(student, teacher, loader, kd, cfg)
        else:
            train.fit(student, loader, kd, cfg=cfg, teacher=teacher, verbose=False)
        weights.append({k: v.clone() for k, v in student.state_dict().items()})
    assert weights[0].keys() == weights[1].keys()
    for k in weights[0]:
        assert torch.equal(weights[0][k], weights[1][k]), k  # bit for bit, every parameter and buffer
    start = models.make_student(whiten_with=x).state_dict()
    assert not torch.equal(start["head.weight"], weights[0]["head.weight"])  # and training did move them


def test_fit_refuses_to_freeze_a_whitening_layer_the_model_lacks():
    x, y = toy_data(64)
    with pytest.raises(ValueError, match="pass whiten_bias_epochs=None"):
        train.fit(Spy(), data.Loader(x, y, batch_size=32), epochs=1, verbose=False)


def test_fit_refuses_a_loader_without_a_single_batch_instead_of_looping_forever():
    x, y = toy_data(50)
    with pytest.raises(ValueError, match="the loader yields no batch: 50 images at batch_size 64"):
        train.fit(models.make_student(whiten_with=x), data.Loader(x, y, batch_size=64), epochs=1, verbose=False)


@pytest.mark.parametrize("capability, dtype", [((9, 0), torch.bfloat16), ((8, 0), torch.bfloat16),
                                               ((7, 5), torch.float16), ((7, 0), torch.float16)])
def test_mixed_precision_follows_the_gpus_capability(monkeypatch, capability, dtype):
    # H100 (9.0) and A100 (8.0) train in bf16; a T4 (7.5) or a V100 (7.0) has no fast bf16: fp16 with a scaler
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(numerics, "_chosen", {})
    assert train.amp_dtype(torch.device("cuda")) == dtype
    assert train.amp_dtype(torch.device("mps")) is None
    monkeypatch.setenv("COURSE_CPU_NUMERICS", "fp32")
    assert train.amp_dtype(torch.device("cpu")) is None
