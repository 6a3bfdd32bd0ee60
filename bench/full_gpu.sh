#!/usr/bin/env bash
# The full-profile benchmark on one GPU, in one go. STEPS picks the parts (default: all):
#   lr         bench/distill_study.py: each of notebook 03's students (hard, blended, label smoothing,
#              shuffled teacher) at several learning rates, 3 seeds, judged on validation images from the
#              test split; writes bench/results/gpu/distill_study_lr_full.json, which notebook 03 reads
#   blackbox   bench/blackbox_choices.py: notebook 04's copier (its own student, label copies at every budget,
#              probs and top_k at the smallest) at several learning rates and passes, 3 seeds, judged on validation
#              images; writes bench/results/gpu/blackbox_choices_full.json, which notebooks 04 and 04b read (until it
#              exists their full profile trains every copy at the study's default rate and passes)
#   notebooks  notebooks in $NOTEBOOKS (default 02-06, 04b included) executed by a Jupyter kernel (bench/run_notebooks.py):
#              the executed notebooks, their measured figures and per-cell timings as JSON (02+03 about
#              3.5 min, 04 about 3-4 min on one H100). Without Jupyter on the machine it first installs
#              nbclient and ipykernel from .carry/wheels (made here by bench/gpu_wheels.sh; carry it along)
#   teacher    the teacher recipe at 18 epochs (seed 0) and 24 epochs (3 seeds), and 3 hard-label students:
#              does a longer schedule reach 90% without test-time augmentation inside the 10 s budget? Each
#              run records a weight checksum and its agreement with the first seed's predictions (the
#              identical-accuracy puzzle of bench/README.md). About 2 min
# The device machine gets the repository only: prepare .carry/ here (bench/README.md, "What is left to measure"),
# carry it, and write into the device tool's $OUT so the results come back. One command may run at most
# 10 minutes there, so split a full session, for example:
#   STEPS="lr teacher" bash bench/full_gpu.sh "$OUT"
#   STEPS="blackbox" bash bench/full_gpu.sh "$OUT"
#   STEPS="notebooks" NOTEBOOKS="notebooks/04_blackbox_distillation.ipynb notebooks/04b_what_limits_a_copy.ipynb" bash bench/full_gpu.sh "$OUT"
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/local/full}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 COURSE_PROFILE=full
if [ ! -d data/cifar10-jpeg ] && [ ! -d data/cifar-10-batches-py ] && [ -f .carry/cifar10-jpeg.tar.gz ]; then
    mkdir -p data && tar -xzf .carry/cifar10-jpeg.tar.gz -C data/  # the JPEG copy of CIFAR-10 (no internet on the device)
fi
steps=${STEPS:-lr blackbox notebooks teacher}
status=0
for step in $steps; do
    case $step in
    lr)
        python3 bench/distill_study.py --profile full --lrs 0.4 0.75 1.5 3 --seeds 3 2>&1 | tee "$out/distill_study_lr_full.log"
        rc=${PIPESTATUS[0]}; cp bench/results/gpu/distill_study_lr_full.json "$out/" 2>/dev/null; (exit "$rc")
        ;;
    blackbox)
        python3 bench/blackbox_choices.py --profile full --min-passes 10 2>&1 | tee "$out/blackbox_choices_full.log"
        rc=${PIPESTATUS[0]}
        python3 bench/blackbox_choices.py --profile full --add probs@5000 2>&1 | tee -a "$out/blackbox_choices_full.log"
        cp bench/results/gpu/blackbox_choices_full.json "$out/" 2>/dev/null; (exit "$rc")
        ;;
    notebooks)
        nbs=${NOTEBOOKS:-notebooks/02_train_the_teacher.ipynb notebooks/03_distill_the_student.ipynb notebooks/04_blackbox_distillation.ipynb notebooks/04b_what_limits_a_copy.ipynb notebooks/05_detect_distillation.ipynb notebooks/06_language_model.ipynb}
        if ! python3 -c "import nbclient, ipykernel, ipywidgets" 2>/dev/null; then
            python3 -m pip install --quiet --no-index --find-links .carry/wheels nbclient ipykernel ipywidgets || {
                echo "no Jupyter here and no usable wheels in .carry/wheels: run bench/gpu_wheels.sh and carry .carry/wheels" >&2
                status=1; continue; }
        fi
        python3 -m jupyter kernelspec list 2>/dev/null | grep -qw python3 || python3 -m ipykernel install --user
        python3 bench/run_notebooks.py $nbs --out "$out" 2>&1 | tee "$out/notebooks.log"
        ;;
    teacher)
        python3 bench/train_bench.py --profile full --teacher-epochs 18 24 --teacher-seeds 3 --seeds 3 \
            --out "$out/train_full.json" 2>&1 | tee "$out/train_bench.log"
        ;;
    *)
        echo "unknown step '$step': expected lr, blackbox, notebooks or teacher" >&2; exit 2 ;;
    esac
    s=${PIPESTATUS[0]}
    [ "$s" -ne 0 ] && status=$s
done
exit "$status"
