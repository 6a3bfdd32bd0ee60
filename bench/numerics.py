"""CPU numerics: training and inference images/s of the student and the teacher in each variant (fp32 or bf16
autocast, default layout or channels_last), through the course's own train.fit and train.predict, with GFLOP/s
and the share of this machine's measured peak (a large matrix product in the same number format).

The variants alternate over --rounds (best kept), so a busy spell of a shared machine slows them all. It also
prints the choice course_utils.numerics makes here, from its own few-second measurement.

    python bench/numerics.py --out bench/results/cpu/numerics.json
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import config, data, models, numerics, train  # noqa: E402

NETS = {"student": (models.STUDENT_WIDTHS, train.STUDENT_RECIPE), "teacher": (models.TEACHER_WIDTHS, train.TEACHER_RECIPE)}


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of an n x n matrix product in `dtype`: the practical peak the convolutions are compared with."""
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=g).to(dtype) for _ in range(2))
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def measure(batch: int, steps: int, rounds: int) -> dict:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch * steps, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (batch * steps,), generator=g)
    rows = {}
    for name, (widths, recipe) in NETS.items():
        flops = models.flops_per_image(models.make_net(widths))
        for dtype, layout in numerics.VARIANTS:
            rows[name, dtype, layout] = {"model": name, "dtype": dtype, "layout": layout, "forward_flops": flops,
                                         "train_images_per_s": 0.0, "infer_images_per_s": 0.0}
    nets = {}
    for r in range(rounds + 1):  # round 0 warms every variant up (kernels, allocator) and is not kept
        for (name, dtype, layout), row in rows.items():
            numerics.use(numerics.Numerics(dtype, layout))
            widths, recipe = NETS[name]
            if r == 0:
                config.set_seed(0)
                nets[name, dtype, layout] = models.make_net(widths, whiten_with=images)
            net = nets[name, dtype, layout]
            hist = train.fit(net, data.Loader(images, labels, batch_size=batch, seed=r), cfg=recipe, epochs=1, verbose=False)
            t0 = time.perf_counter()
            train.predict(net, images, batch_size=500)
            infer = len(images) / (time.perf_counter() - t0)
            if r:
                row["train_images_per_s"] = max(row["train_images_per_s"], hist.images_per_second)
                row["infer_images_per_s"] = max(row["infer_images_per_s"], infer)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=12, help="training steps per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=config.ROOT / "bench" / "results" / "local" / "numerics.json")
    args = ap.parse_args()
    peak = {"float32": matmul_peak(torch.float32), "bfloat16": matmul_peak(torch.bfloat16)}
    rows = measure(args.batch, args.steps, args.rounds)
    for (name, dtype, layout), row in rows.items():
        base = rows[name, "float32", "contiguous"]
        row["train_speedup_vs_fp32"] = row["train_images_per_s"] / base["train_images_per_s"]
        row["infer_speedup_vs_fp32"] = row["infer_images_per_s"] / base["infer_images_per_s"]
        row["train_gflops"] = 3 * row["forward_flops"] * row["train_images_per_s"] / 1e9  # forward + backward ~ 3x
        row["share_of_fp32_peak"] = row["train_gflops"] / peak["float32"]
        print(f"{name:8s} {dtype:9s} {layout:14s} train {row['train_images_per_s']:7.0f} img/s "
              f"({row['train_speedup_vs_fp32']:.2f}x, {row['train_gflops']:6.1f} GFLOP/s, "
              f"{row['share_of_fp32_peak']:.0%} of the fp32 matmul peak)  infer {row['infer_images_per_s']:7.0f} img/s "
              f"({row['infer_speedup_vs_fp32']:.2f}x)")
    numerics._chosen.clear()
    measured = numerics.measure(dtypes=("float32", "bfloat16") if numerics.bf16_supported() else ("float32",))
    choice = numerics.choose(measured, numerics.bf16_supported())
    print(f"peak: fp32 {peak['float32']:.0f} GFLOP/s, bf16 {peak['bfloat16']:.0f} GFLOP/s; the course chooses: {choice}")
    result = {"cpu": numerics._machine_key(), "platform": platform.platform(), "threads": torch.get_num_threads(),
              "bf16_units": numerics.bf16_supported(), "batch": args.batch, "steps": args.steps, "rounds": args.rounds,
              "matmul_peak_gflops": peak, "variants": list(rows.values()),
              "course_choice": {"dtype": choice.dtype, "layout": choice.layout, "speedup": choice.speedup,
                                "why": choice.why}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
