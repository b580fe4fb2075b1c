"""Benchmark harness: `python -m bench [--json] [NAME ...]`.

Every module `bench/<name>.py` (not starting with `_`) that defines `run(quick: bool) -> dict`
is a benchmark named `<name>`; it returns figures named `<name>.<figure>` and prints
human-readable lines as it goes. Baselines are measured inside the same `run`, so ratios
compare like with like on whatever machine this is.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import pkgutil
import platform
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def machine() -> str:
    import os

    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    available = discover()
    names = args.names or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available)}",
              file=sys.stderr)
        return 2
    figures: dict[str, float] = {}
    out = sys.stderr if args.json else sys.stdout
    print(f"# machine: {machine()}", file=out)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        result = module.run(args.quick, out)
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        figures.update(result)
        print(f"# {name}: {time.perf_counter() - started:.1f} s", file=out)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for key in sorted(figures):
            print(f"{key} = {figures[key]:.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
