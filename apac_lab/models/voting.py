"""Test-time voting: a clip's label from its segments' predictions (Piczak 2015).

Piczak classifies each segment of a clip, then lets the segments vote: by **majority**
(each segment's most probable class counts one vote) or by **probability** (the class
whose mean predicted probability over the segments is highest).

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import torch

__all__ = ["vote_majority", "vote_probability", "clip_accuracy", "VOTING_METHODS"]

VOTING_METHODS = ("majority", "probability")


def _check(scores: torch.Tensor, clip_ids: torch.Tensor, need_probs: bool) -> tuple[torch.Tensor, torch.Tensor]:
    scores, clip_ids = torch.as_tensor(scores), torch.as_tensor(clip_ids).long()
    if clip_ids.dim() != 1:
        raise ValueError(f"clip_ids must be 1D (one id per segment), got shape {tuple(clip_ids.shape)}")
    if scores.dim() not in ((2,) if need_probs else (1, 2)):
        want = "(segments, classes) probabilities" if need_probs else "(segments,) labels or (segments, classes) probabilities"
        raise ValueError(f"expected {want}, got shape {tuple(scores.shape)}")
    if scores.shape[0] != clip_ids.shape[0]:
        raise ValueError(f"{scores.shape[0]} segment predictions but {clip_ids.shape[0]} clip ids")
    if clip_ids.numel() == 0:
        raise ValueError("no segments to vote")
    return scores, clip_ids


def vote_majority(scores: torch.Tensor, clip_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each clip's most voted class among its segments' predicted classes.

    Args:
        scores (Tensor): ``(segments,)`` predicted labels, or ``(segments, classes)``
            probabilities (or logits), whose argmax is each segment's vote.
        clip_ids (Tensor): ``(segments,)`` the clip each segment belongs to.

    Returns:
        (clips, labels): the sorted distinct clip ids and each one's winning class. A tie
        goes to the tied class with the highest summed probability when probabilities are
        given, else to the smallest class index.

    >>> vote_majority(torch.tensor([2, 2, 1, 0, 1, 1]), torch.tensor([0, 0, 0, 1, 1, 1]))
    (tensor([0, 1]), tensor([2, 1]))
    >>> vote_majority(torch.tensor([3, 1]), torch.tensor([5, 5]))  # a tie: smallest class
    (tensor([5]), tensor([1]))
    """
    scores, clip_ids = _check(scores, clip_ids, need_probs=False)
    votes = scores.argmax(dim=1) if scores.dim() == 2 else scores.long()
    n_classes = scores.shape[1] if scores.dim() == 2 else int(votes.max()) + 1
    clips, inverse = torch.unique(clip_ids, return_inverse=True)
    counts = torch.zeros(len(clips), n_classes)
    counts.index_put_((inverse, votes), torch.ones(len(votes)), accumulate=True)
    if scores.dim() == 2:  # tie-break: add each class's share of the summed probability, < one vote in all
        probs = scores.float()
        if (probs < 0).any() or ((probs.sum(dim=1) - 1).abs() > 1e-3).any():
            probs = probs.softmax(dim=1)  # logits were given
        mass = torch.zeros(len(clips), n_classes).index_add_(0, inverse, probs)
        counts = counts + mass / (mass.sum(dim=1, keepdim=True) + 1.0)
    return clips, counts.argmax(dim=1)


def vote_probability(probs: torch.Tensor, clip_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each clip's class of highest mean probability over its segments.

    Args:
        probs (Tensor): ``(segments, classes)`` probabilities (softmax outputs).
        clip_ids (Tensor): ``(segments,)`` the clip each segment belongs to.

    Returns:
        (clips, labels): the sorted distinct clip ids and each one's winning class.

    >>> p = torch.tensor([[0.95, 0.05], [0.4, 0.6], [0.4, 0.6]])
    >>> vote_probability(p, torch.tensor([0, 0, 0]))  # majority says 1, probability says 0
    (tensor([0]), tensor([0]))
    """
    probs, clip_ids = _check(probs, clip_ids, need_probs=True)
    clips, inverse = torch.unique(clip_ids, return_inverse=True)
    total = torch.zeros(len(clips), probs.shape[1]).index_add_(0, inverse, probs.float())
    counts = torch.zeros(len(clips)).index_add_(0, inverse, torch.ones(len(inverse)))
    return clips, (total / counts[:, None]).argmax(dim=1)


def clip_accuracy(
    probs: torch.Tensor, labels: torch.Tensor, clip_ids: torch.Tensor, *, method: str = "probability"
) -> float:
    """Accuracy over clips after voting (``method`` ``"majority"`` or ``"probability"``).

    ``labels`` are the segments' labels (all segments of a clip share one).

    >>> p = torch.tensor([[0.95, 0.05], [0.4, 0.6], [0.4, 0.6], [0.6, 0.4]])
    >>> y, ids = torch.tensor([0, 0, 0, 1]), torch.tensor([0, 0, 0, 1])
    >>> clip_accuracy(p, y, ids, method="majority"), clip_accuracy(p, y, ids, method="probability")
    (0.0, 0.5)
    """
    if method not in VOTING_METHODS:
        raise ValueError(f"method must be one of {VOTING_METHODS}, got {method!r}")
    labels, clip_ids = torch.as_tensor(labels).long(), torch.as_tensor(clip_ids).long()
    if labels.shape != clip_ids.shape:
        raise ValueError(f"labels {tuple(labels.shape)} and clip_ids {tuple(clip_ids.shape)} must match")
    clips, predicted = (vote_majority if method == "majority" else vote_probability)(probs, clip_ids)
    inverse = torch.unique(clip_ids, return_inverse=True)[1]
    low = torch.full((len(clips),), torch.iinfo(torch.long).max).scatter_reduce(0, inverse, labels, "amin")
    high = torch.full((len(clips),), -1, dtype=torch.long).scatter_reduce(0, inverse, labels, "amax")
    if not torch.equal(low, high):
        raise ValueError("the segments of one clip carry different labels; check clip_ids")
    return float((predicted == low).float().mean())
