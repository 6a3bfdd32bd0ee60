"""After an install: do torch and torchvision belong together? (`make lab` runs this.)

A torchvision wheel is built against one torch release and one build of it (CPU, or a CUDA version). Mixing them,
for example PyTorch's CPU torch with PyPI's torchvision, installs without complaint and then fails at the first
image operation ("operator torchvision::nms does not exist"). This check says so at install time, and what to do.

Usage: python tools/check_install.py     (exit 1 with the reason when the pair does not work)
"""
import re
import sys

ADVICE = ("Install both from the same place in one command, for example\n"
          "  {pip} install --force-reinstall torch=={torch} torchvision=={vision}\n"
          "or, for PyTorch's smaller CPU build (where download.pytorch.org can be reached),\n"
          "  {pip} install --force-reinstall torch=={torch} torchvision=={vision} "
          "--index-url https://download.pytorch.org/whl/cpu\n"
          "(constraints.txt names the pair the course was tested with).")


def minor(version: str) -> tuple[int, int]:
    major, minor_ = re.match(r"(\d+)\.(\d+)", version).groups()
    return int(major), int(minor_)


def tested_pair() -> tuple[str, str]:
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "constraints.txt").read_text()
    torch = re.search(r"^torch==([^\s;]+)", text, re.M)
    vision = re.search(r"^torchvision==([^\s;]+)", text, re.M)
    return (torch.group(1) if torch else "X"), (vision.group(1) if vision else "Y")


def problems() -> list[str]:
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any failure to import is the finding
        return [f"torch does not import: {e}"]
    try:
        import torchvision
    except Exception as e:  # noqa: BLE001
        return [f"torchvision does not import beside torch {torch.__version__}: {e}"]
    found = []
    t, v = minor(torch.__version__), minor(torchvision.__version__)
    if t[0] == 2 and v != (0, t[1] + 15):  # torch 2.N pairs with torchvision 0.(N + 15): 2.3/0.18 ... 2.14/0.29
        found.append(f"torch {torch.__version__} pairs with torchvision 0.{t[1] + 15}, "
                     f"but torchvision {torchvision.__version__} is installed")
    cuda_torch, cuda_vision = torch.version.cuda, getattr(torchvision.version, "cuda", None)
    if bool(cuda_torch) != bool(cuda_vision):
        found.append(f"torch is the {'CUDA ' + cuda_torch if cuda_torch else 'CPU'} build but torchvision the "
                     f"{'CUDA' if cuda_vision else 'CPU'} one")
    try:  # the operation a mismatched pair fails on
        torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    except Exception as e:  # noqa: BLE001
        found.append(f"torchvision's compiled operations do not load: {str(e).splitlines()[0]}")
    return found


def main() -> int:
    found = problems()
    if not found:
        import torch
        import torchvision
        print(f"torch {torch.__version__} and torchvision {torchvision.__version__} belong together")
        return 0
    torch_pin, vision_pin = tested_pair()
    print("torch and torchvision do not belong together:\n- " + "\n- ".join(found) + "\n"
          + ADVICE.format(pip=f"{sys.executable} -m pip", torch=torch_pin, vision=vision_pin), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
