"""Close-match suggestions for names typed by people (typos, pinyin-equal characters)."""

from __future__ import annotations

from collections.abc import Iterable

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process


def pinyin_key(text: str) -> str:
    """Toneless pinyin, so that 药站比 and 药占比 compare equal."""
    return "".join(lazy_pinyin(text)).lower()


def close_matches(query: str, choices: Iterable[str], limit: int = 5, cutoff: float = 60.0) -> list[str]:
    """Best matches by characters, then by pinyin; order kept, duplicates dropped."""
    pool = list(dict.fromkeys(choices))
    found = [
        c for c, _, _ in process.extract(query, pool, scorer=fuzz.WRatio, limit=limit, score_cutoff=cutoff)
    ]
    by_sound = {pinyin_key(c): c for c in pool}
    key = pinyin_key(query)
    found += [
        by_sound[k]
        for k, _, _ in process.extract(key, list(by_sound), scorer=fuzz.ratio, limit=limit, score_cutoff=80)
    ]
    return list(dict.fromkeys(found))[:limit]
