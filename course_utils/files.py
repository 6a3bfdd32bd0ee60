"""Files written whole or not at all: a temporary file beside the target, then a rename, so an interrupted
kernel leaves the old file or none; and, when a folder cannot be written, a message that names it and the fix."""
from __future__ import annotations

import errno
import os
from pathlib import Path


class WriteError(RuntimeError):
    """A course file could not be written (read-only folder, full disk, ...); nothing half-written was left."""


def _advice(path: Path, err: OSError) -> str:
    folder = path.parent
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = (f"{folder} is read-only here. Set COURSE_WORK_DIR to a folder you can write (the course keeps its "
               "caches, checkpoints and results there; the data can stay in a read-only COURSE_DATA_DIR), e.g. "
               "`export COURSE_WORK_DIR=$HOME/distillation-lab-work`.")
    elif err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = (f"the disk holding {folder} is full. Free some space (`make clean` removes the course's caches and "
               "test outputs), or set COURSE_WORK_DIR to a folder on another disk.")
    else:
        fix = f"check that {folder} exists and can be written, or set COURSE_WORK_DIR to a folder that can."
    return f"Could not write {path} ({type(err).__name__}: {err.strerror or err}): {fix}"


def write_atomic(path: Path | str, write) -> Path:
    """Call write(tmp) for a temporary file beside `path`, then rename it onto `path` in one step.

    Whatever stops the write (an error, a full disk, a kernel interrupt), `path` keeps its old content or stays
    absent, and the temporary file is removed. An OSError becomes a WriteError that says what to do.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process: concurrent writers never share it
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)  # atomic on one file system
    except OSError as err:
        raise WriteError(_advice(path, err)) from err
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return path
