"""apac_lab.data.esc50: meta/esc50.csv, folds, 5 s clips at 44.1 kHz, clear errors (tiny generated tree)."""

from __future__ import annotations

import pytest
import torch

from _data_trees import make_esc50
from apac_lab.data import ESC50_CLASSES, DatasetNotFoundError, SplitError, esc50_synthetic, load_esc50


@pytest.fixture()
def tiny_esc(tmp_path):
    return make_esc50(tmp_path / "esc50")


def test_classes_are_ordered_by_target(tiny_esc):
    ds = load_esc50(tiny_esc, split="all")
    assert len(ds.classes) == 50 and ds.classes == ESC50_CLASSES
    assert ds.classes[0] == "dog" and ds.classes[3] == "cow" and ds.classes[49] == "hand_saw"
    assert all(ds.classes[c.label] == ESC50_CLASSES[c.extra["target"]] for c in ds.clips)


def test_folds_1_to_4_train_fold_5_test(tiny_esc):
    train, test = load_esc50(tiny_esc, split="train"), load_esc50(tiny_esc, split="test")
    assert {c.fold for c in train.clips} == {1, 2, 3, 4} and {c.fold for c in test.clips} == {5}
    assert (len(train), len(test)) == (9, 3)


def test_explicit_folds_and_other_test_fold(tiny_esc):
    assert {c.fold for c in load_esc50(tiny_esc, folds=[2, 3]).clips} == {2, 3}
    ds = load_esc50(tiny_esc, split="train", test_fold=1, val_fold=2)
    assert {c.fold for c in ds.clips} == {3, 4, 5}
    assert {c.fold for c in load_esc50(tiny_esc, split="validation", test_fold=1, val_fold=2).clips} == {2}


def test_items_are_5s_at_44100(tiny_esc):
    ds = load_esc50(tiny_esc, split="test")
    wave, _ = ds[0]
    assert wave.dtype == torch.float32 and wave.shape == (5 * 44100,)
    assert load_esc50(tiny_esc, split="test", sample_rate=16000)[0][0].shape == (80000,)


def test_esc10_subset(tiny_esc):
    ds = load_esc50(tiny_esc, split="all", esc10=True)
    assert ds.classes == ["dog", "chainsaw"] and sorted(set(ds.labels)) == [0, 1] and len(ds) == 7


def test_source_file_is_the_speaker(tiny_esc):
    ds = load_esc50(tiny_esc, split="test")
    assert all(c.speaker == c.path.name.split("-")[1] for c in ds.clips)


def test_synthetic_stand_in_follows_the_folds():
    train = esc50_synthetic("train", sample_rate=8000)
    test = esc50_synthetic("test", sample_rate=8000)
    assert train.classes == ESC50_CLASSES and {c.fold for c in test.clips} == {5}
    assert {c.fold for c in train.clips} == {1, 2, 3, 4} and len(train) == 4 * len(test)
    assert test[0][0].shape == (40000,)


# --- errors on bad input ------------------------------------------------------------------

def test_missing_root_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"does not exist.*github.com/karolpiczak/ESC-50"):
        load_esc50(tmp_path / "nowhere")


def test_empty_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"no meta/esc50\.csv.*empty"):
        load_esc50(tmp_path)


def test_csv_with_no_rows(tmp_path):
    make_esc50(tmp_path, rows=[])
    with pytest.raises(DatasetNotFoundError, match="lists no clips"):
        load_esc50(tmp_path)


def test_listed_file_missing_is_named(tiny_esc):
    victim = sorted((tiny_esc / "audio").iterdir())[0]
    victim.unlink()
    with pytest.raises(DatasetNotFoundError, match=rf"line \d+ names .*{victim.name}, which does not exist"):
        load_esc50(tiny_esc)


def test_category_not_matching_target(tmp_path):
    make_esc50(tmp_path, rows=[(1, 0, "cat", False)])
    with pytest.raises(ValueError, match="target 0 with category 'cat' does not match"):
        load_esc50(tmp_path)


def test_unknown_split(tiny_esc):
    with pytest.raises(SplitError, match="unknown split 'fold1'"):
        load_esc50(tiny_esc, split="fold1")


def test_impossible_folds(tiny_esc):
    with pytest.raises(SplitError, match=r"test_fold=6 is not a fold"):
        load_esc50(tiny_esc, split="test", test_fold=6)
    with pytest.raises(SplitError, match=r"folds \[7\] are not in the data"):
        load_esc50(tiny_esc, folds=[1, 7])
    with pytest.raises(SplitError, match="needs val_fold"):
        load_esc50(tiny_esc, split="validation")
    with pytest.raises(SplitError, match="both 5"):
        load_esc50(tiny_esc, split="train", val_fold=5)


