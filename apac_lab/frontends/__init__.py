"""Front-ends: fixed torchaudio transforms, the MFCC steps from scratch, nnAudio's
trainable STFT and mel, learnable Gabor STRFs, gammatone spectra, and echoic-memory buffers."""

from apac_lab.frontends.buffers import (DilatedBuffer, MemoryReport, RingBuffer, dilate, dilated_memory,
                                        dilated_spans)
from apac_lab.frontends.echoic import EchoicFrontend, power_to_unit
from apac_lab.frontends.fixed import MFCC, LogMel, MelSpectrogram, apac_defaults, safe_log
from apac_lab.frontends.gammatone import (Gammatonegram, LogGammatonegram, echoic_defaults, erb, erb_rate_to_hz,
                                          erb_space, gammatone_filterbank, hz_to_erb_rate)
from apac_lab.frontends.streaming import EchoicStream, StreamStep, stream_snapshots

__all__ = [
    "MFCC", "LogMel", "MelSpectrogram", "apac_defaults", "safe_log",
    "DilatedBuffer", "MemoryReport", "RingBuffer", "dilate", "dilated_memory", "dilated_spans",
    "Gammatonegram", "LogGammatonegram", "echoic_defaults", "erb", "erb_rate_to_hz", "erb_space",
    "gammatone_filterbank", "hz_to_erb_rate",
    "EchoicFrontend", "power_to_unit", "EchoicStream", "StreamStep", "stream_snapshots",
]
