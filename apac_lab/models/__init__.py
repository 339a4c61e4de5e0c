"""Models: APAC (the dual-pathway classifier), its blocks, its five front-end modes, the
MobileNetV2 / ResNet50 / VGG19 baselines, one registry to build any of them, the listener
autoencoder (notebook 03), and the MSTmodel that learns the log-mel transform with Piczak's
CNN and test-time voting (notebook 04).

Layer: above :mod:`apac_lab.frontends` and :mod:`apac_lab.data`; knows nothing of training
(the experiments that train these models are in :mod:`apac_lab.recipes`)."""

from apac_lab.models.apac import APAC, APAC_STAGES
from apac_lab.models.baselines import (
    IMAGENET_URLS, MobileNetV2, ResNet50, SpectrogramClassifier, VGG19, adapt_imagenet_state_dict,
    imagenet_weights_file, load_imagenet_weights,
)
from apac_lab.models.blocks import (
    CBAM, ChannelAttention, ConvNormAct, DepthwiseSeparableConv, InvertedResidual, SpatialAttention,
    SqueezeExcitation, make_divisible,
)
from apac_lab.models.ensemble import ProbabilityEnsemble
from apac_lab.models.frontend_modes import (
    MODES, TRAINABLE_MEL_STFT, APACFrontEnd, load_frontend_checkpoint, mel_to_mfcc, save_frontend_checkpoint,
)
from apac_lab.models.listener import LISTENER_ARCHITECTURES, LISTENER_INITS, EmbeddingClassifier, Listener
from apac_lab.models.lstm import LSTMLayer, keras_init_, lstm_sequence, make_lstm
from apac_lab.models.mst import MST_LAYERS, MSTmodel, mst_frame_centers, mst_num_frames, set_trainable
from apac_lab.models.mst_analysis import (
    band_errors, filter_responses, mean_predictor_mse, mel_band_centers, model_outputs, nearest_mel_bands, probe_errors,
    probe_signals, sort_filters_by_peak,
)
from apac_lab.models.mst_targets import (
    MST_DEFAULTS, TARGET_MELS, LogMelDB, MSTTarget, MSTTargetDataset, RangeNormalizer,
)
from apac_lab.models.piczak import (
    PICZAK_CONFIGS, PICZAK_LAYERS, PiczakCNN, build_piczak, finetune_from, paper_comparator,
)
from apac_lab.models.registry import TinyCNN, build_model, count_parameters, list_models, register_model
from apac_lab.models.strf_classifier import STRF_LAYER_KINDS, FreeSTRF, STRFClassifier
from apac_lab.models.voting import VOTING_METHODS, clip_accuracy, vote_majority, vote_probability
from apac_lab.utils import renamed

__all__ = [
    # APAC and its blocks
    "APAC", "APAC_STAGES", "CBAM", "ChannelAttention", "ConvNormAct", "DepthwiseSeparableConv", "InvertedResidual",
    "SpatialAttention", "SqueezeExcitation", "make_divisible",
    # front-end modes
    "MODES", "TRAINABLE_MEL_STFT", "APACFrontEnd", "load_frontend_checkpoint", "mel_to_mfcc",
    "save_frontend_checkpoint",
    # baselines
    "IMAGENET_URLS", "MobileNetV2", "ResNet50", "SpectrogramClassifier", "VGG19", "adapt_imagenet_state_dict",
    "imagenet_weights_file", "load_imagenet_weights",
    # registry; probability averaging of several models
    "ProbabilityEnsemble", "TinyCNN", "build_model", "count_parameters", "list_models", "register_model",
    # the listener (notebook 03)
    "EmbeddingClassifier", "Listener", "LISTENER_ARCHITECTURES", "LISTENER_INITS", "LSTMLayer", "keras_init_",
    "lstm_sequence", "make_lstm",
    # the MSTmodel, its targets and analysis; Piczak's CNN and voting (notebook 04)
    "MST_LAYERS", "MSTmodel", "mst_frame_centers", "mst_num_frames", "set_trainable",
    "MST_DEFAULTS", "TARGET_MELS", "LogMelDB", "MSTTarget", "MSTTargetDataset", "RangeNormalizer",
    "band_errors", "filter_responses", "mean_predictor_mse", "mel_band_centers", "model_outputs", "nearest_mel_bands",
    "probe_errors", "probe_signals", "sort_filters_by_peak",
    "PICZAK_CONFIGS", "PICZAK_LAYERS", "PiczakCNN", "build_piczak", "finetune_from", "paper_comparator",
    "VOTING_METHODS", "clip_accuracy", "vote_majority", "vote_probability",
]
__all__ += ["STRF_LAYER_KINDS", "FreeSTRF", "STRFClassifier"]  # notebook 02: STRF classifiers

# Names of the previous release that its notebooks use (04: predict, 05: TRAINABLE).
__getattr__ = renamed("apac_lab.models", {"predict": ("model_outputs", model_outputs),
                                          "TRAINABLE": ("TRAINABLE_MEL_STFT", TRAINABLE_MEL_STFT)})
