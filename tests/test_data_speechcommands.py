"""apac_lab.data.speechcommands: the v2 layout, the official lists, clear errors (tiny generated tree)."""

from __future__ import annotations

import pytest
import soundfile as sf
import torch

from _data_trees import SC_SPEAKERS, SC_WORDS, make_speechcommands, make_speechcommands_tree
from apac_lab.data import (
    SPEECHCOMMANDS_CLASSES, DatasetNotFoundError, SplitError, background_noise_files, load_background_noise,
    load_speechcommands, speechcommands_clips, speechcommands_synthetic,
)


@pytest.fixture()
def tiny_sc(tmp_path):
    return make_speechcommands(tmp_path / "sc")


def test_the_35_classes_are_reported_even_with_few_folders(tiny_sc):
    ds = load_speechcommands(tiny_sc, split="all")
    assert len(SPEECHCOMMANDS_CLASSES) == 35 and ds.classes == SPEECHCOMMANDS_CLASSES
    assert "_background_noise_" not in ds.classes and "silence" not in ds.classes
    assert {ds.classes[i] for i in ds.labels} == set(SC_WORDS)


def test_official_lists_make_the_splits(tiny_sc):
    train = load_speechcommands(tiny_sc, split="train")
    val = load_speechcommands(tiny_sc, split="validation")
    test = load_speechcommands(tiny_sc, split="test")
    assert (len(train), len(val), len(test)) == (9, 3, 6)
    assert test.speakers == [SC_SPEAKERS[2]]
    assert val.speakers == [SC_SPEAKERS[1]] and all(c.extra["utterance"] == 0 for c in val.clips)
    names = lambda ds: {(c.path.parent.name, c.path.name) for c in ds.clips}  # noqa: E731
    assert not names(train) & names(val) and not names(train) & names(test)


def test_speaker_is_the_prefix_before_nohash(tiny_sc):
    assert load_speechcommands(tiny_sc, split="all").speakers == sorted(SC_SPEAKERS)


def test_items_are_1s_at_16khz(tiny_sc):
    ds = load_speechcommands(tiny_sc, split="test")
    wave, label = ds[0]
    assert wave.dtype == torch.float32 and wave.shape == (16000,)
    assert ds.classes[label] == ds.clips[0].path.parent.name
    assert load_speechcommands(tiny_sc, split="test", sample_rate=8000)[0][0].shape == (8000,)


def test_a_subset_of_words_is_relabelled_in_the_given_order(tiny_sc):
    ds = load_speechcommands(tiny_sc, split="all", classes=["up", "yes"])
    assert ds.classes == ["up", "yes"] and sorted(set(ds.labels)) == [0, 1] and len(ds) == 12


def test_background_noise_is_exposed_but_not_a_class(tiny_sc):
    assert [p.name for p in background_noise_files(tiny_sc)] == ["white_noise.wav"]
    noise = load_background_noise(tiny_sc)
    assert noise["white_noise"].shape == (16000,)


def test_torchaudio_layout_is_found(tmp_path):
    make_speechcommands(tmp_path / "SpeechCommands" / "speech_commands_v0.02")
    assert len(load_speechcommands(tmp_path, split="test")) == 6


def test_synthetic_stand_in_has_the_35_classes_and_three_splits():
    for split in ("train", "validation", "test"):
        ds = speechcommands_synthetic(split)
        assert ds.classes == SPEECHCOMMANDS_CLASSES and ds.sample_rate == 16000 and ds.num_samples == 16000
    assert ds[0][0].shape == (16000,)


# --- errors on bad input ------------------------------------------------------------------

def test_missing_root_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"does not exist.*download_dataset\('speechcommands'"):
        load_speechcommands(tmp_path / "nowhere")


def test_empty_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no Speech Commands data.*empty"):
        load_speechcommands(tmp_path)


