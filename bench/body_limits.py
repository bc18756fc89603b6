"""Bounded decompression: a 1 MB gzip bomb (1 GiB inflated), whole-body inflation vs the service.

Baseline, in the same run: `gzip.decompress(body)` (what the OTLP receiver did before), which
inflates the whole GiB. Measured: `graph_service.api.guards.Inflater` fed in 64 KiB chunks, as
the middleware feeds it, stopping at the body limit (64 MiB by default) with a 413. Each runs in
its own child process so its peak RSS is its own.

    python bench/body_limits.py [--limit-mib 64]
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import time
import zlib

GIB = 1 << 30


def gzip_bomb(size: int = GIB) -> bytes:
    """`size` zeros as one valid gzip stream of about size/1000 bytes (repeated flushed block)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    end = comp.flush()
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return first + block * ((size >> 20) - 1) + end[:-8] + trailer


def _child(mode: str, limit: int) -> dict[str, float]:
    bomb = gzip_bomb()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    inflated = 0
    if mode == "whole":
        import gzip

        inflated = len(gzip.decompress(bomb))
    else:
        from graph_service.api.guards import Inflater
        from graph_service.errors import CallerError

        inflater = Inflater("gzip", limit)
        try:
            for i in range(0, len(bomb), 65536):
                inflated += len(inflater.feed(bomb[i : i + 65536]))
        except CallerError as e:
            assert e.status_code == 413
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"bomb_bytes": len(bomb), "inflated": inflated, "s": seconds, "peak_mb": peak - base}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit-mib", type=int, default=64)
    ap.add_argument("--child", choices=["whole", "bounded"])
    args = ap.parse_args()
    limit = args.limit_mib << 20
    if args.child:
        print(json.dumps(_child(args.child, limit)))
        return
    rows = {}
    for mode in ("whole", "bounded"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--limit-mib", str(args.limit_mib)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows[mode] = json.loads(out.stdout)
    w, b = rows["whole"], rows["bounded"]
    print(f"bomb: {w['bomb_bytes']:,} bytes gzip, {GIB:,} bytes inflated; limit {limit:,}")
    print("| path | inflated bytes | seconds | peak RSS growth (MB) |")
    print("| --- | --- | --- | --- |")
    print(f"| gzip.decompress (baseline) | {w['inflated']:,} | {w['s']:.2f} | {w['peak_mb']:.0f} |")
    print(f"| Inflater, 413 at limit | {b['inflated']:,} | {b['s']:.2f} | {b['peak_mb']:.0f} |")
    print(f"memory ratio baseline/bounded: {w['peak_mb'] / max(b['peak_mb'], 1):.1f}x")


if __name__ == "__main__":
    main()
