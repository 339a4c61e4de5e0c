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
    DOWNLOADS, DatasetNotFoundError, DownloadError, UnsafeArchiveError, archive_url, download_dataset, download_file,
    load_esc50, load_fsdd, load_speechcommands, safe_extract, sha256sum,
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
    # FSDD v1.0.10, the release with the paper's 6 speakers and 3,000 recordings (Cassetta 2023, section 7.2):
    # GitHub's tarball of the tag, rebuilt as `git archive --format=tar --prefix=free-spoken-digit-dataset-1.0.10/
    # v1.0.10 | gzip -n`, is 15,602,882 bytes with this SHA-256.
    fsdd = DOWNLOADS["fsdd"]
    assert fsdd.url == "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
    assert fsdd.sha256 == "feb479fad3a37883c3d21ed7f982281c2dd1c18d5aefd7e8a5d50f58023392aa"
    assert fsdd.size == 15_602_882
    assert (fsdd.filename, fsdd.folder) == ("free-spoken-digit-dataset-1.0.10.tar.gz", "free-spoken-digit-dataset-1.0.10")
    # The same recipe on tag v1.0.9 reproduces exactly what TensorFlow Datasets publishes for GitHub's v1.0.9
    # tarball (tensorflow_datasets/audio/spoken_digit/checksums.tsv: 11975353 bytes, SHA-256 8bc44cde...00c0);
    # the kit keeps that release's pin beside the current one.
    from apac_lab.data.fsdd import FSDD_V1_0_9_ARCHIVE

    assert FSDD_V1_0_9_ARCHIVE["url"] == fsdd.url.replace("v1.0.10", "v1.0.9")
    assert FSDD_V1_0_9_ARCHIVE["sha256"] == "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0"
    assert FSDD_V1_0_9_ARCHIVE["size"] == 11_975_353
    assert DOWNLOADS["speechcommands"].size == 2_428_923_189  # as TensorFlow Datasets and ESPnet record it
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
    archive = _tar_with(folder / "evil.tar", [_file("free-spoken-digit-dataset-1.0.10/ok.txt"), _file("../../pwned.txt")])
    root = tmp_path / "dl" / "fsdd"
    with pytest.raises(UnsafeArchiveError):
        download_dataset("fsdd", root, url=f"{base}/evil.tar", sha256=sha256sum(archive), progress=False)
    assert not root.exists() and not (tmp_path / "pwned.txt").exists() and not (tmp_path / "dl" / "pwned.txt").exists()


def test_safe_archive_with_inside_links_extracts(tmp_path):
    archive = _tar_with(tmp_path / "ok.tar", [_file("d/a.txt", b"A"), _link("d/b.txt", "a.txt")])
    safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "d" / "b.txt").read_bytes() == b"A"


# --- issue 14: corrupt and truncated archives, zip bombs, a failed final move ------------------------

def _zip_with_corrupt_member(path: Path, how: str) -> Path:
    rng = __import__("random").Random(0)
    members = {"ok/first.txt": b"fine\n" * 1000, "ok/second.bin": bytes(rng.randrange(256) for _ in range(20000))}
    method = zipfile.ZIP_STORED if how == "crc" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("ok/second.bin")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + 100 : start + 400] = bytes(300) if how == "crc" else bytes(range(256)) + bytes(44)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how", ["deflate", "crc"])
