"""Knowledge packs on disk: `$KOGATA_HOME/knowledge/PACK/`.

    manifest.json   the files in the pack (sha256, chunk count, when added) and the pack's totals
    chunks.jsonl    one passage per line: text, where it came from, its BM25 terms
    vectors.npy     e5 passage embeddings, one row per line of chunks.jsonl
    glossary.tsv    the pack's glossary entries (term, reading, synonyms, category);
                    glossary.files.json says which file each row came from

Adding a file whose sha256 is already in the manifest skips it; a changed file replaces its passages; only new
passages are embedded. Every file is written to a temporary name and renamed into place, the manifest last,
and loading checks that the three agree, so an interrupted add leaves the previous pack or a clear error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kogata.engine.embed import EMBEDDING_DIM, EMBEDDING_MODEL, embed
from kogata.errors import InputError, KogataError
from kogata.home import home
from kogata.ja.glossary import COLUMNS, Entry, Glossary, parse_glossary
from kogata.knowledge.chunk import Chunk
from kogata.knowledge.ingest import SUFFIXES, file_hash, is_glossary, read_document, read_glossary
from kogata.knowledge.terms import terms

FORMAT_VERSION = 1
EMBED_BATCH = 16
_PACK_NAME = re.compile(r"^[^\s/\\.][^/\\]{0,63}$")


def packs_root() -> Path:
    return home() / "knowledge"


def pack_dir(name: str) -> Path:
    if not _PACK_NAME.match(name) or name.strip() != name:
        raise InputError(
            f"pack name {name!r} is not usable: 1–64 characters, no slashes, not starting with '.' or a space"
        )
    return packs_root() / name


@dataclass
class Passage:
    """A chunk as stored in a pack: the chunk, the file it came from (manifest key) and its BM25 terms."""

    id: int
    chunk: Chunk
    file: str
    terms: list[str]

    def to_json(self) -> str:
        return json.dumps({"file": self.file, **self.chunk.to_dict(), "terms": self.terms}, ensure_ascii=False)


@dataclass
class Pack:
    name: str
    files: dict[str, dict] = field(default_factory=dict)  # manifest key (resolved path) → record
    passages: list[Passage] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, EMBEDDING_DIM), dtype=np.float32))
    glossary: Glossary = field(default_factory=Glossary)
    created: str = ""

    @property
    def path(self) -> Path:
        return pack_dir(self.name)

    def summary(self) -> dict:
        return {
            "pack": self.name,
            "files": len(self.files),
            "passages": len(self.passages),
            "glossary_terms": len(self.glossary),
            "created": self.created,
            "path": str(self.path),
        }


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    passages: int = 0  # passages in the pack afterwards
    new_passages: int = 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exists(name: str) -> bool:
    return (pack_dir(name) / "manifest.json").is_file()


def list_packs() -> list[dict]:
    root = packs_root()
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        manifest = d / "manifest.json"
        if manifest.is_file():
            try:
                m = json.loads(manifest.read_text(encoding="utf-8"))
                out.append(
                    {
                        "pack": d.name,
                        "files": len(m.get("files", {})),
                        "passages": m.get("passages", 0),
                        "glossary_terms": m.get("glossary_terms", 0),
                        "updated": m.get("updated", ""),
                    }
                )
            except (OSError, json.JSONDecodeError):
                out.append({"pack": d.name, "error": "unreadable manifest"})
    return out


def load(name: str) -> Pack:
    d = pack_dir(name)
    manifest_path = d / "manifest.json"
    if not manifest_path.is_file():
        known = ", ".join(p["pack"] for p in list_packs()) or "none yet"
        raise InputError(
            f"no knowledge pack named {name!r} (known: {known}); create it with `kogata knowledge add {name} FILE…`"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        passages = []
        with (d / "chunks.jsonl").open(encoding="utf-8") as f:
            for i, line in enumerate(f):
                row = json.loads(line)
                chunk = Chunk(row["text"], row["source"], row["title"], row["section"], row["caption"], row["page"])
                passages.append(Passage(i, chunk, row["file"], row["terms"]))
        vectors = np.load(d / "vectors.npy") if passages else np.empty((0, EMBEDDING_DIM), dtype=np.float32)
        entries = [e for _, e in _glossary_rows(d)]
    except (OSError, ValueError, KeyError) as e:
        raise KogataError(f"knowledge pack {name!r} is damaged ({e}); remove it and add the files again") from None
    if manifest.get("version") != FORMAT_VERSION or manifest.get("embedding") != EMBEDDING_MODEL:
        raise KogataError(f"knowledge pack {name!r} was built by another kogata version; remove it and add again")
    if not (manifest.get("passages") == len(passages) == vectors.shape[0]):
        raise KogataError(
            f"knowledge pack {name!r} is inconsistent (an add was interrupted?): manifest "
            f"{manifest.get('passages')} passages, chunks {len(passages)}, vectors {vectors.shape[0]}; "
            f"remove it and add the files again"
        )
    return Pack(name, manifest["files"], passages, vectors, Glossary(entries), manifest.get("created", ""))


def _open_or_new(name: str) -> Pack:
    return load(name) if exists(name) else Pack(name, created=_now())


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files to add: the paths given, folders searched for readable files (sorted), nothing twice."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith(".")
            )
            if not found:
                raise InputError(f"folder {p} has no files kogata reads ({', '.join(SUFFIXES)})")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"no such file or folder: {p}")
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def add(name: str, paths: Sequence[str | Path], *, progress: bool = True, max_chars: int | None = None) -> AddResult:
    """Add or update files in pack `name` (created if new). Unchanged files are skipped."""
    from tqdm import tqdm

    files = expand_paths(paths)  # bad paths fail before anything is read or written
    pack = _open_or_new(name)
    result = AddResult()
    replaced: set[str] = set()
    new_chunks: list[tuple[str, Chunk]] = []
    new_glossary: dict[str, list[Entry]] = {}
    records: dict[str, dict] = {}
    for path in tqdm(files, desc="reading", unit="file", disable=not progress or len(files) < 2, leave=False):
        key = str(path.resolve())
        digest = file_hash(path)
        old = pack.files.get(key)
        if old and old["sha256"] == digest:
            result.skipped.append(path.name)
            continue
        if is_glossary(path):
            new_glossary[key] = read_glossary(path)
            count = len(new_glossary[key])
        else:
            document = read_document(path)
            chunks = document.chunks(max_chars) if max_chars else document.chunks()
            new_chunks += [(key, c) for c in chunks]
            count = len(chunks)
        (result.updated if old else result.added).append(path.name)
        if old:
            replaced.add(key)
        records[key] = {
            "name": path.name,
            "sha256": digest,
            "kind": "glossary" if is_glossary(path) else "document",
            "count": count,
            "added": _now(),
        }
    if not records:
        result.passages = len(pack.passages)
        return result

    kept = [p for p in pack.passages if p.file not in replaced]
    kept_vectors = pack.vectors[[p.id for p in kept]] if kept else np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    vectors = [kept_vectors]
    bar = tqdm(total=len(new_chunks), desc="embedding", unit="passage", disable=not progress or len(new_chunks) < 32)
    for start in range(0, len(new_chunks), EMBED_BATCH):
        batch = new_chunks[start : start + EMBED_BATCH]
        vectors.append(embed([c.context for _, c in batch], role="passage"))
        bar.update(len(batch))
    bar.close()
    passages = [Passage(i, p.chunk, p.file, p.terms) for i, p in enumerate(kept)]
    passages += [Passage(len(passages) + i, c, key, terms(c.context)) for i, (key, c) in enumerate(new_chunks)]
    pack.files.update(records)
    _write(pack, passages, np.concatenate(vectors).astype(np.float32), new_glossary, replaced)
    result.passages = len(passages)
    result.new_passages = len(new_chunks)
    return result


def _write(
    pack: Pack, passages: list[Passage], vectors: np.ndarray, new_glossary: dict[str, list[Entry]], replaced: set[str]
) -> None:
    d = pack.path
    d.mkdir(parents=True, exist_ok=True)
    # glossary.files.json names the file of each glossary row, so that updating one glossary file replaces
    # only its own entries.
    rows = [r for r in _glossary_rows(d) if r[0] not in replaced]
    rows += [(key, e) for key, entries in new_glossary.items() for e in entries]
    _atomic_write(d / "glossary.tsv", lambda f: f.write(_glossary_tsv(rows).encode("utf-8")))
    _atomic_write(
        d / "glossary.files.json",
        lambda f: f.write(json.dumps([k for k, _ in rows], ensure_ascii=False).encode("utf-8")),
    )
    _atomic_write(d / "chunks.jsonl", lambda f: f.write("".join(p.to_json() + "\n" for p in passages).encode("utf-8")))
    _atomic_write(d / "vectors.npy", lambda f: np.save(f, vectors))
    manifest = {
        "version": FORMAT_VERSION,
        "pack": pack.name,
        "embedding": EMBEDDING_MODEL,
        "created": pack.created or _now(),
        "updated": _now(),
        "passages": len(passages),
        "glossary_terms": len(rows),
        "files": pack.files,
    }
    _atomic_write(d / "manifest.json", lambda f: f.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode()))


def _glossary_rows(d: Path) -> list[tuple[str, Entry]]:
    tsv, keys = d / "glossary.tsv", d / "glossary.files.json"
    if not tsv.is_file() or not keys.is_file():
        return []
    text = tsv.read_text(encoding="utf-8")
    entries = parse_glossary(text, name=str(tsv)) if len(text.splitlines()) > 1 else []
    return list(zip(json.loads(keys.read_text(encoding="utf-8")), entries))


def _glossary_tsv(rows: list[tuple[str, Entry]]) -> str:
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join((e.term, e.reading, "|".join(e.synonyms), e.category)) for _, e in rows]
    return "\n".join(lines) + "\n"


def remove(name: str) -> None:
    d = pack_dir(name)
    if not (d / "manifest.json").is_file():
        raise InputError(f"no knowledge pack named {name!r}")
    shutil.rmtree(d)
