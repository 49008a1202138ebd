import io
import json

import pytest

from kogata.errors import InputError, TranscriptError
from kogata.transcript import Transcript, Utterance, parse_transcript, read_transcript

CONSULT = "医師：今日はどうされましたか。\n患者：三日前から熱があって、咳も出ます。\n医師：お薬は飲んでいますか。\n"


def test_ids_are_numbered_in_order():
    t = read_transcript(CONSULT.encode())
    assert [u.id for u in t.utterances] == [1, 2, 3]
    assert [u.speaker for u in t.utterances] == ["医師", "患者", "医師"]
    assert t.by_id(2).text == "三日前から熱があって、咳も出ます。"
    assert t.text_of([3, 1]) == "お薬は飲んでいますか。\n今日はどうされましたか。"
    assert t.char_count == sum(len(u.text) for u in t.utterances)
    assert t.source == "<bytes>"


def test_by_id_unknown_raises_key_error():
    with pytest.raises(KeyError):
        read_transcript(CONSULT.encode()).by_id(4)


def test_full_and_half_width_colons_and_other_labels():
    t = read_transcript(
        "医師：熱はありますか。\n患者: はい、あります。\n母親︓昨日からです。\n看護師 ： 体温を測りますね。".encode()
    )
    assert [(u.speaker, u.text) for u in t.utterances] == [
        ("医師", "熱はありますか。"),
        ("患者", "はい、あります。"),
        ("母親", "昨日からです。"),
        ("看護師", "体温を測りますね。"),
    ]


def test_full_width_latin_label_is_normalised_but_text_is_kept():
    t = read_transcript("ＤＲ：３８．５度ですね。".encode())
    assert t.utterances == [Utterance(1, "DR", "３８．５度ですね。")]


def test_blank_lines_comments_and_continuations():
    text = (
        "# 2024-05-01 内科外来\n\n医師：どうされましたか。\n\n"
        "患者：三日前から熱があって、\n咳も出ます。\n＃ メモ\n10:30 ごろから悪化。\n"
    )
    t = read_transcript(text.encode())
    assert [u.text for u in t.utterances] == [
        "どうされましたか。",
        "三日前から熱があって、咳も出ます。10:30 ごろから悪化。",
    ]


def test_continuation_between_latin_words_keeps_a_space():
    t = read_transcript("患者：ロキソニンを飲んでいます。Loxonin\n60mg です。".encode())
    assert t.utterances[0].text == "ロキソニンを飲んでいます。Loxonin 60mg です。"


def test_label_with_punctuation_is_not_a_speaker():
    t = read_transcript("医師：いかがですか。\n※補足: 患者さんは咳をしています。".encode())
    assert len(t.utterances) == 1
    assert t.utterances[0].text.endswith("※補足: 患者さんは咳をしています。")


def test_text_before_first_label_names_the_line():
    with pytest.raises(TranscriptError, match="line 1.*医師："):
        read_transcript("2024年5月1日 診察記録\n医師：どうされましたか。".encode())


def test_utf8_bom_is_accepted():
    t = read_transcript(b"\xef\xbb\xbf" + CONSULT.encode())
    assert t.utterances[0].speaker == "医師"


def test_crlf_line_endings():
    t = read_transcript(CONSULT.replace("\n", "\r\n").encode())
    assert len(t.utterances) == 3 and not any("\r" in u.text for u in t.utterances)


def test_json_input_ignores_its_own_ids():
    doc = {
        "utterances": [
            {"id": 7, "speaker": "医師", "text": "どうされましたか。", "start": 0, "end": 1.5},
            {"id": 3, "speaker": "患者", "text": "お腹が痛いです。", "start": 1.5, "end": None},
            {"speaker": "患者", "text": "   "},
            {"speaker": "医師", "text": "いつからですか。"},
        ]
    }
    t = read_transcript(json.dumps(doc, ensure_ascii=False).encode())
    assert [(u.id, u.speaker, u.text) for u in t.utterances] == [
        (1, "医師", "どうされましたか。"),
        (2, "患者", "お腹が痛いです。"),
        (3, "医師", "いつからですか。"),
    ]
    assert (t.utterances[0].start, t.utterances[0].end) == (0.0, 1.5)
    assert t.utterances[1].end is None


def test_to_dict_round_trips():
    t = read_transcript(CONSULT.encode())
    again = read_transcript(json.dumps(t.to_dict(), ensure_ascii=False).encode())
    assert again.utterances == t.utterances


def test_broken_json_gives_line_and_column():
    with pytest.raises(TranscriptError, match=r"line 2, column \d+"):
        read_transcript('{"utterances": [\n  {"speaker": "医師" "text": "x"}]}'.encode())


def test_json_missing_key():
    with pytest.raises(TranscriptError, match=r"utterances\[1\] is missing 'text'"):
        read_transcript('{"utterances": [{"speaker": "医師", "text": "熱は？"}, {"speaker": "患者"}]}'.encode())


def test_json_without_utterances_list():
    with pytest.raises(TranscriptError, match='"utterances" list'):
        read_transcript(b'{"turns": []}')


def test_json_bad_timing():
    with pytest.raises(TranscriptError, match="end .* is before start"):
        read_transcript('{"utterances": [{"speaker": "医師", "text": "熱は？", "start": 5, "end": 2}]}'.encode())


