"""Pictures of the benchmarks' JSON, drawn again from the files without measuring anything.

    .venv/bin/python bench/plots.py                      # every JSON under bench/out/ it knows, PNG beside each
    .venv/bin/python bench/plots.py bench/out/asr_real.json --out-dir docs

What it knows (by the JSON's shape):
- `kogata bench --out` ({"models": [{"model", "charts": [{"chars", "median_s"}]}]}): seconds per chart against
  transcript length, a scatter, one marker per model (kogata.bench.plot, which `kogata bench --plot` draws too);
- `bench/asr_real.py` ({"ways": {WAY: {"per_source": {SOURCE: CER}}}}): CER per source of speech, one marker per way;
- `kogata eval karte --out` ({"summary": {"recall_by_kind": {KIND: recall}}}): recall per kind of fact.
Anything else is named and skipped. Titles carry the machine, the date and the label the run was given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kogata.bench import plot as speed_plot  # noqa: E402

OUT = ROOT / "bench" / "out"
MARKERS = "os^Dv<>p"


def _about(data: dict) -> str:
    """Machine, date and label of a run, for a title."""
    m = data.get("machine") or {}
    parts = [
        m.get("cpu", ""),
        f"{m['cores']} cores" if m.get("cores") else "",
        m.get("date", ""),
        data.get("label", ""),
    ]
    return ", ".join(p for p in parts if p)


def categories(path: Path, series: dict[str, dict[str, float]], *, xlabel: str, title: str) -> None:
    """A dot plot: one row per category, one marker per series (a value is read on the axis, not as a bar)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({c for values in series.values() for c in values})
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.38 * len(names)))
    for i, (label, values) in enumerate(series.items()):
        points = [(values[c], n) for n, c in enumerate(names) if values.get(c) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(xs, ys, marker=MARKERS[i % len(MARKERS)], s=40, alpha=0.8, label=label, zorder=3)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", alpha=0.15)
    if len(series) > 1:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def _save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)


def plot_file(path: Path, out_dir: Path | None = None) -> Path | None:
    """Draw the picture of one JSON file; the PNG's path, or None when the shape is not one this file knows."""
    data = json.loads(path.read_text(encoding="utf-8"))
    png = (out_dir or path.parent) / path.with_suffix(".png").name
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("models"), list) and any("charts" in m for m in data["models"]):
        ok = [m for m in data["models"] if "error" not in m]
        speed_plot(ok, png, f"kogata karte: seconds per chart\n{_about(data)}")
        return png
    ways = data.get("ways")
    if isinstance(ways, dict) and all(isinstance(w, dict) and "per_source" in w for w in ways.values()):
        # "source (clips)" where the run lists its files (asr_real.py names a file SOURCE_…): few clips, wide error
        clips: dict[str, int] = {}
        for row in next(iter(ways.values()), {}).get("files", []) if ways else []:
            source = str(row.get("file", "")).split("_", 1)[0]
            clips[source] = clips.get(source, 0) + 1

        def named(source: str) -> str:
            return f"{source} ({clips[source]})" if source in clips else source

        series = {way: {named(s): 100 * cer for s, cer in w["per_source"].items()} for way, w in ways.items()}
        categories(png, series, xlabel="CER % (lower is better)", title=f"{path.name}: CER per source\n{_about(data)}")
        return png
    by_kind = (data.get("summary") or {}).get("recall_by_kind") if isinstance(data.get("summary"), dict) else None
    if isinstance(by_kind, dict) and by_kind:
        label = data.get("model") or data.get("label") or path.stem
        categories(
            png,
            {str(label): by_kind},
            xlabel="key-fact recall (higher is better)",
            title=f"{path.name}: recall per kind of fact\n{_about(data)}",
        )
        return png
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="JSON files (default: every *.json under bench/out)")
    ap.add_argument("--out-dir", type=Path, default=None, help="write the PNGs here instead of beside each JSON")
    args = ap.parse_args(argv)
    files = args.files or sorted(OUT.glob("*.json"))
    if not files:
        print(f"no JSON files under {OUT}", file=sys.stderr)
        return 1
    for path in files:
        try:
            png = plot_file(path, args.out_dir)
        except (OSError, json.JSONDecodeError) as e:
            print(f"{path}: cannot read ({e})", file=sys.stderr)
            continue
        print(f"{path} → {png}" if png else f"{path}: no plot for this kind of result (skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
