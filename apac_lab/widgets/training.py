"""Live training curves: loss and accuracy, train and validation, redrawn in place each epoch.

The one helper every notebook's training uses (02 to 05), through the training loop's
callback: ``fit(..., on_epoch_end=curves.callback("gabor"))``. Like the live plots of
Keras or fastai callbacks, the figure grows while the model trains.

How it updates: the figure is shown with an IPython ``display_id`` and each epoch
replaces that output (an ``update_display_data`` message holding a small static plotly
figure, a few kB). That path needs no widget manager, so it renders the same in
JupyterLab, in Colab's own front-end and in a notebook viewer; and a notebook run without
a front-end (nbmake, nbclient) ends with the last static figure in its outputs. The
figure itself is :func:`apac_lab.plots.training_curves` (train solid, validation dashed).

Notebooks: 02_gabor_filter_learning, 03_echoic_buffers, 04_learning_the_mel_mstmodel,
05_apac_training.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import plotly.graph_objects as go

from apac_lab.plots.core import style
from apac_lab.plots.training import training_curves

__all__ = ["TrainingCurves"]


def _display(obj, **kwargs):  # IPython's display, looked up late (and replaceable in tests)
    from IPython.display import display

    return display(obj, **kwargs)


class TrainingCurves:
    """Curves of one or more training runs that grow in place as epochs end.

    Args:
        title (str, default "Training curves"): figure title.
        metrics (Sequence[str], default ("loss", "acc")): one panel each (keys
            ``train_<metric>`` and ``val_<metric>`` of the epoch records).
        splits (Sequence[str], default ("train", "val")): which splits to draw.
        y_titles (Mapping[str, str] | None, default None): axis title per metric.
        height (int, default 340): pixels.

    ``callback(run)`` gives the function for ``fit(on_epoch_end=...)``; ``update(record,
    run=...)`` is what it calls (the pure handler: it appends the record, rebuilds
    :attr:`figure` and, once the object has been displayed, redraws it in place).
    ``histories`` holds every record by run.

    >>> curves = TrainingCurves(metrics=["loss"])
    >>> for epoch, loss in enumerate([2.0, 1.2, 0.9], start=1):
    ...     _ = curves.update({"epoch": epoch, "train_loss": loss, "val_loss": loss + 0.1}, run="tiny")
    >>> [(t.name, list(t.y)) for t in curves.figure.data]
    [('tiny (train)', [2.0, 1.2, 0.9]), ('tiny (validation)', [2.1, 1.3, 1.0])]
    """

    def __init__(
        self,
        *,
        title: str = "Training curves",
        metrics: Sequence[str] = ("loss", "acc"),
        splits: Sequence[str] = ("train", "val"),
        y_titles: Mapping[str, str] | None = None,
        height: int = 340,
    ) -> None:
        if not metrics:
            raise ValueError("TrainingCurves needs at least one metric, e.g. metrics=('loss', 'acc')")
        self.title, self.metrics, self.splits = title, list(metrics), list(splits)
        self.y_titles, self.height = dict(y_titles or {}), int(height)
        self.histories: dict[str, list[dict]] = {}
        self._handle = None
        self.figure = self._figure()

    def _figure(self) -> go.Figure:
        runs = {run: hist for run, hist in self.histories.items() if hist}
        if not runs:  # before the first epoch: an empty frame that says what is coming
            fig = go.Figure()
            style(fig, title=f"{self.title} (waiting for the first epoch)", x_title="Epoch", y_title="",
                  height=self.height)
            return fig
        histories = runs[""] if list(runs) == [""] else runs
        return training_curves(histories, metrics=self.metrics, splits=self.splits, title=self.title,
                               y_titles=self.y_titles or None, height=self.height)

    def update(self, record: Mapping, *, run: str = "") -> go.Figure:
        """Add one epoch's record to ``run`` and redraw; returns the new figure."""
        if not isinstance(record, Mapping):
            raise ValueError(f"TrainingCurves.update: record must be a dict of epoch metrics, got {type(record).__name__}")
        self.histories.setdefault(str(run), []).append(dict(record))
        self.figure = self._figure()
        if self._handle is not None:
            self._handle.update(self.figure)
        return self.figure

    def callback(self, run: str = "") -> Callable[[Mapping], None]:
        """The ``on_epoch_end`` function that feeds the records of ``run`` to :meth:`update`."""
        def on_epoch_end(record: Mapping) -> None:
            self.update(record, run=run)

        return on_epoch_end

    def _ipython_display_(self) -> None:
        self._handle = _display(self.figure, display_id=True)
