"""Recall@k of the knowledge memory's retrieval over the labelled queries.

    python benchmarks/memory_recall.py [--k 5] [--queries tests/data/memory_queries.yaml] [--json] [-v]

Opens a fresh memory (seed lessons only) in a temporary directory, runs every query with its
filters and metrics, and prints recall@k: for each query the fraction of its expected lessons
found in the top k, averaged over queries. It reports the queries used while the ranking was
tuned, the held-out ones (`heldout: true`) and all together, plus an ablation without the
metric-similarity term (text and confidence only). `-v` lists the misses on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kernelwright.memory import retrieval
from kernelwright.memory.store import MemoryStore

DEFAULT_QUERIES = Path(__file__).resolve().parent.parent / "tests" / "data" / "memory_queries.yaml"


def load_queries(path: Path = DEFAULT_QUERIES) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]


def recall_at_k(store: MemoryStore, queries: list[dict[str, Any]], k: int = 5) -> tuple[float, list[dict[str, Any]]]:
    """Mean per-query recall@k and one result record per query."""
    results = []
    for q in queries:
        hits = store.search(
            q.get("query", ""), arch=q.get("arch"), op_family=q.get("op_family"), dtype=q.get("dtype"),
            metrics=q.get("metrics"), k=k,
        )
        got = [h.lesson.id for h in hits]
        expected = list(q["expect"])
        found = [e for e in expected if e in got]
        results.append({"query": q.get("query", ""), "heldout": bool(q.get("heldout")), "expected": expected,
                        "got": got, "recall": len(found) / len(expected)})
    return sum(r["recall"] for r in results) / len(results), results


@contextlib.contextmanager
def without_metrics() -> Iterator[None]:
    """Rank without the metric-similarity term (the ablation)."""
    saved = retrieval.W_METRICS
    retrieval.W_METRICS = 0.0
    try:
        yield
    finally:
        retrieval.W_METRICS = saved


def measure(queries: list[dict[str, Any]], k: int) -> dict[str, Any]:
    splits = {
        "tuned": [q for q in queries if not q.get("heldout")],
        "heldout": [q for q in queries if q.get("heldout")],
        "all": queries,
    }
    out: dict[str, Any] = {"k": k}
    with tempfile.TemporaryDirectory() as home, MemoryStore.in_home(home) as store:
        out["lessons"] = store.count()
        for name, qs in splits.items():
            if qs:
                recall, results = recall_at_k(store, qs, k)
                out[name] = {"queries": len(qs), "recall": round(recall, 4)}
                if name == "all":
                    out["results"] = results
        with without_metrics():
            out["without_metrics_all"] = round(recall_at_k(store, queries, k)[0], 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    m = measure(load_queries(args.queries), args.k)
    if args.json:
        print(json.dumps(m, indent=2))
        return 0
    k = args.k
    print(f"recall@{k} = {m['all']['recall']:.3f} over {m['all']['queries']} queries ({m['lessons']} seed lessons)")
    for name in ("tuned", "heldout"):
        if name in m:
            print(f"  {name:8s} recall@{k} = {m[name]['recall']:.3f} over {m[name]['queries']} queries")
    print(f"  ablation without metric similarity, all queries: recall@{k} = {m['without_metrics_all']:.3f}")
    if args.verbose:
        for r in m["results"]:
            if r["recall"] < 1:
                print(f"  miss: {r['query']!r}: expected {r['expected']}, got {r['got']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
