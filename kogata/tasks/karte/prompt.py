"""The instruction the model gets: sections spelled out in Japanese, one worked example, numbered utterances.

A coder model asked for 「SOAP形式」 writes an XML envelope; naming each section in Japanese and
constraining the output with a schema keeps it to chart lines. The instruction and the example come first
and never change, so the engine's prompt cache serves them from the second chart on.
"""

from __future__ import annotations

SYSTEM = (
    "あなたは日本の診療所で医師のカルテ記載を補助する医療秘書です。"
    "会話で実際に話された事実だけを使い、推測・一般論・会話にない内容は決して書きません。"
)

INSTRUCTION = """外来診察の会話から、カルテ（SOAP）の下書きを JSON で作ってください。[ ] の数字は発言番号です。
- S（主観的情報）：患者・家族が話した症状、始まった時期、経過、既往。
- O（客観的情報）：医師の診察所見と検査結果。体温・血圧・脈拍などの数値は別に記録するので書かない。
- A（評価）：医師が述べた診断や見立て。
- P（計画）：検査、処置、生活指導、次回受診。処方薬は別に記録するので書かない。
話し言葉を写さず、体言止めの短いカルテ文体に直して書き、evidence にはその行の根拠となる発言番号を入れる。
質問、世間話、会話にない内容は書かない。患者が否定した症状を「あり」と書かない。

会話：
"""

# Synthetic worked example (written for kogata; not a real patient).
EXAMPLE_VISIT = """[1] 医師：今日はどうされましたか。
[2] 患者：えっと、昨日の夜からお腹が痛くて、2回吐きました。
[3] 医師：熱はありますか。
[4] 患者：熱はないです。
[5] 医師：お腹を押しますね。右の下を押すと痛いですね。
[6] 医師：虫垂炎の可能性があるので、血液検査とエコーをしましょう。
[7] 患者：今日は暑いですね。"""
EXAMPLE_CHART = {
    "S": [{"text": "昨夜より腹痛、嘔吐2回。", "evidence": [2]}],
    "O": [{"text": "右下腹部に圧痛あり。", "evidence": [5]}],
    "A": [{"text": "虫垂炎の疑い。", "evidence": [6]}],
    "P": [{"text": "血液検査、腹部エコー施行。", "evidence": [6]}],
}
