"""apac_lab.data.fsdd: the public layout, the official and speaker-wise splits, clear errors."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf
import torch

from _data_trees import tone
from apac_lab.data import DatasetNotFoundError, SplitError, find_fsdd_recordings, fsdd_clips, load_fsdd
from apac_lab.data.fsdd import FSDD_CLASSES


# --- the tiny tree (speakers ann and bob, indices 0..6) ---------------------------------------

def test_official_split_puts_indices_0_to_4_in_test(tiny_fsdd):
    test, train = load_fsdd(tiny_fsdd, split="test"), load_fsdd(tiny_fsdd, split="train")
    assert {c.extra["index"] for c in test.clips} == {0, 1, 2, 3, 4}
    assert {c.extra["index"] for c in train.clips} == {5, 6}
    assert len(test) + len(train) == len(load_fsdd(tiny_fsdd, split="all")) == 3 * 2 * 7
    assert test.classes == FSDD_CLASSES and sorted(set(test.labels)) == [0, 1, 2]


def test_speakers_are_read_from_the_files(tiny_fsdd):
    assert load_fsdd(tiny_fsdd, split="all").speakers == ["ann", "bob"]


def test_speaker_split_holds_out_the_named_speakers(tiny_fsdd):
    test = load_fsdd(tiny_fsdd, split="test", holdout_speakers=["bob"])
    train = load_fsdd(tiny_fsdd, split="train", holdout_speakers=["bob"])
    assert test.speakers == ["bob"] and train.speakers == ["ann"]
    assert len(test) == len(train) == 21


def test_items_are_float32_at_the_requested_rate_and_length(tiny_fsdd):
    ds = load_fsdd(tiny_fsdd, split="test", sample_rate=16000, num_samples=12000)
    wave, label = ds[0]
    assert wave.dtype == torch.float32 and wave.shape == (12000,) and label == 0
    assert load_fsdd(tiny_fsdd, split="test")[0][0].shape == (8000,)  # default: 1 s at 8 kHz


def test_root_may_be_the_recordings_folder_or_the_release_folder(tiny_fsdd, tmp_path):
    assert find_fsdd_recordings(tiny_fsdd / "recordings") == tiny_fsdd / "recordings"
    release = tmp_path / "rel" / "free-spoken-digit-dataset-1.0.9"
    shutil.copytree(tiny_fsdd, release)
    assert find_fsdd_recordings(tmp_path / "rel") == release / "recordings"


# --- the real recordings ------------------------------------------------------------------

def test_real_fsdd_official_split(real_fsdd_root):
    clips = fsdd_clips(real_fsdd_root)
    speakers = sorted({c.speaker for c in clips})
    assert len(speakers) >= 2  # whatever the copy holds: never a fixed list
    test = load_fsdd(real_fsdd_root, split="test")
    train = load_fsdd(real_fsdd_root, split="train")
    assert len(test) + len(train) == len(clips)
    assert all(c.extra["index"] <= 4 for c in test.clips) and all(c.extra["index"] >= 5 for c in train.clips)
    assert len(test) == 10 * 5 * len(speakers)  # 5 takes per digit and speaker
    wave, label = test[0]
    assert wave.shape == (8000,) and wave.abs().max() > 0.01 and label == test.clips[0].label


def test_real_fsdd_speaker_split(real_fsdd_root):
    speakers = load_fsdd(real_fsdd_root, split="all").speakers
    held = speakers[-1]
    test = load_fsdd(real_fsdd_root, split="test", holdout_speakers=[held])
    train = load_fsdd(real_fsdd_root, split="train", holdout_speakers=[held])
    assert test.speakers == [held] and held not in train.speakers
    assert set(train.speakers) | {held} == set(speakers)


# --- errors on bad input ------------------------------------------------------------------

def test_missing_root_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"does not exist.*download_dataset\('fsdd'"):
        load_fsdd(tmp_path / "nowhere")


def test_empty_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no .wav recordings found.*empty"):
        load_fsdd(tmp_path)


def test_unknown_split(tiny_fsdd):
    with pytest.raises(SplitError, match="unknown split 'valid'"):
        load_fsdd(tiny_fsdd, split="valid")


def test_unknown_holdout_speaker_lists_the_real_ones(tiny_fsdd):
    with pytest.raises(SplitError, match=r"\['jackson'\].*\['ann', 'bob'\]"):
        load_fsdd(tiny_fsdd, split="test", holdout_speakers=["jackson"])
    with pytest.raises(SplitError, match="cannot hold out"):
        load_fsdd(tiny_fsdd, split="test", holdout_speakers=[])


def test_holding_out_everyone_leaves_no_training_data(tiny_fsdd):
    with pytest.raises(SplitError, match="no training data"):
        load_fsdd(tiny_fsdd, split="train", holdout_speakers=["ann", "bob"])


def test_empty_split(tmp_path):
    rec = tmp_path / "recordings"
    rec.mkdir()
    sf.write(rec / "3_kim_7.wav", tone(300, 0.1, 8000), 8000)  # index 7 only: no test clip
    with pytest.raises(SplitError, match="'test' split .* is empty"):
        load_fsdd(tmp_path, split="test")


def test_misnamed_wav_is_an_error_not_skipped(tiny_fsdd):
    sf.write(tiny_fsdd / "recordings" / "hello.wav", tone(300, 0.1, 8000), 8000)
    with pytest.raises(ValueError, match=r"hello\.wav does not follow"):
        load_fsdd(tiny_fsdd)


# --- issue 14: upper-case extensions, one speaker as a string, 0 is not "default" --------------------

def test_upper_case_wav_extension_is_loaded_not_skipped(tiny_fsdd):
    rec = tiny_fsdd / "recordings"
    (rec / "0_ann_0.wav").rename(rec / "0_ann_0.WAV")
    (rec / "1_bob_6.wav").rename(rec / "1_bob_6.Wav")
    clips = fsdd_clips(tiny_fsdd)
    assert len(clips) == 3 * 2 * 7
    assert {c.path.name for c in clips} >= {"0_ann_0.WAV", "1_bob_6.Wav"}
    test = load_fsdd(tiny_fsdd, split="test")
    assert "0_ann_0.WAV" in {c.path.name for c in test.clips} and test[0][0].shape == (8000,)


def test_folder_of_only_upper_case_wavs_is_found(tmp_path):
    rec = tmp_path / "recordings"
    rec.mkdir()
    sf.write(rec / "5_kim_9.WAV", tone(300, 0.1, 8000), 8000)
    assert find_fsdd_recordings(tmp_path) == rec
    assert [c.path.name for c in fsdd_clips(tmp_path)] == ["5_kim_9.WAV"]


def test_the_same_recording_twice_is_an_error(tiny_fsdd):
    rec = tiny_fsdd / "recordings"
    shutil.copy(rec / "2_ann_3.wav", rec / "2_ann_03.wav")  # index 3 again
    with pytest.raises(ValueError, match=r"2_ann_3\.wav and 2_ann_03\.wav are the same recording .*delete one"):
        fsdd_clips(tiny_fsdd)


def test_holdout_speakers_as_a_string_is_one_speaker(tiny_fsdd):
    test = load_fsdd(tiny_fsdd, split="test", holdout_speakers="bob")
    assert test.speakers == ["bob"] and len(test) == 3 * 7
    assert load_fsdd(tiny_fsdd, split="train", holdout_speakers="bob").speakers == ["ann"]


def test_holdout_speakers_george_as_a_string_on_real_fsdd(real_fsdd_root):
    test = load_fsdd(real_fsdd_root, split="test", holdout_speakers="george")
    assert test.speakers == ["george"] and len(test) == 500


@pytest.mark.parametrize("kwargs, message", [
    ({"sample_rate": 0}, r"FSDD: sample_rate must be a whole number of Hz from 1000 to 384000, got 0"),
    ({"num_samples": 0}, r"FSDD: num_samples must be a positive whole number of samples, got 0"),
    ({"sample_rate": -8000}, r"got -8000"),
])
def test_sample_rate_0_and_num_samples_0_are_refused_not_defaulted(tiny_fsdd, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_fsdd(tiny_fsdd, **kwargs)
