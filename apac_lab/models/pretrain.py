"""Pre-train a trainable (mel + STFT) front-end on FSDD, for the fifth mode ``mel+stft+fsdd``.

A classifier with a ``mel+stft`` front-end is trained on the Free Spoken Digit Dataset
(official split; data found by :func:`apac_lab.data.load_dataset`), then ONLY its front-end
(mel filterbank and STFT kernels, with their settings) is saved. A model built with
``build_model(..., mode="mel+stft+fsdd", checkpoint=path)`` starts from those filters and
fine-tunes them on its own task.

FSDD is recorded at 8 kHz: it is resampled to ``sample_rate`` so that the saved kernels fit
models at that rate (16 kHz by default, the paper's rate).

Notebook: 05_apac_training.
"""

from __future__ import annotations

from pathlib import Path

from apac_lab.data import load_dataset
from apac_lab.models.frontend_modes import save_frontend_checkpoint

__all__ = ["pretrain_fsdd_frontend"]


def pretrain_fsdd_frontend(
    path: str | Path,
    *,
    sample_rate: int = 16000,
    model: str = "apac",
    epochs: int = 5,
    batch_size: int = 32,
    lr: float = 1e-3,
    per_class: int | None = None,
    root: str | Path | None = None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    **kw,
) -> dict:
    """Train ``model`` with a ``mel+stft`` front-end on FSDD and save the front-end at ``path``.

    Args:
        path (str | Path): where the front-end checkpoint goes (written atomically).
        sample_rate (int, default 16000): Hz; FSDD is resampled to it, and the checkpoint
            fits models built at this rate only.
        model (str, default "apac"): a registry name; "tiny" is enough for a quick demo.
        epochs (int, default 5): passes over FSDD's training split.
        batch_size (int, default 32): clips per step.
        lr (float, default 1e-3): Adam learning rate (weight decay 1e-3, the paper's).
        per_class (int | None, default None): keep this many training clips per digit
            (quick mode); None keeps all.
        root (str | Path | None, default None): FSDD folder; None follows ``load_dataset``'s
            rule (``$APAC_LAB_DATA/fsdd``..., else the synthetic set, with a notice).
        seed (int, default 0): shuffling, initialisation and dropout.
        device (str | None, default None): None picks CUDA, MPS, then CPU.
        progress (bool, default True): tqdm bars.
        **kw: front-end settings (``n_fft``, ``hop_length``, ``n_mels``) and model arguments.

    Returns:
        dict: ``path``, ``history`` (per epoch), ``test_accuracy`` (FSDD test split) and
        ``dataset`` (its name: ``fsdd/train`` or ``synthetic/train``).

    Example (not run here: it trains)::

        info = pretrain_fsdd_frontend("checkpoints/fsdd_frontend.pt", epochs=5)
        model = build_model("apac", n_classes=35, mode="mel+stft+fsdd", checkpoint=info["path"])
    """
    from apac_lab.models.registry import build_model
    from apac_lab.train import TrainConfig, evaluate, fit
    from apac_lab.utils import seed_everything

    seed_everything(seed)
    train = load_dataset("fsdd", "train", root=root, sample_rate=sample_rate, num_samples=sample_rate)
    test = load_dataset("fsdd", "test", root=root, sample_rate=sample_rate, num_samples=sample_rate, verbose=False)
    if per_class is not None:
        train = train.balanced(per_class, seed=seed)
    net = build_model(model, n_classes=len(train.classes), sample_rate=sample_rate, mode="mel+stft", **kw)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device, progress=progress,
                         extra={"purpose": "fsdd front-end pre-training", "model": model})
    history = fit(net, train, None, config)
    acc = float(evaluate(net, test, config)["accuracy"])
    net.to("cpu")
    out = save_frontend_checkpoint(net.frontend, path, dataset=train.name, model=model, epochs=epochs,
                                   test_accuracy=acc)
    if progress:
        print(f"[apac_lab] front-end pre-trained on {train.name} ({model}, {epochs} epochs, "
              f"test accuracy {acc:.3f}) saved to {out}")
    return {"path": out, "history": history, "test_accuracy": acc, "dataset": train.name}
