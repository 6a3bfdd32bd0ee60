"""Run anywhere a learner is: a classroom's read-only shared copy of the data, with each learner's caches,
checkpoints and results in a folder of their own."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY, write_folder_copy

ROOT = Path(__file__).resolve().parent.parent

LEARNER = """
import json
from course_utils import checkpoints, config, data, models, results
d = data.load_cifar10("cpu", folder_per_class={tiny})
results.save("03_distill", {{"n_train": len(d.train_images)}})
checkpoints.save(models.make_student(), checkpoints.TEACHER_CHECKPOINT)
print(json.dumps({{"source": d.source, "n_train": len(d.train_images), "data_dir": str(config.DATA_DIR)}}))
"""


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.is_dir(), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_a_read_only_shared_data_folder_is_read_and_never_written(tmp_path):
    shared, work = tmp_path / "shared", tmp_path / "alice"
    write_folder_copy(shared, TINY)
    for p in [shared, *shared.rglob("*")]:  # read-only for everyone (root ignores the bits: the snapshot decides)
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = snapshot(shared)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_RESULTS_DIR"}
    env.update(COURSE_DATA_DIR=str(shared), COURSE_WORK_DIR=str(work), COURSE_DEVICE="cpu", COURSE_PROFILE="quick")
    for _ in range(2):  # the second run reads the learner's own cache
        out = subprocess.run([sys.executable, "-c", LEARNER.format(tiny=TINY)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.strip().splitlines()[-1]) == {
            "source": "image-folder version cifar10-jpeg", "n_train": 60, "data_dir": str(shared)}
    assert snapshot(shared) == before  # not one byte written to the shared copy
    assert (work / "cache" / "cifar10-folder-cifar10-jpeg.pt").exists()
    assert json.loads((work / "results" / "03_distill.json").read_text())["work_dir"] == str(work)
    assert (work / "checkpoints" / "teacher.pt").exists()
    for p in [shared, *shared.rglob("*")]:  # let pytest clean up
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_make_data_extracts_the_canonical_archive_as_well_as_an_image_folder_one(tmp_path):
    import tarfile

    from course_utils import data

    for name, folder in (("cifar-10-python.tar.gz", data.CANONICAL_DIR), ("cifar10-jpeg.tar.gz", data.FOLDER_DIR)):
        src, room = tmp_path / f"src-{folder}", tmp_path / f"room-{folder}"
        (src / folder).mkdir(parents=True)
        (src / folder / "readme.html").write_text("a stand-in for the archive's content")
        room.mkdir()
        with tarfile.open(tmp_path / name, "w:gz") as tar:
            tar.add(src / folder, arcname=folder)
        make = ["make", "-s", "-f", str(ROOT / "Makefile"), "data", f"ARCHIVE={tmp_path / name}"]
        out = subprocess.run(make, cwd=room, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and f"extracted {tmp_path / name}" in out.stdout, out.stdout + out.stderr
        assert data.find_source(room / "data") == ("canonical" if folder == data.CANONICAL_DIR else "folder")
        again = subprocess.run(make, cwd=room, capture_output=True, text=True, timeout=60)
        assert "already holds a copy" in again.stdout


def test_the_welcome_notebook_runs_from_a_working_directory_other_than_notebooks(tmp_path):
    # Colab, a JupyterHub or `jupyter lab` started elsewhere: the course finds its files from the library, not the cwd
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors and not list(tmp_path.iterdir())  # ran, and wrote nothing into the working directory


# --- the cloud route: the notebooks' first code cell on a simulated Colab or Kaggle ---------------------------------

CLOUD_PROBE = """
import json, os, sys
source = json.load(open({notebook!r}))["cells"]
cell = next(c for c in source if "cloud-setup" in c["metadata"].get("tags", []))
namespace = {{}}
for _ in range(2):  # a learner re-runs the cell: the second run finds the clone
    exec("".join(cell["source"]), namespace)
import course_utils
from course_utils import config
print(json.dumps({{"cloud": namespace["cloud"], "cwd": os.getcwd(), "package": course_utils.__file__,
                  "root": str(config.ROOT)}}))
