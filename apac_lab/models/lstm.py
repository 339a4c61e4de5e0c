"""A small LSTM whose activations can be chosen, for ports of Keras models.

PyTorch's ``nn.LSTM`` computes ``tanh`` for the cell input and output and ``sigmoid``
for the gates, with two bias vectors per layer. Keras's ``LSTM`` lets both be chosen
(Rothmann's 2018 listener uses ``activation="relu"``), used ``hard_sigmoid`` gates by
default before Keras 2.3, and has one bias vector. :func:`lstm_sequence` is the cell's
maths, written once; :class:`LSTMLayer` is a thin module holding the weights, laid out and
named as ``nn.LSTM``'s single layer (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``,
``bias_hh_l0``), so a state dict moves between the two. :func:`keras_init_` gives
either module Keras's default initialisation.

Gate order along the ``4 * hidden`` rows is PyTorch's and Keras's: input, forget, cell,
output. With ``c`` the cell state and ``act`` the activation::

    i, f, o = gate(W_i x + U_i h + b_i), gate(...), gate(...)
    c' = f * c + i * act(W_c x + U_c h + b_c)
    h' = o * act(c')

Notebook: 03_echoic_buffers (the listener).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "GATE_ACTIVATIONS", "hard_sigmoid", "lstm_sequence", "LSTMLayer", "keras_init_", "make_lstm"]

ACTIVATIONS = ("tanh", "relu")
#: ``hard_sigmoid`` is Keras 2.2's ``clip(0.2 x + 0.5, 0, 1)``, its LSTM gates' default until Keras 2.3.
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid")


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2.2's hard sigmoid, ``clip(0.2 x + 0.5, 0, 1)``.

    >>> hard_sigmoid(torch.tensor([-3.0, 0.0, 1.0, 3.0])).tolist()
    [0.0, 0.5, 0.699999988079071, 1.0]
    """
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


_ACT = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "hard_sigmoid": hard_sigmoid}


