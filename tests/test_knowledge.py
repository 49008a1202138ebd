"""Knowledge packs: 条文 chunking, every file type read, re-adding skips or updates, hybrid retrieval finds
exact article numbers, form numbers and drug names, and the glossary brings in synonyms."""

from __future__ import annotations

import json

import pytest

from kogata.errors import InputError, KogataError
from kogata.knowledge import chunk_text, read_document, store
from kogata.knowledge.retrieve import Retriever

STATUTE = """さくら市手数料規則

第一章　総則
（目的）
第一条　この規則は、証明書の交付手数料に関し必要な事項を定める。
（手数料の額）
第二条　住民票の写しの交付手数料は、一通につき三百円とする。
２　コンビニ交付による場合は、一通につき二百円とする。
３　前二項の手数料は、交付の際に徴収する。
第二条の二　次に掲げる場合は、手数料を免除する。
一　生活保護を受けている者が請求する場合
二　公用のため請求する場合
附　則
この規則は、令和六年四月一日から施行する。
"""


def _japanese_pdf(pages: list[str]) -> bytes:
    """A PDF showing `pages` in the Adobe-Japan1 font HeiseiKakuGo-W5 (not embedded; encoding UniJIS-UTF16-H):
    extractable Japanese text written without a Japanese font file, which this machine does not have."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "",
        "<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiKakuGo-W5 /Encoding /UniJIS-UTF16-H "
        "/DescendantFonts [4 0 R] >>",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiKakuGo-W5 "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 5 >> /FontDescriptor 5 0 R >>",
        "<< /Type /FontDescriptor /FontName /HeiseiKakuGo-W5 /Flags 4 /FontBBox [0 -120 1000 880] "
        "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
    ]
    kids = []
    for text in pages:
        ops = (
            "BT /F1 12 Tf 14 TL 50 780 Td "
            + " ".join(f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in text.split("\n"))
            + " ET"
        )
        objects.append(f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {len(objects)} 0 R "
            f"/Resources << /Font << /F1 3 0 R >> >> >>"
        )
        kids.append(len(objects))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ── chunking ──


def test_statute_is_cut_by_article_with_caption_and_title():
    chunks = chunk_text(STATUTE, source="tesuryo.txt")
    assert [c.section for c in chunks] == ["第1条", "第2条", "第2条の2", "附則"]
    assert {c.title for c in chunks} == {"さくら市手数料規則"}
    second = chunks[1]
    assert second.caption == "手数料の額"
    assert "三百円" in second.text and "二百円" in second.text and second.text.count("\n") == 2
    assert "一 生活保護" in chunks[2].text  # items (号) stay with their article
    assert second.citation == "tesuryo.txt 第2条"
    assert second.context.startswith("さくら市手数料規則 第2条 （手数料の額）\n")


def test_long_article_is_cut_between_paragraphs_then_sentences():
    chunks = chunk_text(STATUTE, source="t.txt", max_chars=40)
    sections = [c.section for c in chunks]
    assert "第2条第1項" in sections and "第2条第2項" in sections and "第2条第3項" in sections
    assert all(len(c.text) <= 40 for c in chunks)
    long = chunk_text("# 案内\n" + "これは長い文です。" * 30, source="a.md", max_chars=50)
    assert len(long) > 1 and all(len(c.text) <= 50 and c.text.endswith("。") for c in long)


def test_markdown_headings_become_sections():
    chunks = chunk_text(
        "# FAQ\n## ごみ\n### 粗大ごみは？\n申込制です。\n\n手数料は五百円です。\n## 住民票\n本文です。", source="faq.md"
    )
    assert [(c.title, c.section) for c in chunks] == [("FAQ", "ごみ > 粗大ごみは?"), ("FAQ", "住民票")]
    assert chunks[0].text == "申込制です。\n手数料は五百円です。"


# ── reading every file type ──


def test_each_file_type_is_read_with_structure(tmp_path):
    import docx

    (tmp_path / "a.txt").write_text(STATUTE, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(STATUTE.encode("cp932"))  # Shift_JIS, still common in offices
    (tmp_path / "c.md").write_text(
        "# 案内\n## 窓口\n**開庁時間**は[こちら](http://x)、午前8時30分からです。", encoding="utf-8"
    )
    (tmp_path / "d.html").write_text(
        "<html><head><title>お知らせ</title><style>p{}</style></head><body><h1>ごみ</h1>"
        "<h2>粗大ごみ</h2><p>七日前までに<br>申し込んでください。</p><script>x()</script></body></html>",
        encoding="utf-8",
    )
    document = docx.Document()
    document.add_heading("子育て支援", level=1)
    document.add_paragraph("第四条　出産祝金の額は、五万円とする。")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "申請先", "こども家庭課"
    document.save(tmp_path / "e.docx")
    (tmp_path / "f.pdf").write_bytes(
        _japanese_pdf(["さくら市規則\n第一条 この規則は目的を定める。", "第二条 手数料は三百円とする。"])
    )

    txt = read_document(tmp_path / "a.txt").chunks()
    assert [c.section for c in read_document(tmp_path / "b.txt").chunks()] == [c.section for c in txt]
    md = read_document(tmp_path / "c.md").chunks()
    assert md[0].section == "窓口" and md[0].text == "開庁時間はこちら、午前8時30分からです。"
    html = read_document(tmp_path / "d.html")
    assert html.title == "お知らせ"
    assert [(c.section, c.text) for c in html.chunks()] == [("粗大ごみ", "七日前までに\n申し込んでください。")]
    word = read_document(tmp_path / "e.docx").chunks()
    assert word[0].section == "第4条" and "五万円" in word[0].text and "こども家庭課" in word[-1].text
    pdf = read_document(tmp_path / "f.pdf").chunks()
    assert [(c.section, c.page) for c in pdf] == [("第1条", 1), ("第2条", 2)]
    assert "三百円" in pdf[1].text


def test_bad_files_are_refused_with_the_reason(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 nothing")
    (tmp_path / "broken.docx").write_bytes(b"not a zip")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 \xe9t\xe9".encode("latin-1"))
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    for name, reason in [
        ("x.xlsx", "unsupported file type"),
        ("broken.pdf", "not a readable PDF"),
        ("broken.docx", "not a readable .docx"),
        ("latin1.txt", "neither UTF-8 nor Shift_JIS"),
        ("empty.md", "has no text"),
        ("missing.txt", "cannot read"),
    ]:
        with pytest.raises(InputError, match=reason):
            read_document(tmp_path / name)


def _docx_with_padding(path, pad_bytes: int) -> None:
    """A real .docx with one extra, highly compressible entry (zeros): a zip bomb in miniature."""
    import zipfile

    import docx

    document = docx.Document()
    document.add_paragraph("第一条　この規則は目的を定める。")
    document.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/pad.bin", b"\0" * pad_bytes)


def test_document_limits_refuse_a_zip_bomb_and_too_many_passages_at_once(tmp_path):
    from kogata.knowledge.ingest import Limits

    _docx_with_padding(tmp_path / "bomb.docx", 5_000_000)  # packs about 1,000 : 1
    with pytest.raises(InputError, match="compression ratio .* KOGATA_DOC_MAX_RATIO"):
        read_document(tmp_path / "bomb.docx")
    with pytest.raises(InputError, match="unpacked size"):
        read_document(tmp_path / "bomb.docx", Limits(unpacked_bytes=4_000_000, ratio=10_000))
    assert read_document(tmp_path / "bomb.docx", Limits(ratio=10_000)).text.startswith("第一条")

    entries = len(__import__("zipfile").ZipFile(tmp_path / "bomb.docx").infolist())
    assert read_document(tmp_path / "bomb.docx", Limits(entries=entries, ratio=10_000))  # at the bound
    with pytest.raises(InputError, match="number of zip entries"):
        read_document(tmp_path / "bomb.docx", Limits(entries=entries - 1, ratio=10_000))

    articles = "\n".join(f"第{i}条　手数料は{i}百円とする。" for i in range(1, 31))
    (tmp_path / "rules.txt").write_text(articles, encoding="utf-8")
    document = read_document(tmp_path / "rules.txt")
    assert len(document.chunks(limits=Limits(passages=30))) == 30  # at the bound
    with pytest.raises(InputError, match="passage count 30 is over the limit of 29"):
        document.chunks(limits=Limits(passages=29))
    with pytest.raises(InputError, match="text length"):
        read_document(tmp_path / "rules.txt", Limits(chars=len(articles) - 1))
    with pytest.raises(InputError, match="size in bytes"):
        read_document(tmp_path / "rules.txt", Limits(bytes=100))


def test_document_limits_come_from_the_environment(monkeypatch):
    from kogata.knowledge.ingest import Limits

    monkeypatch.setenv("KOGATA_DOC_MAX_PASSAGES", "12")
    assert Limits.from_env().passages == 12 and Limits.from_env().pages == Limits().pages
    monkeypatch.setenv("KOGATA_DOC_MAX_PASSAGES", "lots")
    with pytest.raises(InputError, match="KOGATA_DOC_MAX_PASSAGES='lots' is not a positive whole number"):
        Limits.from_env()


# ── the store ──


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KOGATA_HOME", str(tmp_path / "home"))
    return tmp_path


def test_readding_skips_unchanged_and_updates_changed_files(home):
    docs = home / "docs"
    docs.mkdir()
    (docs / "rule.txt").write_text(STATUTE, encoding="utf-8")
    (docs / "terms.tsv").write_text(
        "term\treading\tsynonyms\tcategory\n住民票の写し\t\t住民票\t証明書\n", encoding="utf-8"
    )
    first = store.add("city", [docs], progress=False)
    assert first.added == ["rule.txt", "terms.tsv"] and first.passages == 4
    again = store.add("city", [docs], progress=False)
    assert again.skipped == ["rule.txt", "terms.tsv"] and again.new_passages == 0
    (docs / "rule.txt").write_text(STATUTE.replace("三百円", "三百五十円"), encoding="utf-8")
    (docs / "faq.md").write_text("# FAQ\n## 窓口\n午前8時30分からです。", encoding="utf-8")
    third = store.add("city", [docs / "rule.txt", docs / "faq.md", docs / "terms.tsv"], progress=False)
    assert (third.updated, third.added, third.skipped) == (["rule.txt"], ["faq.md"], ["terms.tsv"])
    pack = store.load("city")
    texts = [p.chunk.text for p in pack.passages]
    assert len(pack.passages) == 5 and pack.vectors.shape == (5, 384)
    assert any("三百五十円" in t for t in texts) and not any("三百円" in t for t in texts)
    assert [e.term for e in pack.glossary.entries] == ["住民票の写し"]
    assert [p["pack"] for p in store.list_packs()] == ["city"]
    store.remove("city")
    assert store.list_packs() == []


def test_pack_errors_are_clear(home):
    with pytest.raises(InputError, match="no knowledge pack named 'nope'"):
        store.load("nope")
    with pytest.raises(InputError, match="no such file"):
        store.add("city", [home / "missing.txt"], progress=False)
    with pytest.raises(InputError, match="not usable"):
        store.pack_dir("../etc")
    (home / "a.md").write_text("# A\n本文です。", encoding="utf-8")
    store.add("city", [home / "a.md"], progress=False)
    manifest = store.pack_dir("city") / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps(dict(data, passages=7)), encoding="utf-8")  # as if an add was cut short
    with pytest.raises(KogataError, match="inconsistent"):
        store.load("city")


# ── retrieval ──


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOGATA_HOME", str(root / "home"))
    (root / "rule.txt").write_text(STATUTE, encoding="utf-8")
    (root / "drugs.md").write_text(
        "# 薬剤の案内\n## 解熱鎮痛薬\nロキソプロフェンナトリウム錠60mgは、痛みや発熱に使う薬です。\n"
        "## 胃薬\nレバミピド錠100mgは、胃の粘膜を守る薬です。\n"
        "## 申請書\n医療費の払い戻しは、様式第4号の申請書で申請してください。",
        encoding="utf-8",
    )
    (root / "terms.tsv").write_text(
        "term\treading\tsynonyms\tcategory\nコンビニ交付\tこんびにこうふ\tコンビニ|コンビニエンスストア\t証明書\n",
        encoding="utf-8",
    )
    store.add("test", [root / "rule.txt", root / "drugs.md", root / "terms.tsv"], progress=False)
    yield Retriever("test")
    mp.undo()


def _top(retriever, query, mode="hybrid"):
    hit = retriever.search(query, 1, mode=mode)[0]
    return f"{hit.chunk.source} {hit.chunk.section}"


def test_exact_article_numbers_and_form_numbers_hit(retriever):
    assert _top(retriever, "第二条の二には何が書いてありますか", "bm25") == "rule.txt 第2条の2"
    assert _top(retriever, "第2条の2", "bm25") == "rule.txt 第2条の2"
    assert _top(retriever, "様式第4号は何に使いますか") == "drugs.md 申請書"


def test_drug_names_hit(retriever):
    assert _top(retriever, "レバミピドとは") == "drugs.md 胃薬"
    assert _top(retriever, "ロキソプロフェンの説明", "bm25") == "drugs.md 解熱鎮痛薬"


def test_glossary_expands_questions(retriever):
    query = retriever.expand("コンビニで取るといくら？")
    assert "コンビニ交付" in query.expansions and "（コンビニ交付）" in query.text
    assert _top(retriever, "生活保護の人の手数料") == "rule.txt 第2条の2"
    with pytest.raises(InputError, match="empty"):
        retriever.search("  ")


def test_cli_add_search_show_remove(home):
    from click.testing import CliRunner

    from kogata.cli import cli

    (home / "rule.txt").write_text(STATUTE, encoding="utf-8")
    runner = CliRunner()
    added = runner.invoke(cli, ["knowledge", "add", "-q", "city", str(home / "rule.txt")])
    assert added.exit_code == 0 and "1 added, 0 updated, 0 skipped; 4 new passages" in added.output
    again = runner.invoke(cli, ["knowledge", "add", "-q", "city", str(home / "rule.txt")])
    assert "0 added, 0 updated, 1 skipped" in again.output
    found = runner.invoke(cli, ["knowledge", "search", "city", "第2条の2", "-k", "1", "--mode", "bm25", "--json"])
    assert json.loads(found.output)[0]["citation"] == "rule.txt 第2条の2"
    assert "rule.txt" in runner.invoke(cli, ["knowledge", "show", "city"]).output
    assert runner.invoke(cli, ["knowledge", "remove", "city", "--yes"]).exit_code == 0
    assert "no knowledge packs yet" in runner.invoke(cli, ["knowledge", "list"]).output
