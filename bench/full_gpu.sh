#!/usr/bin/env bash
# The full-profile benchmark on one GPU, in one go: notebooks 02-04 executed headless (their
# measured figures and per-cell timings as JSON), then the teacher recipe over seeds.
#   bash bench/full_gpu.sh bench/results/h100
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/local/full}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 COURSE_PROFILE=full
nbs=${NOTEBOOKS:-notebooks/02_train_the_teacher.ipynb notebooks/03_distill_the_student.ipynb notebooks/04_blackbox_distillation.ipynb}
python3 bench/run_notebooks.py $nbs --out "$out" 2>&1 | tee "$out/notebooks.log"
status=${PIPESTATUS[0]}
python3 bench/train_bench.py --profile full --teacher-epochs 18 --teacher-seeds 3 --seeds 0 \
    --out "$out/train_full.json" 2>&1 | tee "$out/train_bench.log"
exit "$status"
