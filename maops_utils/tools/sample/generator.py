"""`generate_sample`: the five contract tables of the synthetic company."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from .behaviour import _Behaviour
from .helpers import _Acts, _arrow_str, _ids, _str_col, _ts, _window, last_complete_month
from .story import (
    _ACTIVITY_TYPES,
    _CATEGORIES,
    _INDUSTRIES,
    _JOB_LEVELS,
    _PREFECTURES,
    CHANNELS,
    PRODUCTS,
)


def generate_sample(
    leads: int = 5000, months: int = 24, seed: int = 42, end_month: str | None = None
) -> dict[str, pd.DataFrame]:
    """Generate the five contract tables for `leads` leads over `months` months to `end_month`.

    `end_month` ("YYYY-MM") is the last month of data (default: the last complete month before
    today); nothing is dated after its end. Timestamps are naive local times (Asia/Tokyo).
    Returns ``{"leads", "activities", "stage_changes", "opportunities", "campaigns"}``.
    """
    if isinstance(leads, bool) or not isinstance(leads, (int, np.integer)) or leads < 1:
        raise ValueError(f"leads must be a positive integer, got {leads!r}")
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    if end_month is None:
        end_month = last_complete_month()
    if not isinstance(end_month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", end_month):
        raise ValueError(f"end_month must look like YYYY-MM, got {end_month!r}")
    return _Generator(int(leads), _window(end_month, int(months)), seed).run()


class _Generator(_Behaviour):
    """The whole company: the tables it exports."""

    def run(self) -> dict[str, pd.DataFrame]:
        self._make_schedule()
        self._make_leads()
        self._make_profiles()
        acts = _Acts()
        self._acquisition(acts)
        self._web(acts)
        self._events(acts)
        self._email(acts)
        lead, t, typ, camp, asset, cat = acts.arrays()
        self._lifecycle(lead, t, typ, cat)
        self._costs()
        return {
            "leads": self._leads_frame(),
            "activities": self._activities_frame(lead, t, typ, camp, asset, cat),
            "stage_changes": self._stage_frame(),
            "opportunities": self._opps_frame(),
            "campaigns": self._campaigns_frame(),
        }

    @property
    def _lead_width(self) -> int:
        return max(6, len(str(self.n)))

    @property
    def _lead_vocab(self) -> pa.Array:
        """All lead ids (L000001 ...), in lead order; built once."""
        if not hasattr(self, "_lead_vocab_cache"):
            self._lead_vocab_cache = _ids("L", np.arange(1, self.n + 1), self._lead_width)
        return self._lead_vocab_cache

    def _leads_frame(self) -> pd.DataFrame:
        pref = [p for p, _ in _PREFECTURES]
        return pd.DataFrame(
            {
                "lead_id": _arrow_str(self._lead_vocab),
                "created_at": _ts(self.created),
                "product": _str_col(self.product, PRODUCTS),
                "lead_source": _str_col(self.chan, CHANNELS),
                "contact_id": _arrow_str(_ids("C", self.contact_no, self._lead_width)),
                "company": pd.Series(self.company, dtype="str"),
                "industry": _str_col(self.industry, _INDUSTRIES),
                "job_level": _str_col(self.job, _JOB_LEVELS),
                "employees": pd.Series(
                    pd.arrays.IntegerArray(
                        np.maximum(self.employees, 0).astype(np.int64), self.employees <= 0
                    )
                ),
                "region": _str_col(self.region, pref),
                "email": pd.Series(self.email, dtype="str"),
            }
        )

    def _activities_frame(self, lead, t, typ, camp, asset, cat) -> pd.DataFrame:  # noqa: ANN001
        key = ((t - self.w.start) * self.n + lead) * 16 + typ
        order = np.argsort(key, kind="stable")
        del key
        lead, t, typ, camp, asset, cat = (a[order] for a in (lead, t, typ, camp, asset, cat))
        n = len(lead)
        return pd.DataFrame(
            {
                "activity_id": _arrow_str(_ids("A", np.arange(1, n + 1), max(8, len(str(n))))),
                "lead_id": _str_col(lead, self._lead_vocab),
                "activity_type": _str_col(typ, _ACTIVITY_TYPES),
                "occurred_at": _ts(t),
                "campaign_id": _str_col(camp, self.c_id),
                "asset_name": _str_col(asset, self.assets.words),
                "category": _str_col(cat, _CATEGORIES),
            }
        )

    def _stage_frame(self) -> pd.DataFrame:
        lead, stage, t = self.sc
        return pd.DataFrame(
            {
                "lead_id": _str_col(lead, self._lead_vocab),
                "stage": _str_col(stage, ("mql", "sql")),
                "changed_at": _ts(t),
            }
        )

    def _opps_frame(self) -> pd.DataFrame:
        lead, prod, created, status, closed, amount = self.opps
        return pd.DataFrame(
            {
                "opportunity_id": _arrow_str(_ids("O", np.arange(1, len(lead) + 1), 6)),
                "lead_id": _str_col(lead, self._lead_vocab),
                "product": _str_col(prod, PRODUCTS),
                "created_at": _ts(created),
                "status": _str_col(status, ("open", "won", "lost")),
                "closed_at": _ts(closed),
                "amount": amount.astype(np.int64),
            }
        )

    def _campaigns_frame(self) -> pd.DataFrame:
        start = np.array(self.c_start, dtype=np.int64)
        order = np.lexsort((np.array(self.c_id), start))
        return pd.DataFrame(
            {
                "campaign_id": pd.Series(np.array(self.c_id, dtype=object)[order], dtype="str"),
                "name": pd.Series(np.array(self.c_name, dtype=object)[order], dtype="str"),
                "product": _str_col(np.array(self.c_product)[order], PRODUCTS),
                "channel": pd.Series(np.array(self.c_channel, dtype=object)[order], dtype="str"),
                "start_date": _ts(start[order]),
                "end_date": _ts(np.array(self.c_end, dtype=np.int64)[order]),
                "cost": np.round(np.array(self.c_cost)[order]).astype(np.int64),
            }
        )
