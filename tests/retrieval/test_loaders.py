"""Every supported format loads into text and metadata; bad files fail with a reason, never a crash."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
import yaml

from opsbrain.knowledge import shipped_corpus
from retrieval.loaders import UnreadableDocumentError, discover, load_document, slug

KNOWN_NUMBERS = {
    line.strip()
    for line in (Path(__file__).parent / "known_document_numbers.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        "---\nid: my-rule\ntitle: 某规定\nissuer: 某委\ndoc_number: 某发〔2020〕1号\nissue_date: 2020-03\n"
        "status: 废止\nscope: external\ntags: [药占比, 2.0]\n---\n# 某规定\n## 一、总则\n正文内容。\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.meta.doc_id == "my-rule" and doc.meta.status == "废止" and doc.meta.year == 2020
    assert doc.meta.tags == ["药占比", "2.0"]
    assert doc.text.startswith("# 某规定") and "---" not in doc.text


def test_file_without_metadata_is_internal_and_named_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "药事管理办法.txt"
    path.write_bytes(
        "第一条 为规范药事管理，制定本办法。".encode("gb18030")
    )  # a GB18030 file from a Windows share
    doc = load_document(path)
    assert doc.meta.doc_id == slug("药事管理办法") == "yao-shi-guan-li-ban-fa"
    assert doc.meta.scope == "internal" and doc.meta.title.startswith("第一条")
    assert "规范药事管理" in doc.text


def test_sidecar_metadata(tmp_path: Path) -> None:
    (tmp_path / "notice.txt").write_text(
        "关于加强耗材管理的通知\n一、总体要求\n控制耗占比。", encoding="utf-8"
    )
    (tmp_path / "notice.meta.yaml").write_text(
        yaml.safe_dump(
            {"title": "关于加强耗材管理的通知", "issuer": "医务处", "issue_date": "2023-05-01"},
            allow_unicode=True,
        )
    )
    doc = load_document(tmp_path / "notice.txt")
    assert doc.meta.issuer == "医务处" and doc.meta.issue_date == "2023-05-01"
    assert [p.name for p in discover([tmp_path])] == ["notice.txt"]  # the sidecar is not a document


def test_html_keeps_headings_and_tables(tmp_path: Path) -> None:
    html = (
        "<html><head><style>p{}</style></head><body><h1>医保结算规定</h1><h2>一、适用范围</h2><p>本规定适用于全院。</p>"
        "<table><tr><th>项目</th><th>限额</th></tr><tr><td>白蛋白</td><td>限定支付</td></tr></table></body></html>"
    )
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    doc = load_document(tmp_path / "r.html")
    assert "## 一、适用范围" in doc.text and "| 白蛋白 | 限定支付 |" in doc.text and "p{}" not in doc.text
    assert doc.meta.title == "医保结算规定"


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("院内运营目标", level=1)
    document.add_heading("一、药品管理", level=2)
    document.add_paragraph("药占比控制在35%以内。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "指标", "目标"
    table.cell(1, 0).text, table.cell(1, 1).text = "平均住院日", "8.5天"
    document.save(tmp_path / "targets.docx")
    doc = load_document(tmp_path / "targets.docx")
    assert "## 一、药品管理" in doc.text and "| 平均住院日 | 8.5天 |" in doc.text
    assert doc.meta.title == "院内运营目标"


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one line of ASCII text, written by hand (no PDF writer is a dependency)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_pdf_text_layer(tmp_path: Path) -> None:
    (tmp_path / "policy.pdf").write_bytes(_minimal_pdf("Article 38 outpatient drug share"))
    doc = load_document(tmp_path / "policy.pdf")
    assert "Article 38 outpatient drug share" in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "no text found"),
        ("blank.txt", b"   \n\n  ", "no text found"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "cannot parse .pdf"),
        ("broken.docx", b"PK\x03\x04 not a zip", "cannot parse .docx"),
        ("bad.md", b"---\ntitle: [unclosed\n---\ntext", "not valid YAML"),
        ("open.md", b"---\ntitle: x\nno end marker", "never ends"),
        ("bad-date.md", b"---\nissue_date: last spring\n---\n# t\ntext", "issue_date"),
        ("bad-status.md", b"---\nstatus: draft\n---\n# t\ntext", "status"),
        ("image.png", b"\x89PNG", "unsupported type"),
    ],
)
def test_bad_files_fail_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UnreadableDocumentError, match=reason):
        load_document(tmp_path / name)


def test_shipped_corpus_metadata() -> None:
    docs = [load_document(p) for p in sorted(shipped_corpus().glob("*.md"))]
    assert len(docs) >= 30
    assert len({d.meta.doc_id for d in docs}) == len(docs)
    for d in docs:
        m = d.meta
        assert Path(d.path).stem == m.doc_id, "the file is named by its id"
        assert m.title and m.issuer and m.source, m.doc_id
        # a document number is never invented: each one is in the project's domain notes
        assert not m.doc_number or m.doc_number in KNOWN_NUMBERS, (m.doc_id, m.doc_number)
        if m.scope == "external":
            assert "不是官方原文" in d.text, "a summary says it is not the official text"
        else:
            assert "内部" in m.title + d.text and "演示" in d.text
    assert {d.meta.scope for d in docs} == {"external", "internal"}
