"""The instruction the model gets: the four parts of an after-call record in Japanese, one worked example,
numbered utterances. The instruction and the example never change, so the engine's prompt cache serves
them from the second call on."""

from __future__ import annotations

SYSTEM = (
    "あなたはコールセンターで応対履歴（アフターコール記録）を作成する担当者です。"
    "通話で実際に話された事実だけを使い、推測・一般論・通話にない内容は決して書きません。"
)

INSTRUCTION = """オペレーターと顧客の通話から、応対履歴を JSON で作ってください。[ ] の数字は発言番号です。
- issue：顧客の用件（問い合わせ・困りごと）を1行で。
- requests：顧客の要望・条件。条件1つにつき1項目に分け（時期、人数、場所、金額、方法、設備など）、漏れなくすべて書く。
  数字や地名は会話のとおり具体的に、「〜は…」「〜を希望」の短い形で書く。オペレーターの提案に顧客が同意したものも含める。
- actions：オペレーターが行った対応、約束した対応。
- follow_up：今後の連絡や手続きと、その期限（例：3営業日以内に折り返し電話）。なければ空にする。
発言をそのまま写さず、短い体言止めで書き、evidence にはその項目の根拠となる発言番号を入れる。
あいさつ、質問、会話にない内容は書かない。

通話：
"""

# Synthetic worked example (written for kogata; no real customer).
EXAMPLE_CALL = """[1] オペレーター：お電話ありがとうございます。さくら損害保険、事故受付の田中でございます。
[2] 顧客：昨日の夕方、スーパーの駐車場で車をぶつけてしまって。
[3] オペレーター：お怪我はございませんか。証券番号をお願いいたします。
[4] 顧客：怪我はないです。証券番号は12345678です。修理は家の近くの工場でお願いしたいです。
[5] オペレーター：承知しました。事故の受付をいたしました。ご自宅近くの提携工場をお探しします。
[6] 顧客：修理のあいだ代車は使えますか。できれば軽自動車で、1週間くらい借りたいです。
[7] オペレーター：代車特約がございますので、軽自動車でご用意いたします。担当者から明日までにお電話いたします。"""
EXAMPLE_RECORD = {
    "issue": [{"text": "昨日夕方、スーパーの駐車場で車をぶつけた事故の連絡。", "evidence": [2]}],
    "requests": [
        {"text": "修理は自宅近くの工場を希望。", "evidence": [4]},
        {"text": "修理中の代車を希望。", "evidence": [6]},
        {"text": "代車の車種は軽自動車。", "evidence": [6, 7]},
        {"text": "代車の期間は1週間程度。", "evidence": [6]},
    ],
    "actions": [
        {"text": "事故受付を実施。", "evidence": [5]},
        {"text": "自宅近くの提携工場を手配。", "evidence": [5]},
        {"text": "代車特約により軽自動車の代車を用意。", "evidence": [7]},
    ],
    "follow_up": [{"text": "担当者から明日までに電話連絡。", "evidence": [7]}],
}
