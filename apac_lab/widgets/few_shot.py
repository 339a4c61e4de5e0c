"""Teach it your voice: record each class a few times, fine-tune on those recordings only,
then speak again (transfer learning in a widget).

:class:`VoiceFineTuner` prompts for every class in turn, ``shots + checks`` rounds: the
recordings of the first ``shots`` rounds are the only data the model is fine-tuned on
(:func:`apac_lab.train.few_shot.fine_tune_few_shot`, seconds on a CPU); those of the other
``checks`` rounds measure the accuracy before and after, on recordings the fine-tuning
never saw. After fine-tuning, every new recording is predicted by the tuned model (bars)
and by the original one (in the message), side by side.

It follows the kit's widget pattern: :meth:`VoiceFineTuner.handle_waveform` (what each
recording of the embedded :class:`Recorder` calls) and :meth:`VoiceFineTuner.fine_tune`
(the button) run without a browser, so a notebook without a microphone plays recordings
to it "as if recorded" (``tuner.recorder.handle_waveform(clip, rate)``).

Notebook: 05_apac_training.
"""

from __future__ import annotations

from typing import Sequence

import ipywidgets as W
import torch

from apac_lab.train.few_shot import FEW_SHOT_LAYERS, fine_tune_few_shot
from apac_lab.widgets.apac import UploadPredictor
from apac_lab.widgets.core import Widget
from apac_lab.widgets.recorder import Recorder

__all__ = ["VoiceFineTuner"]


@torch.no_grad()
def _predicted(model: torch.nn.Module, waves: torch.Tensor) -> torch.Tensor:
    """Class indices ``(N,)`` the model predicts for ``waves`` ``(N, samples)``."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    return model.eval()(waves.to(device)).argmax(-1).cpu()


def _accuracy(model: torch.nn.Module, waves: torch.Tensor, labels: torch.Tensor) -> float:
    return float((_predicted(model, waves) == labels).float().mean())


class _Pooled(torch.nn.Module):
    """A stand-in classifier for :meth:`VoiceFineTuner.example`: pooled samples, then a linear ``classifier``."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.pool, self.classifier = torch.nn.AdaptiveAvgPool1d(64), torch.nn.Linear(64, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(x))


