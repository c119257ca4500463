"""The CJK font for PDF reports: an embedded TrueType font when one is installed, else a standard CID font."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

FONT_ENV = "OPSBRAIN_PDF_FONT"
EMBEDDED_NAME = "OpsbrainCJK"
FALLBACK_NAME = "STSong-Light"
# TrueType outlines only: reportlab cannot embed CFF-based fonts such as Noto Sans CJK / Source Han.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian/Ubuntu fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora/RHEL package layout
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)


@dataclass(frozen=True)
class ReportFont:
    name: str  # as registered with reportlab
    path: str | None  # None for the CID fallback, which is not embedded
    embedded: bool


@functools.cache
def report_font() -> ReportFont:
    """The first usable font among $OPSBRAIN_PDF_FONT and FONT_CANDIDATES, registered once per process."""
    configured = os.environ.get(FONT_ENV, "").strip()
    for path in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if not Path(path).is_file():
            if path == configured:
                log.warning("%s=%s 不是可读的字体文件，改用其他字体", FONT_ENV, path)
            continue
        try:
            # subfontIndex picks the first face of a .ttc collection; plain .ttf files ignore it
            pdfmetrics.registerFont(TTFont(EMBEDDED_NAME, path, subfontIndex=0))
            _one_face_family(EMBEDDED_NAME)
        except (TTFError, OSError) as exc:
            log.warning("字体 %s 无法嵌入 PDF：%s", path, exc)
            continue
        return ReportFont(EMBEDDED_NAME, path, embedded=True)
    # No TrueType CJK font on this machine. STSong-Light is one of the standard CID fonts every
    # conforming PDF reader supplies, so the PDF names it without embedding it: Chinese text still
    # shows and can be searched and copied, but the glyphs depend on the reader's own font.
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_NAME))
    _one_face_family(FALLBACK_NAME)
    log.info("没有找到可嵌入的中文字体，PDF 使用阅读器自带的 %s", FALLBACK_NAME)
    return ReportFont(FALLBACK_NAME, None, embedded=False)


def _one_face_family(name: str) -> None:
    # CJK fonts come without bold or italic faces; <b> in a Paragraph then falls back to the same face
    # instead of failing to find one
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
