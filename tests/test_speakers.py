"""Speaker labels from turns and words: the cue file (kogata/speech/data/speaker_cues.tsv) and how it is read."""

from __future__ import annotations

import pytest

from kogata.errors import InputError
from kogata.speech.speakers import DOCTOR, cues, parse_cues

CUES = cues()


@pytest.mark.parametrize("cue", CUES, ids=[f"line{c.line}-{c.label}" for c in CUES])
def test_every_cue_finds_its_example(cue):
    assert cue.pattern.search(cue.example), (cue.line, cue.pattern.pattern, cue.example)


def test_the_file_has_cues_for_both_sides():
    labels = {c.label for c in CUES}
    assert DOCTOR in labels and labels - {DOCTOR}


HEADER = "cue\tlabel\tweight\texample\tnotes\n"


def test_a_clinic_edited_file_is_read():
    got = parse_cues(
        HEADER + "# a comment\n処方\t医師\t2\t処方しておきます\tprescribing\nせんせい\t患者\t1.5\tせんせい、あのね\n"
    )
    assert [(c.label, c.weight, c.line) for c in got] == [("医師", 2.0, 3), ("患者", 1.5, 4)]


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("処方\t看護師\t2\t処方します", "label must be one of"),
        ("処方\t医師\tmany\t処方します", "weight must be a number"),
        ("処方\t医師\t-1\t処方します", "weight must be a number"),
        ("処方(\t医師\t2\t処方します", "not a regular expression"),
        ("処方\t医師\t2\t", "needs an example"),
        ("処方\t医師\t2\tお薬を出します", "does not find its own example"),
        ("処方 医師 2", "separated by tabs"),
    ],
)
def test_a_bad_row_names_its_line(row, says):
    with pytest.raises(InputError, match=says) as caught:
        parse_cues(HEADER + row + "\n", "mine.tsv")
    assert "mine.tsv line 2" in str(caught.value)
