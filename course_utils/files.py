"""Files written whole or not at all: a temporary file beside the target, then a rename, so an interrupted
kernel leaves the old file or none; and, when a folder cannot be written, a message that names it and the fix."""
from __future__ import annotations

import errno
import os
import re
import shutil
import time
from pathlib import Path


class WriteError(RuntimeError):
    """A course file could not be written (read-only folder, full disk, ...); nothing half-written was left."""


# PyTorch's writer does not raise OSError when a write fails: torch.save on a full disk raises RuntimeError
# "[enforce fail at inline_container.cc:...] . unexpected pos 1152 vs 1046" (a large file) or "basic_ios::clear:
# iostream error" (a small one, failing when it is closed). These words mark such a failure.
_TORCH_WRITE_FAILED = re.compile(r"inline_container|unexpected pos|PytorchStreamWriter|iostream error|file write failed")
_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp$")  # write_atomic's temporary files: .<name>.<pid>.tmp
STALE_SECONDS = 60  # a temporary file untouched this long, of a process that no longer runs here, is an orphan


def _advice(path: Path, err: OSError) -> str:
    folder = path.parent
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = (f"{folder} is read-only here. Set COURSE_WORK_DIR to a folder you can write (the course keeps its "
               "caches, checkpoints and results there; the data can stay in a read-only COURSE_DATA_DIR), e.g. "
               "`export COURSE_WORK_DIR=$HOME/distillation-lab-work`.")
    elif err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = _full_disk(folder)
    else:
        fix = f"check that {folder} exists and can be written, or set COURSE_WORK_DIR to a folder that can."
    return f"Could not write {path} ({type(err).__name__}: {err.strerror or err}): {fix}"


def _full_disk(folder: Path) -> str:
    return (f"the disk holding {folder} is full. Free some space (`make clean` removes the course's caches and "
            "test outputs), or set COURSE_WORK_DIR to a folder on another disk.")


def _free(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2 ** 20:,.1f} MB"
    except OSError:
        return "an unknown amount"


def _torch_advice(path: Path, err: RuntimeError) -> str:
    first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
    return (f"Could not write {path}: PyTorch's writer stopped part-way (RuntimeError: {first}), which is what a "
            f"full disk does to it ({_free(path.parent)} free there now). If so, {_full_disk(path.parent)}")


def write_atomic(path: Path | str, write) -> Path:
    """Call write(tmp) for a temporary file beside `path`, then rename it onto `path` in one step.

    Whatever stops the write (an error, a full disk, a kernel interrupt), `path` keeps its old content or stays
    absent, and the temporary file is removed. An OSError, or PyTorch's own error for a write that failed part-way
    (torch.save on a full disk raises RuntimeError, not OSError), becomes a WriteError that says what to do.
    Temporary files left in the folder by processes that were killed mid-write are removed first (sweep_stale).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process: concurrent writers never share it
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(path.parent)
        write(tmp)
        os.replace(tmp, path)  # atomic on one file system
    except OSError as err:
        raise WriteError(_advice(path, err)) from err
    except RuntimeError as err:
        if isinstance(err, WriteError) or not _TORCH_WRITE_FAILED.search(str(err)):
            raise
        raise WriteError(_torch_advice(path, err)) from err
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return path


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's), or we cannot tell: keep its file
    return True


def sweep_stale(folder: Path | str, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporary files write_atomic left in `folder` when its process was killed mid-write (SIGKILL,
    the out-of-memory killer, a kernel restart that timed out): those of processes no longer running on this
    machine and untouched for `older_than` seconds (a writer on another machine sharing the folder keeps its file
    growing). Returns what was removed; a file that cannot be removed is left."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TMP.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < older_than or _running(int(match["pid"])):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed
