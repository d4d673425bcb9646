"""Reads decompressed once: what the QC pass reads is also written, as it is read, to a consumer.

`ReadFeed` gives a dnaio `opener` whose files copy every block they return into one pipe per
mate, and the pipes' read ends as `/dev/fd/N` paths for a child process (minimap2) to open. A
writer thread per pipe keeps the reader from waiting on the consumer block by block; its queue
is bounded, so a slow consumer slows the reader instead of filling memory. The two queues hold
far more than the reader can run ahead on one mate (a block or two, since dnaio reads both
files record by record), so a consumer that reads the mates in step can never wait on one
pipe while the reader waits on the other.
"""

from __future__ import annotations

import io
import os
import queue
import threading
from pathlib import Path

from xopen import xopen

_QUEUE_BLOCKS = 256  # dnaio reads 128 KiB blocks: at most 32 MiB waiting per mate
_END = None


class _Pipe:
    """One mate's pipe: blocks queued by the reader, written by a thread; errors kept, not raised."""

    def __init__(self) -> None:
        self.read_fd, self._write_fd = os.pipe()
        self._read_open = True
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUE_BLOCKS)
        self.error: OSError | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (block := self._queue.get()) is not _END:
                view = memoryview(block)
                while view and not self._stopped.is_set():
                    view = view[os.write(self._write_fd, view) :]
        except OSError as exc:  # the consumer ended early (a broken pipe): the reader goes on alone
            self.error = exc
            self._stopped.set()
        finally:
            os.close(self._write_fd)

    def put(self, block: bytes) -> None:
        while not self._stopped.is_set():
            try:
                self._queue.put(block, timeout=0.5)
                return
            except queue.Full:
                continue

    def end(self) -> None:
        """No more blocks: the consumer sees end of file once the queued ones are written."""
        self.put(_END)  # type: ignore[arg-type]  # the thread's stop marker
        self._thread.join()

    def close_read(self) -> None:
        if self._read_open:
            self._read_open = False
            os.close(self.read_fd)

    def stop(self) -> None:
        """Drop what is queued and close the pipe (the consumer is being stopped)."""
        self._stopped.set()
        self.close_read()  # a write blocked on a full pipe now fails instead of waiting
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_END)
        self._thread.join()


class _TeeFile(io.RawIOBase):
    """A decompressing reader that hands a copy of each block it returns to `pipe`."""

    def __init__(self, path: str | os.PathLike, pipe: _Pipe):
        self._raw = xopen(path, "rb", threads=0)
        self._pipe = pipe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]  # xopen's readers have it
        if n:
            self._pipe.put(bytes(memoryview(buffer)[:n]))
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class ReadFeed:
    """Two pipes fed by the files a dnaio reader opens through `opener` (R1 first, then R2)."""

    def __init__(self) -> None:
        self._pipes = (_Pipe(), _Pipe())
        self._opened = 0
        self._lock = threading.Lock()

    @property
    def fds(self) -> tuple[int, int]:
        return self._pipes[0].read_fd, self._pipes[1].read_fd

    @property
    def paths(self) -> tuple[Path, Path]:
        """What the consumer opens (inherit `fds` into it)."""
        return Path(f"/dev/fd/{self.fds[0]}"), Path(f"/dev/fd/{self.fds[1]}")

    def consumer_started(self) -> None:
        """The child holds its own copies of the read ends: ours would keep the pipes from closing."""
        for pipe in self._pipes:
            pipe.close_read()

    def opener(self, path, mode: str = "rb") -> _TeeFile:
        if "r" not in mode:
            raise ValueError("a read feed only reads")
        with self._lock:
            if self._opened >= 2:
                raise RuntimeError("a read feed serves one pair of files")
            pipe = self._pipes[self._opened]
            self._opened += 1
        return _TeeFile(path, pipe)

    def end(self) -> None:
        """Every read was passed on: close the pipes once the consumer has taken what is queued."""
        for pipe in self._pipes:
            pipe.end()

    def stop(self) -> None:
        for pipe in self._pipes:
            pipe.stop()

    @property
    def error(self) -> OSError | None:
        return self._pipes[0].error or self._pipes[1].error
