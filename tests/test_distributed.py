"""Multi-GPU code path on the CPU: the CLI under torchrun with 2 Gloo processes trains
the same model as one process with the same global batch."""

import json
import socket
import subprocess
import sys

import pytest
import torch

from apac_lab.train.cli import main
from test_cli import BASE, _env, _weights


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process(tmp_path):
    """Gloo, 2 CPU processes x batch 8 against 1 process x batch 16: the same clips in the
    same global batches, so (no BatchNorm, no dropout) the same steps, weights and metrics."""
    args = BASE + ["--epochs", "2"]
    assert main(args + ["--batch-size", "16", "--out", str(tmp_path / "one")]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={_free_port()}", "-m", "apac_lab.train", *args, "--batch-size", "8",
           "--out", str(tmp_path / "two")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 processes, global batch 16" in proc.stdout
    one, two = (json.loads((tmp_path / d / "history.json").read_text()) for d in ("one", "two"))
    assert [h["train_samples"] for h in two] == [h["train_samples"] for h in one] == [80, 80]
    assert [h["val_samples"] for h in two] == [h["val_samples"] for h in one]
    for h1, h2 in zip(one, two):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert h2[key] == pytest.approx(h1[key], abs=1e-5), key
    w1, w2 = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert all(torch.allclose(w1[k], w2[k], atol=1e-5) for k in w1)
    m1, m2 = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert m2["test_clips"] == m1["test_clips"] == 40  # every test clip once, gathered from both shards
    assert m2["test_accuracy"] == pytest.approx(m1["test_accuracy"])
    assert m2["confusion"] == m1["confusion"]
