"""The listener: a sequence-to-sequence LSTM autoencoder of short spectral memories.

After Rothmann (2018), "Human-Like Machine Hearing With AI (2/3)". A dilated buffer of
``n_steps`` gammatone frames (8 x 100 in the article) goes through encoder LSTMs; the
last step's output is the latent vector (250 in the article), a fixed-size summary of
what was just heard. The decoder repeats the latent once per step (Keras's
``RepeatVector``) and runs it through decoder LSTMs that rebuild the buffer. Trained on
reconstruction (MSE), no labels; :meth:`Listener.encode` is then an embedding model on
its own, and a small feed-forward :class:`EmbeddingClassifier` on the embeddings tells
what was heard.

Two architectures (``architecture=``):

* ``"rothmann2018"`` (the default), the article's Keras model: ``LSTM(50, relu,
  return_sequences)``, ``LSTM(250, relu)``, ``RepeatVector(8)``, ``LSTM(50, relu,
  return_sequences)``, ``LSTM(100, return_sequences)`` (Keras's default activation,
  tanh), so the last LSTM's outputs are the reconstruction. Keras counts 451,800
  parameters: one bias vector per layer. PyTorch's LSTMs carry two (``bias_ih`` and
  ``bias_hh``, whose sum is Keras's one), so the same layers have 453,600 here with
  ``biases=2`` (the default) and exactly Keras's 451,800 with ``biases=1``. ReLU needs
  the package's own :class:`apac_lab.models.lstm.LSTMLayer` (``nn.LSTM`` has only tanh).
* ``"kit"``, the kit's earlier listener: ``LSTM(100 -> 250)`` (tanh), repeat,
  ``LSTM(250 -> 250)``, then one ``nn.Linear(250, 100)`` applied to every step's
  output (what Keras would write ``TimeDistributed(Dense(100))``; the article has no
  such layer): 879,100 parameters.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from apac_lab.models.lstm import ACTIVATIONS, GATE_ACTIVATIONS, keras_init_, make_lstm

__all__ = ["LISTENER_ARCHITECTURES", "LISTENER_INITS", "Listener", "EmbeddingClassifier"]

LISTENER_ARCHITECTURES = ("rothmann2018", "kit")
#: ``"torch"``: PyTorch's LSTM initialisation; ``"keras"``: Keras's defaults (:func:`keras_init_`).
LISTENER_INITS = ("torch", "keras")


def _run(stack: nn.ModuleList, x: torch.Tensor, dropout: nn.Module) -> torch.Tensor:
    for i, lstm in enumerate(stack):
        x, _ = lstm(x)
        if i < len(stack) - 1:
            x = dropout(x)
    return x


class Listener(nn.Module):
    """Seq2seq LSTM autoencoder: encoder LSTMs -> latent -> repeat -> decoder LSTMs.

    Args:
        n_steps (int, default 8): frames per input sequence (dilated buffer steps).
        n_bins (int, default 100): values per frame (gammatone filters).
        latent_dim (int, default 250): size of the embedding.
        architecture (str, default "rothmann2018"): ``"rothmann2018"`` (the article's
            layers) or ``"kit"`` (the kit's earlier, wider listener with a linear output);
            see the module's docstring.
        hidden_sizes (Sequence[int] | None, default None): widths of the encoder LSTMs
            before the latent one; the decoder mirrors them. None is the architecture's:
            ``(n_bins // 2,)`` for ``"rothmann2018"`` (the article's ``int(input_dim / 2)``),
            ``()`` for ``"kit"``.
        activation (str | None, default None): ``"relu"`` or ``"tanh"``, the LSTMs' cell
            activation (the article's last LSTM keeps tanh either way); None is the
            architecture's (``"relu"`` for ``"rothmann2018"``, ``"tanh"`` for ``"kit"``).
        gate_activation (str, default "sigmoid"): ``"sigmoid"`` or ``"hard_sigmoid"`` (the
            default of Keras before 2.3, so probably the article's).
        biases (int, default 2): bias vectors per LSTM, 2 as PyTorch (453,600 parameters
            for the article's layers) or 1 as Keras (451,800).
        init (str, default "torch"): ``"torch"`` (PyTorch's LSTM initialisation) or
            ``"keras"`` (Glorot-uniform kernels, orthogonal recurrent kernels, forget bias 1).
        dropout (float, default 0.0): dropout between LSTM layers (the article has none).

    Shape: ``forward``: ``(batch, n_steps, n_bins)`` -> ``(batch, n_steps, n_bins)``;
    ``encode``: -> ``(batch, latent_dim)``; ``decode``: ``(batch, latent_dim)`` -> the input shape.

    >>> model = Listener()
    >>> x = torch.rand(2, 8, 100)
    >>> model(x).shape, model.encode(x).shape, model.n_parameters, Listener(biases=1).n_parameters
    (torch.Size([2, 8, 100]), torch.Size([2, 250]), 453600, 451800)
    >>> Listener(architecture="kit").n_parameters
    879100
    """

    def __init__(self, *, n_steps: int = 8, n_bins: int = 100, latent_dim: int = 250,
                 architecture: str = "rothmann2018", hidden_sizes: Sequence[int] | None = None,
                 activation: str | None = None, gate_activation: str = "sigmoid", biases: int = 2,
                 init: str = "torch", dropout: float = 0.0) -> None:
        super().__init__()
        for name, v in (("n_steps", n_steps), ("n_bins", n_bins), ("latent_dim", latent_dim)):
            if int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        if architecture not in LISTENER_ARCHITECTURES:
            raise ValueError(f"architecture must be one of {LISTENER_ARCHITECTURES}, got {architecture!r}")
        if hidden_sizes is None:
            hidden_sizes = (max(1, int(n_bins) // 2),) if architecture == "rothmann2018" else ()
        hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if any(h < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must all be >= 1, got {hidden_sizes}")
        activation = activation or ("relu" if architecture == "rothmann2018" else "tanh")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if gate_activation not in GATE_ACTIVATIONS:
            raise ValueError(f"gate_activation must be one of {GATE_ACTIVATIONS}, got {gate_activation!r}")
        if biases not in (1, 2):
            raise ValueError(f"biases must be 2 (PyTorch's two bias vectors) or 1 (Keras's one), got {biases!r}")
        if init not in LISTENER_INITS:
            raise ValueError(f"init must be one of {LISTENER_INITS}, got {init!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.n_steps, self.n_bins, self.latent_dim = int(n_steps), int(n_bins), int(latent_dim)
        self.architecture, self.hidden_sizes, self.activation = architecture, hidden_sizes, activation
        self.gate_activation, self.biases, self.init = gate_activation, int(biases), init

        def stack(sizes, activations):
            return nn.ModuleList(make_lstm(a, b, activation=act, gate_activation=gate_activation, biases=biases)
                                 for a, b, act in zip(sizes[:-1], sizes[1:], activations))

        enc = (self.n_bins, *hidden_sizes, self.latent_dim)
        self.encoder = stack(enc, [activation] * (len(enc) - 1))
        if architecture == "rothmann2018":  # the decoder ends in an LSTM of n_bins units, Keras's default tanh
            dec = (self.latent_dim, *hidden_sizes[::-1], self.n_bins)
            self.decoder = stack(dec, [activation] * (len(dec) - 2) + ["tanh"])
            self.output = nn.Identity()
        else:  # the kit's: an LSTM of latent_dim units first, then a linear layer on every step
            dec = (self.latent_dim, self.latent_dim, *hidden_sizes[::-1])
            self.decoder = stack(dec, [activation] * (len(dec) - 1))
            self.output = nn.Linear(dec[-1], self.n_bins)
        if init == "keras":
            for lstm in [*self.encoder, *self.decoder]:
                keras_init_(lstm)
        self.dropout = nn.Dropout(dropout)

    @property
    def n_parameters(self) -> int:
        """Trainable parameters (the article's Keras summary counts 451,800 for its layers)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 3 or x.shape[-1] != self.n_bins:
            raise ValueError(f"expected (batch, steps, n_bins={self.n_bins}), got shape {tuple(x.shape)}; "
                             "a (batch, bins, frames) spectrogram needs .transpose(1, 2)")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding: the last step of the encoder's last LSTM, ``(batch, latent_dim)``.

        Any number of steps works (the LSTMs run over what they are given).
        """
        self._check(x)
        return _run(self.encoder, x, self.dropout)[:, -1]

    def decode(self, z: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
        """Reconstruct ``n_steps`` (default: the model's) frames from embeddings ``(batch, latent_dim)``."""
        if z.dim() != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"expected (batch, latent_dim={self.latent_dim}), got shape {tuple(z.shape)}")
        steps = self.n_steps if n_steps is None else int(n_steps)
        h = _run(self.decoder, z.unsqueeze(1).expand(-1, steps, -1), self.dropout)  # RepeatVector
        return self.output(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), x.shape[1])

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Embeddings of many sequences, batch by batch, without gradients, in eval mode."""
        was = self.training
        self.eval()
        device = next(self.parameters()).device
        out = torch.cat([self.encode(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])
        self.train(was)
        return out


class EmbeddingClassifier(nn.Module):
    """A small feed-forward classifier on embeddings: standardise -> Linear -> ReLU -> Dropout -> Linear.

    The standardisation (``(z - mean) / std``, identity until :meth:`set_normalization`)
    travels with the model, so evaluation sees raw embeddings as training did.

    Args:
        in_features (int, default 250): embedding size.
        n_classes (int, default 10): classes.
        hidden (int, default 128): hidden units; 0 makes it a linear classifier.
        dropout (float, default 0.2): dropout on the hidden layer.

    Shape: ``(batch, in_features)`` -> logits ``(batch, n_classes)``.

    >>> EmbeddingClassifier(250, 10)(torch.randn(4, 250)).shape
    torch.Size([4, 10])
    """

    def __init__(self, in_features: int = 250, n_classes: int = 10, *, hidden: int = 128, dropout: float = 0.2) -> None:
        super().__init__()
        if in_features < 1 or n_classes < 2:
            raise ValueError(f"need in_features >= 1 and n_classes >= 2, got {in_features}, {n_classes}")
        if hidden < 0:
            raise ValueError(f"hidden must be >= 0 (0 is linear), got {hidden}")
        if hidden == 0:
            self.net = nn.Linear(in_features, n_classes)
        else:
            self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
                                     nn.Linear(hidden, n_classes))
        self.register_buffer("mean", torch.zeros(in_features))
        self.register_buffer("std", torch.ones(in_features))

    def set_normalization(self, mean: torch.Tensor, std: torch.Tensor, eps: float = 1e-6) -> None:
        """Standardise inputs with these statistics (e.g. the training embeddings')."""
        self.mean.copy_(mean.detach().reshape(-1))
        self.std.copy_(std.detach().reshape(-1).clamp_min(eps))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net((z - self.mean) / self.std)
