"""How the training table is built from the raw tables (`raw.py` generates them; the
desk's systems land the real ones): one row per RFQ at its request time, with the
features the desk knew then and the label from its outcome. One definition, run on pandas
(`make dataset`) and on Spark (the bundle's `dataset` job) by goldpath_runtime.tabular.

Each raw table has a contract, checked before any join, and a knowledge time
(`ingested_at`): an as-of or trailing feature only sees rows ingested before the request.
"""

from __future__ import annotations

from goldpath_runtime.tabular import Feature
from goldpath_runtime.tabular.dataset import DatasetParts, raw_contract
from goldpath_runtime.tabular.pointintime import AsOf, Definition, Outcome, RawTable, Trailing

from .schema import EVENT_TIME, FEATURES, TARGET

_BY_NAME = {f.name: f for f in FEATURES}
TABLES = {name: RawTable(name, known_at="ingested_at")
          for name in ("rfqs", "clients", "market", "trades", "quotes")}  # fmt: skip

DEFINITION = Definition(
    base="rfqs",
    row_id="rfq_id",
    time=EVENT_TIME,
    # The request itself: what the client asked and what the desk quoted.
    carried=("notional_usd", "spread_bps", "side", "instrument", "time_to_close_s"),
    features=(
        # The client's tier as the desk's reference data had it at the request.
        AsOf("client_tier", table="clients", key="client_id", column="client_tier"),
        # The instrument's last implied volatility the desk had received.
        AsOf("volatility", table="market", key="instrument", column="volatility"),
        # The client's hit rate over the quotes closed in the previous 30 days, starting
        # from two pseudo-quotes at the desk's usual 40 % (a new client is not 0 or 1).
        Trailing(
            "client_hit_rate_30d",
            table="quotes",
            key="client_id",
            column="done",
            days=30,
            prior=(0.8, 2.0),
        ),
    ),
    # Won: the client traded on the RFQ.
    label=Outcome(TARGET, table="trades", key="rfq_id"),
    tables=TABLES,
)

CONTRACTS = {
    "rfqs": raw_contract(*(_BY_NAME[name] for name in DEFINITION.carried)),
    "clients": raw_contract(_BY_NAME["client_tier"]),
    "market": raw_contract(
        _BY_NAME["volatility"], Feature("mid", "Mid price of the instrument", gt=0, le=1e6)
    ),
    "quotes": raw_contract(
        Feature("done", "1 when the client traded on the quote, 0 when it expired", gt=-1, le=1)
    ),
}


def parts() -> DatasetParts:
    from .raw import make_raw_tables

    return DatasetParts(DEFINITION, CONTRACTS, make_raw_tables)
