"""Reading audio: one function, :func:`load_audio`, that every loader uses.

WAV files are read with soundfile (since torchaudio 2.9, ``torchaudio.load`` needs
torchcodec and FFmpeg). Every clip comes out as float32 mono at the requested sample
rate and, when asked, padded or cropped to a fixed length. Problems raise
:class:`AudioError`, whose message names the file and says what to do.

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

__all__ = ["AudioError", "load_audio", "to_mono", "fix_length", "check_waveform"]


class AudioError(ValueError):
    """A clip that cannot be used: unreadable, empty, NaN/Inf, or of the wrong shape."""


def to_mono(waveform: torch.Tensor) -> torch.Tensor:
    """Downmix ``(channels, samples)`` to ``(samples,)`` by averaging channels.

    A 1D tensor is returned unchanged.

    >>> to_mono(torch.tensor([[1.0, 3.0], [3.0, 5.0]]))
    tensor([2., 4.])
    """
    if waveform.dim() == 1:
        return waveform
    if waveform.dim() != 2:
        raise AudioError(f"expected (samples,) or (channels, samples), got shape {tuple(waveform.shape)}")
    return waveform.mean(dim=0)


def fix_length(waveform: torch.Tensor, num_samples: int, *, pad_mode: str = "end") -> torch.Tensor:
    """Zero-pad or crop the last dimension to ``num_samples``.

    Args:
        waveform (Tensor): ``(..., samples)``.
        num_samples (int): target length, > 0.
        pad_mode (str, default ``"end"``): ``"end"`` pads and crops at the end;
            ``"center"`` splits the padding or the crop evenly between both ends.

    >>> fix_length(torch.ones(3), 5)
    tensor([1., 1., 1., 0., 0.])
    >>> fix_length(torch.arange(6.0), 2, pad_mode="center")
    tensor([2., 3.])
    """
    if num_samples <= 0:
        raise ValueError(f"num_samples must be > 0, got {num_samples}")
    if pad_mode not in ("end", "center"):
        raise ValueError(f"pad_mode must be 'end' or 'center', got {pad_mode!r}")
    n = waveform.shape[-1]
    if n == num_samples:
        return waveform
    if n > num_samples:
        start = (n - num_samples) // 2 if pad_mode == "center" else 0
        return waveform[..., start : start + num_samples]
    missing = num_samples - n
    left = missing // 2 if pad_mode == "center" else 0
    return torch.nn.functional.pad(waveform, (left, missing - left))


def check_waveform(waveform: torch.Tensor, source: str = "waveform") -> torch.Tensor:
    """Raise :class:`AudioError` if ``waveform`` is empty or holds NaN or Inf; return it.

    >>> check_waveform(torch.zeros(4)).shape
    torch.Size([4])
    """
    if waveform.numel() == 0 or waveform.shape[-1] == 0:
        raise AudioError(f"{source}: the audio is empty (0 samples). Re-export or delete this file.")
    if not torch.isfinite(waveform).all():
        raise AudioError(
            f"{source}: the audio contains NaN or Inf samples. Re-export the file, or clean it "
            "with torch.nan_to_num before use."
        )
    return waveform


def load_audio(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    num_samples: int | None = None,
    pad_mode: str = "end",
) -> torch.Tensor:
    """Read an audio file as a float32 mono tensor.

    Stereo is downmixed by averaging the channels; a different file rate is resampled
    with ``torchaudio.functional.resample``.

    Args:
        path (str | Path): a file soundfile can read (WAV, FLAC, OGG).
        sample_rate (int | None, default None): output rate in Hz; None keeps the file's.
        num_samples (int | None, default None): pad or crop to this many samples.
        pad_mode (str, default ``"end"``): see :func:`fix_length`.

    Returns:
        Tensor: ``(samples,)`` float32.

    Raises:
        FileNotFoundError: the file does not exist.
        AudioError: the file is corrupt, empty, or holds NaN/Inf samples.

    >>> import tempfile, os, soundfile as sf, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(p, np.zeros((800, 2), dtype="float32"), 8000)
    >>> load_audio(p, sample_rate=16000, num_samples=2000).shape
    torch.Size([2000])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes). Download it again or delete it.")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        raise AudioError(
            f"{path}: cannot be read as audio ({exc}). The file may be corrupt or truncated: "
            "download it again or delete it."
        ) from exc
    waveform = to_mono(torch.from_numpy(np.ascontiguousarray(data.T)))
    check_waveform(waveform, str(path))
    if sample_rate is not None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0, got {sample_rate}")
        if file_rate != sample_rate:
            waveform = AF.resample(waveform, int(file_rate), int(sample_rate))
    if num_samples is not None:
        waveform = fix_length(waveform, num_samples, pad_mode=pad_mode)
    return waveform.contiguous().to(torch.float32)


# ----------------------------------------------------------------------------- audio as file bytes
# WAV bytes in memory, for the widgets: a clip to play (ipywidgets.Audio), an upload to read
# (ipywidgets.FileUpload). Nothing touches the disk.

__all__ += ["wav_bytes", "decode_wav_bytes"]


def wav_bytes(waveform: torch.Tensor, sample_rate: int) -> bytes:
    """A clip as 16-bit WAV file bytes, peak-normalised to 0.9 (for ``ipywidgets.Audio``).

    Args:
        waveform (Tensor | array): ``(samples,)``.
        sample_rate (int): Hz.

    >>> wav_bytes(torch.zeros(80), 8000)[:4]
    b'RIFF'
    """
    x = torch.as_tensor(waveform).detach().cpu().double().numpy()
    peak = float(np.abs(x).max()) if x.size else 0.0
    buf = io.BytesIO()
    sf.write(buf, (0.9 * x / peak if peak > 0 else x).astype(np.float32), int(sample_rate), format="WAV",
             subtype="PCM_16")
    return buf.getvalue()


def decode_wav_bytes(data: bytes, *, sample_rate: int, num_samples: int | None = None) -> torch.Tensor:
    """Audio file bytes (WAV, FLAC, OGG) to a float32 mono waveform at ``sample_rate``,
    centred and padded or cropped to ``num_samples`` when given (as :func:`load_audio` reads a file).

    Raises:
        AudioError: the bytes are not audio soundfile can read, or hold no samples.

    >>> buf = io.BytesIO(); sf.write(buf, np.zeros((400, 2), "float32"), 8000, format="WAV")
    >>> decode_wav_bytes(buf.getvalue(), sample_rate=16000, num_samples=1000).shape
    torch.Size([1000])
    """
    if not data:
        raise AudioError("the upload is empty (0 bytes): choose a WAV file")
    try:
        audio, rate = sf.read(io.BytesIO(bytes(data)), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile's own error types
        raise AudioError(f"cannot read the upload as audio ({exc}); upload a WAV, FLAC or OGG file") from None
    wave = check_waveform(to_mono(torch.from_numpy(np.ascontiguousarray(audio.T))), "the upload")
    if rate != sample_rate:
        wave = AF.resample(wave, int(rate), int(sample_rate))
    if num_samples is not None:
        wave = fix_length(wave, num_samples, pad_mode="center")
    return wave.contiguous()
