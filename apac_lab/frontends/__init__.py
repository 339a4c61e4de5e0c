"""Front-ends: fixed torchaudio transforms, the MFCC steps from scratch, nnAudio's
trainable STFT and mel, learnable Gabor STRFs, gammatone spectra, and echoic-memory buffers.

Written once and used everywhere: :func:`power_to_db` (dB with a per-clip floor),
:func:`frontend_settings` (the defaults n_fft, hop and f_max from the sample rate) and the
HTK mel scale (:func:`hz_to_mel`, :func:`mel_band_edges`)."""

from apac_lab.frontends.buffers import (RULES, DilatedBuffer, MemoryReport, RingBuffer, dilate, dilated_memory,
                                        dilated_spans, view_lags)
from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.deltas import DELTA_METHODS, WithDeltas, spectral_deltas
from apac_lab.frontends.echoic import EchoicFrontend, power_to_unit
from apac_lab.frontends.fftconv import conv2d_same, next_fast_len
from apac_lab.frontends.fixed import MFCC, LogMel, MelSpectrogram, apac_defaults, frontend_settings, safe_log
from apac_lab.frontends.gabor import GaborSTRF, gabor_kernels, paper_init
from apac_lab.frontends.gammatone import (Gammatonegram, LogGammatonegram, echoic_defaults, erb, erb_rate_to_hz,
                                          erb_space, gammatone_filterbank, hz_to_erb_rate)
from apac_lab.frontends.modulation import (
    bands_per_octave, gabor_modulation_position, modulation_axes, modulation_spectrum,
)
from apac_lab.frontends.nnaudio import NNAudioLogMel, NNAudioMel, NNAudioMFCC, NNAudioSpectrogram, nnaudio_features
from apac_lab.frontends.scratch import (
    HTK_MEL_BREAK_HZ,
    HTK_MEL_SCALE,
    MEL_SCALES,
    dct,
    dct_matrix,
    fft_frequencies,
    frame_signal,
    frame_times,
    hz_to_mel,
    log_compress,
    mel_band_edges,
    mel_filterbank,
    mel_per_octave,
    mel_to_hz,
    mfcc_from_scratch,
    num_frames,
    power_spectrum,
    slaney_hz_to_mel,
    slaney_mel_to_hz,
)
from apac_lab.frontends.streaming import EchoicStream, StreamStep, stream_snapshots

__all__ = [
    "MFCC", "LogMel", "MelSpectrogram", "apac_defaults", "frontend_settings", "power_to_db", "safe_log",
    "DELTA_METHODS", "WithDeltas", "spectral_deltas",
    "NNAudioLogMel", "NNAudioMel", "NNAudioMFCC", "NNAudioSpectrogram", "nnaudio_features",
    "dct", "dct_matrix", "fft_frequencies", "frame_signal", "frame_times", "hz_to_mel", "log_compress",
    "HTK_MEL_BREAK_HZ", "HTK_MEL_SCALE", "MEL_SCALES", "slaney_hz_to_mel", "slaney_mel_to_hz", "mel_band_edges", "mel_filterbank", "mel_per_octave", "mel_to_hz",
    "mfcc_from_scratch", "num_frames", "power_spectrum",
    "DilatedBuffer", "MemoryReport", "RingBuffer", "RULES", "dilate", "dilated_memory", "dilated_spans", "view_lags",
    "Gammatonegram", "LogGammatonegram", "echoic_defaults", "erb", "erb_rate_to_hz", "erb_space",
    "gammatone_filterbank", "hz_to_erb_rate",
    "EchoicFrontend", "power_to_unit", "EchoicStream", "StreamStep", "stream_snapshots",
]
__all__ += ["conv2d_same", "next_fast_len", "GaborSTRF", "gabor_kernels", "paper_init"]
__all__ += ["bands_per_octave", "gabor_modulation_position", "modulation_axes", "modulation_spectrum"]
