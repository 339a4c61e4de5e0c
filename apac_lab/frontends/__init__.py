"""Front-ends: fixed torchaudio transforms, the MFCC steps from scratch, nnAudio's
trainable STFT and mel, and learnable Gabor STRFs."""

from apac_lab.frontends.fixed import MFCC, LogMel, MelSpectrogram, apac_defaults, safe_log

__all__ = ["MFCC", "LogMel", "MelSpectrogram", "apac_defaults", "safe_log"]
