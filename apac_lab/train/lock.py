"""One writer per run folder: a lock file, ``OUT/.lock``, naming the process that holds it.

Two runs pointed at the same folder would interleave their checkpoints. :class:`RunLock`
creates ``.lock`` atomically (``O_CREAT | O_EXCL``) with the holder's process id, host and
start time, and removes it when the run ends. A second run refuses with
:class:`RunFolderBusy`, naming the holder. A lock left by a process that no longer runs
(killed with ``kill -9``, say) on this host is taken over, with a notice; a lock from
another host (a shared disk) is never taken over.

The lock is re-entrant within a process: :func:`apac_lab.train.run` holds it for the whole
run and :func:`apac_lab.train.fit` inside it takes it again.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

__all__ = ["RunLock", "RunFolderBusy"]

LOCK_NAME = ".lock"
_HELD: dict[str, int] = {}  # resolved lock path -> depth, in this process


class RunFolderBusy(RuntimeError):
    """Another process holds the run folder's lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True
    return True


class RunLock:
    """Hold ``folder/.lock`` while a run writes into ``folder`` (created if need be).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with RunLock(folder):
    ...     (folder / ".lock").is_file()
    True
    >>> (folder / ".lock").exists()
    False
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME

    def _key(self) -> str:
        return str(self.path.resolve())

    def acquire(self) -> "RunLock":
        key = self._key()
        if _HELD.get(key):
            _HELD[key] += 1
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                "command": " ".join(sys.argv)[:300]}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._refuse_or_clear()
                continue
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(info) + "\n")
            _HELD[key] = 1
            return self
        raise RunFolderBusy(f"{self.folder} is locked ({self.path}) and the lock keeps coming back; "
                            "give another --out")

    def _refuse_or_clear(self) -> None:
        try:
            holder = json.loads(self.path.read_text() or "{}")
        except (OSError, json.JSONDecodeError):
            holder = {}
        pid, host = holder.get("pid"), holder.get("host")
        here = host == socket.gethostname()
        if isinstance(pid, int) and here and (pid == os.getpid() or not _alive(pid)):
            print(f"[apac_lab] {self.folder}: taking over the lock of process {pid}, which no longer runs",
                  file=sys.stderr)
            self.path.unlink(missing_ok=True)
            return
        who = f"process {pid} on {host}" if pid else "another process"
        since = f" since {holder['started']}" if holder.get("started") else ""
        raise RunFolderBusy(f"{self.folder} is in use by {who}{since} ({self.path}): wait for that run to end, or "
                            f"give another --out; if no such process runs, delete {self.path}")

    def release(self) -> None:
        key = self._key()
        depth = _HELD.get(key, 0)
        if depth > 1:
            _HELD[key] = depth - 1
            return
        _HELD.pop(key, None)
        if depth:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
