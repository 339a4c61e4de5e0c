"""apac_lab.data.resolve: root argument, then $APAC_LAB_DATA, then download, then a loud synthetic fallback."""

from __future__ import annotations

import contextlib
import dataclasses
import socket

import pytest

from _data_trees import make_fsdd_tar, make_speechcommands, serve_folder
from apac_lab.data import (
    DOWNLOADS, SPEECHCOMMANDS_CLASSES, DatasetNotFoundError, SplitError, SyntheticFallbackWarning, dataset_root,
    load_dataset, sha256sum,
)


@pytest.fixture()
def no_data(tmp_path, monkeypatch):
    """No data anywhere: $APAC_LAB_DATA and the cache point at empty folders; no proxies, no mirror."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "APAC_LAB_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    (tmp_path / "env").mkdir()
    monkeypatch.setenv("APAC_LAB_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("APAC_LAB_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture()
def fsdd_server(tmp_path, monkeypatch):
    """The FSDD entry of the download table points at a tiny archive served on 127.0.0.1."""
    folder = tmp_path / "served"
    folder.mkdir()
    archive = make_fsdd_tar(folder / "fsdd.tar.gz")
    with serve_folder(folder) as base:
        spec = dataclasses.replace(DOWNLOADS["fsdd"], url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive))
        monkeypatch.setitem(DOWNLOADS, "fsdd", spec)
        yield base


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing.tar.gz"


# --- 1. found data is used ---------------------------------------------------------------------

def test_root_argument_is_used(no_data, tiny_fsdd, capsys):
    ds = load_dataset("fsdd", "test", root=tiny_fsdd)
    assert ds.name == "fsdd/test" and ds.speakers == ["ann", "bob"]
    assert f"from {tiny_fsdd}" in capsys.readouterr().out


def test_apac_lab_data_is_used(no_data, tiny_fsdd, monkeypatch):
    monkeypatch.setenv("APAC_LAB_DATA", str(tiny_fsdd.parent))
    assert dataset_root("fsdd") == tiny_fsdd
    assert load_dataset("fsdd", "train", verbose=False).name == "fsdd/train"


def test_apac_lab_data_folder_aliases(no_data):
    make_speechcommands(no_data / "env" / "SpeechCommands")
    ds = load_dataset("speech_commands", "validation", verbose=False)
    assert ds.name == "speechcommands/validation" and len(ds) == 3


def test_real_fsdd_through_the_rule(real_fsdd_root, monkeypatch):
    monkeypatch.setenv("APAC_LAB_DATA", str(real_fsdd_root.parent))
    ds = load_dataset("fsdd", "test", verbose=False, sample_rate=16000)
    assert ds.name == "fsdd/test" and ds.sample_rate == 16000 and ds[0][0].shape == (16000,)


# --- 3. offline: a loud synthetic fallback -------------------------------------------------------

@pytest.mark.parametrize("name, n_classes, rate, length", [
    ("fsdd", 10, 8000, 8000), ("speechcommands", 35, 16000, 16000), ("esc50", 50, 44100, 5 * 44100),
])
def test_offline_falls_back_to_synthetic_with_a_notice(no_data, capsys, name, n_classes, rate, length):
    with pytest.warns(SyntheticFallbackWarning, match="SYNTHETIC"):
        ds = load_dataset(name, "test")
    out = capsys.readouterr().out
    assert "NOTICE" in out and "APAC_LAB_OFFLINE=1" in out and "APAC_LAB_DATA" in out
    assert ds.name.startswith(f"synthetic-{name}/") and len(ds.classes) == n_classes
    assert ds.sample_rate == rate and ds.num_samples == length and ds[0][0].shape == (length,)


def test_fallback_keeps_split_and_arguments(no_data):
    with pytest.warns(SyntheticFallbackWarning):
        sc = load_dataset("speechcommands", "validation", sample_rate=8000)
        esc = load_dataset("esc50", "train", sample_rate=16000, folds=[1, 2])
        fsdd = load_dataset("fsdd", "test", holdout_speakers=["george"])
    assert sc.classes == SPEECHCOMMANDS_CLASSES and sc.num_samples == 8000
    assert len(sc) == 35 * 4 * 1  # 35 words x 4 synthetic speakers x 1 validation take
    assert {c.fold for c in esc.clips} == {1, 2} and esc.num_samples == 80000
    assert fsdd.speakers == ["spk0"]  # a speaker-wise split stays speaker-wise
    with pytest.warns(SyntheticFallbackWarning), pytest.raises(SplitError, match="unknown split"):
        load_dataset("fsdd", "dev")  # impossible splits stay errors, synthetic or not


def test_download_false_also_falls_back_when_nothing_is_found(no_data, capsys, monkeypatch):
    monkeypatch.setenv("APAC_LAB_OFFLINE", "0")
    with pytest.warns(SyntheticFallbackWarning):
        load_dataset("fsdd", "test", download=False)
    assert "download=False" in capsys.readouterr().out


# --- 2. download, where allowed ------------------------------------------------------------------

def test_download_true_into_an_explicit_root(no_data, fsdd_server, tmp_path):
    root = tmp_path / "mine" / "fsdd"
    ds = load_dataset("fsdd", "test", root=root, download=True, verbose=False)
    assert ds.name == "fsdd/test" and ds.speakers == ["yan", "zoe"] and (root / "recordings").is_dir()


def test_download_true_into_an_explicit_empty_root(no_data, fsdd_server, tmp_path):
    (tmp_path / "empty").mkdir()
    assert load_dataset("fsdd", "all", root=tmp_path / "empty", download=True, verbose=False).name == "fsdd/all"


def test_online_downloads_into_the_cache_once(no_data, fsdd_server, monkeypatch):
    monkeypatch.setenv("APAC_LAB_OFFLINE", "0")
    ds = load_dataset("fsdd", "train", verbose=False)
    assert ds.name == "fsdd/train" and (no_data / "cache" / "fsdd" / "recordings").is_dir()
    monkeypatch.setitem(DOWNLOADS, "fsdd", dataclasses.replace(DOWNLOADS["fsdd"], url=_closed_port_url()))
    assert load_dataset("fsdd", "train", verbose=False).name == "fsdd/train"  # found in the cache


def test_failed_download_falls_back_and_says_why(no_data, monkeypatch, capsys):
    monkeypatch.setenv("APAC_LAB_OFFLINE", "0")
    monkeypatch.setitem(DOWNLOADS, "fsdd", dataclasses.replace(DOWNLOADS["fsdd"], url=_closed_port_url()))
    with pytest.warns(SyntheticFallbackWarning, match="the download failed"):
        ds = load_dataset("fsdd", "test")
    assert ds.name.startswith("synthetic") and "NOTICE" in capsys.readouterr().out
    assert dataset_root("fsdd") is None  # no empty cache folder left to be mistaken for data


def test_failed_download_into_an_explicit_root_is_an_error(no_data, monkeypatch, tmp_path):
    monkeypatch.setitem(DOWNLOADS, "fsdd", dataclasses.replace(DOWNLOADS["fsdd"], url=_closed_port_url()))
    with pytest.raises(OSError, match="downloading .* failed"):
        load_dataset("fsdd", "test", root=tmp_path / "x", download=True)


# --- errors on bad input -------------------------------------------------------------------------

def test_unknown_dataset_name():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'; choose one of \['esc50', 'fsdd', "):
        load_dataset("mnist")


def test_explicit_missing_root_says_how_to_get_the_data(no_data):
    with pytest.raises(DatasetNotFoundError, match=r"does not exist.*download_dataset\('fsdd'"):
        load_dataset("fsdd", root=no_data / "nowhere")
    with pytest.raises(DatasetNotFoundError, match=r"does not exist.*ESC-50"):
        load_dataset("esc50", root=no_data / "nowhere", download=False)


def test_explicit_empty_root(no_data):
    (no_data / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match="empty"):
        load_dataset("speechcommands", root=no_data / "empty")


def test_impossible_split_on_real_layout(no_data, tiny_fsdd):
    with pytest.raises(SplitError, match=r"cannot hold out speakers \['nobody'\]"):
        load_dataset("fsdd", "test", root=tiny_fsdd, holdout_speakers=["nobody"])


# --- issue 14: wrong types are not read as something else ----------------------------------------

def test_holdout_speakers_as_a_string_is_one_speaker_in_the_fallback_too(no_data, capsys):
    with pytest.warns(SyntheticFallbackWarning):
        fsdd = load_dataset("fsdd", "test", holdout_speakers="george")
    assert fsdd.speakers == ["spk0"]  # one speaker held out, not the letters e, g, o, r
    assert "in place of ['george']" in capsys.readouterr().out


def test_holdout_speakers_as_a_string_through_the_rule(real_fsdd_root):
    ds = load_dataset("fsdd", "test", root=real_fsdd_root, holdout_speakers="george", verbose=False)
    assert ds.speakers == ["george"]


@pytest.mark.parametrize("name", ["fsdd", "speechcommands", "esc50", "synthetic"])
@pytest.mark.parametrize("kwargs, message", [
    ({"sample_rate": 0}, r"sample_rate must be a whole number of Hz from 1000 to 384000, got 0"),
    ({"num_samples": 0}, r"num_samples must be a positive whole number of samples, got 0"),
])
def test_sample_rate_0_and_num_samples_0_are_refused_in_the_fallback_too(no_data, name, kwargs, message):
    notice = pytest.warns(SyntheticFallbackWarning) if name != "synthetic" else contextlib.nullcontext()
    with notice, pytest.raises(ValueError, match=message):
        load_dataset(name, "test", verbose=False, **kwargs)
