"""Front-ends: fixed torchaudio transforms, the MFCC steps from scratch, nnAudio's
trainable STFT and mel, learnable Gabor STRFs, gammatone spectra, and echoic-memory buffers."""

from apac_lab.frontends.buffers import (DilatedBuffer, MemoryReport, RingBuffer, dilate, dilated_memory,
                                        dilated_spans)
from apac_lab.frontends.echoic import EchoicFrontend, power_to_unit
from apac_lab.frontends.fixed import MFCC, LogMel, MelSpectrogram, apac_defaults, safe_log
from apac_lab.frontends.gammatone import (Gammatonegram, LogGammatonegram, echoic_defaults, erb, erb_rate_to_hz,
                                          erb_space, gammatone_filterbank, hz_to_erb_rate)
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
from apac_lab.frontends.streaming import EchoicStream, StreamStep, stream_snapshots

__all__ = [
    "MFCC", "LogMel", "MelSpectrogram", "apac_defaults", "safe_log",
    "NNAudioLogMel", "NNAudioMel", "NNAudioMFCC", "NNAudioSpectrogram", "nnaudio_features",
    "dct", "dct_matrix", "fft_frequencies", "frame_signal", "frame_times", "hz_to_mel", "log_compress",
    "mel_band_edges", "mel_filterbank", "mel_to_hz", "mfcc_from_scratch", "num_frames", "power_spectrum",
    "DilatedBuffer", "MemoryReport", "RingBuffer", "dilate", "dilated_memory", "dilated_spans",
    "Gammatonegram", "LogGammatonegram", "echoic_defaults", "erb", "erb_rate_to_hz", "erb_space",
    "gammatone_filterbank", "hz_to_erb_rate",
    "EchoicFrontend", "power_to_unit", "EchoicStream", "StreamStep", "stream_snapshots",
]
