"""apac_lab.data.download: archives served over HTTP on 127.0.0.1, SHA-256 checks, safe extraction."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from _data_trees import make_esc50, make_fsdd_tar, make_speechcommands, serve_folder
from apac_lab.data import (
    DOWNLOADS, DownloadError, UnsafeArchiveError, archive_url, download_dataset, download_file, load_esc50, load_fsdd,
    load_speechcommands, safe_extract, sha256sum,
)


@pytest.fixture()
def server(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1; yields (folder, base URL)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "APAC_LAB_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    folder = tmp_path / "served"
    folder.mkdir()
    with serve_folder(folder) as base:
        yield folder, base


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- download, verify, extract, load ---------------------------------------------------------

def test_fsdd_download_extract_and_load(server, tmp_path):
    folder, base = server
    archive = make_fsdd_tar(folder / "fsdd.tar.gz")
    root = tmp_path / "data" / "fsdd"
    assert download_dataset("fsdd", root, url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive), progress=False) == root
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "recordings"]  # top folder stripped, no temp left
    test = load_fsdd(root, split="test")
    assert test.speakers == ["yan", "zoe"] and len(test) == 2 * 2 * 5
    assert test[0][0].shape == (8000,)


def test_mirror_serves_the_archive_by_its_file_name(server, tmp_path, monkeypatch):
    folder, base = server
    archive = make_fsdd_tar(folder / DOWNLOADS["fsdd"].filename)
    monkeypatch.setitem(DOWNLOADS, "fsdd", dataclasses.replace(DOWNLOADS["fsdd"], sha256=sha256sum(archive)))
    monkeypatch.setenv("APAC_LAB_MIRROR", base + "/")
    assert archive_url("fsdd") == f"{base}/{DOWNLOADS['fsdd'].filename}"
    download_dataset("fsdd", tmp_path / "fsdd", progress=False)
    assert len(load_fsdd(tmp_path / "fsdd", split="all")) == 24


def test_speechcommands_archive_without_top_folder(server, tmp_path):
    folder, base = server
    tree = make_speechcommands(tmp_path / "tree")
    with tarfile.open(folder / "sc.tar.gz", "w:gz") as tar:
        for p in sorted(tree.iterdir()):
            tar.add(p, arcname=f"./{p.name}")
    root = tmp_path / "sc"
    download_dataset("speechcommands", root, url=f"{base}/sc.tar.gz", sha256=sha256sum(folder / "sc.tar.gz"), progress=False)
    assert (root / "testing_list.txt").is_file() and (root / "_background_noise_").is_dir()
    assert len(load_speechcommands(root, split="test")) == 6


def test_esc50_needs_a_hash_and_unpacks_a_zip(server, tmp_path):
    folder, base = server
    tree = make_esc50(tmp_path / "tree" / "ESC-50-master")
    with zipfile.ZipFile(folder / "ESC-50-master.zip", "w") as zf:
        for p in sorted(tree.rglob("*")):
            zf.write(p, p.relative_to(tree.parent).as_posix())
    url = f"{base}/ESC-50-master.zip"
    assert DOWNLOADS["esc50"].sha256 is None  # none is published; never invent one
    with pytest.raises(DownloadError, match="no SHA-256 is pinned.*sha256="):
        download_dataset("esc50", tmp_path / "esc", url=url, progress=False)
    assert not (tmp_path / "esc").exists()
    download_dataset("esc50", tmp_path / "esc", url=url, sha256=sha256sum(folder / "ESC-50-master.zip"), progress=False)
    assert len(load_esc50(tmp_path / "esc", split="test")) == 3


def test_pinned_hashes_are_the_published_ones():
    # FSDD v1.0.9: TensorFlow Datasets' tensorflow_datasets/audio/spoken_digit/checksums.tsv pins this
    # archive as 11975353 bytes with SHA-256 8bc44cde...00c0.
    fsdd = DOWNLOADS["fsdd"]
    assert fsdd.url == "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.9.tar.gz"
    assert fsdd.sha256 == "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0"
    assert fsdd.size == 11_975_353
    # Speech Commands v0.02: the hash torchaudio pins for the same URL (read from the installed torchaudio).
    from torchaudio.datasets import speechcommands as torchaudio_sc

    sc = DOWNLOADS["speechcommands"]
    assert sc.url == "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
    assert sc.sha256 == torchaudio_sc._CHECKSUMS[sc.url] == (
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58")
    assert DOWNLOADS["esc50"].sha256 is None  # none is published (test_esc50_needs_a_hash_and_unpacks_a_zip)
    assert sorted(DOWNLOADS) == ["esc50", "fsdd", "speechcommands"]


def test_sha256sum_gives_the_standard_digest(tmp_path):
    """FIPS 180-2's example: SHA-256("abc"); and a file read in small chunks gives the same digest."""
    (tmp_path / "abc").write_bytes(b"abc")
    assert sha256sum(tmp_path / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    data = bytes(range(256)) * 1000
    (tmp_path / "big").write_bytes(data)
    assert sha256sum(tmp_path / "big", chunk_size=1000) == hashlib.sha256(data).hexdigest()


def test_the_right_bytes_verify_and_one_changed_byte_fails(server, tmp_path):
    folder, base = server
    data = bytes(range(256)) * 64
    (folder / "blob.bin").write_bytes(data)
    good = hashlib.sha256(data).hexdigest()
    assert download_file(f"{base}/blob.bin", tmp_path / "ok.bin", sha256=good, progress=False) == tmp_path / "ok.bin"
    assert (tmp_path / "ok.bin").read_bytes() == data
    (folder / "blob.bin").write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])  # one bit flipped
    with pytest.raises(DownloadError, match=rf"SHA-256 mismatch .*expected {good}, got (?!{good})[0-9a-f]{{64}}"):
        download_file(f"{base}/blob.bin", tmp_path / "bad.bin", sha256=good, progress=False)
    assert not (tmp_path / "bad.bin").exists() and not list(tmp_path.glob("bad.bin*"))  # nothing kept


