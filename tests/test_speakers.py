"""Speaker labels from turns and words: the cue file (kogata/speech/data/speaker_cues.tsv) and how it is read."""

from __future__ import annotations

import json

import pytest

from kogata.errors import InputError
from kogata.speech.speakers import (
    DOCTOR,
    FAMILY,
    FAMILY_CARRIED,
    PATIENT,
    SURE,
    cues,
    label_turn,
    next_speaker,
    parse_cues,
)
from kogata.transcript import parse_transcript
from kogata.transcript.formats import live_line, render
from kogata.transcript.parse import Utterance

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


# ── confidence ────────────────────────────────────────────────────────────────────────────────────────────────


def labels_of(turns):
    out, previous = [], None
    for text in turns:
        previous = label_turn(text, previous)
        out.append(previous)
    return out


def test_an_answer_to_a_question_is_sure_and_a_bare_change_of_turn_is_not():
    asked, answered, bare = labels_of(["熱はありますか。", "昨日の夜から。", "そうですか、それで。"])
    assert (asked.speaker, answered.speaker, bare.speaker) == (DOCTOR, PATIENT, DOCTOR)
    assert asked.sure and answered.sure
    # no cue either way: only the turn-taking says 医師, which is right about 7 times in 10
    assert not bare.sure and bare.confidence < SURE < answered.confidence


def test_words_that_only_just_keep_the_speaker_are_unsure_and_clear_words_are_sure():
    first, kept_just, kept_clearly = labels_of(
        ["今日はどうされましたか。", "検査の結果を見ましょう。", "お薬を出しておきます。お大事に。"]
    )
    assert [x.speaker for x in (first, kept_just, kept_clearly)] == [DOCTOR, DOCTOR, DOCTOR]
    assert not kept_just.sure and kept_clearly.sure and kept_just.confidence < kept_clearly.confidence


def test_labels_are_those_of_next_speaker():
    turns = ["今日はどうされましたか。", "喉が痛くて。", "見せてください。", "はい。", "赤いですね。", "先生、薬は？"]
    previous = None
    for text, label in zip(turns, labels_of(turns)):
        previous = next_speaker(text, previous)
        assert label.speaker == previous
    mother = ["どうされましたか。", "この子が昨日から熱で。", "咳はありますか。", "少しだけ。", "お薬を出しますね。"]
    previous = None
    for text, label in zip(mother, labels_of(mother)):
        previous = next_speaker(text, previous)
        assert (label.speaker == DOCTOR) == (previous == DOCTOR)  # 家族 is the patient's side


def test_someone_speaking_for_the_patient_is_family_and_stays_family_as_a_guess():
    turns = ["どうされましたか。", "本人は大丈夫って言うんですけど、食べないんです。", "熱はありますか。", "ないです。"]
    asked, carer, question, answer = labels_of(turns)
    assert [x.speaker for x in (asked, carer, question, answer)] == [DOCTOR, FAMILY, DOCTOR, FAMILY]
    assert carer.carer and answer.carer and not asked.carer
    # the words of the answer say nothing of who answers: 家族 is carried from before, and only as a guess
    assert answer.confidence <= FAMILY_CARRIED < SURE and not answer.sure
    # without anyone speaking for the patient the same answer is the patient's, and sure (it answers a question)
    plain = labels_of(["どうされましたか。", "食べられないんです。", "熱はありますか。", "ないです。"])
    assert [x.speaker for x in plain] == [DOCTOR, PATIENT, DOCTOR, PATIENT] and plain[-1].sure


def test_an_unsure_label_is_written_as_a_guess_and_read_back_as_the_label():
    said = [
        Utterance(1, DOCTOR, "熱はありますか。", 0.0, 1.0, 0.9, True),
        Utterance(2, PATIENT, "それで、その。", 1.5, 2.0, 0.69, False),
        Utterance(3, DOCTOR, "入力した行", None, None),
    ]
    text = render(said, "txt")
    assert "\n医師：熱はありますか。\n患者?：それで、その。\n医師：入力した行\n" in text
    assert [(u.speaker, u.text) for u in parse_transcript(text).utterances] == [(u.speaker, u.text) for u in said]
    assert "患者?：それで" in render(said, "srt")
    doc = json.loads(render(said, "json"))["utterances"]
    assert doc[1]["speaker"] == PATIENT and doc[1]["speaker_confidence"] == 0.69 and doc[1]["speaker_sure"] is False
    assert doc[0]["speaker_sure"] is True and "speaker_confidence" not in doc[2]  # a written label is no guess
    assert json.loads(live_line(said[1], "json"))["speaker_sure"] is False
