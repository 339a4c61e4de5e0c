"""Baselines: the standard architectures (exact torchvision sizes and names), one-channel input,
ImageNet weight adaptation on state dicts made here (nothing is downloaded)."""

from __future__ import annotations

import pytest
import torch

from apac_lab.models import (
    MobileNetV2, ResNet50, VGG19, adapt_imagenet_state_dict, build_model, count_parameters, load_imagenet_weights,
)

# torchvision's published parameter counts (3 input channels, 1000 classes).
TV_COUNTS = {"mobilenet_v2": 3_504_872, "resnet50": 25_557_032, "vgg19": 143_667_240, "vgg19_bn": 143_678_248}


def _one_channel(count, first_conv_out, k, feat, n_classes):
    """torchvision's count with the first conv on 1 channel and ``n_classes`` outputs."""
    return count - first_conv_out * 2 * k * k - (feat + 1) * (1000 - n_classes)


def test_mobilenetv2_size_names_and_shape():
    m = MobileNetV2(10).eval()
    assert count_parameters(m) == _one_channel(TV_COUNTS["mobilenet_v2"], 32, 3, 1280, 10)
    keys = m.state_dict().keys()
    for k in ("features.0.0.weight", "features.1.conv.0.0.weight", "features.2.conv.3.running_var",
              "features.18.1.weight", "classifier.1.weight"):
        assert k in keys
    assert m(torch.randn(2, 1, 128, 32)).shape == (2, 10)


def test_resnet50_size_names_and_one_forward():
    m = ResNet50(10).eval()
    assert count_parameters(m) == _one_channel(TV_COUNTS["resnet50"], 64, 7, 2048, 10)
    keys = m.state_dict().keys()
    for k in ("conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight", "layer4.2.bn3.weight", "fc.bias"):
        assert k in keys
    assert m.layer2[0].conv2.stride == (2, 2)  # torchvision v1.5: stride on the 3x3 conv
    assert m(torch.randn(1, 1, 32, 16)).shape == (1, 10)


@pytest.mark.parametrize("batch_norm, tv, last_conv", [(True, "vgg19_bn", "features.49.weight"),
                                                       (False, "vgg19", "features.34.weight")])
def test_vgg19_size_names_and_one_forward(batch_norm, tv, last_conv):
    with torch.device("cpu" if batch_norm else "meta"):  # meta: sizes without the 2 s of initialisation
        m = VGG19(10, batch_norm=batch_norm).eval()
    assert count_parameters(m) == _one_channel(TV_COUNTS[tv], 64, 3, 4096, 10)
    sd = m.state_dict()
    assert sd[last_conv].shape == (512, 512, 3, 3) and sd["classifier.6.weight"].shape == (10, 4096)
    if batch_norm:
        assert m(torch.randn(1, 1, 16, 8)).shape == (1, 10)  # smaller than 32 x 32: padded


def test_adaptation_sums_rgb_and_drops_the_imagenet_head(tmp_path):
    torch.manual_seed(0)
    rgb = MobileNetV2(1000, in_channels=3)
    with torch.no_grad():
        for p in rgb.parameters():
            p.add_(0.1 * torch.randn_like(p))
    sd = rgb.state_dict()
    mono = MobileNetV2(10)
    adapted, dropped = adapt_imagenet_state_dict(sd, mono)
    assert dropped == ["classifier.1.bias", "classifier.1.weight"]
    assert torch.allclose(adapted["features.0.0.weight"], sd["features.0.0.weight"].sum(1, keepdim=True))
    assert torch.equal(adapted["features.5.conv.1.0.weight"], sd["features.5.conv.1.0.weight"])
    # Through a file, the way a downloaded torchvision file is read.
    torch.save(sd, tmp_path / "mobilenet_v2.pth")
    report = load_imagenet_weights(mono, tmp_path / "mobilenet_v2.pth", "mobilenetv2")
    assert report["missing"] == ["classifier.1.bias", "classifier.1.weight"]
    # Summing RGB weights = feeding the grey image on R, G and B: same features.
    rgb.eval(), mono.eval()
    x = torch.randn(2, 1, 64, 32)
    assert torch.allclose(mono.features(x), rgb.features(x.expand(-1, 3, -1, -1)), atol=1e-4)


