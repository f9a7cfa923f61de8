"""The desk's raw tables, generated: what its systems land before any feature exists.

A deterministic stand-in (no network, the same rows for the same seed) for the tables the
training table is built from (`dataset.py`), each with the timestamps the real ones carry:
- `rfqs`: one row per request for quote, with the desk's quoted spread (`requested_at`);
- `clients`: client reference data; a client's tier changes during the quarter
  (`valid_from`);
- `market`: implied volatility and mid per instrument every 15 minutes (`at`); about one
  row in twenty lands hours late;
- `trades`: the RFQs the client traded on (`traded_at`);
- `quotes`: how each quote ended, `done` (1) or expired unanswered (0), at `closed_at`.

Every table has `ingested_at`, when the row reached the desk's store: what the desk knew
at a moment is what had been ingested by then. The outcome is drawn from the features as
the desk knew them at each request, and from each client's habit of trading with the desk
(hidden: the desk sees it only through the client's past quotes), so a model can learn it
only from point-in-time data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from goldpath_runtime.errors import ProjectError

from .data import SAMPLE_DAYS, SAMPLE_START, win_probability
from .schema import FEATURES

CLIENTS = 200
MARKET_STEP = pd.Timedelta(minutes=15)
LATE_SHARE = 0.05


def make_raw_tables(n_rfqs: int = 5_000, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The raw tables of one quarter with `n_rfqs` requests."""
    if n_rfqs < 1:
        raise ProjectError(f"n_rfqs must be at least 1, got {n_rfqs}")
    from goldpath_runtime.tabular.pointintime import build_pandas

    from .dataset import DEFINITION

    rng = np.random.default_rng(seed)
    categories = {f.name: f.categories for f in FEATURES if f.is_categorical}
    clients = _clients(rng, categories["client_tier"])
    market = _market(rng, categories["instrument"])
    habit = dict(zip(clients["client_id"].unique(), rng.beta(2, 3, CLIENTS), strict=True))
    arrived = np.sort(rng.uniform(0, SAMPLE_DAYS * 86_400, n_rfqs)).round()
    requested = SAMPLE_START + pd.to_timedelta(arrived, unit="s")
    rfqs = pd.DataFrame(
        {
            "rfq_id": [f"R{n:08d}" for n in range(n_rfqs)],
            "client_id": rng.choice(clients["client_id"].unique(), n_rfqs),
            "side": rng.choice(categories["side"], n_rfqs),
            "instrument": rng.choice(categories["instrument"], n_rfqs, p=[0.35, 0.3, 0.2, 0.15]),
            "notional_usd": np.exp(rng.normal(np.log(5e6), 1.0, n_rfqs)).clip(1e4, 5e9).round(2),
            "spread_bps": rng.gamma(2.0, 2.5, n_rfqs).clip(0.05, 900).round(3),
            "time_to_close_s": rng.uniform(5, 600, n_rfqs).round(1),
            "requested_at": requested,
            "ingested_at": requested,
        }
    )
    none = pd.DataFrame({"rfq_id": pd.Series(dtype=str), "client_id": pd.Series(dtype=str),
                         "done": pd.Series(dtype="int64"),
                         "ingested_at": pd.Series(dtype="datetime64[ns, UTC]")})  # fmt: skip
    frames = {"rfqs": rfqs, "clients": clients, "market": market, "trades": none,
              "quotes": none}  # fmt: skip
    # The outcome follows what the desk knew at each request (the built features) and
    # the client's hidden habit, which the desk knows only through its past quotes.
    known = build_pandas(DEFINITION, frames)
    # (`known` is in rfq_id order, which is the order the RFQs were drawn in.)
    known["client_hit_rate_30d"] = rfqs["client_id"].map(habit).to_numpy()
    won = rng.random(len(known)) < win_probability(known)
    answered = (rng.uniform(0.1, 1.0, len(known)) * known["time_to_close_s"]).round()
    closed_at = known["requested_at"] + pd.to_timedelta(
        np.where(won, answered, known["time_to_close_s"].round()), unit="s"
    )
    ingested_at = closed_at + pd.Timedelta(seconds=2)
    frames["trades"] = pd.DataFrame(
        {"rfq_id": known.loc[won, "rfq_id"].to_numpy(), "traded_at": closed_at[won].to_numpy(),
         "ingested_at": ingested_at[won].to_numpy()}
    )  # fmt: skip
    frames["quotes"] = pd.DataFrame(
        {"rfq_id": known["rfq_id"].to_numpy(), "client_id": rfqs["client_id"].to_numpy(),
         "done": won.astype("int64"), "closed_at": closed_at.to_numpy(),
         "ingested_at": ingested_at.to_numpy()}
    ).sort_values("ingested_at", kind="mergesort", ignore_index=True)  # fmt: skip
    return frames


def _clients(rng: np.random.Generator, tiers: tuple[str, ...]) -> pd.DataFrame:
    """Every client's tier from before the quarter, and a new tier for a quarter of them
    part-way through."""
    ids = [f"C{n:04d}" for n in range(CLIENTS)]
    first = rng.choice(tiers, CLIENTS, p=[0.1, 0.3, 0.4, 0.2])
    since = SAMPLE_START - pd.Timedelta(days=30)
    rows = [(c, t, since) for c, t in zip(ids, first, strict=True)]
    for index in rng.choice(CLIENTS, CLIENTS // 4, replace=False):
        at = SAMPLE_START + pd.Timedelta(seconds=float(rng.uniform(0, SAMPLE_DAYS * 86_400)))
        rows.append((ids[index], str(rng.choice(tiers)), at.round("s")))
    frame = pd.DataFrame(rows, columns=["client_id", "client_tier", "valid_from"])
    frame["ingested_at"] = frame["valid_from"] + pd.Timedelta(minutes=5)
    return frame


def _market(rng: np.random.Generator, instruments: tuple[str, ...]) -> pd.DataFrame:
    """Volatility and mid per instrument every 15 minutes, from a day before the quarter;
    a few rows arrive hours late."""
    end = SAMPLE_START + pd.Timedelta(days=SAMPLE_DAYS)
    times = pd.date_range(SAMPLE_START - pd.Timedelta(days=1), end, freq=MARKET_STEP)
    frames = []
    for instrument in instruments:
        shocks = rng.normal(0, 0.02, len(times))
        volatility = np.clip(0.2 + np.cumsum(shocks) * 0.3, 0.02, 0.6)
        delay = np.where(rng.random(len(times)) < LATE_SHARE,
                         rng.uniform(3_600, 6 * 3_600, len(times)), 60.0)  # fmt: skip
        frames.append(pd.DataFrame({
            "instrument": instrument, "at": times, "volatility": volatility.round(4),
            "mid": (100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(times))))).round(4),
            "ingested_at": times + pd.to_timedelta(delay.round(), unit="s"),
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)
