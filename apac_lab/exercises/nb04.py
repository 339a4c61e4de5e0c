"""Exercise checks for notebook 04_learning_the_mel_mstmodel.

- ``04.offset``: how far TensorFlow "SAME" padding shifts the MSTmodel's frames from the target's.
- ``04.probability_vote``: a function that labels each clip by its segments' mean probability.
- ``04.freeze``: a function that freezes a classifier's MST front-end for configuration (c).
"""

from __future__ import annotations

import torch

from apac_lab.exercises import register

__all__: list[str] = []


@register("04.offset")
def _offset(answer) -> tuple[bool, str]:
    value = float(answer)
    if value == -256:
        return False, "right size, wrong direction: the SAME frames are centred LATER than the target's"
    if value in (512, 1024):
        return False, "that is a whole hop or window; compare the first frame centres of both paddings"
    return value == 256, ("compare mst_frame_centers(51200, padding='same') with mst_frame_centers(51200): "
                          "SAME pads (frames - 1) * hop + n_fft - samples samples, half of them on the left")


_CASES = [
    # (probs, clip_ids, expected labels for the sorted clip ids)
    (torch.tensor([[0.95, 0.05], [0.4, 0.6], [0.4, 0.6]]), torch.tensor([0, 0, 0]), [0]),
    (torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.1, 0.4], [0.2, 0.2, 0.6], [0.3, 0.2, 0.5]]),
     torch.tensor([4, 1, 4, 1]), [2, 1]),
    (torch.tensor([[0.2, 0.8]]), torch.tensor([9]), [1]),
]


@register("04.probability_vote")
def _probability_vote(answer) -> tuple[bool, str]:
    if not callable(answer):
        return False, "give a function f(probs, clip_ids) returning one label per clip (clips in sorted order)"
    for probs, ids, want in _CASES:
        got = answer(probs.clone(), ids.clone())
        if isinstance(got, tuple):  # (clips, labels) like apac_lab.models.vote_probability
            got = got[-1]
        got = torch.as_tensor(got).flatten().tolist()
        if got != want:
            if probs.shape[0] == 3 and got == [1]:
                return False, ("two of three segments prefer class 1 (a majority vote), but the MEAN "
                               "probability of class 0 is higher: average the probabilities per clip, then argmax")
            return False, (f"for clip ids {ids.tolist()} expected {want}, got {got}; group the segments by "
                           "clip id (sorted), average their probabilities, take the argmax")
    return True, ""


@register("04.freeze")
def _freeze(answer) -> tuple[bool, str]:
    if not callable(answer):
        return False, "give a function f(model) that freezes model.frontend (the MST layers) in place"
    from apac_lab.models import MSTmodel, PiczakCNN

    torch.manual_seed(0)
    model = PiczakCNN(n_classes=3, frames=21, hidden=8, frontend=MSTmodel(n_filters=16, n_hidden=8))
    result = answer(model)
    model = result if isinstance(result, torch.nn.Module) else model
    front = {k: v.clone() for k, v in model.frontend.state_dict().items()}
    head = [p.detach().clone() for p in model.classifier.parameters()]
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return False, "everything is frozen: only the MST front-end should be, the CNN must still learn"
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)
    model.train()  # what the training loop does at the start of every epoch
    loss = torch.nn.functional.cross_entropy(model(torch.randn(4, 20 * 512)), torch.tensor([0, 1, 2, 0]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    changed = [k for k, v in model.frontend.state_dict().items() if not torch.equal(v, front[k])]
    if any("running" in k or "num_batches" in k for k in changed) and not any(k.endswith(("weight", "bias")) for k in changed):
        return False, ("the weights stayed, but BatchNorm's running statistics still moved when the model trained: "
                       "model.train() puts BatchNorm back in training mode. apac_lab.models.set_trainable keeps a "
                       "frozen MSTmodel's BatchNorm in eval mode")
    if changed:
        return False, f"the front-end still trained ({', '.join(changed[:3])} changed): set requires_grad to False"
    if all(torch.equal(p, q) for p, q in zip(model.classifier.parameters(), head)):
        return False, "the front-end is frozen, but so is the classifier: freeze only model.frontend"
    return True, ""
