"""Speaker labels from turns and words (kogata.speech.speakers) against alternation, on the reference turns.

Each utterance of a reference visit is taken as one turn, as the recogniser cuts them at pauses (the
synthesised audio of bench/asr.py pauses ≥ 0.9 s between turns), and labelled in order; the reference speaker
decides right or wrong (医師 vs everyone else on the patient side, and the label itself: 医師 / 患者 / 家族 for the
rest of the patient's side; 看護師 turns are labelled but not scored, as
in bench/asr.py). Words only: no audio, so it runs in a second. The cues were set on the train split; the test
split is the measurement. Each label also has a confidence (kogata.speech.speakers.label_turn); below SURE it is
shown as a guess (患者?): the table gives how often the sure labels are right and how many labels are unsure.

    .venv/bin/python bench/speakers.py [--data data/consultations] [--split train --split dev] [--out …json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, print_table, write_json  # noqa: E402

from kogata.speech.speakers import DOCTOR, FAMILY, PATIENT, label_turn  # noqa: E402
from kogata.transcript import read_transcript  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "consultations"


# Reference labels on the doctor's side; other staff (看護師, 救急隊, 通訳 …) are labelled but not scored, as in
# bench/asr.py; every other label (患者, 母親, 妻, 娘 …) is the patient's side.
DOCTOR_LABELS = {DOCTOR, "歯科医師"}
OTHER_STAFF = {"看護師", "救急隊", "介護職員", "通訳", "施設長", "ヘルパー", "歯科衛生士", "臨床工学技士", "理学療法士"}


def references(data: Path) -> list[tuple[Path, str]]:
    """(reference JSON, its split) for every visit under `data` (a folder of visits, or of writers' folders)."""
    found = []
    for ref_path in sorted(data.glob("**/*.json")):
        split = json.loads(ref_path.read_text(encoding="utf-8")).get("split")
        if split and ref_path.with_suffix(".txt").is_file():
            found.append((ref_path, split))
    return found


def score_split(refs: list[tuple[Path, str]], split: str) -> dict:
    right = alternating = total = visits = family = family_right = sure = sure_right = sure_exact = exact = (
        family_exact
    ) = 0
    for ref_path, ref_split in refs:
        if ref_split != split:
            continue
        visits += 1
        previous = None
        for k, u in enumerate(read_transcript(ref_path.with_suffix(".txt")).utterances):
            previous = label_turn(u.text, previous)
            label = DOCTOR if previous.speaker == DOCTOR else PATIENT  # the side: 家族 is the patient's
            if u.speaker in OTHER_STAFF:
                continue
            want = DOCTOR if u.speaker in DOCTOR_LABELS else PATIENT
            total += 1
            right += label == want
            # the label itself, 医師 / 患者 / 家族 (anyone else on the patient's side is 家族)
            is_exact = previous.speaker == (want if u.speaker in (DOCTOR, PATIENT) or want == DOCTOR else FAMILY)
            exact += is_exact
            sure_exact += previous.sure and is_exact
            sure += previous.sure
            sure_right += previous.sure and label == want
            alternating += (DOCTOR, PATIENT)[k % 2] == want
            if want == PATIENT and u.speaker != PATIENT:  # a family member (or friend) speaking for the patient
                family += 1
                family_right += label == want
                family_exact += previous.speaker == FAMILY
    return {
        "split": split,
        "visits": visits,
        "turns": total,
        "turns_and_words": right / total,
        "alternation": alternating / total,
        "sure_right": sure_right / sure if sure else None,
        "unsure_share": 1 - sure / total,
        "sure_labels_right": sure_exact / sure if sure else None,  # the label itself (医師/患者/家族), sure ones
        "family_turns": family,
        "family_turns_right": family_right / family if family else None,
        "labels_right": exact / total,
        "family_labelled_family": family_exact / family if family else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--split", action="append", help="only these splits (repeat); default all in --data")
    ap.add_argument("--out", default="bench/out/speakers.json")
    args = ap.parse_args()
    refs = [r for r in references(args.data) if not args.split or r[1] in args.split]
    order = ["train", "dev", "test"]
    splits = sorted({split for _, split in refs}, key=lambda s: (order.index(s) if s in order else 9, s))
    results = [score_split(refs, split) for split in splits]
    print_table(
        [
            "split",
            "visits",
            "turns scored",
            "alternation",
            "turns and words",
            "sure labels right",
            "unsure",
            "family turns",
            "family right",
            "医師/患者/家族 right",
            "family as 家族",
        ],
        [
            [
                r["split"],
                r["visits"],
                r["turns"],
                f"{r['alternation']:.1%}",
                f"{r['turns_and_words']:.1%}",
                f"{r['sure_right']:.1%}",
                f"{r['unsure_share']:.1%}",
                r["family_turns"],
                "—" if r["family_turns_right"] is None else f"{r['family_turns_right']:.1%}",
                f"{r['labels_right']:.1%}",
                "—" if r["family_labelled_family"] is None else f"{r['family_labelled_family']:.1%}",
            ]
            for r in results
        ],
    )
    write_json(args.out, {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