def test_registry_pretrained_from_a_local_file(tmp_path):
    torch.manual_seed(1)
    sd = MobileNetV2(1000, in_channels=3).state_dict()
    torch.save(sd, tmp_path / "w.pth")
    model = build_model("mobilenetv2", n_classes=5, sample_rate=8000, pretrained=tmp_path / "w.pth")
    assert torch.allclose(model.backbone.features[0][0].weight, sd["features.0.0.weight"].sum(1, keepdim=True))
    assert model.backbone.classifier[1].weight.shape == (5, 1280)


def test_resnet_first_conv_adaptation_on_a_partial_state_dict():
    w = torch.randn(64, 3, 7, 7)
    adapted, dropped = adapt_imagenet_state_dict({"conv1.weight": w, "not.a.key": torch.zeros(1)}, ResNet50(10))
    assert torch.allclose(adapted["conv1.weight"], w.sum(1, keepdim=True)) and dropped == ["not.a.key"]


def test_pretrained_errors_without_downloading(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *a, **k: pytest.fail("tried to download"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(RuntimeError, match="downloads are off"):
        load_imagenet_weights(MobileNetV2(3), True, "mobilenetv2")
    with pytest.raises(FileNotFoundError):
        load_imagenet_weights(MobileNetV2(3), tmp_path / "missing.pth", "mobilenetv2")
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, tmp_path / "resnet.pth")
    with pytest.raises(ValueError, match=r"fits only 0 of .* is this mobilenetv2's file \(mobilenet_v2-b0353104.pth\)"):
        load_imagenet_weights(MobileNetV2(3), tmp_path / "resnet.pth", "mobilenetv2")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pth is not a torchvision weights file that torch.load can read"):
        load_imagenet_weights(MobileNetV2(3), tmp_path / "junk.pth", "mobilenetv2")
    torch.save([torch.zeros(3)], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="list.pth does not hold a state dict"):
        load_imagenet_weights(MobileNetV2(3), tmp_path / "list.pth", "mobilenetv2")
    with pytest.raises(ValueError, match="no ImageNet weights for 'apac'"):
        load_imagenet_weights(MobileNetV2(3), True, "apac")


def test_the_cached_weights_file_is_used_and_nothing_downloaded(tmp_path, monkeypatch):
    from apac_lab.models import IMAGENET_URLS, imagenet_weights_file

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("tried to download"))
    cached = tmp_path / "hub" / "checkpoints" / IMAGENET_URLS["mobilenetv2"].rsplit("/", 1)[-1]
    cached.parent.mkdir(parents=True)
    torch.manual_seed(2)
    sd = MobileNetV2(1000, in_channels=3).state_dict()
    torch.save(sd, cached)
    assert imagenet_weights_file("mobilenetv2", download=False) == cached
    mono = MobileNetV2(4)
    load_imagenet_weights(mono, True, "mobilenetv2")
    assert torch.equal(mono.state_dict()["features.3.conv.1.0.weight"], sd["features.3.conv.1.0.weight"])
    monkeypatch.delenv("APAC_LAB_OFFLINE", raising=False)
    with pytest.raises(RuntimeError, match="not cached .* and download=False"):
        imagenet_weights_file("resnet50", download=False)


@pytest.mark.parametrize("cls", [MobileNetV2, ResNet50])
def test_bad_settings(cls):
    with pytest.raises(ValueError, match="n_classes must be >= 2"):
        cls(1)
    with pytest.raises(ValueError, match="in_channels must be >= 1"):
        cls(3, in_channels=0)
