"""LoRA fine-tuning on the CPU: chat examples → a PEFT adapter → a GGUF LoRA in the adapter registry.

    from kogata.tune import TuneConfig, estimate, train
    print(estimate("data.jsonl", TuneConfig(base="small")).describe())     # a timed step, nothing saved
    result = train("data.jsonl", "mine", TuneConfig(base="small", epochs=2))  # → kogata adapters show mine

One example per step (no padding on a CPU), loss on the assistant's tokens only. The output layer, a
151,936 × hidden matrix in Qwen, is applied only where there is a label: a quarter of a 0.5B model's work
is that layer, and most tokens of a chat example are prompt. A run saves a checkpoint (LoRA weights,
optimizer, step) atomically every couple of minutes and when interrupted; `resume=True` continues it.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kogata.adapters import registry
from kogata.engine.registry import get_spec
from kogata.errors import InputError
from kogata.machine import peak_rss_mb
from kogata.tune.data import IGNORE, DataSummary, Tokenized, check_lengths, read_examples, sha256_file, summarize
from kogata.tune.data import tokenize as tokenize_example

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
CHECKPOINT_SECONDS = 120
_CHECKPOINT = "checkpoint.pt"


@dataclass
class TuneConfig:
    base: str | None = "qwen2.5-coder-0.5b"  # model name or alias (None: the default model)
    epochs: int = 1
    rank: int = 8
    alpha: float = 16.0
    lr: float = 2e-4
    max_tokens: int = 512
    targets: tuple[str, ...] = TARGETS
    seed: int = 0
    threads: int | None = None  # default: every core
    precision: str = "auto"  # "bf16" (needs AVX512-BF16 or AMX to be fast), "fp32", or "auto"
    checkpointing: bool = False  # recompute activations in the backward pass: slower, far less memory

    def check(self) -> None:
        for name, value, low in (
            ("epochs", self.epochs, 1),
            ("rank", self.rank, 1),
            ("max-tokens", self.max_tokens, 16),
        ):
            if value < low:
                raise InputError(f"--{name} must be at least {low}, got {value}")
        if not 0 < self.lr < 1:
            raise InputError(f"--lr must be between 0 and 1, got {self.lr}")
        if self.alpha <= 0:
            raise InputError(f"--alpha must be positive, got {self.alpha}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise InputError(f"precision must be auto, bf16 or fp32, got {self.precision!r}")

    def recipe(self) -> dict[str, Any]:
        """What decides the adapter's weights (a resumed run must match it); threads do not."""
        speed_only = ("threads", "checkpointing")
        return {k: v for k, v in asdict(self).items() if k not in speed_only} | {
            "targets": list(self.targets),
            "base": get_spec(self.base).name,
        }


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def memory_total_mb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError):
        return float("inf")


def _reset_peak_rss() -> None:
    """Start peak-memory measurement afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


@dataclass
class Prepared:
    """Base model with LoRA layers attached, and the tokenized data."""

    base: Any  # kogata.tune.base.Base
    model: Any  # peft.PeftModel
    items: list[Tokenized]
    summary: DataSummary
    data_path: Path
    data_sha256: str
    bf16: bool
    threads: int

    @property
    def trainable(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)


def prepare(data: str | Path, config: TuneConfig, *, progress: bool = True) -> Prepared:
    """Read and check the data first (bad lines fail in a second), then load the base and tokenize."""
    import torch
    from peft import LoraConfig, get_peft_model

    from kogata.tune.base import load_base

    config.check()
    examples = read_examples(data)
    spec = get_spec(config.base)
    threads = config.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    bf16 = config.precision == "bf16" or (config.precision == "auto" and cpu_has_bf16())
    base = load_base(spec, bf16=bf16, progress=progress)
    items = [tokenize_example(base.tokenizer, e) for e in examples]
    summary = summarize(items, config.max_tokens)
    check_lengths(summary, config.max_tokens, data)
    torch.manual_seed(config.seed)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        target_modules=list(config.targets),
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
    )
    # peft 0.21 still asks transformers 5 the old name; the answer is the same, the warning is noise
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        model = get_peft_model(base.model, lora)
    except ValueError as e:
        raise InputError(f"cannot attach LoRA to {spec.name} with targets {', '.join(config.targets)}: {e}") from None
    if config.checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    return Prepared(base, model, items, summary, Path(data), sha256_file(data), bf16, threads)


def _loss(model: Any, item: Tokenized, bf16: bool):
    """Mean cross-entropy over the labelled tokens; the output layer runs on those positions only."""
    import torch
    import torch.nn.functional as F

    inner = model.get_base_model()
    ids = torch.tensor([item.input_ids])
    targets = torch.tensor(item.labels[1:])
    keep = targets != IGNORE
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        hidden = inner.get_decoder()(input_ids=ids, use_cache=False).last_hidden_state[0, :-1]
        logits = inner.get_output_embeddings()(hidden[keep])
    return F.cross_entropy(logits.float(), targets[keep])


def _optimizer(model: Any, lr: float):
    import torch

    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)


def _lr_at(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first 5 % of steps, then cosine decay to a tenth of the peak."""
    warmup = max(1, round(total * 0.05))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@dataclass
