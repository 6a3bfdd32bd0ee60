#!/usr/bin/env bash
# The full-profile benchmark on one GPU, in one go:  bash bench/full_gpu.sh OUTPUT_FOLDER
# STEPS picks the parts (default: all):
#   lr         bench/distill_study.py: each of notebook 03's students (hard, blended, label smoothing,
#              shuffled teacher) at several learning rates, 3 seeds, judged on validation images from the
#              test split; writes bench/results/gpu/distill_study_lr_full.json, which notebook 03 reads
#   blackbox   bench/blackbox_choices.py: notebook 04's copier (its own student, label copies at every budget,
#              probs and top_k at the smallest) at several learning rates and passes, 3 seeds, judged on validation
#              images; writes bench/results/gpu/blackbox_choices_full.json, which notebooks 04 and 04b read (until it
#              exists their full profile trains every copy at the study's default rate and passes)
#   notebooks  notebooks in $NOTEBOOKS (default 02-07, 04b included) executed by a Jupyter kernel
#              (bench/run_notebooks.py): the executed notebooks, their measured figures and per-cell timings
#              as JSON. A machine without Jupyter installs nbclient and ipykernel from .offline/wheels
#              (bench/gpu_wheels.sh makes them on a machine with internet)
#   teacher    the teacher recipe at 18 epochs (seed 0) and 24 epochs (3 seeds), and 3 hard-label students:
#              does a longer schedule reach 90% without test-time augmentation inside the 10 s budget? Each
#              run records a weight checksum and its agreement with the first seed's predictions (the
#              identical-accuracy puzzle of bench/README.md). About 2 min
# A GPU machine without internet needs the repository and an .offline/ folder beside its files, prepared
# where PyPI can be reached (bench/README.md, "Running the full profile on a GPU"):
#   .offline/wheels/               bash bench/gpu_wheels.sh
#   .offline/cifar10-jpeg.tar.gz   the data set's archive, extracted into data/ when no copy is there
# Everything the run writes goes to OUTPUT_FOLDER (default bench/results/local/full); copy it back from there.
# Steps can run one at a time, for example:
#   STEPS="lr teacher" bash bench/full_gpu.sh /tmp/full
#   STEPS="notebooks" NOTEBOOKS=notebooks/04_blackbox_distillation.ipynb bash bench/full_gpu.sh /tmp/full
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/local/full}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 COURSE_PROFILE=full
if [ ! -d data/cifar10-jpeg ] && [ ! -d data/cifar-10-batches-py ] && [ -f .offline/cifar10-jpeg.tar.gz ]; then
    mkdir -p data && tar -xzf .offline/cifar10-jpeg.tar.gz -C data/  # the JPEG copy of CIFAR-10 (the machine may have no internet)
fi
steps=${STEPS:-lr blackbox notebooks teacher}
status=0
for step in $steps; do
    case $step in
    lr)
        python3 bench/distill_study.py --profile full --lrs 0.75 1.5 3 6 12 24 --seeds 3 2>&1 | tee "$out/distill_study_lr_full.log"
        rc=${PIPESTATUS[0]}; cp bench/results/gpu/distill_study_lr_full.json "$out/" 2>/dev/null; (exit "$rc")
        ;;
    blackbox)
        python3 bench/blackbox_choices.py --profile full --min-passes 10 2>&1 | tee "$out/blackbox_choices_full.log"
        rc=${PIPESTATUS[0]}
        python3 bench/blackbox_choices.py --profile full --add probs@5000 2>&1 | tee -a "$out/blackbox_choices_full.log"
        cp bench/results/gpu/blackbox_choices_full.json "$out/" 2>/dev/null; (exit "$rc")
        ;;
    notebooks)
        nbs=${NOTEBOOKS:-notebooks/02_train_the_teacher.ipynb notebooks/03_distill_the_student.ipynb notebooks/04_blackbox_distillation.ipynb notebooks/04b_what_limits_a_copy.ipynb notebooks/05_detect_distillation.ipynb notebooks/06_language_model.ipynb notebooks/07_on_policy_distillation.ipynb}
        if ! python3 -c "import nbclient, ipykernel, ipywidgets" 2>/dev/null; then
            python3 -m pip install --quiet --no-index --find-links .offline/wheels nbclient ipykernel ipywidgets || {
                echo "no Jupyter here and no usable wheels in .offline/wheels: run bench/gpu_wheels.sh where PyPI can be reached and copy .offline/wheels here" >&2
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