class VoiceFineTuner(Widget):
    """Record each class ``shots + checks`` times; fine-tune on the first ``shots``; compare on the rest.

    Args:
        model (nn.Module): a trained classifier, waveform ``(batch, samples)`` -> logits. It is
            not changed: a copy is fine-tuned.
        classes (Sequence[str]): class names, in the model's output order.
        sample_rate (int): the model's rate in Hz (recordings are resampled to it).
        num_samples (int): the model's clip length (recordings are centred and padded or cropped).
        shots (int, default 2): recordings of each class to fine-tune on (1 or 2 is the idea).
        checks (int, default 1): recordings of each class kept aside to measure the accuracy.
        layers (str, default "all"): ``"all"`` (whole model, small ``lr``) or ``"classifier"``
            (the last layers only); see :func:`fine_tune_few_shot`.
        lr (float, default 1e-4), steps (int, default 40), augment (nn.Module | None, default None),
            seed (int, default 0): :func:`fine_tune_few_shot`'s.
        seconds (float, default 1.0): length of one recording.
        backend (str | None, default None): :class:`LiveFigure`'s backend.

    Attributes:
        widget (ipywidgets.VBox): the prompt, the recorder, the fine-tune button, the result and
            the predictor of the tuned model.
        recorder (Recorder): its recordings call :meth:`handle_waveform`.
        prompts (list[tuple[int, str]]): ``(class index, "teach" | "check")`` in the order asked.
        taken (int): prompts recorded so far.
        predictor (UploadPredictor): the bars (every take goes through its ``handle_waveform``, so a
            take is resampled and fitted as an upload is); its model becomes the tuned one after
            :meth:`fine_tune`.
        tuned (nn.Module | None): the fine-tuned copy.
        result (dict | None): what :meth:`fine_tune` returned.

    >>> class Tiny(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.classifier = torch.nn.Linear(800, 2)
    ...     def forward(self, x): return self.classifier(x)
    >>> net = Tiny()
    >>> tuner = VoiceFineTuner(net, ["a", "b"], sample_rate=8000, num_samples=800, shots=1, checks=1,
    ...                        steps=2, backend="output")
    >>> [tuner.handle_waveform(torch.randn(800), 8000)["role"] for _ in range(4)]
    ['teach', 'teach', 'check', 'check']
    >>> res = tuner.fine_tune(); res["teach"], res["checks"]
    (2, 2)
    """

    def __init__(self, model: torch.nn.Module, classes: Sequence[str], *, sample_rate: int, num_samples: int,
                 shots: int = 2, checks: int = 1, layers: str = "all", lr: float = 1e-4, steps: int = 40,
                 augment: torch.nn.Module | None = None, seed: int = 0, seconds: float = 1.0,
                 backend: str | None = None) -> None:
        if shots < 1 or checks < 0:
            raise ValueError(f"need shots >= 1 recordings per class to fine-tune on and checks >= 0; got shots={shots}, "
                             f"checks={checks}")
        if layers not in FEW_SHOT_LAYERS:
            raise ValueError(f"layers must be one of {FEW_SHOT_LAYERS}, got {layers!r}")
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        self.model, self.classes = model, [str(c) for c in classes]
        if not self.classes:
            raise ValueError("classes is empty: give the model's class names in its output order")
        self.sample_rate, self.num_samples = int(sample_rate), int(num_samples)
        self.tune_kwargs = {"layers": layers, "lr": lr, "steps": steps, "augment": augment, "seed": seed}
        n = len(self.classes)
        self.prompts = [(c, "teach" if r < shots else "check") for r in range(shots + checks) for c in range(n)]
        self.shots, self.checks = int(shots), int(checks)
        self.taken = 0
        self._waves: list[torch.Tensor] = []  # one per prompt taken, at the model's rate and length
        self.tuned: torch.nn.Module | None = None
        self.result: dict | None = None

        self.prompt = W.HTML()
        self.recorder = Recorder(sample_rate=self.sample_rate, seconds=seconds, on_recording=self.handle_waveform,
                                 backend=backend)
        self.button = W.Button(description="Fine-tune on my recordings", button_style="primary", disabled=True,
                               layout=W.Layout(width="260px"))
        self.redo = W.Button(description="Redo the last one", disabled=True, layout=W.Layout(width="180px"))
        self.button.on_click(lambda _b: self.fine_tune())
        self.redo.on_click(lambda _b: self.undo())
        self.report = W.HTML()
        self.predictor = UploadPredictor(model, self.classes, sample_rate=self.sample_rate,
                                         num_samples=self.num_samples, backend=backend)
        self.predictor.message.value = ("Each take shows what the model hears; after fine-tuning, speak again: the "
                                        "bars are then the tuned model's.")
        self.controls = {}  # buttons and recordings, no sliders
        self.widget = W.VBox([self.prompt, self.recorder.widget, W.HBox([self.button, self.redo]), self.report,
                              self.predictor.widget])
        self._show_prompt()

    @classmethod
    def example(cls, *, backend: str | None = None) -> "VoiceFineTuner":
        """Notebook 05's size: ten digits, 1 s at 8 kHz, two teaching rounds and one test round
        (a small untrained model)."""
        torch.manual_seed(0)
        return cls(_Pooled(n_classes=10), [str(d) for d in range(10)], sample_rate=8000, num_samples=8000,
                   backend=backend)

    # ----------------------------------------------------------------------- handlers

    def handle_waveform(self, waveform: torch.Tensor, sample_rate: int) -> dict | None:
        """One recording: before fine-tuning it answers the current prompt; after, the tuned and
        the original model predict it. Returns ``{"role", "label", ...}`` or None (reason shown)."""
        if self.tuned is not None:  # speak again: the tuned model's bars, the original's label beside
            tuned = self.predictor.handle_waveform(waveform, sample_rate, name="you")
            if tuned is None:
                return None
            before = self.classes[int(_predicted(self.model, tuned["waveform"][None])[0])]
            self.predictor.message.value += f" (before fine-tuning: <b>{before}</b>)"
            return {"role": "speak", "label": tuned["label"], "before": before, "probability": tuned["probability"]}
        if self.taken >= len(self.prompts):
            self.report.value = "All recordings are in: press <b>Fine-tune on my recordings</b>."
            return None
        label, role = self.prompts[self.taken]
        heard = self.predictor.handle_waveform(waveform, sample_rate, name=f"take {self.taken + 1} "
                                                                            f"(“{self.classes[label]}”)")
        if heard is None:  # the predictor's message says why
            self.report.value = "<b style='color:#b2182b'>⚠ That take could not be used; record it again.</b>"
            return None
        self._waves.append(heard["waveform"])
        self.taken += 1
        self.report.value = ""
        self._show_prompt()
        return {"role": role, "label": self.classes[label], "heard": heard["label"]}

    def undo(self) -> None:
        """Forget the last recording (the button "Redo the last one")."""
        if self.taken and self.tuned is None:
            self.taken -= 1
            self._waves.pop()
            self._show_prompt()

    def fine_tune(self) -> dict | None:
        """Fine-tune a copy of the model on the ``teach`` recordings only; measure both models on
        the ``check`` ones. Returns ``{"before", "after" (accuracies or None without checks),
        "teach", "checks" (counts), "seconds", "trained_parameters"}``, or None (reason shown)."""
        teach = [i for i in range(self.taken) if self.prompts[i][1] == "teach"]
        check = [i for i in range(self.taken) if self.prompts[i][1] == "check"]
        if not teach:
            self.report.value = "<b style='color:#b2182b'>⚠ Record at least one prompt first.</b>"
            return None
        stack = lambda idx: (torch.stack([self._waves[i] for i in idx]),  # noqa: E731
                             torch.tensor([self.prompts[i][0] for i in idx]))
        x, y = stack(teach)
        self.report.value = f"Fine-tuning on {len(teach)} recordings…"
        tuned, info = fine_tune_few_shot(self.model, x, y, **self.tune_kwargs)
        before = after = None
        if check:
            cx, cy = stack(check)
            before, after = _accuracy(self.model, cx, cy), _accuracy(tuned, cx, cy)
        self.tuned, self.predictor.model = tuned, tuned
        self.result = {"before": before, "after": after, "teach": len(teach), "checks": len(check),
                       "seconds": info["seconds"], "trained_parameters": info["trained_parameters"]}
        self._show_result()
        self._show_prompt()
        return self.result

    # ----------------------------------------------------------------------- display

    def _show_prompt(self) -> None:
        done = self.taken >= len(self.prompts)
        self.button.disabled = self.tuned is not None or not any(r == "teach" for _, r in self.prompts[:self.taken])
        self.redo.disabled = self.tuned is not None or self.taken == 0
        if self.tuned is not None:
            self.prompt.value = "<h4>Now speak again: any digit, as often as you like.</h4>"
        elif done:
            self.prompt.value = "<h4>All recordings are in: press <i>Fine-tune on my recordings</i>.</h4>"
        else:
            label, role = self.prompts[self.taken]
            what = "to teach it" if role == "teach" else "kept aside to test it"
            self.prompt.value = (f"<h4>Say <span style='font-size:150%'>“{self.classes[label]}”</span> "
                                 f"<small>(recording {self.taken + 1} of {len(self.prompts)}, {what})</small></h4>")

    def _show_result(self) -> None:
        r = self.result
        if r["checks"]:
            table = (f"<table><tr><th></th><th>accuracy on your {r['checks']} check recordings</th></tr>"
                     f"<tr><td>before fine-tuning</td><td><b>{r['before']:.0%}</b></td></tr>"
                     f"<tr><td>after fine-tuning</td><td><b>{r['after']:.0%}</b></td></tr></table>")
        else:
            table = "No recordings were kept aside, so no accuracy to show."
        self.report.value = (f"Fine-tuned {r['trained_parameters']:,} parameters on {r['teach']} recordings in "
                             f"{r['seconds']:.1f} s. {table}")
