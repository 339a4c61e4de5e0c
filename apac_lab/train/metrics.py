"""Classification metrics: accuracy, confusion matrix, per-class report.

Notebook: 05_apac_training.
"""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["accuracy", "confusion_matrix", "per_class_report", "format_report"]


def accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of equal entries.

    >>> round(accuracy(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0])), 4)
    0.6667
    """
    if predictions.shape != targets.shape:
        raise ValueError(f"shapes differ: predictions {tuple(predictions.shape)} vs targets {tuple(targets.shape)}")
    if targets.numel() == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return (predictions == targets).float().mean().item()


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``(n_classes, n_classes)`` counts, rows = true class, columns = predicted class.

    >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), 2)
    tensor([[1, 1],
            [0, 1]])
    """
    idx = targets.long() * n_classes + predictions.long()
    return torch.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_report(confusion: torch.Tensor, classes: Sequence[str] | None = None) -> list[dict]:
    """Precision, recall, F1 and support per class from a confusion matrix.

    >>> r = per_class_report(torch.tensor([[1, 1], [0, 1]]), ["a", "b"])
    >>> r[0]["recall"], r[1]["precision"]
    (0.5, 0.5)
    """
    c = confusion.double()
    tp = c.diag()
    support = c.sum(1)
    predicted = c.sum(0)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp(min=1), torch.zeros_like(tp))
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), torch.zeros_like(tp))
    names = list(classes) if classes is not None else [str(i) for i in range(len(tp))]
    return [
        {"class": names[i], "precision": precision[i].item(), "recall": recall[i].item(),
         "f1": f1[i].item(), "support": int(support[i].item())}
        for i in range(len(tp))
    ]


def format_report(report: list[dict]) -> str:
    """The per-class report as a fixed-width text table."""
    lines = [f"{'class':>12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    for r in report:
        lines.append(f"{r['class']:>12} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f} {r['support']:7d}")
    return "\n".join(lines)