"""


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A stand-in for the published repository: a clone of this one with two release tags, v-test-1 at this commit
    and v-test-2 one commit later (the cloud cell clones a tag)."""
    src = tmp_path_factory.mktemp("published") / "distillation-lab"
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.org", "-C", str(src)]
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(src)], check=True, timeout=120)
    subprocess.run([*git, "tag", "v-test-1"], check=True)
    subprocess.run([*git, "commit", "--quiet", "--allow-empty", "-m", "the next release"], check=True)
    subprocess.run([*git, "tag", "v-test-2"], check=True)
    return f"file://{src}"


CELL_ONLY = """
import json
source = json.load(open({notebook!r}))["cells"]
exec("".join(next(c for c in source if "cloud-setup" in c["metadata"].get("tags", []))["source"]), {{}})
"""  # the cell alone, without importing the course afterwards (which takes seconds)


def run_cloud_cell(tmp_path, notebook, probe=CLOUD_PROBE, **cloud_env):
    elsewhere = tmp_path / "elsewhere"  # Colab's kernel starts in /content, not in notebooks/
    elsewhere.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLAB_", "KAGGLE_", "COURSE_"))}
    env.update(cloud_env)
    out = subprocess.run([sys.executable, "-c", probe.format(notebook=str(notebook))], env=env, cwd=elsewhere,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return (json.loads(out.stdout.strip().splitlines()[-1]) if probe is CLOUD_PROBE else None), out


@pytest.mark.parametrize("name", ["00_welcome.ipynb", "03_distill_the_student.ipynb"])
def test_on_simulated_colab_the_first_cell_fetches_the_course_and_makes_it_importable(tmp_path, published, name):
    content = tmp_path / "content"
    seen, out = run_cloud_cell(tmp_path, ROOT / "notebooks" / name, COLAB_RELEASE_TAG="release-colab-simulated",
                               COURSE_HOME=str(content), COURSE_REPO=published, COURSE_REF="v-test-1")
    clone = content / "distillation-lab"
    assert seen["cloud"] == "/content"
    assert seen["cwd"] == str(clone / "notebooks")
    assert Path(seen["package"]).is_relative_to(clone), "the clone's course_utils, not the one installed here"
    assert seen["root"] == str(clone)  # data/ and the shipped teacher are found from the clone
    said = [line for line in out.stdout.splitlines() if line.startswith("the course is in")]
    assert said == [f"the course is in {clone} (fetched v-test-1); on a GPU runtime the full profile runs "
                    "(Runtime > Change runtime type)",  # cloned, then found in place by the re-run
                    f"the course is in {clone} (found it at v-test-1); on a GPU runtime the full profile runs "
                    "(Runtime > Change runtime type)"]


def test_the_first_cell_moves_a_clone_of_another_version_to_its_own(tmp_path, published):
    content = tmp_path / "content"
    clone = content / "distillation-lab"
    notebook = ROOT / "notebooks" / "00_welcome.ipynb"
    colab = dict(COLAB_RELEASE_TAG="release-colab-simulated", COURSE_HOME=str(content), COURSE_REPO=published)
    run_cloud_cell(tmp_path, notebook, CELL_ONLY, **colab, COURSE_REF="v-test-1")
    first = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    _, out = run_cloud_cell(tmp_path, notebook, CELL_ONLY, **colab, COURSE_REF="v-test-2")  # the next release's
    assert "(moved it from v-test-1 to v-test-2)" in out.stdout
    assert subprocess.run(["git", "-C", str(clone), "log", "-1", "--format=%s"], capture_output=True,
                          text=True).stdout.strip() == "the next release"
    assert subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout != first


def test_without_the_internet_the_first_cell_says_how_to_switch_it_on(tmp_path):
    # Kaggle's notebooks start offline: git cannot fetch, and the message says what to do
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLAB_", "KAGGLE_", "COURSE_"))}
    env.update(KAGGLE_KERNEL_RUN_TYPE="Interactive", COURSE_HOME=str(tmp_path / "kaggle"),
               COURSE_REPO=f"file://{tmp_path}/no-such-repository")
    out = subprocess.run([sys.executable, "-c", CELL_ONLY.format(notebook=str(ROOT / "notebooks" / "00_welcome.ipynb"))],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "git clone: " in out.stderr and "on Kaggle, switch it on (Settings > Internet)" in out.stderr


def test_on_simulated_kaggle_the_first_cell_uses_kaggles_working_folder(tmp_path, published):
    # Kaggle's image is Colab's and sets COLAB_RELEASE_TAG too: Kaggle's own variable decides
    seen, _ = run_cloud_cell(tmp_path, ROOT / "notebooks" / "01_soft_labels_and_temperature.ipynb",
                             KAGGLE_KERNEL_RUN_TYPE="Interactive", COLAB_RELEASE_TAG="kaggle-image",
                             COURSE_HOME=str(tmp_path / "kaggle"), COURSE_REPO=published, COURSE_REF="v-test-1")
    assert seen["cloud"] == "/kaggle/working"
    assert seen["cwd"] == str(tmp_path / "kaggle" / "distillation-lab" / "notebooks")


def test_the_cloud_cell_clones_the_release_that_the_badges_open():
    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    import colab

    ref = colab.default_ref()
    nb = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    cell = next(c for c in nb.cells if colab.TAG in c.metadata.get("tags", []))
    assert f'"{ref}"' in cell.source and ref == f"v{colab.version()}"
    badges = [u for u in re.findall(r"\]\((https://[^)]+)\)", nb.cells[0].source) if "00_welcome" in u]
    assert len(badges) == 4 and all(ref in u for u in badges)  # Colab, Kaggle, Binder, SageMaker Studio Lab
    assert len(cell.source.splitlines()) <= 30  # a code cell's length, as every cell's


def test_on_a_local_install_the_first_cell_does_nothing(tmp_path):
    seen, out = run_cloud_cell(tmp_path, ROOT / "notebooks" / "00_welcome.ipynb")
    assert seen["cloud"] is None
    assert seen["cwd"] == str(tmp_path / "elsewhere")
    assert Path(seen["root"]) == ROOT and "the course is in" not in out.stdout
    assert not any(tmp_path.glob("**/distillation-lab"))


def test_the_data_and_work_folders_expand_home_and_variables(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "COURSE_USER": "alice",
           "COURSE_WORK_DIR": "~/course-$COURSE_USER", "COURSE_DATA_DIR": "$HOME/shared"}
    out = subprocess.run([sys.executable, "-c", "from course_utils import config; print(config.WORK_DIR); print(config.DATA_DIR)"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(tmp_path / "course-alice"), str(tmp_path / "shared")]


# --- installs: the launch command, the torch/torchvision pair, the constraints ------------------------------------

def test_make_lab_serves_the_repository_and_opens_the_welcome_notebook():
    # from the repository's root, so that a notebook's link to reference/glossary.ipynb is inside what is served
    out = subprocess.run(["make", "-n", "-s", "lab", "PY=python3"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    command = out.stdout.strip().splitlines()[-1]
    assert " -m jupyter lab " in command and "--ServerApp.root_dir=. " in command, command
    assert "--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb" in command  # the printed URL opens 00
    assert "--notebook-dir" not in command and "--LabApp.news_url=None" in command


FAKE_TORCH = '''__version__ = "2.13.0+cpu"
class version:
    cuda = None
def zeros(*shape):
    return None
'''
FAKE_TORCHVISION = '''__version__ = "0.29.1"
class version:
    cuda = "12.8"
class ops:
    @staticmethod
    def nms(*args):
        raise RuntimeError("operator torchvision::nms does not exist")
'''


def test_the_install_check_says_when_torch_and_torchvision_do_not_belong_together(tmp_path):
    # PyTorch's CPU torch beside PyPI's torchvision of another release: what a blocked index left behind
    for name, source in (("torch", FAKE_TORCH), ("torchvision", FAKE_TORCHVISION)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(source)
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "check_install.py")], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60)
    assert out.returncode == 1
    pinned = dict(re.findall(r"^(torch|torchvision)==(\S+)", (ROOT / "constraints.txt").read_text(), re.M))
    for expected in ("torch 2.13.0+cpu pairs with torchvision 0.28, but torchvision 0.29.1 is installed",
                     "torch is the CPU build but torchvision the CUDA one", "operator torchvision::nms does not exist",
                     f"--force-reinstall torch=={pinned['torch']} torchvision=={pinned['torchvision']}"):
        assert expected in out.stderr, out.stderr


@pytest.mark.skipif(Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
                    reason="checks the environment that `make test` installs in .venv")
def test_the_environment_make_installed_has_the_versions_of_the_constraints():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "constraints.py"), "--check"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, f"installed versions differ from constraints.txt:\n{out.stdout}"
