"""`kogata transcribe`: audio file (or live PCM on standard input) → transcript as text, JSON or SRT; and
`kogata tune-speech`, which teaches the speech model a clinic's words."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kogata.cli import options
from kogata.errors import InputError
from kogata.transcript.formats import FORMATS, live_line, render, utterance_line
from kogata.transcript.parse import Utterance


@click.command()
@click.argument("audio")
@options.format_option(
    FORMATS, "txt", "txt: 医師：… lines that `kogata karte` reads; json: utterances with times; srt: subtitles."
)
@click.option(
    "--stream",
    is_flag=True,
    help="Print each utterance as soon as its speaker pauses. With AUDIO '-', read live 16 kHz mono "
    "float32 PCM from standard input (e.g. ffmpeg … -f f32le -ar 16000 -ac 1 -).",
)
@options.file_option(
    "--glossary",
    "glossary_file",
    help="Your own terms (TSV: term, reading, sound-alikes, category), used before the medical glossary.",
)
@click.option("--no-glossary", is_flag=True, help="No prompt and no correction pass: Whisper's own output.")
@click.option(
    "--no-speakers", is_flag=True, help="Label every utterance 話者 instead of 医師/患者 (from turns and words)."
)
@options.out_option("Write the transcript here (atomically) instead of standard output.")
@options.speech_adapter_option(
    "Decoder adapter: clinic (bundled, default: trained on many voices and rooms), medical (bundled, one synthetic "
    "voice), none (plain "
    "Whisper base), or a .npz from `kogata tune-speech`."
)
@options.threads_option
def transcribe(
    audio: str,
    fmt: str,
    stream: bool,
    glossary_file: str | None,
    no_glossary: bool,
    no_speakers: bool,
    out: str | None,
    speech_adapter: str,
    threads: int | None,
) -> None:
    """Transcribe Japanese speech in AUDIO (wav, mp3, m4a, flac; '-' for standard input), offline."""
    from kogata.speech import Glossary, StreamingTranscriber, load_asr, load_audio
    from kogata.speech import transcribe as run

    if glossary_file and no_glossary:
        raise InputError("--glossary and --no-glossary exclude each other")
    glossary = (
        Glossary.empty() if no_glossary else Glossary.load(glossary_file, with_default=True) if glossary_file else None
    )
    live = stream and audio == "-"
    samples = None if live else load_audio(sys.stdin.buffer.read() if audio == "-" else audio)  # fail before loading
    asr = load_asr(threads=threads, adapter=speech_adapter)
    if not stream:
        transcript = run(samples, asr=asr, glossary=glossary, speakers=not no_speakers, progress=True)
        options.write_output(render(transcript.utterances, fmt, "" if audio == "-" else Path(audio).name), out)
        return
    transcriber = StreamingTranscriber(asr, glossary, speakers=not no_speakers)
    utterances: list[Utterance] = []

    def show(new: list[Utterance]) -> None:
        for u in new:
            utterances.append(u)
            if out is None:
                sys.stdout.write(live_line(u, fmt))
                sys.stdout.flush()
            else:
                click.echo(utterance_line(u), err=True)

    if live:
        import numpy as np

        left = b""
        while chunk := sys.stdin.buffer.read1(3200 * 4):  # up to 0.2 s of float32 samples, as it arrives
            data, usable = left + chunk, (len(left) + len(chunk)) // 4 * 4
            left = data[usable:]  # a sample split across reads waits for its other bytes
            show(transcriber.feed(np.frombuffer(data[:usable], dtype="<f4").astype(np.float32)))
    else:
        for at in range(0, len(samples), 3200):
            show(transcriber.feed(samples[at : at + 3200]))
    show(transcriber.flush())
    if out is not None:
        options.write_output(render(utterances, fmt, "" if audio == "-" else Path(audio).name), out)


@click.command("tune-speech")
@click.argument("transcripts", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The adapter file to write (.npz).")
@click.option("--epochs", type=float, default=1.5, show_default=True, help="Passes over the lines.")
@click.option("--rank", type=int, default=4, show_default=True, help="LoRA rank.")
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Peak learning rate.")
@click.option("--variants", type=int, default=1, show_default=True, help="Voices (and rooms) per line.")
@click.option(
    "--clean",
    is_flag=True,
    help="One clean synthetic voice (Open JTalk), no rooms, noise or SpecAugment: the earlier recipe.",
)
@click.option(
    "--kokoro",
    type=click.FloatRange(0.0, 1.0),
    default=0.15,
    show_default=True,
    help="Share of the lines spoken by Kokoro's voices (slower to synthesise) rather than Open JTalk's.",
)
@click.option(
    "--merge-scale",
    type=click.FloatRange(0.0, 4.0),
    default=1.0,
    show_default=True,
    help="The adapter's change to the model × this when written (below 1: a milder adapter).",
)
@click.option(
    "--max-lines",
    type=click.IntRange(1),
    default=None,
    help="Train on a seeded sample of this many lines (default: all).",
)
@click.option(
    "--clean-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of the lines left as spoken, without room, noise, channel or SpecAugment (ignored with --clean).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@options.threads_option
def tune_speech(
    transcripts: tuple[str, ...],
    out: str,
    epochs: float,
    rank: int,
    lr: float,
    variants: int,
    clean: bool,
    kokoro: float,
    merge_scale: float,
    max_lines: int | None,
    clean_share: float,
    seed: int,
    threads: int | None,
) -> None:
    """Teach the speech model your clinic's words from TRANSCRIPTS (txt or json, as `kogata karte` reads).

    Each line is spoken by one of the offline synthetic voices, recorded as a clinic might record it (room, noise,
    far microphone, telephone, codec, overlapping speech; kogata.speech.augment), and Whisper's decoder learns to
    write it as written (a LoRA adapter; the encoder is unchanged). About 1.3 s a line to prepare (0.3 s with
    --clean) and 0.8 s a line and epoch to train on 2 busy cores. Use the result with
    `kogata transcribe --speech-adapter FILE`.
    """
    from kogata.tune.speech import SpeechTuneConfig, train

    config = SpeechTuneConfig(
        rank=rank,
        epochs=epochs,
        lr=lr,
        variants=variants,
        seed=seed,
        threads=threads,
        augment=not clean,
        kokoro=kokoro,
        merge_scale=merge_scale,
        max_lines=max_lines,
        clean_share=clean_share,
    )
    click.echo(train(list(transcripts), out, config).describe())
