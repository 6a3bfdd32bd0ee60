#!/usr/bin/env bash
# The full-profile benchmark on one GPU, in one go. STEPS picks the parts (default: all):
#   levers     bench/train_bench.py: notebook 03's distillation gain under candidate recipes
#              (student epochs 10/20, T 4/8, a flip-averaged teacher, label smoothing; 6 paired seeds,
#              chosen on a validation split; about 4 min on one H100)
#   lr         bench/student_lr.py: notebook 03's hard, blended and soft-only students at lr 0.4 / 0.75 / 1.5,
#              3 paired seeds (is the hard-label baseline handicapped at 0.4? about 2 min)
#   notebooks  notebooks in $NOTEBOOKS (default 02-04) executed headless: their measured figures
#              and per-cell timings as JSON (02+03 about 3.5 min, 04 about 3-4 min on one H100)
#   teacher    the teacher recipe at 18 epochs (seed 0) and 24 epochs (3 seeds): does a longer schedule reach
#              90% without test-time augmentation inside the 10 s budget? (about 1.5 min)
# One command may run at most 10 minutes on the device, so split a full session, for example:
#   STEPS="levers lr" bash bench/full_gpu.sh bench/results/h100
#   STEPS="notebooks" NOTEBOOKS=notebooks/04_blackbox_distillation.ipynb bash bench/full_gpu.sh bench/results/h100
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/local/full}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 COURSE_PROFILE=full
steps=${STEPS:-levers lr notebooks teacher}
status=0
for step in $steps; do
    case $step in
    levers)
        python3 bench/train_bench.py --profile full --teacher shipped --holdout 500 --student-epochs 10 20 \
            --kd 4:0.5 8:0.5 4:0.5:tta --ls 0.1 --seeds 6 --out "$out/kd_levers.json" 2>&1 | tee "$out/kd_levers.log"
        ;;
    lr)
        python3 bench/student_lr.py --profile full --lrs 0.4 0.75 1.5 --seeds 3 \
            --out "$out/student_lr_full.json" 2>&1 | tee "$out/student_lr_full.log"
        ;;
    notebooks)
        nbs=${NOTEBOOKS:-notebooks/02_train_the_teacher.ipynb notebooks/03_distill_the_student.ipynb notebooks/04_blackbox_distillation.ipynb}
        python3 bench/run_notebooks.py $nbs --out "$out" 2>&1 | tee "$out/notebooks.log"
        ;;
    teacher)
        python3 bench/train_bench.py --profile full --teacher-epochs 18 24 --teacher-seeds 3 --seeds 0 \
            --out "$out/train_full.json" 2>&1 | tee "$out/train_bench.log"
        ;;
    *)
        echo "unknown step '$step': expected levers, lr, notebooks or teacher" >&2; exit 2 ;;
    esac
    s=${PIPESTATUS[0]}
    [ "$s" -ne 0 ] && status=$s
done
exit "$status"
