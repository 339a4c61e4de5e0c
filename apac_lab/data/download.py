"""Downloading the real datasets: pinned archives, a SHA-256 check, and safe extraction.

:func:`download_dataset` fetches one of the archives in :data:`DOWNLOADS`, checks its
SHA-256, unpacks it into a temporary folder beside the target and renames that into
place, so that a dataset folder is either complete or absent. Nothing in the archive may
land outside that folder: absolute paths, ``..`` components, links that point outside and
device files are refused before anything is written. An archive that would unpack to more
than 64 MiB + 100 times its own size (a "zip bomb") is refused; a corrupt or truncated
one raises :class:`DownloadError` and leaves nothing behind. Files already in the folder
are never overwritten: a folder that is not empty is refused.

Where the archives come from can be changed, so that a course can serve them from its
own machine (and the tests from 127.0.0.1):

- ``url=`` (and ``sha256=``) arguments of :func:`download_dataset`;
- the ``APAC_LAB_MIRROR`` environment variable, a base URL under which each archive is
  found by its :attr:`ArchiveSpec.filename` (e.g. ``http://host/data/`` serves
  ``http://host/data/speech_commands_v0.02.tar.gz``).

Notebook: every notebook's first data cell (through :func:`apac_lab.data.load_dataset`).
"""

from __future__ import annotations

import glob
import hashlib
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from apac_lab.data.esc50 import ESC50_ARCHIVE
from apac_lab.data.fsdd import FSDD_ARCHIVE
from apac_lab.data.speechcommands import SPEECHCOMMANDS_ARCHIVE

__all__ = [
    "ArchiveSpec", "DOWNLOADS", "DownloadError", "UnsafeArchiveError",
    "archive_url", "download_dataset", "download_file", "safe_extract", "sha256sum",
]

_TMP_PREFIX = ".apac_lab-tmp-"
#: An archive may unpack to at most this many bytes plus ``_MAX_RATIO`` times its own size.
_MIN_LIMIT, _MAX_RATIO = 64 << 20, 100
#: What a corrupt or truncated archive raises from zipfile, tarfile and the decompressors.
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, tarfile.TarError, lzma.LZMAError, OSError)


class DownloadError(OSError):
    """A download that failed, or whose SHA-256 did not match, or that cannot be placed."""


class UnsafeArchiveError(DownloadError):
    """An archive member would land outside the target folder (or is a device file)."""


@dataclass(frozen=True)
class ArchiveSpec:
    """One pinned public archive.

    Args:
        url (str): where the release is published.
        sha256 (str | None): the archive's SHA-256 (hex); None where no verifiable hash is
            published: the caller must then pass one.
        filename (str): the archive's name on a mirror (see ``APAC_LAB_MIRROR``).
        folder (str | None): the archive's top folder, whose content goes into the target
            folder; None when the archive has no top folder.
        size (int | None, default None): size in bytes, for the progress bar.
    """

    url: str
    sha256: str | None
    filename: str
    folder: str | None
    size: int | None = None


#: name -> pinned archive. Change entries (or pass ``url=``/``sha256=``) to use a mirror.
DOWNLOADS: dict[str, ArchiveSpec] = {
    "fsdd": ArchiveSpec(**FSDD_ARCHIVE),
    "speechcommands": ArchiveSpec(**SPEECHCOMMANDS_ARCHIVE),
    "esc50": ArchiveSpec(**ESC50_ARCHIVE),
}


def _spec(name: str) -> tuple[str, ArchiveSpec]:
    key = name.lower().replace("-", "").replace("_", "")
    if key not in DOWNLOADS:
        raise ValueError(f"unknown dataset {name!r} to download; choose one of {sorted(DOWNLOADS)}.")
    return key, DOWNLOADS[key]


def archive_url(name: str, mirror: str | None = None) -> str:
    """The URL :func:`download_dataset` fetches for ``name``.

    ``mirror`` (or else ``$APAC_LAB_MIRROR``) replaces the publisher's URL by
    ``<mirror>/<filename>``.

    >>> archive_url("esc50", mirror="http://127.0.0.1:8000/data/")
    'http://127.0.0.1:8000/data/ESC-50-master.zip'
    """
    _, spec = _spec(name)
    mirror = mirror if mirror is not None else os.environ.get("APAC_LAB_MIRROR", "").strip()
    if mirror:
        return mirror.rstrip("/") + "/" + spec.filename
    return spec.url


