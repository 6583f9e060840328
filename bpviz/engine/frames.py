"""Snapshots from the training process to the window, without the window waiting.

A snapshot of 784-128-10 carries 2-4 MB of arrays. Through the pipe alone, the window's
read waits for the child to be scheduled again every time the socket's buffer (~200 KB)
fills: on a busy machine a read took 4-25 ms of the GUI thread. So the arrays' data
(pickle protocol 5 out-of-band buffers) goes into one of a few shared-memory slots, a
file in /dev/shm mapped by both processes, and the pipe carries only the pickle's small
header and where the data lies. The window copies the data out at once (one memcpy,
about 0.3 ms a MB), so what it keeps never changes under it, and frees the slot by
clearing the slot's first byte. A slot that is still busy, or a small message, travels
through the pipe as before.

Each slot's file is unlinked by the window as soon as it has mapped it, so nothing is
left behind once both processes end; files of a child that died before that are removed
by the next child (their names carry its process id).

The loss series (up to 2^18 points, 2 MB, in every frame of a long run) only grow at the
end: TailWriter sends a snapshot's series as the points the window has not had yet, and
TailReader appends them to its own copy (bpviz.engine.series.Series makes the same
promise: a view's cells are never written again).
"""
from __future__ import annotations

import mmap
import os
import pickle
import tempfile

import numpy as np

SLOTS = 3  # snapshots in flight: one being read, one written, one spare
# smaller messages go through the pipe; a larger one there (a toy snapshot with its 180 kB of
# per-layer figures) fills the socket's ~200 kB buffer and the child waits for the window to read
INLINE_BELOW = 32 * 1024
HEADER = 64  # bytes at a slot's start: byte 0 is 1 while the window has not copied the data yet
PREFIX = "bpviz-frame-"