class Estimate:
    summary: DataSummary
    epochs: int
    trainable: int
    step_tokens: int
    step_seconds: float
    load_seconds: float
    peak_rss_mb: float
    threads: int
    precision: str
    base: str

    @property
    def seconds_per_token(self) -> float:
        return self.step_seconds / max(1, self.step_tokens)

    @property
    def train_seconds(self) -> float:
        return self.seconds_per_token * self.summary.tokens * self.epochs

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "precision": self.precision,
            "threads": self.threads,
            "examples": self.summary.examples,
            "tokens": self.summary.tokens,
            "epochs": self.epochs,
            "step_tokens": self.step_tokens,
            "step_seconds": round(self.step_seconds, 3),
            "estimated_train_seconds": round(self.train_seconds, 1),
            "load_seconds": round(self.load_seconds, 1),
            "peak_rss_mb": round(self.peak_rss_mb),
        }

    def describe(self) -> str:
        s = self.summary
        return "\n".join(
            [
                f"data:      {s.describe()}",
                f"base:      {self.base} ({self.precision}, {self.threads} threads), "
                f"{self.trainable:,} LoRA parameters",
                f"timed:     one step of {self.step_tokens} tokens in {self.step_seconds:.1f} s "
                f"({self.step_tokens / self.step_seconds:.0f} tokens/s)",
                f"estimate:  {s.examples * self.epochs} steps ({self.epochs} epochs) ≈ {_duration(self.train_seconds)} "
                f"+ {self.load_seconds:.0f} s loading; peak memory ≈ {self.peak_rss_mb / 1024:.1f} GB"
                + (
                    f" of {memory_total_mb() / 1024:.0f} GB: add --checkpointing"
                    if self.peak_rss_mb > 0.6 * memory_total_mb()
                    else ""
                ),
            ]
        )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
    )


def timed_step(prepared: Prepared, item: Tokenized, *, repeats: int = 2) -> float:
    """Seconds for one training step (forward, backward, optimizer) on `item`: the fastest of `repeats`
    (the first pays for memory allocation). The weights change; use a throw-away `prepared`."""
    optimizer = _optimizer(prepared.model, 1e-6)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        loss = _loss(prepared.model, item, prepared.bf16)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        best = min(best, time.perf_counter() - start)
    return best


def estimate(data: str | Path, config: TuneConfig, *, progress: bool = True) -> Estimate:
    """The dry run: load, tokenize, time a step on the longest example; nothing is saved."""
    prepared = prepare(data, config, progress=progress)
    longest = max(prepared.items, key=lambda t: len(t.input_ids))
    _reset_peak_rss()
    seconds = timed_step(prepared, longest)
    return Estimate(
        prepared.summary,
        config.epochs,
        prepared.trainable,
        len(longest.input_ids),
        seconds,
        prepared.base.load_seconds,
        peak_rss_mb(),
        prepared.threads,
        "bf16" if prepared.bf16 else "fp32",
        prepared.base.spec.name,
    )


@dataclass
class TuneResult:
    adapter: registry.Adapter
    steps: int
    train_seconds: float
    load_seconds: float
    peak_rss_mb: float
    epoch_losses: list[float] = field(default_factory=list)

    def describe(self) -> str:
        losses = " → ".join(f"{x:.3f}" for x in self.epoch_losses)
        return (
            f"adapter {self.adapter.name!r} ({self.adapter.base}): {self.steps} steps in "
            f"{_duration(self.train_seconds)} (+ {self.load_seconds:.0f} s loading), peak memory "
            f"{self.peak_rss_mb / 1024:.1f} GB, loss per epoch {losses}\n{self.adapter.path}"
        )


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _lora_state(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}


