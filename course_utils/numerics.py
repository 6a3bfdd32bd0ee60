"""Which number format and memory layout this machine trains the course's nets fastest in, chosen by measuring.

On a GPU the rule is known: bf16 autocast from compute capability 8.0, fp16 with a gradient scaler before it,
channels_last. On a CPU it is not: processors with bf16 units (recent Xeon, AMD Zen 4) train about 1.3-2x faster
in bf16 autocast, others emulate bf16 and get slower, and channels_last helps some more than others. So, the way
cuDNN's benchmark mode picks kernels, the first CPU training in a work folder times a few steps of the student
and the teacher in each variant (a few seconds), keeps the fastest, caches the choice in
<work dir>/numerics.json (per processor, torch version and thread count) and says it once.

    COURSE_CPU_NUMERICS=fp32 | bf16 | auto    (default auto)

A run is still bit-identical with itself on one machine at one thread count; a machine that chooses other
numerics gets slightly different numbers, like a machine with another thread count.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from . import config, data, files, models

VARIANTS = (("float32", "contiguous"), ("float32", "channels_last"), ("bfloat16", "contiguous"), ("bfloat16", "channels_last"))
LAYOUTS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
SHORT = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
MIN_GAIN = 1.1  # a change from fp32 + channels_last must be this much faster (student and teacher): a near tie keeps the default


@dataclass(frozen=True)
class Numerics:
    dtype: str  # "float32", or the autocast dtype: "bfloat16", "float16" (CUDA before 8.0, with a gradient scaler)
    layout: str  # "channels_last" or "contiguous": the memory layout of batches and models
    speedup: float | None = None  # measured training speed over float32 in the default layout (None: not measured)
    why: str = ""  # how it was chosen, in words

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return None if self.dtype == "float32" else getattr(torch, self.dtype)

    @property
    def memory_format(self) -> torch.memory_format:
        return LAYOUTS[self.layout]

    def __str__(self) -> str:
        gain = f", {self.speedup:.2f}x fp32 here" if self.speedup else ""
        return f"{SHORT[self.dtype]} + {self.layout}{gain}{'; ' + self.why if self.why else ''}"


_chosen: dict[str, Numerics] = {}  # device type -> this process's choice


def for_device(device: torch.device | str, announce: bool = True) -> Numerics:
    """The numerics fit and predict use on `device` (measured, cached and, when `announce`, said once per process
    on a CPU)."""
    device = torch.device(device)
    key = device.type
    if key not in _chosen:
        if device.type == "cuda":
            major, _ = torch.cuda.get_device_capability(device)
            _chosen[key] = Numerics("bfloat16" if major >= 8 else "float16", "channels_last",
                                    why=f"the GPU rule for compute capability {major}.x")
        elif device.type == "cpu":
            _chosen[key] = _cpu_choice()
            if announce:
                print(f"CPU numerics: {_chosen[key]}")
        else:  # Apple's MPS: float32, as before
            _chosen[key] = Numerics("float32", "channels_last", why=f"the rule for {device.type}")
        data.MEMORY_FORMAT = _chosen[key].memory_format  # the layout data.Loader yields
    return _chosen[key]


def use(choice: Numerics, device: torch.device | str = "cpu") -> None:
    """Make `choice` this process's numerics for the device type (benchmarks that compare the variants)."""
    _chosen[torch.device(device).type] = choice
    data.MEMORY_FORMAT = choice.memory_format


def chosen(device: torch.device | str = "cpu") -> Numerics | None:
    """This process's choice for the device type, if one was made (results record it; nothing is measured)."""
    return _chosen.get(torch.device(device).type)


@contextlib.contextmanager
def autocast(device: torch.device | str, enabled: bool = True):
    """Mixed precision as chosen for `device` (nothing when float32, or when not enabled)."""
    device = torch.device(device)
    dtype = for_device(device).autocast_dtype if enabled else None
    if dtype is None:
        yield
    else:
        with torch.autocast(device.type, dtype=dtype):
            yield


