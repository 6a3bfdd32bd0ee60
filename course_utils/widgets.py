"""Thin ipywidgets shells over course_utils.plots: every control calls a pure function that draws a figure.

No logic lives here. Each explorer renders plots.<function>(...) to PNG bytes in an `Image` widget, so
the kernel holds the current picture (tests read it without a browser), the first picture is drawn
when the explorer is built (a run-all needs no saved widget state), and nothing piles up in pyplot.
Sliders redraw when released (or on arrow keys): a redraw takes ~0.1-0.2 s on a laptop CPU, too slow
to follow every mouse movement.
"""
from __future__ import annotations

import io
import math

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from . import plots, temperature
from .data import CLASSES


def figure_png(fig, dpi: int = 90) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot would otherwise show it again later)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def temperature_slider(value: float = 1.0, lo: float = 0.1, hi: float = 20.0, description: str = "T") -> W.FloatLogSlider:
    """A log-scale temperature slider from lo to hi (equal steps multiply T by the same factor)."""
    s = W.FloatLogSlider(value=value, base=10, min=math.log10(lo), max=math.log10(hi), step=0.01,
                         description=description, readout_format=".2f", continuous_update=False,
                         layout=W.Layout(width="480px"))
    s.add_class("dl-T-slider")
    return s


def _plot_image() -> W.Image:
    img = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
    img.add_class("dl-plot")
    return img


class _StaticView:
    """A widget that also carries its current picture as a PNG: where it cannot be drawn (a static viewer such as
    the course site or GitHub, which keep no kernel), the page shows the figure at the explorer's default setting
    instead of a line of text. A live notebook draws the widget, which outranks the picture."""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = bytes(self.image.value)
        return bundle


class TemperatureExplorer(_StaticView, W.VBox):
    """Sliders for T and for each class's logit, a preset picker; draws plots.plot_temperature."""

    def __init__(self, presets: dict | None = None, classes=temperature.ANIMALS, T: float = 1.0):
        presets = presets or temperature.TEMPERATURE_PRESETS
        self.classes = tuple(classes)
        self.presets = presets
        first = next(iter(presets.values()))
        self.preset = W.Dropdown(options=list(presets), description="preset", layout=W.Layout(width="480px"))
        self.T = temperature_slider(T)
        self.logits = [W.FloatSlider(value=v, min=-10, max=10, step=0.01, description=f"z({c})",
                                     readout_format=".2f", continuous_update=False,
                                     layout=W.Layout(width="360px"))
                       for c, v in zip(self.classes, first)]
        self.image = _plot_image()
        self.readout = W.HTML()
        self.readout.add_class("dl-readout")
        self._hold = False
        self.preset.observe(self._on_preset, names="value")
        for w in [self.T, *self.logits]:
            w.observe(self._on_change, names="value")
        controls = W.HBox([W.VBox([self.preset, self.T]), W.VBox(self.logits)])
        super().__init__([controls, self.readout, self.image])
        self.add_class("dl-temperature-explorer")
        self.redraw()

    def __repr__(self) -> str:  # the text shown where the widget cannot be drawn (no kernel, a static viewer)
        return "[the temperature explorer: run the notebook to use its sliders]"

    def _on_preset(self, change) -> None:
        self._hold = True  # set every logit, then draw once
        for w, v in zip(self.logits, self.presets[change["new"]]):
            w.value = v
        self._hold = False
        self.redraw()

    def _on_change(self, change) -> None:
        if not self._hold:
            self.redraw()

    def redraw(self) -> None:
        z = [w.value for w in self.logits]
        s = temperature.temperature_summary(z, self.T.value)
        self.image.value = figure_png(plots.plot_temperature(z, self.T.value, self.classes))
        order = sorted(range(len(z)), key=lambda i: -s["probs"][i])
        self.readout.value = (
            f"<b>T = {s['T']:.2f}</b> &nbsp; most probable: <b>{self.classes[s['argmax']]}</b> "
            f"({s['probs'][s['argmax']]:.3f}) &nbsp; entropy {s['entropy']:.3f} nats "
            f"(maximum log {len(z)} = {s['max_entropy']:.3f}) &nbsp; "
            f"p({self.classes[order[1]]}) / p({self.classes[order[2]]}) = {s['ratio_2_3']:.3g}")


def temperature_explorer(**kwargs) -> TemperatureExplorer:
    """The temperature explorer of notebook 01 (see TemperatureExplorer)."""
    return TemperatureExplorer(**kwargs)


class TeacherExplorer(_StaticView, W.VBox):
    """A picker over images and a T slider; draws plots.plot_teacher_at_T for the chosen image."""

    def __init__(self, images: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, choices,
                 classes=CLASSES, T: float = 4.0):
        self.images, self.logits, self.labels = images.cpu(), logits.detach().cpu(), labels.cpu()
        self.classes = tuple(classes)
        options = []
        for i in [int(i) for i in choices]:
            p = temperature.soft_labels(self.logits[i], [1.0])[0]
            top = p.topk(2)
            options.append((f"#{i} {self.classes[int(self.labels[i])]}: teacher says "
                            f"{self.classes[int(top.indices[0])]} {top.values[0]:.2f}, "
                            f"{self.classes[int(top.indices[1])]} {top.values[1]:.2f}", i))
        self.picker = W.Dropdown(options=options, description="image", layout=W.Layout(width="520px"))
        self.T = temperature_slider(T)
        self.image = _plot_image()
        self.picker.observe(lambda _: self.redraw(), names="value")
        self.T.observe(lambda _: self.redraw(), names="value")
        super().__init__([W.HBox([self.picker, self.T]), self.image])
        self.add_class("dl-teacher-explorer")
        self.redraw()

    def __repr__(self) -> str:
        return "[the teacher explorer: run the notebook to pick images and move T]"

    def redraw(self) -> None:
        i = self.picker.value
        self.image.value = figure_png(plots.plot_teacher_at_T(self.images[i], self.logits[i], int(self.labels[i]),
                                                              self.T.value, self.classes))


def teacher_explorer(images, logits, labels, choices, **kwargs) -> TeacherExplorer:
    """The real-teacher explorer of notebook 01 (see TeacherExplorer)."""
    return TeacherExplorer(images, logits, labels, choices, **kwargs)