def _check_activations(activation: str, gate_activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if gate_activation not in GATE_ACTIVATIONS:
        raise ValueError(f"gate_activation must be one of {GATE_ACTIVATIONS}, got {gate_activation!r}")


def lstm_sequence(x: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor, bias: torch.Tensor | None = None,
                  *, activation: str = "tanh", gate_activation: str = "sigmoid",
                  state: tuple[torch.Tensor, torch.Tensor] | None = None
                  ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Run one LSTM layer over a sequence.

    Args:
        x (Tensor): ``(batch, steps, input_size)``.
        weight_ih (Tensor): ``(4 * hidden, input_size)``, gates i, f, c, o.
        weight_hh (Tensor): ``(4 * hidden, hidden)``.
        bias (Tensor | None, default None): ``(4 * hidden,)``, the one bias of the gates
            (``nn.LSTM``'s ``bias_ih + bias_hh``).
        activation (str, default "tanh"): ``"tanh"`` or ``"relu"``, for the cell input and output.
        gate_activation (str, default "sigmoid"): ``"sigmoid"`` or ``"hard_sigmoid"``.
        state (tuple | None, default None): initial ``(h, c)``, each ``(batch, hidden)``; None is zeros.

    Returns:
        tuple: the outputs ``h`` at every step ``(batch, steps, hidden)``, and the last ``(h, c)``.

    >>> out, (h, c) = lstm_sequence(torch.randn(2, 5, 3), torch.randn(8, 3), torch.randn(8, 2))
    >>> out.shape, h.shape, bool(torch.equal(out[:, -1], h))
    (torch.Size([2, 5, 2]), torch.Size([2, 2]), True)
    """
    _check_activations(activation, gate_activation)
    if x.dim() != 3 or x.shape[-1] != weight_ih.shape[1]:
        raise ValueError(f"lstm_sequence: x must be (batch, steps, input_size={weight_ih.shape[1]}), "
                         f"got shape {tuple(x.shape)}")
    hidden = weight_hh.shape[1]
    act, gate = _ACT[activation], _ACT[gate_activation]
    if state is None:
        h = c = x.new_zeros(x.shape[0], hidden)
    else:
        h, c = state
    gates_x = x @ weight_ih.T  # every step's input part at once
    if bias is not None:
        gates_x = gates_x + bias
    outputs = []
    for t in range(x.shape[1]):
        i, f, g, o = (gates_x[:, t] + h @ weight_hh.T).chunk(4, dim=-1)
        c = gate(f) * c + gate(i) * act(g)
        h = gate(o) * act(c)
        outputs.append(h)
    out = torch.stack(outputs, dim=1) if outputs else x.new_zeros(x.shape[0], 0, hidden)
    return out, (h, c)


class LSTMLayer(nn.Module):
    """One LSTM layer (batch first) with a choice of activations and of one or two biases.

    Args:
        input_size (int): features per step.
        hidden_size (int): units.
        activation (str, default "tanh"): ``"tanh"`` (as ``nn.LSTM``) or ``"relu"`` (as
            Keras's ``LSTM(activation="relu")``).
        gate_activation (str, default "sigmoid"): ``"sigmoid"`` or Keras 2.2's ``"hard_sigmoid"``.
        biases (int, default 2): 2 as ``nn.LSTM`` (``bias_ih_l0`` and ``bias_hh_l0``), 1 as
            Keras (``bias_l0``), 0 for none.

    Parameters: ``weight_ih_l0`` ``(4 * hidden, input)``, ``weight_hh_l0`` ``(4 * hidden,
    hidden)``, the biases ``(4 * hidden,)``; initialised as ``nn.LSTM``'s (uniform in
    ``±1 / sqrt(hidden)``), or as Keras's with :func:`keras_init_`.

    Shape: ``(batch, steps, input_size)`` -> ``(outputs (batch, steps, hidden), (h, c))``,
    with ``h`` and ``c`` ``(1, batch, hidden)`` as ``nn.LSTM`` returns them.

    >>> m = LSTMLayer(100, 50, activation="relu")
    >>> sum(p.numel() for p in m.parameters()), sum(p.numel() for p in LSTMLayer(100, 50, biases=1).parameters())
    (30400, 30200)
    >>> m(torch.rand(2, 8, 100))[0].shape
    torch.Size([2, 8, 50])
    """

    def __init__(self, input_size: int, hidden_size: int, *, activation: str = "tanh", gate_activation: str = "sigmoid",
                 biases: int = 2) -> None:
        super().__init__()
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size}, {hidden_size}")
        if biases not in (0, 1, 2):
            raise ValueError(f"biases must be 2 (nn.LSTM's), 1 (Keras's) or 0, got {biases!r}")
        _check_activations(activation, gate_activation)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.activation, self.gate_activation, self.biases = activation, gate_activation, int(biases)
        h4 = 4 * self.hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(h4, self.input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(h4, self.hidden_size))
        if biases == 2:
            self.bias_ih_l0 = nn.Parameter(torch.empty(h4))
            self.bias_hh_l0 = nn.Parameter(torch.empty(h4))
        elif biases == 1:
            self.bias_l0 = nn.Parameter(torch.empty(h4))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.LSTM``'s initialisation: every parameter uniform in ``±1 / sqrt(hidden_size)``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def bias(self) -> torch.Tensor | None:
        """The gates' one bias (the sum of the two, when there are two), or None."""
        if self.biases == 2:
            return self.bias_ih_l0 + self.bias_hh_l0
        return self.bias_l0 if self.biases == 1 else None

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        if state is not None:
            state = (state[0][0], state[1][0])
        out, (h, c) = lstm_sequence(x, self.weight_ih_l0, self.weight_hh_l0, self.bias(), activation=self.activation,
                                    gate_activation=self.gate_activation, state=state)
        return out, (h.unsqueeze(0), c.unsqueeze(0))

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, activation={self.activation!r}, "
                f"gate_activation={self.gate_activation!r}, biases={self.biases}")


def make_lstm(input_size: int, hidden_size: int, *, activation: str = "tanh", gate_activation: str = "sigmoid",
              biases: int = 2) -> nn.Module:
    """One batch-first LSTM layer: ``nn.LSTM`` (fused, faster) where its maths is the one
    asked for (tanh, sigmoid gates, two biases), else :class:`LSTMLayer`. Both take
    ``(batch, steps, input)`` and return ``(outputs, (h, c))``.

    >>> isinstance(make_lstm(4, 3), nn.LSTM), isinstance(make_lstm(4, 3, activation="relu"), LSTMLayer)
    (True, True)
    """
    _check_activations(activation, gate_activation)
    if activation == "tanh" and gate_activation == "sigmoid" and biases == 2:
        return nn.LSTM(input_size, hidden_size, batch_first=True)
    return LSTMLayer(input_size, hidden_size, activation=activation, gate_activation=gate_activation, biases=biases)


@torch.no_grad()
def keras_init_(lstm: nn.Module, *, generator: torch.Generator | None = None) -> nn.Module:
    """Keras's default LSTM initialisation, in place, on an :class:`LSTMLayer` or a one-layer ``nn.LSTM``.

    Keras's kernel ``(input, 4 * hidden)`` is Glorot-uniform (limit ``sqrt(6 / (input + 4 *
    hidden))``), its recurrent kernel ``(hidden, 4 * hidden)`` orthogonal, its bias zeros
    but 1 on the forget gate (``unit_forget_bias=True``). PyTorch stores the transposes;
    a second bias, where there is one, is zero. Returns the module.

    >>> m = keras_init_(LSTMLayer(6, 3, biases=1))
    >>> m.bias_l0.tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    w_ih, w_hh = lstm.weight_ih_l0, lstm.weight_hh_l0
    hidden, inputs = w_hh.shape[1], w_ih.shape[1]
    limit = math.sqrt(6.0 / (inputs + 4 * hidden))
    w_ih.copy_(torch.empty_like(w_ih).uniform_(-limit, limit, generator=generator))
    # Keras's orthogonal initialiser on the (hidden, 4 hidden) matrix: orthonormal rows
    q, r = torch.linalg.qr(torch.randn(4 * hidden, hidden, generator=generator, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))  # a unique, uniformly distributed orthogonal matrix
    w_hh.copy_(q.to(w_hh.dtype))  # (4 hidden, hidden): orthonormal columns, the transpose of Keras's
    names = ("bias_l0", "bias_ih_l0", "bias_hh_l0")
    found = [getattr(lstm, n) for n in names if isinstance(getattr(lstm, n, None), torch.Tensor)]
    for b in found:
        b.zero_()
    if found:
        found[0][hidden:2 * hidden] = 1.0
    return lstm
