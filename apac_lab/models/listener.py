"""The listener: a sequence-to-sequence LSTM autoencoder of short spectral memories.

After Rothmann (2018), "Human-Like Machine Hearing With AI" (parts 1-2). A dilated
buffer of ``n_steps`` gammatone frames (8 x 100 in the article) goes through encoder
LSTMs; the last step's output is the latent vector (250 in the article), a fixed-size
summary of what was just heard. The decoder repeats the latent once per step, runs it
through decoder LSTMs, and a linear layer applied at every step (Keras's
``TimeDistributed(Dense)``) reconstructs the buffer. Trained on reconstruction (MSE),
no labels; :meth:`Listener.encode` is then an embedding model on its own, and a small
feed-forward :class:`EmbeddingClassifier` on the embeddings tells what was heard.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["Listener", "EmbeddingClassifier"]


def _lstm_stack(sizes: Sequence[int]) -> nn.ModuleList:
    """One single-layer LSTM per consecutive pair of ``sizes`` (each layer may change width)."""
    return nn.ModuleList(nn.LSTM(a, b, batch_first=True) for a, b in zip(sizes[:-1], sizes[1:]))


def _run(stack: nn.ModuleList, x: torch.Tensor, dropout: nn.Module) -> torch.Tensor:
    for i, lstm in enumerate(stack):
        x, _ = lstm(x)
        if i < len(stack) - 1:
            x = dropout(x)
    return x


class Listener(nn.Module):
    """Seq2seq LSTM autoencoder: encoder LSTMs -> latent -> repeat -> decoder LSTMs -> linear.

    Args:
        n_steps (int, default 8): frames per input sequence (dilated buffer steps).
        n_bins (int, default 100): values per frame (gammatone filters).
        latent_dim (int, default 250): size of the embedding.
        hidden_sizes (Sequence[int], default ()): widths of extra encoder LSTMs before
            the latent one; the decoder mirrors them (latent_dim first, then reversed).
        dropout (float, default 0.0): dropout between LSTM layers.

    Shape: ``forward``: ``(batch, n_steps, n_bins)`` -> ``(batch, n_steps, n_bins)``;
    ``encode``: -> ``(batch, latent_dim)``; ``decode``: ``(batch, latent_dim)`` -> the input shape.

    >>> model = Listener()
    >>> x = torch.randn(2, 8, 100)
    >>> model(x).shape, model.encode(x).shape
    (torch.Size([2, 8, 100]), torch.Size([2, 250]))
    """

    def __init__(self, *, n_steps: int = 8, n_bins: int = 100, latent_dim: int = 250,
                 hidden_sizes: Sequence[int] = (), dropout: float = 0.0) -> None:
        super().__init__()
        for name, v in (("n_steps", n_steps), ("n_bins", n_bins), ("latent_dim", latent_dim)):
            if int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if any(h < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must all be >= 1, got {hidden_sizes}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.n_steps, self.n_bins, self.latent_dim, self.hidden_sizes = int(n_steps), int(n_bins), int(latent_dim), hidden_sizes
        self.encoder = _lstm_stack((self.n_bins, *hidden_sizes, self.latent_dim))
        dec = (self.latent_dim, self.latent_dim, *hidden_sizes[::-1])
        self.decoder = _lstm_stack(dec)
        self.output = nn.Linear(dec[-1], self.n_bins)  # the same layer at every step (TimeDistributed)
        self.dropout = nn.Dropout(dropout)

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
