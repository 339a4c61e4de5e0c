"""Checkpoint files: atomic writes, weights-only reads, and bad files named in one line."""

from __future__ import annotations

import pytest
import torch

from apac_lab.checkpoints import (
    FRONTEND_KIND, CheckpointError, load_checkpoint, read_frontend_checkpoint, save_checkpoint,
    write_frontend_checkpoint,
)


class TestRoundTrip:
    def test_saves_and_loads_tensors_exactly(self, tmp_path):
        state = {"w": torch.randn(3, 4), "epoch": 2, "history": [{"loss": 0.5}]}
        save_checkpoint(tmp_path / "sub" / "last.pt", state)
        back = load_checkpoint(tmp_path / "sub" / "last.pt")
        assert torch.equal(back["w"], state["w"]) and back["epoch"] == 2 and back["history"] == [{"loss": 0.5}]
        assert [p.name for p in (tmp_path / "sub").iterdir()] == ["last.pt"]  # no temporary file left

    def test_a_failed_write_leaves_the_old_file(self, tmp_path):
        path = tmp_path / "last.pt"
        save_checkpoint(path, {"epoch": 1})
        with pytest.raises(Exception):
            save_checkpoint(path, {"bad": lambda: 0})  # cannot be pickled
        assert load_checkpoint(path) == {"epoch": 1}
        assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


class TestBadFiles:
    def test_missing(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="no checkpoint at"):
            load_checkpoint(tmp_path / "nope.pt")

    @pytest.mark.parametrize("damage", ["empty", "cut", "junk"])
    def test_empty_cut_or_foreign_is_one_line_naming_the_file(self, damage, tmp_path):
        path = tmp_path / "last.pt"
        save_checkpoint(path, {"w": torch.zeros(1000)})
        data = path.read_bytes()
        path.write_bytes({"empty": b"", "cut": data[: len(data) // 2], "junk": b"hello"}[damage])
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)

    def test_pickled_code_is_refused(self, tmp_path):
        path = tmp_path / "evil.pt"
        torch.save({"f": print}, path)
        with pytest.raises(CheckpointError, match="cannot be read"):
            load_checkpoint(path)


class TestFrontendFormat:
    def test_round_trip_and_training_checkpoints(self, tmp_path):
        state = {"mel.basis": torch.ones(2, 3)}
        write_frontend_checkpoint(tmp_path / "fe.pt", mode="mel", config={"n_mels": 2}, state=state, meta={"a": 1})
        assert load_checkpoint(tmp_path / "fe.pt")["kind"] == FRONTEND_KIND
        got, config, meta = read_frontend_checkpoint(tmp_path / "fe.pt")
        assert torch.equal(got["mel.basis"], state["mel.basis"]) and config == {"n_mels": 2} and meta == {"a": 1}
        save_checkpoint(tmp_path / "last.pt", {"model": {"frontend.mel.basis": torch.zeros(2), "head.w": torch.ones(1)}})
        got, config, meta = read_frontend_checkpoint(tmp_path / "last.pt")
        assert list(got) == ["mel.basis"] and config is None and meta == {}

    def test_not_a_frontend_checkpoint(self, tmp_path):
        save_checkpoint(tmp_path / "x.pt", {"model": {"head.w": torch.ones(1)}})
        with pytest.raises(ValueError, match="no 'frontend.' weights"):
            read_frontend_checkpoint(tmp_path / "x.pt")
        save_checkpoint(tmp_path / "y.pt", {"weights": torch.ones(1)})
        with pytest.raises(ValueError, match="not a front-end checkpoint"):
            read_frontend_checkpoint(tmp_path / "y.pt")