def sha256sum(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The SHA-256 of a file, as lowercase hex.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x"); _ = open(p, "wb").write(b"abc")
    >>> sha256sum(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    url: str,
    dest: str | Path,
    *,
    sha256: str,
    progress: bool = True,
    size: int | None = None,
    timeout: float = 60.0,
    chunk_size: int = 1 << 20,
) -> Path:
    """Stream ``url`` into ``dest`` (through a ``.part`` file), checking its SHA-256.

    Args:
        url (str): http(s) or file URL.
        dest (str | Path): the file to write; must not exist.
        sha256 (str): the expected SHA-256 (hex).
        progress (bool, default True): show a tqdm progress bar.
        size (int | None, default None): expected size, used when the server sends none.
        timeout (float, default 60.0): seconds for the connection and each read.
        chunk_size (int, default 1 MiB): bytes per read.

    Returns:
        Path: ``dest``.

    Raises:
        DownloadError: the transfer failed, or the SHA-256 does not match (the file is
            then removed).
    """
    dest = Path(dest)
    if dest.exists():
        raise DownloadError(f"{dest} already exists; remove it or choose another destination.")
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "apac-lab"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "xb") as out:
            total = int(response.headers.get("Content-Length") or 0) or size
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                      disable=not progress, leave=False) as bar:
                for block in iter(lambda: response.read(chunk_size), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except BaseException as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, DownloadError):
            raise DownloadError(f"downloading {url} failed: {exc}") from exc
        raise
    got = digest.hexdigest()
    if got.lower() != sha256.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"SHA-256 mismatch for {url}: expected {sha256.lower()}, got {got}. The file was removed. "
            "The download is corrupt, or the archive changed: try again, or check the source."
        )
    part.rename(dest)
    return dest


def _member_problem(name: str) -> str | None:
    """Why an archive member's name is unsafe, or None."""
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL byte in name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' component"
    return None


def _inside(base: Path, relative: str) -> bool:
    base = Path(os.path.realpath(base))
    target = Path(os.path.realpath(base / relative))
    return target == base or base in target.parents


def _check_tar(tar: tarfile.TarFile, target: Path, archive: str) -> None:
    for m in tar.getmembers():
        problem = _member_problem(m.name)
        if problem is None and (m.ischr() or m.isblk() or m.isfifo() or m.isdev()):
            problem = "device file or FIFO"
        if problem is None and (m.issym() or m.islnk()):
            link = m.linkname
            # A symlink is relative to its own folder; a hard link to the archive's root.
            resolved = str(PurePosixPath(m.name).parent / link) if m.issym() else link
            if _member_problem(link) or not _inside(target, resolved) or ".." in PurePosixPath(resolved).parts:
                problem = f"link to {link!r} may point outside the target folder ('..' and absolute targets are refused)"
        if problem is None and not _inside(target, m.name):
            problem = "lands outside the target folder"
        if problem:
            raise UnsafeArchiveError(f"{archive}: unsafe member {m.name!r} ({problem}); nothing was extracted.")


def _check_zip(zf: zipfile.ZipFile, target: Path, archive: str) -> None:
    for info in zf.infolist():
        problem = _member_problem(info.filename)
        mode = info.external_attr >> 16
        if problem is None and stat.S_ISLNK(mode):
            problem = "symbolic link"
        if problem is None and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)):
            problem = "device file or FIFO"
        if problem is None and not _inside(target, info.filename):
            problem = "lands outside the target folder"
        if problem:
            raise UnsafeArchiveError(f"{archive}: unsafe member {info.filename!r} ({problem}); nothing was extracted.")


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n < 2**30 else f"{n / 2**30:.2f} GiB"


