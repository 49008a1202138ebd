"""PII masking: what must be masked, and the clinical text that must survive untouched (hand-made examples)."""

import contextlib
import io
import json
import logging

import pytest

from kogata.privacy import MaskingFilter, install_masking, mask_json, mask_text, masking_handler

MASKED = [  # (text, the secret that must disappear, the label that must take its place)
    ("電話は090-1234-5678です", "090-1234-5678", "［電話番号］"),
    ("固定は03-1234-5678で", "1234-5678", "［電話番号］"),
    ("〒100-0001 東京都千代田区千代田1-1", "100-0001", "［郵便番号］"),
    ("マイナンバーは123456789018です", "123456789018", "［個人番号］"),
    ("東京都千代田区千代田1-1に住んでいます", "千代田区千代田1-1", "［住所］"),
    ("住所は大阪市北区梅田三丁目5番地です", "梅田三丁目5番地", "［住所］"),
    ("横浜市中区本町1-2-3のマンション", "本町1-2-3", "［住所］"),
    ("埼玉県さいたま市浦和区高砂3-15-1", "高砂3-15-1", "［住所］"),
    ("保険者番号は06130012です", "06130012", "［保険番号］"),
    ("保険証の記号は１２－３４、番号は５６７です", "５６７", "［保険番号］"),
    ("患者ID: A123456", "A123456", "［ID］"),
    ("カルテ番号 00123 の方", "00123", "［ID］"),
    ("お客様番号は 12345678 です", "12345678", "［ID］"),
    ("生年月日は昭和45年3月12日です", "昭和45年3月12日", "［生年月日］"),
    ("田中さん、お薬は出ていますか", "田中", "［氏名］"),
    ("山田 太郎様でよろしいですか", "太郎", "［氏名］"),
    ("佐藤先生に紹介状を書きます", "佐藤", "［氏名］"),
    ("佐々木氏の件", "佐々木", "［氏名］"),
    ("田中看護師さんに伝えます", "田中", "［氏名］"),
    ("名前は鈴木花子です", "鈴木花子", "［氏名］"),
    ("私は高橋と申します", "高橋", "［氏名］"),
    ("マリアさんの通訳", "マリア", "［氏名］"),
    ("電話は〇九〇の一二三四の五六七八です", "一二三四", "［番号］"),
    ("連絡先は taro@example.jp", "taro@example.jp", "［メール］"),
]

KEPT = [  # clinical and everyday text with nothing personal in it: must come back unchanged
    "体温38.5℃、血圧152/94、脈拍88/分、SpO2 97%",
    "ロキソニン60mgを1日3回、5日分。HbA1c 7.2%。",
    "アムロジピン5mgを朝1回",
    "三十八度五分の熱が三日続いています",
    "2024年5月1日に受診、次回は2週間後",
    "患者さんの様子を見ましょう",
    "お母さんとお子さんが一緒に来ました",
    "担当の先生に聞いてください",
    "皆様、同様に、多様な症状",
    "市販薬を飲みました。区別がつきません",
    "お名前を教えてください",
    "東京都から来ました",
    "八百屋さんで買いました",
    "赤ちゃんの体重は3.2kg",
    "血糖値は120mg/dL、LDL 140",
    "No problem",
]


@pytest.mark.parametrize("text,secret,label", MASKED)
def test_masks_personal_information(text, secret, label):
    masked = mask_text(text)
    assert secret not in masked, masked
    assert label in masked, masked


@pytest.mark.parametrize("text", KEPT)
def test_keeps_clinical_text(text):
    assert mask_text(text) == text


def test_mask_json_masks_values_not_keys():
    value = {"patient": {"name": "田中さん", "phone": "090-1234-5678"}, "vitals": ["38.5℃"], "n": 3}
    assert mask_json(value) == {
        "patient": {"name": "［氏名］さん", "phone": "［電話番号］"},
        "vitals": ["38.5℃"],
        "n": 3,
    }


@contextlib.contextmanager
def masked_log(name: str):
    """A logger writing through kogata's masking handler into a string buffer (its handler removed after)."""
    stream = io.StringIO()
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(masking_handler(stream))
    try:
        yield logger, stream
    finally:
        logger.handlers.clear()


def test_log_records_are_masked_message_args_and_traceback():
    with masked_log("kogata.test_mask") as (logger, stream):
        logger.info("visit for %s, tel %s", "山田太郎様", "090-1234-5678")
        try:
            raise ValueError("住所は横浜市中区本町1-2-3です")
        except ValueError:
            logger.exception("failed for 患者ID: A123456")
    out = stream.getvalue()
    for secret in ("山田太郎", "090-1234-5678", "本町1-2-3", "A123456"):
        assert secret not in out
    assert "［電話番号］" in out and "Traceback" in out and "ValueError" in out


def test_filter_is_idempotent_and_keeps_the_record():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "name %s", ("鈴木さん",), None)
    f = MaskingFilter()
    assert f.filter(record) and f.filter(record)
    assert record.getMessage() == "name ［氏名］さん"


def test_install_masking_covers_the_root_logger(capsys):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        install_masking()
        logging.getLogger("anything").warning("call 090-1234-5678")
        err = capsys.readouterr().err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert "090-1234-5678" not in err and "［電話番号］" in err


def test_a_name_seen_once_is_masked_where_it_is_written_bare():
    masked = mask_text("患者は田中さんです。田中は頭痛を訴えています。")
    assert "田中" not in masked and masked.count("［氏名］") == 2


def test_mask_json_masks_a_name_in_every_field_once_seen_in_one():
    masked = mask_json({"title": "山田様の診察", "lines": ["山田は来院せず", "咳嗽あり"]})
    assert "山田" not in str(masked) and masked["lines"][1] == "咳嗽あり"


def test_escaped_text_is_masked_as_written_and_lone_surrogates_do_not_break_it():
    escaped = json.dumps({"content": "田中さんの件、電話は090-1234-5678 \ud800"})  # \u7530\u4e2d … \ud800
    masked = mask_text(escaped)
    assert "\\u7530" not in masked and "田中" not in masked and "［氏名］" in masked
    assert "090-1234-5678" not in masked and "\ufffd" in masked
    assert "田中" not in mask_text(repr("田中さん".encode()))  # b'\xe7\x94\xb0…' in a bytes repr


def test_log_lines_mask_a_name_logged_bare_after_it_was_seen_with_an_honorific():
    with masked_log("kogata.test_mask.memory") as (logger, stream):
        logger.info("visit for 小野寺様")
        logger.info("prompt: 小野寺は昨日から咳")
        try:
            "小野寺さんの件 \ud800".encode()
        except UnicodeEncodeError:
            logger.exception("engine failed on %r", "小野寺 \ud800")
    out = stream.getvalue()
    assert "小野寺" not in out and "\\u5c0f" not in out and "Traceback" in out
