"""bench/plots.py draws the benchmarks' pictures again from their JSON, without measuring anything."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
MACHINE = {"cpu": "test CPU", "cores": 2, "date": "2026-12-07"}


def _plots(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "plots.py"), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_each_known_result_gets_a_png_beside_it_and_others_are_skipped(tmp_path):
    results = {
        "bench.json": {  # kogata bench --out: speed against size
            "machine": MACHINE,
            "models": [
                {"model": "a", "charts": [{"chars": 743, "median_s": 0.1}, {"chars": 1495, "median_s": 7.7}]},
                {"model": "b", "charts": [{"chars": 743, "median_s": 0.1}, {"chars": 1495, "median_s": None}]},
                {"model": "c", "error": "failed"},
            ],
        },
        "asr_real.json": {  # bench/asr_real.py: per source
            "machine": MACHINE,
            "label": "quiet",
            "ways": {"default": {"per_source": {"cv": 0.2, "fleurs": 0.4}}, "base": {"per_source": {"cv": 0.3}}},
        },
        "karte_eval.json": {"machine": MACHINE, "summary": {"recall_by_kind": {"vital": 0.81, "negative": 0.62}}},
        "other.json": {"rows": [1, 2, 3]},
    }
    for name, data in results.items():
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    done = _plots(*sorted(tmp_path.glob("*.json")))
    assert done.returncode == 0, done.stderr
    for name in ("bench", "asr_real", "karte_eval"):
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 5_000, name
    assert not (tmp_path / "other.png").exists() and "other.json: no plot" in done.stdout
    assert "broken.json: cannot read" in done.stderr
    assert not list(tmp_path.glob(".*.tmp.png"))  # written atomically, nothing left behind


def test_out_dir_puts_the_pictures_elsewhere(tmp_path):
    source = tmp_path / "asr_real.json"
    source.write_text(json.dumps({"ways": {"w": {"per_source": {"cv": 0.2}}}}), encoding="utf-8")
    done = _plots(source, "--out-dir", tmp_path / "docs")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "docs" / "asr_real.png").read_bytes()[:8] == PNG
    assert not (tmp_path / "asr_real.png").exists()