def _check_size(total: int, archive: str, size: int, target: Path, max_bytes: int) -> None:
    if total > max_bytes:
        raise UnsafeArchiveError(
            f"{archive}: it would unpack to {_size(total)}, more than the {_size(max_bytes)} allowed for an archive "
            f"of {_size(size)} (a zip bomb?); nothing was extracted. Check where it came from, or "
            "pass max_bytes= if you trust it."
        )
    existing = next(p for p in [target, *target.parents] if p.exists())
    free = shutil.disk_usage(existing).free
    if total > free:
        raise DownloadError(
            f"{archive}: it unpacks to {_size(total)} but only {_size(free)} is free on {existing}; "
            "free some space or choose another folder. Nothing was extracted."
        )


#: How the compressed streams and zip files that safe_extract knows begin.
_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04")


def safe_extract(
    archive: str | Path, target: str | Path, *, max_bytes: int | None = None, name: str | None = None
) -> Path:
    """Extract a tar (any compression) or zip archive into ``target``, safely.

    Every member is checked before anything is written: absolute paths, ``..``
    components, links pointing outside ``target``, and device files or FIFOs raise
    :class:`UnsafeArchiveError`, and so does an archive whose members add up to more than
    ``max_bytes`` (zip and tar headers give each member's size, and extraction stops at
    it). Tar archives are also extracted with tarfile's ``"data"`` filter where Python has
    it. A corrupt or truncated archive raises :class:`DownloadError`. On any failure
    ``target`` is left as it was found: removed if this call created it, else empty.

    Args:
        archive (str | Path): a ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz`` or ``.zip`` file.
        target (str | Path): the folder to extract into; it must be empty or not exist.
        max_bytes (int | None, default None): the most bytes the archive may unpack to;
            None is 64 MiB + 100 times the archive's size (audio compresses far less).
        name (str | None, default None): how messages name the archive (e.g. its URL);
            None is its path.

    Returns:
        Path: ``target``.

    >>> import io, os, tarfile, tempfile
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "a.tar")
    >>> with tarfile.open(p, "w") as t:
    ...     info = tarfile.TarInfo("../evil.txt"); info.size = 1; t.addfile(info, io.BytesIO(b"x"))
    >>> safe_extract(p, os.path.join(d, "out"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    apac_lab.data.download.UnsafeArchiveError: ... unsafe member '../evil.txt' ('..' component); nothing was extracted.
    """
    archive, target = Path(archive), Path(target)
    label, size = name or str(archive), archive.stat().st_size
    if target.exists() and any(target.iterdir()):
        raise DownloadError(f"{target} is not empty; extract into an empty or new folder.")
    if max_bytes is None:
        max_bytes = _MIN_LIMIT + _MAX_RATIO * size
    created = not target.exists()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _check_zip(zf, target, label)
                _check_size(sum(info.file_size for info in zf.infolist()), label, size, target, max_bytes)
                target.mkdir(parents=True, exist_ok=True)
                for info in zf.infolist():
                    zf.extract(info, target)
            return target
        if not tarfile.is_tarfile(archive):
            with open(archive, "rb") as f:
                if f.read(6).startswith(_MAGIC):  # gzip, bzip2, xz or zip, but unreadable
                    raise EOFError("the archive ends early or its first member is damaged")
            raise DownloadError(f"{label} is neither a tar nor a zip archive; the download may be an error page.")
        with tarfile.open(archive, "r:*") as tar:
            _check_tar(tar, target, label)
            _check_size(sum(m.size for m in tar.getmembers() if m.isfile()), label, size, target, max_bytes)
            target.mkdir(parents=True, exist_ok=True)
            try:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(target, filter="data")
                else:  # Python < 3.10.12: the checks above are the guard
                    tar.extractall(target)
            except getattr(tarfile, "FilterError", ()) as exc:
                raise UnsafeArchiveError(f"{label}: refused by tarfile's data filter ({exc}).") from exc
        return target
    except BaseException as exc:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        elif target.is_dir():
            for item in target.iterdir():
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item)
                else:
                    item.unlink()
        if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, DownloadError):
            raise DownloadError(
                f"{label}: extracting into {target} failed ({exc}); nothing was kept. Free some space or fix "
                "the folder's permissions, and try again."
            ) from exc
        if isinstance(exc, _CORRUPT) and not isinstance(exc, DownloadError):
            raise DownloadError(
                f"{label}: cannot be extracted, the archive is corrupt or truncated ({type(exc).__name__}: {exc}); "
                "nothing was kept. Download it again."
            ) from exc
        raise


