"""What hostile files cost bpviz before they are refused: wall time and peak RSS of a fresh
process that tries each one, over interleaved runs.

    python benchmarks/limits_bench.py [--runs 3] [--gib 3]

Cases: an IDX .gz that unpacks to GIB GiB with a header declaring 10 images, another whose
header declares MNIST's 60000 images (read with the published size as the bound), a session with an unused GIB GiB member, and a session claiming 10^8
steps. The files are made once (deflated zeros, a few MB each) in a temporary folder.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import zipfile
import zlib

import numpy as np

MIB = 1 << 20

CASES = {
    "idx bomb": "from bpviz.data.idx import read_images as f; arg = BOMB",
    "idx bomb declaring 60000 images": "from bpviz.data.idx import read_hashed; f = lambda p: read_hashed(p, 47040016); arg = BOMB60K",
    "session, unused huge member": "from bpviz.engine.session import load_session as f; arg = PADDED",
    "session claiming 10^8 steps": "from bpviz.engine.session import load_session as f; arg = LONG",
}


def _zeros_into(write, n: int) -> None:
    block = bytes(MIB)
    for _ in range(n // MIB):
        write(block)


def make_files(folder: str, gib: int) -> dict[str, str]:
    bombs = {}
    for key, n in (("BOMB", 10), ("BOMB60K", 60000)):
        bombs[key] = os.path.join(folder, f"{key}-images-idx3-ubyte.gz")
        comp = zlib.compressobj(6, zlib.DEFLATED, 31)
        with open(bombs[key], "wb") as f:
            f.write(comp.compress(struct.pack(">I3I", 2051, n, 28, 28)))
            _zeros_into(lambda b: f.write(comp.compress(b)), gib << 30)
            f.write(comp.flush())

    from bpviz.engine.config import NetConfig
    from bpviz.engine.dataset import ArraySet
    from bpviz.engine.session import save_session
    from bpviz.engine.trainer import Trainer
    rng = np.random.default_rng(0)
    t = Trainer(NetConfig((3, 4, 2), output_loss="softmax-ce"), ArraySet(rng.normal(size=(6, 3)),
                                                                          labels=rng.integers(0, 2, 6), n_classes=2))
    t.run_steps(2)
    padded = os.path.join(folder, "padded.bpviz")
    save_session(padded, t, "d", "id")

    def add(path, name, shape, n_bytes):
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": shape})
        with zipfile.ZipFile(path, "a") as zf:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as out:
                out.write(head.getvalue())
                _zeros_into(out.write, n_bytes)

    add(padded, "padding.npy", ((gib << 30) // 8,), gib << 30)

    long = os.path.join(folder, "long.bpviz")
    with np.load(padded) as z:
        arrays = {k: z[k] for k in z.files if k not in ("padding", "losses")}
    header = json.loads(str(arrays["header"]))
    header["state"] = {"steps_done": 10**8, "epoch": 0, "batch": 10**8, "stage_index": 0}
    arrays["header"] = np.asarray(json.dumps(header))
    arrays["epoch_losses"] = np.zeros(0)
    with open(long, "wb") as f:
        np.savez(f, **arrays)
    add(long, "losses.npy", (10**8,), 8 * 10**8)
    return {**bombs, "PADDED": padded, "LONG": long}


def run_case(code: str, files: dict[str, str]) -> tuple[float, float, str]:
    script = textwrap.dedent(f"""
        import resource, time
        {code.split("arg = ")[0]}arg = {files[code.split("arg = ")[1]]!r}
        t0 = time.perf_counter()
        try:
            f(arg)
            outcome = "ACCEPTED"
        except Exception as e:
            outcome = type(e).__name__ + ": " + str(e)[-70:]
        print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, outcome, sep="\\t")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seconds, rss, outcome = r.stdout.strip().split("\t", 2)
    return float(seconds), float(rss), outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gib", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(folder, args.gib)
        sizes = {k: os.path.getsize(v) for k, v in files.items()}
        print(f"files: idx bomb {sizes['BOMB'] / MIB:.1f} MiB, padded session {sizes['PADDED'] / MIB:.1f} MiB, "
              f"long session {sizes['LONG'] / MIB:.1f} MiB ({args.gib} GiB unpacked)")
        results = {name: [] for name in CASES}
        outcomes = {}
        for _ in range(args.runs):  # interleaved: a busy moment hits every case alike
            for name, code in CASES.items():
                seconds, rss, outcome = run_case(code, files)
                results[name].append((seconds, rss))
                outcomes[name] = outcome
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.runs} runs each")
    print(f"{'case':32} {'seconds min/median/max':>26} {'peak RSS MiB min/median/max':>30}  outcome")
    for name, rows in results.items():
        secs, rss = [r[0] for r in rows], [r[1] for r in rows]
        print(f"{name:32} {min(secs):8.3f} {statistics.median(secs):8.3f} {max(secs):8.3f} "
              f"{min(rss):9.1f} {statistics.median(rss):9.1f} {max(rss):9.1f}  {outcomes[name]}")


if __name__ == "__main__":
    main()
