"""Front-ends: fixed torchaudio transforms, the MFCC steps from scratch, nnAudio's
trainable STFT and mel, and learnable Gabor STRFs."""

from apac_lab.frontends.fixed import MFCC, LogMel, MelSpectrogram, apac_defaults, safe_log
from apac_lab.frontends.nnaudio import NNAudioLogMel, NNAudioMel, NNAudioMFCC, NNAudioSpectrogram, nnaudio_features
from apac_lab.frontends.scratch import (
    dct,
    dct_matrix,
    fft_frequencies,
    frame_signal,
    frame_times,
    hz_to_mel,
    log_compress,
    mel_band_edges,
    mel_filterbank,
    mel_to_hz,
    mfcc_from_scratch,
    num_frames,
    power_spectrum,
)

__all__ = [
    "MFCC", "LogMel", "MelSpectrogram", "apac_defaults", "safe_log",
    "NNAudioLogMel", "NNAudioMel", "NNAudioMFCC", "NNAudioSpectrogram", "nnaudio_features",
    "dct", "dct_matrix", "fft_frequencies", "frame_signal", "frame_times", "hz_to_mel", "log_compress",
    "mel_band_edges", "mel_filterbank", "mel_to_hz", "mfcc_from_scratch", "num_frames", "power_spectrum",
]
