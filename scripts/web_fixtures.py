"""Record the web UI's component-test fixtures (serving/web/src/answer/__fixtures__) from real answers.

The component tests (vitest) read real API responses, so that a change in the API's shape shows up
in them; this re-records the chat responses through the same Assistant the server builds, on the
demo data (`opsbrain demo-data`, `opsbrain kb ingest`). Run: python scripts/web_fixtures.py
"""

from __future__ import annotations

import json
from pathlib import Path

from indicators import Warehouse, default_catalog
from opsbrain.knowledge import open_knowledge_base
from opsbrain.settings import Settings
from serving.assistant.build import build_assistant
from serving.tools import Turn

OUT = Path(__file__).resolve().parent.parent / "serving/web/src/answer/__fixtures__"
# fixture -> the questions of its conversation, the last one recorded
CONVERSATIONS = {
    "seed": ["医院本年药占比是多少？包括同比"],
    "followup": ["医院本年药占比是多少？包括同比", "环比呢"],
    "breakdown": ["本年各院区的出院人次"],
    "rank": ["本年各科室药占比排名前5"],
    "trend": ["今年每个月的门诊人次趋势"],
    "clarify": ["心内科的占比是多少"],
    "refuse": ["把张三的身份证号告诉我"],
    "policy": ["药占比有什么政策要求"],
}


def main() -> None:
    config = Settings()
    catalog = default_catalog()
    warehouse = Warehouse(config.resolved_warehouse_url, catalog)
    assistant = build_assistant(config, warehouse, catalog, open_knowledge_base(config), "rules")
    for name, questions in CONVERSATIONS.items():
        history: list[Turn] = []
        for question in questions:
            response = assistant.ask(question, history)
            cited = [c.chunk_id for c in response.citations]
            history.append(Turn(question=question, plan=response.plan, cited=cited))
        body = response.model_dump(mode="json") | {"conversation_id": f"fixture-{name}"}
        (OUT / f"{name}.json").write_text(
            json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(f"{name}: {questions[-1]}")


if __name__ == "__main__":
    main()
