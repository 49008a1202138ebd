"""Train the chart reader (kogata.tasks.karte.reader) on the train writers of data/corpus: `make reader`.

Each utterance of a training visit is one example; its labels are the visit's `utterance_labels`
("id|section|assertion|about"). One softmax regression per judgement, fitted by full-batch gradient descent
(Adam) with L2, from a zero start: the same data gives the same weights. The weights go to
kogata/tasks/karte/data/reader.npz, written with fixed zip timestamps so the file's sha256 is a function of the
weights alone; reader.json beside it records that sha256, the training data's hash and the settings.

    python -m kogata.tune.reader --data data/corpus --split train
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kogata.tasks.karte import reader, vocabulary
from kogata.tasks.karte.reader import HEADS, Weights
from kogata.transcript import read_transcript

L2 = 0.03  # chosen on dev among 0.01-3 (README, chart section)
STEPS = 150
LEARNING_RATE = 0.05
CLASS_BALANCE = 0.5  # weights classes by (1/frequency)^this: a rare denial counts, without swamping the rest


@dataclass
class Visit:
    transcript: Path
    reference: dict


# The split is by writer (data/corpus/README.md); only these folders are ever opened, so the test writers' (e, f)
# files are never read here.
WRITERS = {"train": ("a", "b", "c", "g", "h", "i"), "dev": ("d", "j", "k", "l")}


def visits(data: Path, split: str) -> list[Visit]:
    """The visits of `split` in a folder of writer folders (data/corpus), in a fixed order."""
    found = []
    for writer in WRITERS[split]:
        for ref_path in sorted((Path(data) / writer).glob("*.json")):
            reference = json.loads(ref_path.read_text(encoding="utf-8"))
            if reference.get("split") != split:
                raise SystemExit(f"{ref_path} is not in split {split!r}: data/corpus/README.md names the writers")
            found.append(Visit(ref_path.with_suffix(".txt"), reference))
    return found


def data_hash(chosen: list[Visit]) -> str:
    """sha256 over each training file's name and bytes, in order: what the weights were trained on."""
    h = hashlib.sha256()
    for v in chosen:
        for path in (v.transcript, v.transcript.with_suffix(".json")):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def labels(reference: dict) -> dict[int, tuple[str, str, str]]:
    """utterance id → (section, assertion, about) from "id|section|assertion|about"."""
    out = {}
    for label in reference.get("utterance_labels", []):
        uid, section, assertion, about = label.split("|")
        out[int(uid)] = (section, assertion, about)
    return out


def examples(
    chosen: list[Visit], vectors: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Features and class indices of every labelled utterance of `chosen` (`vectors`: embeddings already computed,
    by transcript path)."""
    rows, targets = [], {head: [] for head in HEADS}
    for v in chosen:
        said = list(vocabulary.evidence(read_transcript(v.transcript)).said.values())
        known = labels(v.reference)
        x = reader.features(said, (vectors or {}).get(str(v.transcript)))
        for k, s in enumerate(said):
            if s.id not in known:
                continue
            rows.append(x[k])
            for head, value in zip(HEADS, known[s.id]):
                classes = HEADS[head]
                targets[head].append(classes.index(value) if value in classes else 0)
    return np.vstack(rows), {head: np.array(t, dtype=np.int64) for head, t in targets.items()}


def softmax_regression(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    *,
    l2: float = L2,
    steps: int = STEPS,
    learning_rate: float = LEARNING_RATE,
    class_balance: float = CLASS_BALANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """W, b minimising class-weighted cross-entropy + L2 by full-batch Adam from zero (deterministic)."""
    n, d = x.shape
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    class_weight = np.where(counts > 0, (n / np.maximum(counts, 1) / classes) ** class_balance, 0.0)
    sample_weight = class_weight[y] / class_weight[y].mean()
    onehot = np.eye(classes)[y]
    w, b = np.zeros((d, classes)), np.zeros(classes)
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    for step in range(1, steps + 1):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sample_weight[:, None] / n
        grads = [x.T @ g + l2 * w, g.sum(axis=0)]
        for k, (param, grad) in enumerate(zip((w, b), grads)):
            m[k] = 0.9 * m[k] + 0.1 * grad
            v[k] = 0.999 * v[k] + 0.001 * grad * grad
            param -= learning_rate * (m[k] / (1 - 0.9**step)) / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
    return w.astype(np.float32), b.astype(np.float32)


def fit(x: np.ndarray, y: dict[str, np.ndarray]) -> Weights:
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=0)
    scale = x64.std(axis=0) + 1e-6
    z = (x64 - mean) / scale
    heads = {head: softmax_regression(z, y[head], len(HEADS[head])) for head in HEADS}
    return Weights(heads=heads, mean=mean.astype(np.float32), scale=scale.astype(np.float32))


def npz_bytes(weights: Weights) -> bytes:
    """The weights as an .npz whose bytes depend on the weights only (fixed names, order and timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, array in sorted(weights.to_arrays().items()):
            data = io.BytesIO()
            np.save(data, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.getvalue())
    return buffer.getvalue()


def accuracy(weights: Weights, x: np.ndarray, y: dict[str, np.ndarray]) -> dict[str, float]:
    return {head: float((weights.probabilities(x, head).argmax(axis=1) == y[head]).mean()) for head in HEADS}


def train(data: Path, out_dir: Path, *, split: str = "train", dev_split: str | None = "dev") -> dict:
    """Fit on `split`, write reader.npz and reader.json into `out_dir`, and return the record."""
    start = time.perf_counter()
    chosen = visits(data, split)
    if not chosen:
        raise SystemExit(f"no visits of split {split!r} under {data}")
    x, y = examples(chosen)
    weights = fit(x, y)
    blob = npz_bytes(weights)
    record = {
        "sha256": hashlib.sha256(blob).hexdigest(),
        "training_data_sha256": data_hash(chosen),
        "training_data": f"{data} split={split}: {len(chosen)} visits, {len(x)} utterances",
        "settings": {"l2": L2, "steps": STEPS, "learning_rate": LEARNING_RATE, "class_balance": CLASS_BALANCE},
        "train_accuracy": accuracy(weights, x, y),
    }
    if dev_split and (dev := visits(data, dev_split)):
        dx, dy = examples(dev)
        record["dev_accuracy"] = accuracy(weights, dx, dy)
    record["seconds"] = round(time.perf_counter() - start, 1)
    write_artefact(out_dir, reader.WEIGHTS, blob, reader.RECORD, record)
    return record


def write_artefact(out_dir: Path, weights_name: str, blob: bytes, record_name: str, record: dict) -> None:
    """The weights' bytes and their record side by side, as kogata.tasks.karte.artefact reads them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / weights_name).write_bytes(blob)
    (out_dir / record_name).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/corpus")
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", default=str(Path(__file__).parents[1] / "tasks" / "karte" / "data"))
    args = parser.parse_args()
    record = train(Path(args.data), Path(args.out), split=args.split)
    print(json.dumps(record, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