def _is_empty(folder: Path) -> bool:
    return not any(not p.name.startswith(_TMP_PREFIX) for p in folder.iterdir())


def download_dataset(
    name: str,
    root: str | Path,
    *,
    url: str | None = None,
    sha256: str | None = None,
    mirror: str | None = None,
    progress: bool = True,
) -> Path:
    """Download dataset ``name``'s pinned archive and unpack it into ``root``.

    The archive is streamed into a temporary folder beside ``root`` (in its parent, so on
    the same disk), checked against its SHA-256, extracted safely (see
    :func:`safe_extract`) there, and its content (without the archive's top folder) renamed
    into place as ``root`` in one step: a failure at any point leaves no ``root`` (or the
    empty one that was there), never a half-filled one. ``root`` must be empty or not
    exist: existing files are never overwritten. Temporary folders that an interrupted
    earlier download of the same ``root`` left behind are removed.

    Args:
        name (str): ``"fsdd"``, ``"speechcommands"`` or ``"esc50"``.
        root (str | Path): the folder to fill.
        url (str | None, default None): fetch from here instead (see also ``mirror``).
        sha256 (str | None, default None): expected SHA-256; None uses the pinned one.
            Required for ``"esc50"``, whose publisher gives none.
        mirror (str | None, default None): base URL holding the archive under its
            :attr:`ArchiveSpec.filename`; None reads ``$APAC_LAB_MIRROR``.
        progress (bool, default True): show a progress bar.

    Returns:
        Path: ``root``.

    Raises:
        ValueError: unknown dataset name.
        DownloadError: no hash to check against, ``root`` not empty, the transfer failed,
            the SHA-256 did not match, the archive is corrupt, or it could not be moved
            into place.
        UnsafeArchiveError: the archive would write outside ``root``, or is a zip bomb.

    Example (downloads about 16 MB)::

        download_dataset("fsdd", "~/data/fsdd")   # then load_fsdd("~/data/fsdd")
    """
    key, spec = _spec(name)
    expected = (sha256 or spec.sha256 or "").strip().lower()
    if not expected:
        raise DownloadError(
            f"{key}: no SHA-256 is pinned for {spec.url}, so the download cannot be verified. Compute the "
            f"hash of a copy you trust (sha256sum {spec.filename}) and pass it: "
            f"download_dataset({key!r}, root, sha256='...'), or download and unpack the archive yourself."
        )
    source = url or archive_url(key, mirror)
    root = Path(root).expanduser()
    if root.exists() and (not root.is_dir() or not _is_empty(root)):
        raise DownloadError(
            f"{root} already exists and is not an empty folder; apac_lab never overwrites your files. "
            f"Choose a new or empty folder for {key}, or remove this one."
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{_TMP_PREFIX}{root.name}-"
    leftovers = glob.glob(os.path.join(glob.escape(str(root.parent)), glob.escape(prefix) + "*"))
    leftovers += [str(p) for p in root.iterdir()] if root.is_dir() else []  # temp folders of older versions
    for leftover in leftovers:  # from an interrupted earlier run
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=root.parent))
    try:
        archive = download_file(source, tmp / spec.filename, sha256=expected, progress=progress, size=spec.size)
        unpacked = safe_extract(archive, tmp / "x", name=source)
        src = unpacked
        if spec.folder is not None:
            src = unpacked / spec.folder
            if not src.is_dir():
                raise DownloadError(
                    f"{source}: the archive has no top folder {spec.folder!r} "
                    f"(found {sorted(p.name for p in unpacked.iterdir())})."
                )
        try:
            if root.exists():
                root.rmdir()  # empty (checked above); not every OS renames onto a folder
            os.rename(src, root)
        except OSError as exc:
            raise DownloadError(
                f"moving the unpacked {key} from {src} into {root} failed ({exc}); nothing was left in {root}: "
                "check that you may write there, and try again."
            ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"[apac_lab] {key}: downloaded {source} into {root}")
    return root
