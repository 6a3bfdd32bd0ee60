#!/usr/bin/env bash
# Wheels that bench/run_notebooks.py needs on a GPU machine without Jupyter and without internet:
# nbclient and an ipykernel (with ipywidgets: notebooks 00 and 01 import it), with every dependency,
# for manylinux x86_64 and CPython 3.10-3.13 (whichever the GPU machine has). Run it HERE, where PyPI
# can be reached; the wheels land in .offline/wheels/ (git-ignored): copy that folder to the GPU machine
# beside the repository, and bench/full_gpu.sh installs them from there:
#   pip install --no-index --find-links .offline/wheels nbclient ipykernel ipywidgets
# One version of each project for every Python: the versions are resolved for the oldest (3.10) and
# pinned for the others (pins.txt). With a newer version beside an older one in the folder, pip
# --no-index on 3.10 picks the newer, reads its Requires-Python too late and stops (ipykernel 7.4 needs 3.11).
# pip download evaluates environment markers for the Python that runs it, not the target: a dependency
# only 3.10 needs (ipython's `exceptiongroup; python_version < "3.11"`) is named here by hand.
#   bash bench/gpu_wheels.sh            # PY=python3 bash bench/gpu_wheels.sh to use another pip
#   CHECK="/path/python3.10 /path/python3.13" bash bench/gpu_wheels.sh   # also install into a fresh venv of each
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dest=.offline/wheels
pkgs="nbclient nbformat jupyter_client jupyter_core ipykernel ipython ipywidgets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$dest" && mkdir -p "$dest"
fetch() {  # fetch VERSION [pip options]: this Python's whole set into $tmp/VERSION
    local v=$1; shift
    "$PY" -m pip download --quiet --only-binary=:all: --implementation cp --python-version "$v" \
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --dest "$tmp/$v" "$@" $pkgs
}
fetch 3.10 exceptiongroup
# name==version of every wheel 3.10 got (wheel names: name-version-tags.whl)
ls "$tmp/3.10" | sed -E 's/^([^-]+)-([^-]+)-.*\.whl$/\1==\2/' > "$dest/pins.txt"
for v in 3.10 3.11 3.12 3.13; do
    [ "$v" = 3.10 ] || fetch "$v" --constraint "$dest/pins.txt"
    "$PY" -c "import pathlib, sys; w = list(pathlib.Path(sys.argv[1]).glob('*.whl'))
print(f'CPython {sys.argv[2]}: {len(w)} wheels, {sum(f.stat().st_size for f in w) / 2**20:.1f} MiB')" "$tmp/$v" "$v"
    cp -n "$tmp/$v"/*.whl "$dest/"  # a wheel several versions share is kept once
done
"$PY" -c "import pathlib, sys; w = list(pathlib.Path(sys.argv[1]).glob('*.whl'))
print(f'total in {sys.argv[1]}: {len(w)} wheels, {sum(f.stat().st_size for f in w) / 2**20:.1f} MiB'
      ' to copy to the GPU machine')" "$dest"
for py in ${CHECK:-}; do  # as the GPU machine will: --no-index, no pip configuration, then a kernel runs
    "$py" -m venv "$tmp/venv" && PIP_CONFIG_FILE=/dev/null "$tmp/venv/bin/python" -m pip install --quiet \
        --no-index --find-links "$dest" nbclient ipykernel ipywidgets
    "$tmp/venv/bin/python" -c "import nbformat, nbclient, sys; nb = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_code_cell('import ipywidgets')]); nbclient.NotebookClient(nb, kernel_name='python3').execute()
print(f'{sys.version.split()[0]}: installs and runs a kernel')"
    rm -rf "$tmp/venv"
done
