"""Who an answer is for: the data scope the engine enforces and which documents they may read.

The server builds one per request from the signed-in user (serving/api/auth.py); offline tools
(evaluations, the CLI run by the warehouse's owner) use ``EVERYONE``, the whole hospital.
"""

from __future__ import annotations

from dataclasses import dataclass

from indicators.query.access import EVERYTHING, DataAccess


@dataclass(frozen=True)
class Caller:
    access: DataAccess = EVERYTHING
    internal_documents: bool = True


EVERYONE = Caller()
