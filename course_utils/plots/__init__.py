"""Every figure the notebooks show, as functions that return a matplotlib Figure; they only draw
(the numbers they show are computed in course_utils.temperature, metrics, stats, ...).
course_utils.widgets wraps some of them in sliders. One submodule per part of the course:

- `common`: image grids, training curves, confusion matrix, top-k gallery, heatmap, paired bars (00, 02, 03)
- `distillation`: students beside their teacher, and their paired comparisons (03)
- `temperature`: soft labels, temperature, why T^2, a real teacher's soft labels (01)
- `blackbox`: copies against the queries they bought, paired arms, grouped bars, the teacher cap (04, 04b)
- `detection`: each probe's score per suspect, ROC curves (05)
- `language_model`: students' distance to the truth, what they copied, the budget sweep (06)
- `on_policy`: exposure bias by position, the students against the truth, the paired primary, the bump (07)
"""
from .blackbox import plot_copies, plot_grouped, plot_paired, plot_teacher_cap
from .detection import plot_decisions, plot_probe_scores, plot_roc
from .distillation import plot_students
from .common import heatmap, image_grid, paired_bars, plot_confusion, plot_history, topk_gallery
from .language_model import plot_behaviour, plot_budget_sweep, plot_kl
from .on_policy import plot_bump, plot_exposure, plot_policy_paired, plot_policy_students
from .temperature import (plot_class_similarity, plot_gradient_norms, plot_hard_vs_soft, plot_high_temperature_limit,
                          plot_teacher_at_T, plot_teacher_soft_labels, plot_temperature)

__all__ = ["plot_copies", "plot_grouped", "plot_paired", "plot_teacher_cap", "plot_decisions", "plot_probe_scores", "plot_roc", "heatmap", "image_grid", "paired_bars",
           "plot_confusion", "plot_history", "topk_gallery", "plot_class_similarity", "plot_gradient_norms",
           "plot_hard_vs_soft", "plot_high_temperature_limit", "plot_teacher_at_T", "plot_teacher_soft_labels",
           "plot_temperature", "plot_behaviour", "plot_budget_sweep", "plot_kl", "plot_bump", "plot_exposure",
           "plot_policy_paired", "plot_policy_students", "plot_students"]