def _cpu_choice() -> Numerics:
    asked = os.environ.get("COURSE_CPU_NUMERICS", "auto").strip().lower() or "auto"
    if asked not in ("fp32", "bf16", "auto"):
        raise ValueError(f"COURSE_CPU_NUMERICS must be fp32, bf16 or auto, got {asked!r}. Unset it to let the course "
                         "measure which is faster here.")
    if asked != "auto":
        return Numerics({"fp32": "float32", "bf16": "bfloat16"}[asked], "channels_last",
                        why="set by COURSE_CPU_NUMERICS")
    key = _machine_key()
    cached = _read_cache().get(key)
    if cached:
        return Numerics(**{**cached, "why": "measured here before"})
    has_bf16 = bf16_supported()
    # measuring builds and trains throwaway nets: with gradients on even inside predict's no_grad, and the
    # random state put back, so that a run draws the same numbers whether or not the choice was cached
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        speeds = measure(dtypes=("float32", "bfloat16") if has_bf16 else ("float32",))
    choice = choose(speeds, has_bf16)
    try:
        _write_cache({**_read_cache(), key: asdict(choice)})
    except files.WriteError:
        pass  # the choice still holds for this process; it is measured again next time
    return choice


def bf16_supported() -> bool:
    """Whether oneDNN finds bf16 instructions on this CPU (AVX512-BF16, AMX); without them bf16 is emulated."""
    probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(probe()) if probe is not None else True
    except RuntimeError:
        return False


def choose(images_per_s: dict, has_bf16: bool = True) -> Numerics:
    """The fastest variant from measured speeds {(dtype, layout): {"student": img/s, "teacher": img/s}}: the
    highest product of the two speedups over float32 in the default layout. A change from the course's defaults
    must win clearly, so that a noisy measurement does not flip the choice: bf16 by MIN_GAIN over fp32, the
    default layout by MIN_GAIN over channels_last."""
    base = images_per_s[("float32", "contiguous")]

    def score(v):
        return (images_per_s[v]["student"] / base["student"]) * (images_per_s[v]["teacher"] / base["teacher"])

    def best_layout(dtype):
        if (dtype, "channels_last") not in images_per_s:
            return None
        plain = (dtype, "contiguous")
        return plain if score(plain) >= MIN_GAIN ** 2 * score((dtype, "channels_last")) else (dtype, "channels_last")

    best32, best16 = best_layout("float32"), best_layout("bfloat16")
    speed = {v: images_per_s[v]["student"] / base["student"] for v in images_per_s}
    if best16 is not None and score(best16) >= MIN_GAIN ** 2 * score(best32):
        return Numerics(*best16, speedup=round(speed[best16], 2), why="measured: the fastest here")
    if not has_bf16:
        why = "this processor has no bf16 units (bf16 would be emulated), so fp32"
    else:
        why = f"bf16 measured {speed[best16]:.2f}x, not faster here, so fp32" if best16 else "fp32"
    return Numerics(*best32, speedup=round(speed[best32], 2), why=why)


def measure(dtypes=("float32", "bfloat16"), batch: int = 64, steps: int = 2, rounds: int = 3,
            nets=(("student", models.STUDENT_WIDTHS), ("teacher", models.TEACHER_WIDTHS))) -> dict:
    """Training images/s of each net in each variant: `steps` SGD steps of `batch` random images after one
    warm-up step, the variants interleaved over `rounds` (best kept, so a busy spell hits them all)."""
    g = torch.Generator().manual_seed(0)
    x = data.normalize(torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, generator=g))
    y = torch.randint(0, 10, (batch,), generator=g)
    variants = [v for v in VARIANTS if v[0] in dtypes]
    nets_ = {(name, v): models.make_net(widths).to(memory_format=LAYOUTS[v[1]]) for name, widths in nets for v in variants}
    speed = {v: {name: 0.0 for name, _ in nets} for v in variants}

    def step(net, opt, xv, dtype):
        with torch.autocast("cpu", dtype=getattr(torch, dtype), enabled=dtype != "float32"):
            loss = F.cross_entropy(net(xv).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    opts = {key: torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, nesterov=True) for key, net in nets_.items()}
    for r in range(rounds):
        for (name, v), net in nets_.items():
            xv = x.contiguous(memory_format=LAYOUTS[v[1]])
            if r == 0:
                step(net, opts[name, v], xv, v[0])  # warm-up: kernels, allocator
            t0 = time.perf_counter()
            for _ in range(steps):
                step(net, opts[name, v], xv, v[0])
            speed[v][name] = max(speed[v][name], batch * steps / (time.perf_counter() - t0))
    return speed


def _machine_key() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} | torch {torch.__version__} | {torch.get_num_threads()} threads"


def _cache_path():
    return config.WORK_DIR / "numerics.json"


def _read_cache() -> dict:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: measure again


def _write_cache(cache: dict) -> None:
    files.write_atomic(_cache_path(), lambda tmp: tmp.write_text(json.dumps(cache, indent=1)))