@pytest.mark.parametrize("data", [b"", b"   \n\n  \xe3\x80\x80\n"])
def test_empty(data):
    with pytest.raises(TranscriptError, match="empty"):
        read_transcript(data)


def test_shift_jis_is_detected_and_accepted_with_cp932():
    data = CONSULT.encode("cp932")
    with pytest.raises(TranscriptError, match=r"not UTF-8 \(looks like Shift_JIS\).*--encoding cp932"):
        read_transcript(data)
    assert read_transcript(data, encoding="cp932").utterances[1].text == "三日前から熱があって、咳も出ます。"


def test_euc_jp_is_detected():
    with pytest.raises(TranscriptError, match=r"looks like EUC-JP.*--encoding euc_jp"):
        read_transcript(CONSULT.encode("euc_jp"))


def test_iso2022_jp_is_detected():
    with pytest.raises(TranscriptError, match=r"looks like ISO-2022-JP"):
        read_transcript(CONSULT.encode("iso2022_jp"))


def test_utf16_with_bom_is_detected_and_accepted_when_named():
    data = CONSULT.encode("utf-16")
    with pytest.raises(TranscriptError, match=r"looks like UTF-16.*--encoding utf-16"):
        read_transcript(data)
    assert len(read_transcript(data, encoding="utf-16").utterances) == 3


def test_undecodable_bytes():
    with pytest.raises(TranscriptError, match="not UTF-8"):
        read_transcript(b"\xfd\x80\x81 garbage")


def test_wrong_explicit_encoding():
    with pytest.raises(TranscriptError, match="not valid utf-8"):
        read_transcript(CONSULT.encode("cp932"), encoding="utf-8")
    with pytest.raises(TranscriptError, match="unknown encoding"):
        read_transcript(CONSULT.encode(), encoding="klingon")


def test_no_recognisable_utterance_shows_expected_format():
    with pytest.raises(TranscriptError, match="医師：今日はどうされましたか"):
        read_transcript("今日は三日前から熱があって咳も出ます。\n薬は飲んでいません。".encode())


def test_comments_only_has_no_utterance():
    with pytest.raises(TranscriptError, match="no utterance"):
        read_transcript("# 空の記録\n# 何もない".encode())


def test_english_is_not_japanese():
    with pytest.raises(TranscriptError, match=r"not look like Japanese.*0% of its letters"):
        read_transcript(b"Doctor: How are you today?\nPatient: I have had a fever for three days.")


def test_chinese_is_not_japanese():
    with pytest.raises(TranscriptError, match="kanji but no kana"):
        read_transcript("医生：我们今天去医院检查身体\n病人：我发烧三天了".encode())


def test_mostly_latin_drug_names_are_still_japanese():
    t = read_transcript("医師：Loxonin 60mg, Mucosta 100mg を1日3回 です".encode())
    assert len(t.utterances) == 1


def test_too_long():
    body = "患者：" + "お腹が痛いです。" * 20
    with pytest.raises(TranscriptError, match=r"too long.*limit is 100"):
        read_transcript(body.encode(), max_chars=100)
    # far over the limit: rejected from the byte count, before decoding
    with pytest.raises(TranscriptError, match=r"too long.*over .* bytes.*100 characters"):
        read_transcript((body * 10).encode(), max_chars=100)


def test_reads_files_and_reports_missing_ones(tmp_path):
    path = tmp_path / "consult.txt"
    path.write_text(CONSULT, encoding="utf-8")
    assert read_transcript(path).source == str(path)
    assert len(read_transcript(str(path)).utterances) == 3
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "missing.txt")
    with pytest.raises(TranscriptError, match="directory"):
        read_transcript(tmp_path)


def test_dash_reads_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CONSULT.encode("cp932")), encoding="cp932"))
    t = read_transcript("-", encoding="cp932")
    assert t.source == "<stdin>" and len(t.utterances) == 3


def test_parse_transcript_takes_text():
    t = parse_transcript(CONSULT, source="visit-1")
    assert isinstance(t, Transcript) and t.source == "visit-1" and len(t.utterances) == 3


def test_errors_are_input_errors():
    assert issubclass(TranscriptError, InputError)


def test_records_give_what_their_json_gives():
    from kogata.transcript import from_records

    records = [
        {"speaker": "医師", "text": "どうされましたか。", "start": 0.0, "end": 1.5},
        {"speaker": "患者", "text": "三日前から熱があります。"},
        {"speaker": "医師", "text": "  "},  # blank text is skipped, as in a JSON file
    ]
    via_json = parse_transcript(json.dumps({"utterances": records}, ensure_ascii=False), source="x")
    assert from_records(records, source="x") == via_json
    assert from_records({"utterances": records}, source="x") == via_json
    for bad, message in (
        ([{"speaker": "医師"}], r"utterances\[0\] is missing 'text'"),
        ([{"speaker": "医師", "text": "はい", "start": -1}], r"utterances\[0\]\.start must be"),
        ({"lines": []}, 'must be an object with an "utterances" list'),
        ([], "no utterance found"),
        ([{"speaker": "A", "text": "hello there"}], "does not look like Japanese"),
    ):
        with pytest.raises(TranscriptError, match=message):
            from_records(bad, source="x")
    with pytest.raises(TranscriptError, match="too long"):
        from_records([{"speaker": "医師", "text": "あ" * 100}], source="x", max_chars=50)
