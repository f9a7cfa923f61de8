"""A deterministic, capital-markets flavoured sample: request-for-quote (RFQ) hit/miss.

It stands in for the desk's RFQ history until the project reads the real table; no
network, same rows for the same seed on every machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from goldpath_runtime.errors import ProjectError

from .schema import EVENT_TIME, FEATURES, TARGET

# The sample's RFQs arrive over one quarter.
SAMPLE_START = pd.Timestamp("2026-01-05T07:00:00", tz="UTC")
SAMPLE_DAYS = 90
_TIER_EFFECT = {"platinum": 1.4, "gold": 0.6, "silver": 0.0, "bronze": -0.9}
_INSTRUMENT_EFFECT = {"govt_bond": 0.5, "corp_bond": -0.4, "irs": 0.1, "fx_forward": 0.0}


def win_probability(rfqs: pd.DataFrame) -> np.ndarray:
    """How likely the client trades: falls with spread, volatility and notional, rises
    with client tier, the client's habit of trading with the desk and the time the client
    allows to answer."""
    logit = (
        2.0
        - 0.45 * rfqs["spread_bps"].to_numpy()
        - 3.0 * rfqs["volatility"].to_numpy()
        - 0.35 * (np.log(rfqs["notional_usd"].to_numpy()) - np.log(5e6))
        + 0.5 * np.log(rfqs["time_to_close_s"].to_numpy() / 60)
        + 0.2 * (rfqs["side"].to_numpy() == "buy")
        + rfqs["client_tier"].map(_TIER_EFFECT).to_numpy()
        + 3.0 * (rfqs["client_hit_rate_30d"].to_numpy() - 0.4)
        + rfqs["instrument"].map(_INSTRUMENT_EFFECT).to_numpy()
    )
    return np.asarray(1 / (1 + np.exp(-logit)))


def make_rfq_sample(n_rows: int = 5_000, seed: int = 7) -> pd.DataFrame:
    """Generate RFQs whose win probability falls with spread, volatility and notional,
    and rises with client tier, the client's hit rate and the time it allows to answer."""
    if n_rows < 1:
        raise ProjectError(f"n_rows must be at least 1, got {n_rows}")
    categories = {f.name: f.categories for f in FEATURES if f.is_categorical}
    rng = np.random.default_rng(seed)
    notional = np.exp(rng.normal(np.log(5e6), 1.0, n_rows)).clip(1e4, 5e9)
    spread = rng.gamma(2.0, 2.5, n_rows).clip(0.05, 900)
    side = rng.choice(categories["side"], n_rows)
    tier = rng.choice(categories["client_tier"], n_rows, p=[0.1, 0.3, 0.4, 0.2])
    instrument = rng.choice(categories["instrument"], n_rows, p=[0.35, 0.3, 0.2, 0.15])
    volatility = rng.uniform(0.02, 0.6, n_rows)
    time_to_close = rng.uniform(5, 600, n_rows)
    hit_rate = rng.beta(2, 3, n_rows).clip(0.01, 0.99)

    features = pd.DataFrame(
        {"spread_bps": spread, "volatility": volatility, "notional_usd": notional,
         "time_to_close_s": time_to_close, "side": side, "client_tier": tier,
         "client_hit_rate_30d": hit_rate, "instrument": instrument}
    )  # fmt: skip
    hit = rng.random(n_rows) < win_probability(features)
    # Drawn last, so every other column is what it was before the sample had times.
    arrived = np.sort(rng.uniform(0, SAMPLE_DAYS * 86_400, n_rows)).round()
    return pd.DataFrame(
        {
            EVENT_TIME: SAMPLE_START + pd.to_timedelta(arrived, unit="s"),
            "notional_usd": notional.round(2),
            "spread_bps": spread.round(3),
            "side": side,
            "client_tier": tier,
            "client_hit_rate_30d": hit_rate.round(4),
            "instrument": instrument,
            "volatility": volatility.round(4),
            "time_to_close_s": time_to_close.round(1),
            TARGET: hit.astype("int64"),
        }
    )
