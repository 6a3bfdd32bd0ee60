"""Every figure the notebooks show, as functions that return a matplotlib Figure (or numbers).

Widgets (course_utils.widgets) are thin shells over these functions; the functions are tested.
One submodule per part of the course, all reachable as `plots.<name>`:

- `common`: image grids, training curves, confusion matrix, top-k gallery, heatmap, paired bars (00, 02, 03)
- `temperature`: soft labels, temperature, why T^2, a real teacher's soft labels (01)
- `blackbox`: query-budget curves, grouped bars, the teacher cap (04)
"""
from .blackbox import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .temperature import *  # noqa: F401,F403
