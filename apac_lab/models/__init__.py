"""Models: APAC (the dual-pathway classifier), its blocks, its five front-end modes, the
MobileNetV2 / ResNet50 / VGG19 baselines, and one registry to build any of them."""

from apac_lab.models.apac import APAC, APAC_STAGES
from apac_lab.models.baselines import (
    IMAGENET_URLS, MobileNetV2, ResNet50, SpectrogramClassifier, VGG19, adapt_imagenet_state_dict,
    load_imagenet_weights,
)
from apac_lab.models.blocks import (
    CBAM, ChannelAttention, ConvNormAct, DepthwiseSeparableConv, InvertedResidual, SpatialAttention,
    SqueezeExcitation, make_divisible,
)
from apac_lab.models.frontend_modes import (
    MODES, TRAINABLE, APACFrontEnd, build_frontend, load_frontend_checkpoint, mel_to_mfcc, save_frontend_checkpoint,
)
from apac_lab.models.pretrain import pretrain_fsdd_frontend
from apac_lab.models.registry import TinyCNN, build_model, count_parameters, list_models, register_model

__all__ = [
    # APAC and its blocks
    "APAC", "APAC_STAGES", "CBAM", "ChannelAttention", "ConvNormAct", "DepthwiseSeparableConv", "InvertedResidual",
    "SpatialAttention", "SqueezeExcitation", "make_divisible",
    # front-end modes
    "MODES", "TRAINABLE", "APACFrontEnd", "build_frontend", "load_frontend_checkpoint", "mel_to_mfcc",
    "save_frontend_checkpoint", "pretrain_fsdd_frontend",
    # baselines
    "IMAGENET_URLS", "MobileNetV2", "ResNet50", "SpectrogramClassifier", "VGG19", "adapt_imagenet_state_dict",
    "load_imagenet_weights",
    # registry
    "TinyCNN", "build_model", "count_parameters", "list_models", "register_model",
]
