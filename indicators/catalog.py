"""The indicator catalog: load the YAML files, cross-check them, look indicators up.

Typical use::

    catalog = load_catalog()              # the files shipped in indicators/catalog
    ind = catalog.get("药占比")             # by code, name or alias
    catalog.search("手术", system="国考")
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from indicators.catalog_models import DIMENSIONS, Indicator, Measure, Source, Target
from indicators.errors import CatalogError, UnknownIndicatorError
from indicators.matching import close_matches, pinyin_key

CATALOG_DIR = Path(__file__).parent / "catalog"


class Catalog:
    def __init__(self, sources: list[Source], measures: list[Measure], indicators: list[Indicator]) -> None:
        self.sources = {s.name: s for s in sources}
        self.measures = {m.name: m for m in measures}
        self.indicators = {i.code: i for i in indicators}
        self._lookup: dict[str, str] = {}
        for ind in indicators:
            for label in (ind.code, ind.name, ind.english_name, *ind.aliases):
                self._lookup.setdefault(_normalise(label), ind.code)

    def __len__(self) -> int:
        return len(self.indicators)

    def get(self, name: str) -> Indicator:
        """Find an indicator by code, Chinese name, English name or alias.

        Raises:
            UnknownIndicatorError: no such indicator; the error lists close matches.
        """
        code = self._lookup.get(_normalise(name))
        if code is None:
            code = self._by_pinyin(name)
        if code is None:
            labels = [i.name for i in self.indicators.values()]
            raise UnknownIndicatorError(
                f"未知指标“{name}”。可用 GET /api/v1/indicators 或 `opsbrain indicators list` 查看全部指标。",
                param="indicators",
                suggestions=close_matches(name, [*labels, *self._aliases()]),
            )
        return self.indicators[code]

    def search(
        self, query: str = "", system: str | None = None, status: str | None = None
    ) -> list[Indicator]:
        """Indicators whose name, alias, code or definition contains ``query``."""
        q = _normalise(query)
        hits = []
        for ind in self.indicators.values():
            if system and system not in ind.systems:
                continue
            if status and ind.status != status:
                continue
            haystack = " ".join([ind.code, ind.name, ind.english_name, *ind.aliases, ind.definition])
            if not q or q in _normalise(haystack):
                hits.append(ind)
        return hits

    def measures_of(self, indicator: Indicator, version: str | None = None) -> list[Measure]:
        """The measures one caliber version reads, following growth indicators to their base."""
        v = indicator.version(version)
        if v.base:
            return self.measures_of(self.indicators[v.base])
        return [self.measures[m] for m in v.measures()]

    def dimensions_of(self, indicator: Indicator, version: str | None = None) -> list[str]:
        """Dimensions every source of the indicator can be cut by."""
        sets = [set(self.sources[m.source].dimensions) for m in self.measures_of(indicator, version)]
        common = set.intersection(*sets) if sets else set()
        return [d for d in DIMENSIONS if d in common]

    def lineage_of(self, indicator: Indicator, version: str | None = None) -> dict[str, Any]:
        """Which pre-aggregated tables and raw columns feed the indicator."""
        measures = self.measures_of(indicator, version)
        sources = [self.sources[n] for n in dict.fromkeys(m.source for m in measures)]
        return {
            "measures": [{"name": m.name, "label": m.label, "source": m.source} for m in measures],
            "tables": [t for s in sources for t in (s.daily_table, s.monthly_table)],
            "raw_columns": sorted({c for s in sources for c in s.lineage}),
            "time_basis": {s.name: s.time_basis for s in sources},
        }

    def _aliases(self) -> list[str]:
        return [a for i in self.indicators.values() for a in i.aliases]

    def _by_pinyin(self, name: str) -> str | None:
        key = pinyin_key(name)
        for label, code in self._lookup.items():
            if pinyin_key(label) == key:
                return code
        return None


def _normalise(text: str) -> str:
    table = str.maketrans({"（": "(", "）": ")", " ": "", "　": ""})
    return text.translate(table).lower()


def _read(path: Path, key: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path.name}: not valid YAML: {exc}") from exc
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise CatalogError(f"{path.name}: '{key}' must be a list")
    return entries


def _parse(model: type, entries: list[dict[str, Any]], path: Path) -> list[Any]:
    parsed = []
    for i, entry in enumerate(entries):
        label = (
            entry.get("code") or entry.get("name") or f"#{i + 1}" if isinstance(entry, dict) else f"#{i + 1}"
        )
        try:
            parsed.append(model.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(entry)'}: {e['msg']}" for e in exc.errors()
            )
            raise CatalogError(f"{path.name}: {model.__name__.lower()} {label}: {problems}") from exc
    return parsed


def load_catalog(directory: Path | str = CATALOG_DIR) -> Catalog:
    """Parse and cross-check every YAML file of a catalog directory.

    Raises:
        CatalogError: a file is malformed or a reference (source, measure, base indicator) is unknown;
            the message names the file and the entry.
    """
    directory = Path(directory)
    sources: list[Source] = []
    measures: list[Measure] = []
    indicators: list[Indicator] = []
    origin: dict[str, str] = {}
    targets: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.yaml")):
        targets += [(path, entry) for entry in _read(path, "targets")]
        sources += _parse(Source, _read(path, "sources"), path)
        measures += _parse(Measure, _read(path, "measures"), path)
        for ind in _parse(Indicator, _read(path, "indicators"), path):
            if ind.code in origin:
                raise CatalogError(
                    f"{path.name}: indicator {ind.code} is already defined in {origin[ind.code]}"
                )
            origin[ind.code] = path.name
            indicators.append(ind)
    _cross_check(sources, measures, indicators, origin)
    return Catalog(sources, measures, _attach_targets(indicators, targets))


def _attach_targets(
    indicators: list[Indicator], entries: list[tuple[Path, dict[str, Any]]]
) -> list[Indicator]:
    """Targets declared apart from their indicator (a hospital's own, in targets.yaml) join it here."""
    by_code = {i.code: i for i in indicators}
    extra: dict[str, list[Target]] = {}
    for path, entry in entries:
        fields = dict(entry) if isinstance(entry, dict) else {}
        code = fields.pop("indicator", None)
        if code not in by_code:
            raise CatalogError(
                f"{path.name}: target for unknown indicator '{code}'"
                + (
                    f" (did you mean {', '.join(close_matches(str(code), by_code, limit=3))}?)"
                    if code
                    else ""
                )
            )
        extra.setdefault(code, []).extend(_parse(Target, [fields], path))
    return [
        i.model_copy(update={"targets": [*i.targets, *extra[i.code]]}) if i.code in extra else i
        for i in indicators
    ]


def _cross_check(
    sources: list[Source], measures: list[Measure], indicators: list[Indicator], origin: dict[str, str]
) -> None:
    source_names = {s.name for s in sources}
    measure_names = {m.name for m in measures}
    codes = {i.code for i in indicators}
    for m in measures:
        if m.source not in source_names:
            raise CatalogError(
                f"measure {m.name}: unknown source '{m.source}' (valid: {sorted(source_names)})"
            )
    for ind in indicators:
        for v in ind.versions:
            for ref in v.measures():
                if ref not in measure_names:
                    hint = close_matches(ref, measure_names, limit=3)
                    raise CatalogError(
                        f"{origin[ind.code]}: indicator {ind.code} version {v.version}: unknown measure '{ref}'"
                        + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                    )
            if v.base and v.base not in codes:
                raise CatalogError(
                    f"{origin[ind.code]}: indicator {ind.code}: unknown base indicator '{v.base}'"
                )
    for ind in indicators:
        if ind.policy_caliber and ind.policy_caliber not in codes:
            raise CatalogError(
                f"{origin[ind.code]}: indicator {ind.code}: unknown policy_caliber '{ind.policy_caliber}'"
            )
    labels: dict[str, str] = {}
    for ind in indicators:
        for label in (ind.name, *ind.aliases):
            key = _normalise(label)
            if key in labels and labels[key] != ind.code:
                raise CatalogError(f"'{label}' names both {labels[key]} and {ind.code}")
            labels[key] = ind.code


@cache
def default_catalog() -> Catalog:
    """The shipped catalog, parsed once per process."""
    return load_catalog()