def test_empty_split(tmp_path):
    make_esc50(tmp_path, rows=[(5, 0, "dog", True), (5, 3, "cow", False)])  # only the test fold
    with pytest.raises(SplitError, match="'train' split .* is empty"):
        load_esc50(tmp_path, split="train")


def test_empty_esc10_subset(tmp_path):
    make_esc50(tmp_path, rows=[(1, 3, "cow", False)])
    with pytest.raises(SplitError, match="ESC-10 subset is empty"):
        load_esc50(tmp_path, esc10=True)


# --- issue 14: folds, duplicates, short rows, Excel's BOM, upper-case extensions ---------------------

def _csv(root):
    return root / "meta" / "esc50.csv"


def _set_line(root, line_no, new):
    lines = _csv(root).read_text().splitlines()
    lines[line_no - 1] = new
    _csv(root).write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("fold", [0, 6, -1])
def test_fold_outside_1_to_5_is_an_error_naming_the_line(tiny_esc, fold):
    name = _csv(tiny_esc).read_text().splitlines()[3].split(",")[0]
    _set_line(tiny_esc, 4, f"{name},{fold},0,dog,True,1002,A")
    with pytest.raises(ValueError, match=rf"esc50\.csv, line 4: fold {fold} is not one of ESC-50's folds 1-5; fix this line"):
        load_esc50(tiny_esc)


def test_a_file_listed_in_two_folds_is_an_error_naming_both_lines(tiny_esc):
    lines = _csv(tiny_esc).read_text().splitlines()
    name = lines[1].split(",")[0]  # fold 1
    _csv(tiny_esc).write_text("\n".join(lines + [f"{name},5,0,dog,True,1000,A"]) + "\n")
    with pytest.raises(ValueError, match=rf"line 14: {name} is already listed on line 2; .*delete one of the two lines"):
        load_esc50(tiny_esc, split="test")


def test_a_short_row_is_an_error_naming_the_line(tiny_esc):
    _set_line(tiny_esc, 3, "2-1001-A-0.wav,2,0")
    with pytest.raises(ValueError, match=r"esc50\.csv, line 3: has 3 fields, the header 7; fix or delete this line"):
        load_esc50(tiny_esc)


def test_a_long_row_is_an_error_naming_the_line(tiny_esc):
    line = _csv(tiny_esc).read_text().splitlines()[4]
    _set_line(tiny_esc, 5, line + ",extra")
    with pytest.raises(ValueError, match=r"line 5: has 8 fields, the header 7"):
        load_esc50(tiny_esc)


def test_line_numbers_count_blank_lines(tiny_esc):
    lines = _csv(tiny_esc).read_text().splitlines()
    lines[3] = lines[3].replace(",3,0,dog", ",9,0,dog")  # fold 9 on line 4 ...
    _csv(tiny_esc).write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n")  # ... which is now line 5
    with pytest.raises(ValueError, match=r"line 5: fold 9"):
        load_esc50(tiny_esc)


def test_csv_with_a_utf8_bom_as_excel_writes_it(tiny_esc):
    text = _csv(tiny_esc).read_text()
    _csv(tiny_esc).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert len(load_esc50(tiny_esc, split="all")) == 12


def test_upper_case_wav_extension_is_loaded_not_skipped(tiny_esc):
    name = _csv(tiny_esc).read_text().splitlines()[1].split(",")[0]
    (tiny_esc / "audio" / name).rename(tiny_esc / "audio" / name.replace(".wav", ".WAV"))
    ds = load_esc50(tiny_esc, split="all")
    assert len(ds) == 12 and ds.clips[0].path.name == name.replace(".wav", ".WAV")
    assert ds[0][0].shape == (220500,)


@pytest.mark.parametrize("kwargs, message", [
    ({"sample_rate": 0}, r"ESC-50: sample_rate must be a whole number of Hz from 1000 to 384000, got 0"),
    ({"num_samples": 0}, r"ESC-50: num_samples must be a positive whole number of samples, got 0"),
])
def test_sample_rate_0_and_num_samples_0_are_refused_not_defaulted(tiny_esc, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_esc50(tiny_esc, **kwargs)
    with pytest.raises(ValueError, match=message.replace("ESC-50", "synthetic-esc50")):
        esc50_synthetic(**kwargs)
