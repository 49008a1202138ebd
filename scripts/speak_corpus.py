"""Pass corpus visits through kogata's own speech path, so their transcripts carry real recognition errors.

    .venv/bin/python scripts/speak_corpus.py data/corpus/c/c001_*.txt … --out data/corpus-asr

Each utterance is spoken by a bundled synthesiser (pyopenjtalk-plus or Kokoro, alternating by visit; the doctor and
the patient in different voices) and recognised alone by the default recogniser (Whisper base + medical adapter +
glossary), so utterance ids — and the reference's evidence — still line up. The output keeps the writer's id with
the suffix `s` (c001 → c001s), the speakers as written, and a reference copied with "speech": {voice, recogniser}.
An utterance the recogniser returns nothing for is written as 「（聞き取れず）」, as a clinic's transcript marks it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from kogata.speech import load_asr, transcribe
from kogata.speech.audio import AudioError
from kogata.speech.glossary import default as default_glossary
from kogata.speech.synth import speak, speak_kokoro, voice_for
from kogata.transcript import read_transcript

UNHEARD = "（聞き取れず）"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("data/corpus-asr"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asr, glossary = load_asr(threads=2), default_glossary()
    for n, path in enumerate(tqdm(args.transcripts, desc="visits", unit="visit")):
        reference = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        engine = "openjtalk" if n % 2 == 0 else "kokoro"
        lines = [
            "# 合成データ（synthetic）: kogata 開発用に作成した架空の診察を、音声合成（"
            f"{engine}）→ 音声認識（Whisper base + 医療アダプタ + 用語集）に通した文字起こしです。"
        ]
        for u in read_transcript(path).utterances:
            samples = speak(u.text, voice_for(u.speaker)) if engine == "openjtalk" else speak_kokoro(u.text, u.speaker)
            try:
                heard = "".join(
                    x.text for x in transcribe(samples, asr=asr, glossary=glossary, speakers=False).utterances
                )
            except AudioError:
                heard = ""
            lines.append(f"{u.speaker}：{heard or UNHEARD}")
        stem = path.stem.replace(reference["id"], reference["id"] + "s", 1)
        (args.out / f"{stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        reference = {
            **reference,
            "id": reference["id"] + "s",
            "speech": {"voice": engine, "recogniser": "whisper-base+medical+glossary"},
        }
        (args.out / f"{stem}.json").write_text(json.dumps(reference, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