# --- refusals ------------------------------------------------------------------------------

def test_wrong_hash_is_rejected_and_the_file_removed(server, tmp_path):
    folder, base = server
    make_fsdd_tar(folder / "fsdd.tar.gz")
    root = tmp_path / "fsdd"
    with pytest.raises(DownloadError, match=r"SHA-256 mismatch .*expected 0{64}, got [0-9a-f]{64}\. The file was removed"):
        download_dataset("fsdd", root, url=f"{base}/fsdd.tar.gz", sha256="0" * 64, progress=False)
    assert not root.exists()  # nothing left behind: not even the folder it created


def test_existing_files_are_never_overwritten(server, tmp_path):
    folder, base = server
    archive = make_fsdd_tar(folder / "fsdd.tar.gz")
    root = tmp_path / "fsdd"
    root.mkdir()
    (root / "mine.txt").write_text("precious")
    with pytest.raises(DownloadError, match="not an empty folder.*never overwrites"):
        download_dataset("fsdd", root, url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive), progress=False)
    assert _files(root) == {"mine.txt"} and (root / "mine.txt").read_text() == "precious"


def test_http_error_names_the_url(server, tmp_path):
    _, base = server
    with pytest.raises(DownloadError, match=rf"downloading {base}/missing.tar.gz failed.*404"):
        download_dataset("fsdd", tmp_path / "fsdd", url=f"{base}/missing.tar.gz", progress=False)


def test_a_page_that_is_not_an_archive(server, tmp_path):
    folder, base = server
    (folder / "page.html").write_text("<html>rate limited</html>")
    with pytest.raises(DownloadError, match="neither a tar nor a zip"):
        download_dataset("fsdd", tmp_path / "fsdd", url=f"{base}/page.html", sha256=sha256sum(folder / "page.html"),
                         progress=False)


def test_unknown_dataset_to_download(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'mnist' to download"):
        download_dataset("mnist", tmp_path)


# --- malicious archives: refused, nothing written anywhere -------------------------------------

def _tar_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"pwned") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _device(name: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info, None


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink_escape", "symlink_absolute", "hardlink_escape", "device"])
def test_malicious_tar_is_refused(tmp_path, case):
    box = tmp_path / "box"  # everything the attack could reach lives in here
    target = box / "a" / "target"
    target.mkdir(parents=True)
    outside = box / "a" / "outside.txt"
    members = {
        "dotdot": [_file("ok.txt", b"fine"), _file("../outside.txt")],
        "absolute": [_file(str(outside))],
        "symlink_escape": [_link("escape", "../.."), _file("escape/a/outside.txt")],
        "symlink_absolute": [_link("escape", str(box / "a")), _file("escape/outside.txt")],
        "hardlink_escape": [_link("hl", "../outside.txt", tarfile.LNKTYPE)],
        "device": [_device("null")],
    }[case]
    archive = _tar_with(tmp_path / "evil.tar", members)
    before = _files(box)
    with pytest.raises(UnsafeArchiveError, match="unsafe member .*nothing was extracted"):
        safe_extract(archive, target)
    assert _files(box) == before and not outside.exists() and not any(target.iterdir())


@pytest.mark.parametrize("name", ["../outside.txt", "/tmp/apac_lab_abs_evil.txt", "..\\outside.txt", "C:/evil.txt"])
def test_malicious_zip_is_refused(tmp_path, name):
    box = tmp_path / "box"
    target = box / "target"
    target.mkdir(parents=True)
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("fine.txt", "fine")
        zf.writestr(zipfile.ZipInfo(name), "pwned")
    before = _files(box)
    with pytest.raises(UnsafeArchiveError, match="unsafe member"):
        safe_extract(archive, target)
    assert _files(box) == before and not Path("/tmp/apac_lab_abs_evil.txt").exists()


def test_zip_symlink_is_refused(tmp_path):
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr(info, "/etc")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        safe_extract(tmp_path / "evil.zip", tmp_path / "target")
    assert not (tmp_path / "target" / "link").exists()


def test_malicious_archive_served_over_http_leaves_nothing(server, tmp_path):
    folder, base = server
    archive = _tar_with(folder / "evil.tar", [_file("free-spoken-digit-dataset-1.0.9/ok.txt"), _file("../../pwned.txt")])
    root = tmp_path / "dl" / "fsdd"
    with pytest.raises(UnsafeArchiveError):
        download_dataset("fsdd", root, url=f"{base}/evil.tar", sha256=sha256sum(archive), progress=False)
    assert not root.exists() and not (tmp_path / "pwned.txt").exists() and not (tmp_path / "dl" / "pwned.txt").exists()


def test_safe_archive_with_inside_links_extracts(tmp_path):
    archive = _tar_with(tmp_path / "ok.tar", [_file("d/a.txt", b"A"), _link("d/b.txt", "a.txt")])
    safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "d" / "b.txt").read_bytes() == b"A"