def test_missing_split_list(tiny_sc):
    (tiny_sc / "testing_list.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"testing_list\.txt is missing"):
        load_speechcommands(tiny_sc)


def test_word_folders_without_lists(tiny_sc):
    (tiny_sc / "testing_list.txt").unlink()
    (tiny_sc / "validation_list.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="not the official split lists"):
        load_speechcommands(tiny_sc)


def test_list_entry_naming_a_missing_file_is_an_error_naming_it(tiny_sc):
    (tiny_sc / "yes" / f"{SC_SPEAKERS[2]}_nohash_1.wav").unlink()
    with pytest.raises(DatasetNotFoundError, match=rf"testing_list\.txt, line \d+ names .*yes/{SC_SPEAKERS[2]}_nohash_1\.wav"):
        load_speechcommands(tiny_sc)


def test_missing_class_folder_is_fine(tiny_sc):
    for f in (tiny_sc / "up").iterdir():
        f.unlink()
    (tiny_sc / "up").rmdir()
    for name in ("validation_list.txt", "testing_list.txt"):
        lines = [ln for ln in (tiny_sc / name).read_text().splitlines() if not ln.startswith("up/")]
        (tiny_sc / name).write_text("\n".join(lines) + "\n")
    ds = load_speechcommands(tiny_sc, split="all")
    assert len(ds.classes) == 35 and len(ds) == 12


def test_list_entry_outside_the_35_words(tiny_sc):
    with open(tiny_sc / "validation_list.txt", "a") as f:
        f.write("_background_noise_/white_noise.wav\n")
    with pytest.raises(ValueError, match="not one of the 35 words"):
        load_speechcommands(tiny_sc)


def test_unknown_split(tiny_sc):
    with pytest.raises(SplitError, match="unknown split 'dev'"):
        load_speechcommands(tiny_sc, split="dev")


def test_empty_split(tiny_sc):
    (tiny_sc / "validation_list.txt").write_text("")
    with pytest.raises(SplitError, match="'validation' split .* is empty"):
        load_speechcommands(tiny_sc, split="validation")


def test_unknown_word(tiny_sc):
    with pytest.raises(ValueError, match="distinct words of the 35"):
        load_speechcommands(tiny_sc, classes=["yes", "maybe"])


def test_misnamed_file_is_an_error(tiny_sc):
    (tiny_sc / "yes" / "hello.wav").write_bytes((tiny_sc / "yes" / f"{SC_SPEAKERS[0]}_nohash_0.wav").read_bytes())
    with pytest.raises(ValueError, match=r"hello\.wav does not follow"):
        load_speechcommands(tiny_sc)


# --- issue 14: upper-case extensions, 0 is not "default" -------------------------------------------

def test_upper_case_wav_extension_is_loaded_not_skipped(tiny_sc):
    for rel in ("yes/0a1b2c3d_nohash_0.wav", "no/8c9d0e1f_nohash_1.wav", "_background_noise_/white_noise.wav"):
        (tiny_sc / rel).rename(tiny_sc / rel.replace(".wav", ".WAV"))
    parts = speechcommands_clips(tiny_sc, ["yes", "no", "up"])
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [9, 3, 6]  # as with .wav
    assert "0a1b2c3d_nohash_0.WAV" in {c.path.name for c in parts["train"]}
    assert "8c9d0e1f_nohash_1.WAV" in {c.path.name for c in parts["test"]}  # listed as .wav in testing_list.txt
    assert [p.name for p in background_noise_files(tiny_sc)] == ["white_noise.WAV"]


@pytest.mark.parametrize("kwargs, message", [
    ({"sample_rate": 0}, r"Speech Commands: sample_rate must be a whole number of Hz from 1000 to 384000, got 0"),
    ({"num_samples": 0}, r"Speech Commands: num_samples must be a positive whole number of samples, got 0"),
])
def test_sample_rate_0_and_num_samples_0_are_refused_not_defaulted(tiny_sc, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_speechcommands(tiny_sc, **kwargs)
    with pytest.raises(ValueError, match=message.replace("Speech Commands", "synthetic-speechcommands")):
        speechcommands_synthetic(**kwargs)


def test_generated_tree_follows_the_release_layout(tmp_path):
    tree = make_speechcommands_tree(tmp_path / "sc", sizes={"train": 40, "validation": 9, "test": 11},
                                    seconds=0.25, corrupt_fraction=0.1)
    parts = speechcommands_clips(tmp_path / "sc", ["yes", "no", "up"])
    assert {s: len(parts[s]) for s in ("train", "validation", "test")} == {"train": 40, "validation": 9, "test": 11}
    speakers = {s: {c.speaker for c in parts[s]} for s in parts}
    assert not speakers["train"] & speakers["test"] and not speakers["train"] & speakers["validation"]
    assert len(tree["corrupt"]) == 4 + 1 + 1
    good = next(c for c in parts["train"] if f"{c.path.parent.name}/{c.path.name}" not in tree["corrupt"])
    assert sf.info(str(good.path)).samplerate == 16000 and sf.info(str(good.path)).frames == 4000
