"""Reading audio: one function, :func:`load_audio`, that every loader uses.

WAV files are read with soundfile (since torchaudio 2.9, ``torchaudio.load`` needs
torchcodec and FFmpeg). Every clip comes out as float32 mono at the requested sample
rate (resampled by :func:`apac_lab.data.resample_waveform`, whose cost stays bounded
whatever rate a header claims) and, when asked, padded or cropped to a fixed length.
Problems raise :class:`AudioError`, whose message names the file and says what to do:
among them a WAV file shorter than its header says (truncated), and a header rate
outside 1 kHz-384 kHz.

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

import io
import numbers
import re
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from apac_lab.data.resample import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_sample_rate, resample_waveform

__all__ = ["AudioError", "load_audio", "to_mono", "fix_length", "check_waveform"]


class AudioError(ValueError):
    """A clip that cannot be used: unreadable, truncated, empty, NaN/Inf, of an absurd rate, or of the wrong shape."""


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
    return waveform[0] if waveform.shape[0] == 1 else waveform.mean(dim=0)  # mono: no arithmetic to do


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


def _wav_data_sizes(path: Path) -> tuple[int, int] | None:
    """``(bytes of audio the WAV header declares, bytes the file holds after it)``, or None for a
    file that is not RIFF/WAVE, has no data chunk, or leaves the size open (0 or 0xFFFFFFFF, as
    streaming writers do)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            declared = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                return None if declared in (0, 0xFFFFFFFF) else (declared, size - pos - 8)
            pos += 8 + declared + (declared & 1)
    return None


def load_audio(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    num_samples: int | None = None,
    pad_mode: str = "end",
) -> torch.Tensor:
    """Read an audio file as a float32 mono tensor.

    Stereo is downmixed by averaging the channels; a different file rate is resampled
    with :func:`apac_lab.data.resample_waveform` (torchaudio's filter, at a bounded cost).

    Args:
        path (str | Path): a file soundfile can read (WAV, FLAC, OGG).
        sample_rate (int | None, default None): output rate in Hz, 1000 to 384000; None keeps
            the file's.
        num_samples (int | None, default None): pad or crop to this many samples.
        pad_mode (str, default ``"end"``): see :func:`fix_length`.

    Returns:
        Tensor: ``(samples,)`` float32.

    Raises:
        FileNotFoundError: the file does not exist.
        AudioError: the file is corrupt, truncated (shorter than its WAV header says), empty,
            holds NaN/Inf samples, or claims a rate outside 1000-384000 Hz.
        ValueError: ``sample_rate`` or ``num_samples`` is not a positive number in range.

    >>> import tempfile, os, soundfile as sf, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(p, np.zeros((800, 2), dtype="float32"), 8000)
    >>> load_audio(p, sample_rate=16000, num_samples=2000).shape
    torch.Size([2000])
    """
    path = Path(path)
    if sample_rate is not None:
        sample_rate = check_sample_rate(sample_rate)
    if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0):
        raise ValueError(f"num_samples must be a positive whole number of samples, got {num_samples!r}; pass e.g. 16000.")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes). Download it again or delete it.")
    sizes = _wav_data_sizes(path)
    if sizes is not None and sizes[1] < sizes[0]:
        raise AudioError(
            f"{path}: the file is truncated: its WAV header declares {sizes[0]} bytes of audio but only "
            f"{sizes[1]} are there. Download or copy it again, or delete it."
        )
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError
        raise AudioError(
            f"{path}: cannot be read as audio ({exc}). The file may be corrupt or truncated: "
            "download it again or delete it."
        ) from exc
    if not MIN_SAMPLE_RATE <= file_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{path}: its header says {file_rate} Hz, outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz, so the "
            "file is corrupt or not a recording: re-export it at a standard rate (e.g. 16000 Hz) or delete it."
        )
    waveform = to_mono(torch.from_numpy(np.ascontiguousarray(data.T)))
    check_waveform(waveform, str(path))
    if sample_rate is not None:
        waveform = resample_waveform(waveform, int(file_rate), sample_rate)
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


def decode_wav_bytes(data: bytes, *, sample_rate: int, num_samples: int | None = None,
                     name: str = "the upload") -> torch.Tensor:
    """Audio file bytes (WAV, FLAC, OGG) to a float32 mono waveform at ``sample_rate``,
    centred and padded or cropped to ``num_samples`` when given (as :func:`load_audio` reads a file).

    Args:
        name (str, default "the upload"): what errors call the bytes (e.g. the uploaded file's name).

    Raises:
        AudioError: the bytes are not audio soundfile can read, or hold no samples.

    >>> buf = io.BytesIO(); sf.write(buf, np.zeros((400, 2), "float32"), 8000, format="WAV")
    >>> decode_wav_bytes(buf.getvalue(), sample_rate=16000, num_samples=1000).shape
    torch.Size([1000])
    >>> decode_wav_bytes(b"RIFF....", sample_rate=8000, name="hello.wav")
    Traceback (most recent call last):
    ...
    apac_lab.data.audio.AudioError: cannot read hello.wav as audio (Format not recognised.); upload a WAV, FLAC or OGG file
    """
    if not data:
        raise AudioError(f"{name} is empty (0 bytes): choose a WAV file")
    try:
        audio, rate = sf.read(io.BytesIO(bytes(data)), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile's own error types; its message names the buffer object, not the file
        reason = re.sub(r"^Error opening <[^>]*>: ", "", str(exc))
        reason = re.sub(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>", name, reason)
        raise AudioError(f"cannot read {name} as audio ({reason}); upload a WAV, FLAC or OGG file") from None
    wave = check_waveform(to_mono(torch.from_numpy(np.ascontiguousarray(audio.T))), name)
    try:
        rate = check_sample_rate(rate, f"{name}'s sample rate")
    except ValueError as exc:
        raise AudioError(str(exc)) from None
    if rate != sample_rate:
        wave = resample_waveform(wave, rate, int(sample_rate))
    if num_samples is not None:
        wave = fix_length(wave, num_samples, pad_mode="center")
    return wave.contiguous()
