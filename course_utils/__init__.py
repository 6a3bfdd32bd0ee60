"""course_utils: the small library behind Distillation Lab's notebooks.

Import modules by name: `from course_utils import losses, train`.
"""
__version__ = "0.1.0"