def _folder() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: str | None = None) -> int:
    """Remove slot files whose training process has died (a crash before the window mapped
    them); returns how many went."""
    folder = folder or _folder()
    gone = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if not name.startswith(PREFIX):
            continue
        try:
            pid = int(name[len(PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if not _alive(pid):
            try:
                os.unlink(os.path.join(folder, name))
                gone += 1
            except OSError:
                pass
    return gone


class _Slot:
    __slots__ = ("path", "map", "size")

    def __init__(self, path: str, mapping: mmap.mmap, size: int):
        self.path, self.map, self.size = path, mapping, size


class FrameWriter:
    """The training process's side: `send(conn, obj)`."""

    def __init__(self, slots: int = SLOTS, inline_below: int = INLINE_BELOW, folder: str | None = None):
        self.folder = folder or _folder()
        self.inline_below = inline_below
        self._slots: list[_Slot | None] = [None] * slots
        self._serial = 0
        remove_stale(self.folder)

    def _make(self, size: int) -> _Slot:
        self._serial += 1
        fd, path = tempfile.mkstemp(prefix=f"{PREFIX}{os.getpid()}-{self._serial}-", dir=self.folder)
        try:
            # reserve the pages now: writing into a mapping of a full tmpfs would kill the
            # process (SIGBUS) where this raises, and the message goes through the pipe instead
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fd, 0, size)
            else:
                os.ftruncate(fd, size)
            mapping = mmap.mmap(fd, size)
        except OSError:
            os.unlink(path)
            raise
        finally:
            os.close(fd)
        return _Slot(path, mapping, size)

    def _free_slot(self, need: int) -> int | None:
        for i, slot in enumerate(self._slots):
            if slot is not None and slot.map[0] != 0:
                continue  # the window has not copied this one yet
            if slot is None or slot.size < need:
                if slot is not None:
                    self._drop(slot)
                    self._slots[i] = None
                try:
                    self._slots[i] = self._make(max(need * 2, 4 * 2**20))  # room to grow without a new file each time
                except OSError:  # no room in the shared-memory folder: the pipe still works
                    return None
            return i
        return None

    @staticmethod
    def _drop(slot: _Slot) -> None:
        slot.map.close()
        try:
            os.unlink(slot.path)  # usually the window has already
        except FileNotFoundError:
            pass

    def send(self, conn, obj) -> None:
        buffers: list = []
        header = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
        spans, at = [], HEADER
        for r in raws:
            spans.append((at, r.nbytes))
            at += (r.nbytes + 63) // 64 * 64  # each buffer 64-byte aligned, as numpy likes
        i = self._free_slot(at) if sum(r.nbytes for r in raws) >= self.inline_below else None
        if i is None:
            conn.send_bytes(pickle.dumps((header, None, len(raws)), protocol=5))
            for r in raws:
                conn.send_bytes(r)
            return
        slot = self._slots[i]
        for (offset, n), r in zip(spans, raws):
            slot.map[offset:offset + n] = r
        slot.map[0] = 1  # the window clears it once the data is copied out
        conn.send_bytes(pickle.dumps((header, (i, slot.path, spans), 0), protocol=5))

    def close(self) -> None:
        for slot in self._slots:
            if slot is not None:
                self._drop(slot)
        self._slots = [None] * len(self._slots)


class FrameReader:
    """The window's side: `recv(conn)` returns what the writer sent."""

    def __init__(self):
        self._maps: dict[int, tuple[str, mmap.mmap]] = {}  # slot -> (path, mapping)

    def _map(self, slot: int, path: str) -> mmap.mmap:
        known = self._maps.get(slot)
        if known is not None and known[0] == path:
            return known[1]
        if known is not None:
            known[1].close()  # the writer replaced this slot with a larger file
        fd = os.open(path, os.O_RDWR)
        try:
            mapping = mmap.mmap(fd, 0)
        finally:
            os.close(fd)
        try:
            os.unlink(path)  # mapped on both sides now: nothing to clean up when they end
        except FileNotFoundError:
            pass
        self._maps[slot] = (path, mapping)
        return mapping

    def recv(self, conn):
        header, ref, n_inline = pickle.loads(conn.recv_bytes())
        if ref is None:
            buffers = [conn.recv_bytes() for _ in range(n_inline)]  # bytes: arrays on them are read-only
        else:
            slot, path, spans = ref
            m = self._map(slot, path)
            buffers = [m[offset:offset + n] for offset, n in spans]  # bytes copies: the slot may be reused
            m[0] = 0
        return pickle.loads(header, buffers=buffers)

    def close(self) -> None:
        for _, mapping in self._maps.values():
            mapping.close()
        self._maps.clear()


TAIL_FIELDS = ("losses", "epoch_losses")  # a Snapshot's append-only series


class TailWriter:
    """The training process's side: `encode(message)` before FrameWriter.send."""

    def __init__(self):
        # field -> (the buffer last sent a view of, points sent); holding the buffer keeps a
        # new series from ever being allocated at its address and taken for it
        self._sent: dict[str, tuple] = {}

    def encode(self, message):
        from .snapshot import Snapshot
        kind, args = message
        if kind != "snapshot" or len(args) != 1 or not isinstance(args[0], Snapshot):
            return message
        snap = args[0]
        tails, fields = {}, {k: getattr(snap, k) for k in Snapshot.__slots__}
        for name in TAIL_FIELDS:
            a = fields[name]
            if a is None:
                continue
            if name != TAIL_FIELDS[0] and a is snap.losses:  # one batch an epoch: the run shares one view
                tails[name] = TAIL_FIELDS[0]
                fields[name] = None
                continue
            base = a if a.base is None else a.base
            sent = self._sent.get(name)
            # the same buffer, no shorter and viewed from its start: what was sent is unchanged
            start = sent[1] if sent is not None and sent[0] is base and sent[1] <= len(a) \
                and a.__array_interface__["data"][0] == base.__array_interface__["data"][0] else 0
            tails[name] = (start, a[start:])  # (new points,)
            self._sent[name] = (base, len(a))
            fields[name] = None
        return kind, (Snapshot(**fields), tails)


class TailReader:
    """The window's side: `decode(message)` after FrameReader.recv. A series' points live in a
    buffer with room to grow; each snapshot gets a read-only view of its first n cells, and
    later points are written past every view's end (a full buffer is replaced, not moved)."""

    def __init__(self):
        self._series: dict[str, tuple] = {}  # field -> (buffer, points)

    def _extend(self, name: str, start: int, tail) -> np.ndarray:
        tail = np.asarray(tail, dtype=np.float64)  # (new,)
        buf, n = self._series.get(name, (None, 0))
        if buf is None or start != n:
            if start != 0:
                raise ValueError(f"the {name} series continues at point {start}, but the window has {n}")
            buf, n = np.empty(max(64, 2 * len(tail))), 0  # (capacity,)
        if n + len(tail) > len(buf):
            grown = np.empty(2 * (n + len(tail)))  # (capacity,): views keep the old buffer
            grown[:n] = buf[:n]
            buf = grown
        buf[n:n + len(tail)] = tail
        n += len(tail)
        self._series[name] = (buf, n)
        view = buf[:n]  # (points,)
        view.flags.writeable = False
        return view

    def decode(self, message):
        kind, args = message
        if kind != "snapshot" or len(args) != 2 or not isinstance(args[1], dict):
            return message
        from .snapshot import Snapshot
        snap, tails = args
        fields = {k: getattr(snap, k) for k in Snapshot.__slots__}
        for name, tail in tails.items():
            fields[name] = fields[tail] if isinstance(tail, str) else self._extend(name, *tail)
        return kind, (Snapshot(**fields),)