def train(
    data: str | Path,
    name: str,
    config: TuneConfig,
    *,
    resume: bool = False,
    progress: bool = True,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
) -> TuneResult:
    """Train a LoRA adapter on `data` and register it as `name` (see the module docstring)."""
    import torch
    from tqdm import tqdm

    from kogata.tune.convert import convert

    registry.check_name(name)
    if (registry.home() / name).exists():
        raise InputError(
            f"an adapter named {name!r} exists already; choose another name or remove it "
            f"(kogata adapters remove {name})"
        )
    work = registry.work_dir(name)
    checkpoint_path = work / _CHECKPOINT
    if checkpoint_path.exists() and not resume:
        raise InputError(
            f"an unfinished run of {name!r} exists ({checkpoint_path}); continue it with --resume, "
            f"or discard it with `kogata adapters remove {name}`"
        )
    if resume and not checkpoint_path.exists():
        raise InputError(f"nothing to resume: no unfinished run of {name!r} (looked for {checkpoint_path})")

    started = time.perf_counter()
    prepared = prepare(data, config, progress=progress)
    load_seconds = time.perf_counter() - started
    model, items = prepared.model, prepared.items
    total = len(items) * config.epochs
    if progress:
        print(
            f"{prepared.summary.describe()}; {total} steps on {prepared.base.spec.name} "
            f"({'bf16' if prepared.bf16 else 'fp32'}, {prepared.threads} threads, "
            f"{prepared.trainable:,} LoRA parameters); loaded in {load_seconds:.0f} s",
            file=sys.stderr,
        )
    optimizer = _optimizer(model, config.lr)
    step, losses, elapsed_before = 0, [], 0.0
    if resume:
        state = torch.load(checkpoint_path, weights_only=False)
        if state["recipe"] != config.recipe() or state["data_sha256"] != prepared.data_sha256:
            raise InputError(
                f"the unfinished run of {name!r} used other data or settings "
                f"({_differences(state, config, prepared.data_sha256)}); run it with the same ones, "
                f"or discard it with `kogata adapters remove {name}`"
            )
        params = dict(model.named_parameters())
        with torch.no_grad():
            for key, value in state["lora"].items():
                params[key].copy_(value)
        optimizer.load_state_dict(state["optimizer"])
        step, losses, elapsed_before = state["step"], state["losses"], state["seconds"]
    work.mkdir(parents=True, exist_ok=True)

    def checkpoint() -> None:
        _save_checkpoint(
            checkpoint_path,
            {
                "recipe": config.recipe(),
                "data_sha256": prepared.data_sha256,
                "step": step,
                "losses": losses,
                "seconds": elapsed_before + time.perf_counter() - train_start,
                "lora": _lora_state(model),
                "optimizer": optimizer.state_dict(),
            },
        )

    def order(epoch: int) -> list[int]:
        indices = list(range(len(items)))
        random.Random(config.seed * 1000 + epoch).shuffle(indices)
        return indices

    _reset_peak_rss()
    train_start = last_save = time.perf_counter()
    bar = tqdm(
        total=total,
        initial=step,
        desc=f"tuning {name}",
        unit="step",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    smoothed = None
    try:
        while step < total:
            epoch, position = divmod(step, len(items))
            item = items[order(epoch)[position]]
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, total, config.lr)
            loss = _loss(model, item, prepared.bf16)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise InputError(f"the loss became {value} at step {step + 1} (line {item.line}); lower --lr")
            losses.append(value)
            step += 1
            smoothed = value if smoothed is None else 0.9 * smoothed + 0.1 * value
            bar.set_postfix(loss=f"{smoothed:.3f}", epoch=f"{epoch + 1}/{config.epochs}")
            bar.update(1)
            if time.perf_counter() - last_save > checkpoint_seconds or (step % len(items) == 0 and step < total):
                checkpoint()
                last_save = time.perf_counter()
    except KeyboardInterrupt:
        bar.close()
        checkpoint()
        print(f"\ninterrupted at step {step} of {total}; the run is saved: add --resume to continue", file=sys.stderr)
        raise
    bar.close()
    train_seconds = elapsed_before + time.perf_counter() - train_start
    peak = peak_rss_mb()

    peft_dir = work / "peft"
    model.save_pretrained(peft_dir)
    (peft_dir / "README.md").unlink(missing_ok=True)  # PEFT's blank model card
    gguf_file = work / "adapter.gguf"
    spec = prepared.base.spec
    convert(
        peft_dir,
        gguf_file,
        architecture=prepared.base.architecture,
        n_layers=prepared.base.model.config.num_hidden_layers,
        base_name=spec.name,
        base_sha256=spec.sha256,
    )
    per_epoch = [
        sum(losses[i : i + len(items)]) / len(losses[i : i + len(items)]) for i in range(0, len(losses), len(items))
    ]
    meta = {
        "base": {"name": spec.name, "sha256": spec.sha256, "file": spec.filename},
        "data": {
            "file": prepared.data_path.name,
            "sha256": prepared.data_sha256,
            "examples": prepared.summary.examples,
            "tokens": prepared.summary.tokens,
            "learned_tokens": prepared.summary.target_tokens,
        },
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rank": config.rank,
        "alpha": config.alpha,
        "epochs": config.epochs,
        "lr": config.lr,
        "max_tokens": config.max_tokens,
        "targets": list(config.targets),
        "seed": config.seed,
        "precision": "bf16" if prepared.bf16 else "fp32",
        "threads": prepared.threads,
        "checkpointing": config.checkpointing,
        "train": {
            "steps": step,
            "seconds": round(train_seconds, 1),
            "load_seconds": round(load_seconds, 1),
            "peak_rss_mb": round(peak),
            "loss_per_epoch": [round(x, 4) for x in per_epoch],
            "trainable_parameters": prepared.trainable,
        },
        "eval": {},
    }
    adapter = registry.save(name, gguf_file, meta, extra={"peft": peft_dir})
    shutil.rmtree(work, ignore_errors=True)
    return TuneResult(adapter, step, train_seconds, load_seconds, peak, per_epoch)


def _differences(state: dict[str, Any], config: TuneConfig, data_sha256: str) -> str:
    changed = [k for k, v in config.recipe().items() if state["recipe"].get(k) != v]
    if state["data_sha256"] != data_sha256:
        changed.append("the data file's contents")
    return ", ".join(changed)
