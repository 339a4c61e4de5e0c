"""Notebook 03's experiment, the listener: views from a dataset, reconstruction training,
embeddings, and a classifier probing them.

All training goes through the shared loop (:func:`apac_lab.train.fit`): the listener
with ``loss="mse"`` on ``(view, view)`` pairs, the classifier with cross-entropy on
``(clip embedding, digit)`` pairs. A clip's embedding is the listener's embeddings of its
views, concatenated in time order.

The three budgets (:func:`listener_settings`) differ only in sizes:

* ``quick`` (CI): 10 training clips per digit, 2 listener epochs, the classroom's listener;
* ``classroom``: all of FSDD's training clips (a tenth held out for validation), the
  kit's wider listener (``architecture="kit"``) for 4 epochs with Adam, then a probe with
  dropout 0.5: in a classroom's minutes the article's stack gives embeddings that tell
  digits apart less well (it squeezes every frame into 50 numbers first, and some of its
  ReLU units die); the notebook trains it too, the same way, and prints both;
* ``full``: the article's model and training, :func:`paper_listener` and
  :func:`paper_listener_training` (MSE, Adagrad, 50 epochs), on all the training clips.

Settings are chosen on the validation clips, never on the test split: the probe's stopping
epoch in every run, and the classroom's listener epochs and probe (4 epochs, hidden 128,
dropout 0.5, weight decay 1e-3: the best validation accuracy of the grid that
``benchmarks/listener_probe_choice.py`` runs, recorded in
``benchmarks/results/listener_probe_choice.md``). :data:`LISTENER_TARGETS` are issue 11's classroom targets.

Notebook: 03_echoic_buffers (and ``benchmarks/listener_fsdd.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from apac_lab import papers
from apac_lab.frontends.echoic import EchoicFrontend
from apac_lab.models.listener import EmbeddingClassifier, Listener
from apac_lab.train import TrainConfig, evaluate, fit, predict
from apac_lab.utils import by_budget, get_device

__all__ = ["LISTENER_TARGETS", "LISTENER_R2_RESULT", "LISTENER_ACCURACY_RESULT", "ListenerSettings", "listener_settings", "paper_listener",
           "paper_listener_training", "ListenerData", "listener_data", "echoic_views", "fit_listener",
           "peak_bin_agreement", "reconstruction_report", "clip_embeddings", "fit_probe", "probe_embeddings",
           "dead_units", "listener_result_rows", "describe_listeners", "listener_full_budget_estimate"]

#: Issue 11's classroom targets: the share of the test views' variance the listener rebuilds,
#: and the digit accuracy of a classifier on its embeddings, on FSDD's official test split.
LISTENER_TARGETS = {"r2": 0.9, "accuracy": 0.90}
#: The ``result`` names of :func:`listener_result_rows` (kept stable for ``benchmarks/classroom.py``).
LISTENER_R2_RESULT = "listener reconstruction R^2 (test split)"
LISTENER_ACCURACY_RESULT = "digit accuracy from listener embeddings (official test split)"


# ----------------------------------------------------------------------------------- settings
def paper_listener(**changes) -> Listener:
    """The article's listener as closely as PyTorch builds it: its layers (LSTM 50 relu, 250
    relu, repeat 8, 50 relu, 100 tanh), one bias per LSTM (Keras's 451,800 parameters),
    Keras's initialisation and Keras 2.2's ``hard_sigmoid`` gates (the default until Keras
    2.3, a year after the article).

    >>> paper_listener().n_parameters == papers.figure("rothmann2018.listener.parameters").value
    True
    """
    base = dict(architecture="rothmann2018", biases=1, init="keras", gate_activation="hard_sigmoid")
    return Listener(**{**base, **changes})


def paper_listener_training(**changes) -> TrainConfig:
    """The article's training: MSE, Adagrad, 50 epochs. Its learning rate and batch size are not
    given: Keras's defaults, lr 0.01 and batch 32. No weight decay.

    >>> cfg = paper_listener_training(); (cfg.loss, cfg.optimizer, cfg.lr, cfg.epochs, cfg.batch_size)
    ('mse', 'adagrad', 0.01, 50, 32)
    """
    epochs = papers.figure("rothmann2018.listener.epochs").value
    return replace(TrainConfig(loss="mse", optimizer="adagrad", lr=0.01, epochs=epochs, batch_size=32,
                               weight_decay=0.0), **changes)


@dataclass
class ListenerSettings:
    """One budget's listener experiment.

    Args:
        budget (str): the budget these settings are for.
        architecture (str): the listener trained for the results, ``"kit"`` or ``"rothmann2018"``.
        paper_model (bool): build it with :func:`paper_listener` (the article's Keras details).
        training (TrainConfig): the listener's training (``loss`` is MSE).
        compare_epochs (int): epochs of the article's stack trained beside it for comparison
            (0: none, or when the listener is the article's own).
        per_class (int | None): training clips per digit (None: all).
        test_per_class (int | None): test clips per digit (None: all).
        val_fraction (float): share of the training clips held out for validation.
        view_stride (int): frames between a clip's views (20 = every 200 ms).
        rule (str): the dilated buffer's rule, ``"kit"`` or ``"rothmann2018"`` (see :func:`apac_lab.frontends.dilate`).
        mode (str | None): its reduction; None is the rule's (``"mean"`` for the kit's, ``"lookup"`` for the article's).
        probe_hidden (int): hidden units of the embedding classifier.
        probe_dropout (float): dropout on its hidden layer.
        probe_training (TrainConfig): its training; it stops after ``early_stopping_patience``
            epochs without a better validation loss and keeps the best epoch's weights.
        seed (int): seeds the split, the models' initial weights and the training.
    """

    budget: str
    architecture: str
    paper_model: bool
    training: TrainConfig
    compare_epochs: int
    per_class: int | None
    test_per_class: int | None
    val_fraction: float = 0.1
    view_stride: int = 20
    rule: str = "kit"
    mode: str | None = None
    probe_hidden: int = 128
    probe_dropout: float = 0.2
    probe_training: TrainConfig | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1): validation picks the epochs, got {self.val_fraction}")
        if not 0 <= self.probe_dropout < 1:
            raise ValueError(f"probe_dropout must be in [0, 1), got {self.probe_dropout}")
        if self.probe_training is None:
            self.probe_training = TrainConfig(epochs=60, batch_size=32, lr=1e-3, weight_decay=1e-3, seed=self.seed,
                                              early_stopping_patience=10)

    def model(self, **changes) -> Listener:
        """The listener these settings train, seeded (the same initial weights every time)."""
        torch.manual_seed(self.seed)
        if self.paper_model:
            return paper_listener(**changes)
        return Listener(**{"architecture": self.architecture, **changes})

    def comparison_model(self) -> Listener:
        """The article's stack (PyTorch's conventions: two biases, PyTorch's initialisation),
        seeded, trained beside the listener for ``compare_epochs`` with the same training."""
        torch.manual_seed(self.seed)
        return Listener(architecture="rothmann2018")

    def comparison_training(self) -> TrainConfig:
        """The listener's training, for ``compare_epochs`` epochs."""
        return replace(self.training, epochs=max(1, self.compare_epochs))

    def frontend(self, sample_rate: int) -> EchoicFrontend:
        """The views: gammatone power, the dilated buffer (by default the kit's rule in mean mode), levels in [0, 1]."""
        return EchoicFrontend(sample_rate=sample_rate, view_stride=self.view_stride, rule=self.rule, mode=self.mode)


def listener_settings(budget: str | None = None) -> ListenerSettings:
    """The listener experiment of a budget (None: :func:`apac_lab.current_budget`).

    >>> s = listener_settings("classroom"); (s.architecture, s.training.epochs, s.per_class, s.probe_dropout)
    ('kit', 4, None, 0.5)
    >>> s = listener_settings("full"); (s.architecture, s.paper_model, s.training.optimizer, s.training.epochs)
    ('rothmann2018', True, 'adagrad', 50)
    """
    adam = dict(loss="mse", optimizer="adam", lr=2e-3, batch_size=64, weight_decay=0.0, seed=0,
                early_stopping_patience=5)
    quick = ListenerSettings(budget="quick", architecture="kit", paper_model=False,
                             training=TrainConfig(epochs=2, **adam), compare_epochs=1, per_class=10, test_per_class=5,
                             val_fraction=0.2)
    classroom = ListenerSettings(budget="classroom", architecture="kit", paper_model=False,
                                 training=TrainConfig(epochs=4, **adam), compare_epochs=4, per_class=None,
                                 test_per_class=None, probe_dropout=0.5)
    full = ListenerSettings(budget="full", architecture="rothmann2018", paper_model=True,
                            training=paper_listener_training(seed=0, early_stopping_patience=10), compare_epochs=0,
                            per_class=None, test_per_class=None)
    return by_budget(quick=quick, classroom=classroom, full=full, budget=budget)


# ---------------------------------------------------------------------------------- the views
@torch.no_grad()
def echoic_views(dataset, frontend: EchoicFrontend | None = None, *, batch_size: int = 64, device=None,
                 progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``frontend`` over a ``(waveform, label)`` dataset, batched on the device.

    Returns:
        tuple: views ``(clips, n_views, n_steps, n_filters)`` (or ``(clips, n_steps,
        n_filters)`` without ``view_stride``) on the CPU, and labels ``(clips,)``.
    """
    frontend = frontend if frontend is not None else EchoicFrontend(sample_rate=dataset.sample_rate, view_stride=20)
    device = get_device(device)
    frontend.to(device)
    views, labels = [], []
    for x, y in tqdm(DataLoader(dataset, batch_size=batch_size), desc="echoic views", disable=not progress, leave=False):
        views.append(frontend(x.to(device)).cpu())
        labels.append(torch.as_tensor(y))
    return torch.cat(views), torch.cat(labels)


@dataclass
class ListenerData:
    """A clip-level split's views and digits: ``train`` and ``val`` (held-out training clips),
    ``test`` (the dataset's test split). Views are ``(clips, n_views, n_steps, n_filters)``."""

    train: torch.Tensor
    train_labels: torch.Tensor
    val: torch.Tensor
    val_labels: torch.Tensor
    test: torch.Tensor
    test_labels: torch.Tensor
    classes: list[str]

    @property
    def mean_view(self) -> torch.Tensor:
        """The training views' mean ``(n_steps, n_filters)``: the baseline a listener must beat."""
        return _flat(self.train).mean(0)

    def __str__(self) -> str:
        shape = "x".join(str(s) for s in self.train.shape[1:])
        return (f"views ({shape} per clip: views x steps x filters): {len(self.train)} training clips, "
                f"{len(self.val)} validation clips (held out of the training split), {len(self.test)} test clips")


def listener_data(train_set, test_set, settings: ListenerSettings, *, device=None, progress: bool = True) -> ListenerData:
    """The views of ``settings`` for a training and a test dataset, the training clips split
    (seeded, by clip) into training and validation clips."""
    if settings.per_class:
        train_set = train_set.balanced(settings.per_class, seed=settings.seed)
    if settings.test_per_class:
        test_set = test_set.balanced(settings.test_per_class, seed=settings.seed)
    frontend = settings.frontend(train_set.sample_rate)
    v, y = echoic_views(train_set, frontend, device=device, progress=progress)
    v_test, y_test = echoic_views(test_set, frontend, device=device, progress=progress)
    order = torch.randperm(len(v), generator=torch.Generator().manual_seed(settings.seed))
    n_val = max(1, int(round(settings.val_fraction * len(v))))
    val, tr = order[:n_val], order[n_val:]
    return ListenerData(v[tr], y[tr], v[val], y[val], v_test, y_test, list(train_set.classes))


def _flat(views: torch.Tensor) -> torch.Tensor:
    return views.reshape(-1, *views.shape[-2:])


# ---------------------------------------------------------------------------------- listener
def fit_listener(views: torch.Tensor, *, model: Listener | None = None, config: TrainConfig | None = None,
                 val_views: torch.Tensor | None = None, val_fraction: float = 0.1, seed: int = 0,
                 on_epoch_end=None) -> tuple[Listener, list[dict]]:
    """Train a listener to reconstruct ``views`` (MSE), validating on held-out clips.

    Args:
        views (Tensor): ``(clips, n_views, n_steps, n_bins)`` or ``(n, n_steps, n_bins)``.
        model (Listener | None, default None): None builds the default one to the views' size.
        config (TrainConfig | None, default None): ``loss`` is forced to "mse"; None is
            30 epochs, batch 64, Adam lr 2e-3, no weight decay.
        val_views (Tensor | None, default None): validation views; None holds out
            ``val_fraction`` of ``views``' clips.
        val_fraction (float, default 0.1): share of clips held out when ``val_views`` is None (0: none).
        seed (int, default 0): the hold-out's seed.
        on_epoch_end (Callable | None, default None): passed to :func:`fit` (e.g. live curves).

    Returns:
        tuple: the trained model and the history from :func:`fit`.
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    steps, bins = views.shape[-2:]
    model = model if model is not None else Listener(n_steps=steps, n_bins=bins)
    config = replace(config or TrainConfig(epochs=30, batch_size=64, lr=2e-3, weight_decay=0.0), loss="mse")
    if val_views is None:
        order = torch.randperm(views.shape[0], generator=torch.Generator().manual_seed(seed))
        n_val = int(round(val_fraction * views.shape[0]))
        views, val_views = views[order[n_val:]], (views[order[:n_val]] if n_val else None)
    train = _flat(views)
    val = _flat(val_views) if val_views is not None else None
    history = fit(model, TensorDataset(train, train), TensorDataset(val, val) if val is not None else None, config,
                  on_epoch_end=on_epoch_end)
    return model, history


def peak_bin_agreement(reconstruction: torch.Tensor, target: torch.Tensor) -> float:
    """The share of frames whose loudest bin is the same in both: what Keras's ``acc`` metric
    computes for a model compiled with ``loss="mse", metrics=["acc"]`` whose output has more
    than one value per step (Keras 2 picks ``categorical_accuracy``:
    ``argmax(y_true, -1) == argmax(y_pred, -1)``, averaged over samples and steps).

    >>> peak_bin_agreement(torch.tensor([[[0.1, 0.9], [0.6, 0.5]]]), torch.tensor([[[0.0, 1.0], [0.0, 1.0]]]))
    0.5
    """
    if reconstruction.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(reconstruction.shape)} vs {tuple(target.shape)}")
    return float((reconstruction.argmax(-1) == target.argmax(-1)).double().mean())


def reconstruction_report(model: Listener, views: torch.Tensor, *, mean: torch.Tensor | None = None,
                          config: TrainConfig | None = None) -> dict:
    """Reconstruction error of ``views``, against predicting a constant ``mean`` frame sequence.

    ``mean`` (``(n_steps, n_bins)``, e.g. the training views' mean) defaults to the views'
    own mean. Returns ``mse``, ``baseline_mse``, ``r2 = 1 - mse / baseline_mse`` (the share
    of the variance rebuilt) and ``keras_acc`` (:func:`peak_bin_agreement`, what the
    article's "reconstruction accuracy" measured).
    """
    flat = _flat(views)
    config = replace(config or TrainConfig(epochs=1, batch_size=256, progress=False), loss="mse")
    outputs, targets = predict(model, TensorDataset(flat, flat), config)
    mse = float(((outputs - targets) ** 2).mean())
    mean = flat.mean(0) if mean is None else mean
    baseline = float(((flat - mean) ** 2).mean())
    return {"mse": mse, "baseline_mse": baseline, "r2": 1 - mse / baseline,
            "keras_acc": peak_bin_agreement(outputs, targets)}


def dead_units(embeddings: torch.Tensor) -> float:
    """The share of embedding units that are exactly 0 for every input (dead ReLU units).

    >>> dead_units(torch.tensor([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]]))
    0.3333333333333333
    """
    return float((embeddings.reshape(-1, embeddings.shape[-1]).abs().amax(0) == 0).double().mean())


# ------------------------------------------------------------------------------- embeddings
def clip_embeddings(model: Listener, views: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """One vector per clip: its views' embeddings concatenated, ``(clips, n_views * latent_dim)``."""
    if views.dim() == 3:
        views = views.unsqueeze(1)
    z = model.embed(_flat(views), batch_size=batch_size)
    return z.reshape(views.shape[0], -1)


def fit_probe(train_emb: torch.Tensor, train_labels: torch.Tensor, val_emb: torch.Tensor | None = None,
              val_labels: torch.Tensor | None = None, *, n_classes: int | None = None, hidden: int = 128,
              dropout: float = 0.2, config: TrainConfig | None = None,
              on_epoch_end=None) -> tuple[EmbeddingClassifier, list[dict]]:
    """Train an :class:`EmbeddingClassifier` on embeddings standardised with the training statistics.

    Args:
        train_emb, train_labels (Tensor): ``(clips, features)`` and ``(clips,)``.
        val_emb, val_labels (Tensor | None, default None): validation clips (early stopping).
        n_classes (int | None, default None): None is the largest training label + 1.
        hidden (int, default 128), dropout (float, default 0.2): the classifier's.
        config (TrainConfig | None, default None): its training (``loss`` is cross-entropy);
            None is 40 epochs, batch 32, Adam lr 1e-3, weight decay 1e-3.
        on_epoch_end (Callable | None, default None): passed to :func:`fit`.

    Returns:
        tuple: the classifier (its normalisation set) and the history from :func:`fit`.
    """
    n_classes = n_classes or int(train_labels.max()) + 1
    clf = EmbeddingClassifier(train_emb.shape[1], n_classes, hidden=hidden, dropout=dropout)
    clf.set_normalization(train_emb.mean(0), train_emb.std(0))
    config = replace(config or TrainConfig(epochs=40, batch_size=32, lr=1e-3, weight_decay=1e-3),
                     loss="cross_entropy")
    val = TensorDataset(val_emb, val_labels) if val_emb is not None else None
    history = fit(clf, TensorDataset(train_emb, train_labels), val, config, on_epoch_end=on_epoch_end)
    return clf, history


def probe_embeddings(listener: Listener, data: ListenerData, settings: ListenerSettings, *,
                     on_epoch_end=None) -> dict:
    """Embed every clip, train the probe on the training clips (stopped on the validation clips),
    and score it once on the test clips.

    Returns:
        dict: ``classifier``, ``history``, ``embeddings`` (train / val / test), ``val_accuracy``
        (of the kept epoch), ``test_accuracy`` and ``epoch`` (the kept one).
    """
    emb = {name: clip_embeddings(listener, getattr(data, name)) for name in ("train", "val", "test")}
    torch.manual_seed(settings.seed)
    clf, history = fit_probe(emb["train"], data.train_labels, emb["val"], data.val_labels, n_classes=len(data.classes),
                             hidden=settings.probe_hidden, dropout=settings.probe_dropout,
                             config=settings.probe_training, on_epoch_end=on_epoch_end)
    best = min(history, key=lambda r: r["val_loss"])  # the epoch fit kept (early stopping restores it)
    cfg = replace(settings.probe_training, progress=False)
    test_acc = evaluate(clf, TensorDataset(emb["test"], data.test_labels), cfg)["accuracy"]
    return {"classifier": clf, "history": history, "embeddings": emb, "val_accuracy": best["val_acc"],
            "test_accuracy": test_acc, "epoch": best["epoch"]}


# ------------------------------------------------------------------------------------ report
def listener_result_rows(r2: float, accuracy: float) -> list[dict]:
    """The rows notebook 03 records (:func:`apac_lab.recipes.record_results`), with :data:`LISTENER_TARGETS`.

    >>> [row["met"] for row in listener_result_rows(0.95, 0.85)]
    [True, False]
    """
    return [
        {"result": LISTENER_R2_RESULT, "value": float(r2), "target": f">= {LISTENER_TARGETS['r2']}", "met": r2 >= LISTENER_TARGETS["r2"]},
        {"result": LISTENER_ACCURACY_RESULT, "value": float(accuracy), "target": f">= {LISTENER_TARGETS['accuracy']}",
         "met": accuracy >= LISTENER_TARGETS["accuracy"]},
    ]


def describe_listeners(settings: ListenerSettings) -> str:
    """This budget's listener beside the article's: layers, parameters, training, data.

    >>> print(describe_listeners(listener_settings("full")).splitlines()[2])
    article (Keras)  50r 250r | repeat 8 | 50r 100  451,800 (Keras's summary)  MSE, adagrad lr 0.01, batch 32, 50 epochs (lr, batch: Keras defaults)
    """
    mine = settings.model()
    article = paper_listener()
    keras = papers.figure("rothmann2018.listener.parameters")
    art_cfg = paper_listener_training()

    def layers(m: Listener) -> str:
        acts = [getattr(lstm, "activation", "tanh") for lstm in [*m.encoder, *m.decoder]]
        units = [lstm.hidden_size for lstm in [*m.encoder, *m.decoder]]
        enc = len(m.encoder)
        text = " ".join(f"{u}{'r' if a == 'relu' else ''}" for u, a in zip(units[:enc], acts[:enc]))
        text += f" | repeat {m.n_steps} | " + " ".join(f"{u}{'r' if a == 'relu' else ''}"
                                                      for u, a in zip(units[enc:], acts[enc:]))
        return text + (" + linear" if isinstance(m.output, torch.nn.Linear) else "")

    def training(cfg: TrainConfig) -> str:
        return f"MSE, {cfg.optimizer} lr {cfg.lr:g}, batch {cfg.batch_size}, {cfg.epochs} epochs"

    rows = [("listener", "layers (LSTM units)", "parameters", "training")]
    rows.append((f"this run ({settings.budget})", layers(mine), f"{mine.n_parameters:,}", training(settings.training)))
    rows.append(("article (Keras)", layers(article), f"{keras.value:,} (Keras's summary)",
                 f"{training(art_cfg)} (lr, batch: Keras defaults)"))
    if not settings.paper_model:
        two = Listener().n_parameters
        rows.append(("article, PyTorch", "the same, two biases per LSTM", f"{two:,}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    hours = papers.figure("rothmann2018.listener.data_hours")
    lines.append(f"(r: ReLU cell activation; the others tanh. Data: 8 x 100 dilated gammatone views, the article's "
                 f"from {hours.shown} of UrbanSound8K, ours from FSDD's spoken digits.)")
    return "\n".join(lines)


def listener_full_budget_estimate(data: ListenerData, settings: ListenerSettings, *, steps: int = 5, device=None) -> str:
    """What the full budget needs and about how long its listener training takes here, from
    the time of ``steps`` training steps (a short measurement, not a promise)."""
    model = settings.model().to(get_device(device))
    batch = _flat(data.train)[: settings.training.batch_size].to(next(model.parameters()).device)
    torch.nn.functional.mse_loss(model(batch), batch).backward()  # a warm-up step
    t0 = time.perf_counter()
    for _ in range(steps):  # forward and backward: the optimiser's update is a small part of a step
        model.zero_grad()
        torch.nn.functional.mse_loss(model(batch), batch).backward()
    per_step = (time.perf_counter() - t0) / steps
    n_steps = -(-len(_flat(data.train)) // settings.training.batch_size) * settings.training.epochs
    return (f"full budget: FSDD (about 12 MB, downloaded once if missing); the listener's "
            f"{settings.training.epochs} epochs are {n_steps:,} steps of {per_step * 1000:.0f} ms here, "
            f"about {n_steps * per_step / 60:.0f} min, plus validation")