def test_zip_with_a_corrupt_member_is_a_download_error_and_leaves_nothing(tmp_path, how):
    archive = _zip_with_corrupt_member(tmp_path / "bad.zip", how)
    with pytest.raises(DownloadError, match=r"bad\.zip: cannot be extracted, the archive is corrupt or truncated "
                                            r"\((error|BadZipFile): .*\); nothing was kept\. Download it again"):
        safe_extract(archive, tmp_path / "new")
    assert not (tmp_path / "new").exists()  # before the fix: a raw zlib.error, and ok/first.txt left behind
    (tmp_path / "empty").mkdir()
    with pytest.raises(DownloadError, match="corrupt or truncated"):
        safe_extract(archive, tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []  # a folder that was there stays, empty


def test_truncated_zip_is_a_download_error(tmp_path):
    archive = _zip_with_corrupt_member(tmp_path / "cut.zip", "crc")
    archive.write_bytes(archive.read_bytes()[:5000])  # the central directory is at the end: gone
    with pytest.raises(DownloadError, match=r"cut\.zip: cannot be extracted, the archive is corrupt or truncated"):
        safe_extract(archive, tmp_path / "new")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("mode", ["gz", "bz2", "xz"])
def test_truncated_tar_is_a_download_error_and_leaves_nothing(tmp_path, mode):
    rng = __import__("random").Random(1)
    archive = tmp_path / f"cut.tar.{mode}"
    with tarfile.open(archive, f"w:{mode}") as tar:
        for i in range(4):
            data = bytes(rng.randrange(256) for _ in range(30000))
            info = tarfile.TarInfo(f"top/f{i}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive.write_bytes(archive.read_bytes()[: int(archive.stat().st_size * 0.6)])
    with pytest.raises(DownloadError, match=rf"cut\.tar\.{mode}: cannot be extracted, the archive is corrupt or truncated"):
        safe_extract(archive, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_truncated_download_of_fsdd_leaves_no_root(server, tmp_path):
    folder, base = server
    archive = make_fsdd_tar(tmp_path / "full.tar.gz")
    (folder / "cut.tar.gz").write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    root = tmp_path / "data" / "fsdd"
    with pytest.raises(DownloadError, match=r"cut\.tar\.gz: cannot be extracted, the archive is corrupt or truncated"):
        download_dataset("fsdd", root, url=f"{base}/cut.tar.gz", sha256=sha256sum(folder / "cut.tar.gz"), progress=False)
    assert _files(tmp_path / "data") == set()


def test_zip_bomb_of_256_mib_of_zeros_in_261_kb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, zf.open("zeros.bin", "w") as f:
        block = bytes(1 << 20)
        for _ in range(256):
            f.write(block)
    assert bomb.stat().st_size < 270_000
    with pytest.raises(UnsafeArchiveError, match=r"bomb\.zip: it would unpack to 256\.0 MiB, more than the 88\.9 MiB "
                                                 r"allowed for an archive of 0\.2 MiB \(a zip bomb\?\); nothing was extracted"):
        safe_extract(bomb, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_size_cap_counts_every_member_and_can_be_raised(tmp_path):
    archive = tmp_path / "zeros.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for i in range(3):
            info = tarfile.TarInfo(f"z{i}.bin")
            info.size = 1 << 20
            tar.addfile(info, io.BytesIO(bytes(1 << 20)))
    with pytest.raises(UnsafeArchiveError, match=r"it would unpack to 3\.0 MiB, more than the 2\.0 MiB allowed"):
        safe_extract(archive, tmp_path / "out", max_bytes=2 << 20)
    assert not (tmp_path / "out").exists()
    safe_extract(archive, tmp_path / "out", max_bytes=3 << 20)
    assert sum(p.stat().st_size for p in (tmp_path / "out").iterdir()) == 3 << 20


def test_failed_final_move_leaves_no_half_filled_root_and_a_retry_works(server, tmp_path, monkeypatch):
    import apac_lab.data.download as D

    folder, base = server
    archive = make_fsdd_tar(folder / "fsdd.tar.gz")
    root = tmp_path / "data" / "fsdd"
    real_rename = D.os.rename

    def failing_rename(src, dst):
        if Path(dst) == root:  # the final move; the archive's own .part -> final rename still works
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(D.os, "rename", failing_rename)
    with pytest.raises(DownloadError, match=r"moving the unpacked fsdd .* into .*fsdd failed \(\[Errno 28\] No space "
                                            r"left on device\); nothing was left in .*try again"):
        download_dataset("fsdd", root, url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive), progress=False)
    assert _files(tmp_path / "data") == set()  # no root, no temporary folder: loading says "download it" ...
    with pytest.raises(DatasetNotFoundError, match="does not exist.*download_dataset"):
        load_fsdd(root)
    monkeypatch.setattr(D.os, "rename", real_rename)  # ... and downloading again works
    download_dataset("fsdd", root, url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive), progress=False)
    assert len(load_fsdd(root, split="all")) == 24 and _files(tmp_path / "data") >= {"fsdd/recordings"}


def test_failure_midway_through_extraction_leaves_no_root(server, tmp_path, monkeypatch):
    import apac_lab.data.download as D

    folder, base = server
    archive = make_fsdd_tar(folder / "fsdd.tar.gz")
    root = tmp_path / "data" / "fsdd"
    root.mkdir(parents=True)  # an empty root is allowed, and stays allowed
    calls = []
    real_extract = tarfile.TarFile._extract_member

    def fail_on_the_fifth(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise OSError(5, "Input/output error")
        return real_extract(self, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "_extract_member", fail_on_the_fifth)
    with pytest.raises(DownloadError, match=r"extracting into .* failed \(\[Errno 5\] Input/output error\); nothing was kept"):
        download_dataset("fsdd", root, url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive), progress=False)
    assert _files(tmp_path / "data") == {"fsdd"}  # the empty root as it was: complete or empty, never half-filled


def test_leftovers_of_an_interrupted_download_are_cleaned(server, tmp_path):
    folder, base = server
    archive = make_fsdd_tar(folder / "fsdd.tar.gz")
    (tmp_path / "data" / ".apac_lab-tmp-fsdd-killed" / "x").mkdir(parents=True)  # a run killed with -9
    (tmp_path / "data" / ".apac_lab-tmp-other-keep").mkdir()  # another root's: not ours to remove
    download_dataset("fsdd", tmp_path / "data" / "fsdd", url=f"{base}/fsdd.tar.gz", sha256=sha256sum(archive),
                     progress=False)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [".apac_lab-tmp-other-keep", "fsdd"]
