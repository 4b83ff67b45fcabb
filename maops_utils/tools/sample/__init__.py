"""Seeded synthetic data in data contract v1: a Japanese B2B company with three products.

`generate_sample()` returns the five contract tables (leads, activities, stage_changes,
opportunities, campaigns) as pandas DataFrames. It is pure: the same arguments give
byte-identical frames, all randomness comes from ``numpy.random.default_rng(seed)``, and the
only dependence on the wall clock is the default ``end_month`` (the last complete month).

The generator is vectorised with numpy (no per-row Python loops over leads or activities), so
it scales to a million leads. Loops run only over months, products and campaigns.

The story (see data/sample/README.md for the measured figures):

* Product A (cloud accounting SaaS), B (HR SaaS), C (security appliance), see PRODUCT_NAMES.
* Leads come from exhibitions, webinars, own seminars (``event``), web ads, organic search,
  referrals and a few unknown sources, with Japanese seasonality (fiscal-year-end March,
  spring and autumn exhibition seasons, quiet August and New Year) and ~15 % yearly growth.
* The MA tool qualifies leads (``mql``) with one uniform score (profile + behaviour points);
  sales accepts some of them (``sql``), which become opportunities that are won, lost or open.

Planted effects, deterministic under the seed:

1. Product C's MQLs rarely become SQL (about 5 %, against about 40 % for A and B), although C
   gets plenty of MQLs: its audience downloads white papers and attends webinars eagerly, and the
   uniform score over-qualifies them.
2. ``web_ad`` brings many cheap leads (lowest cost per lead) of poor quality (MQL rate and
   MQL->SQL rate well below the other channels).
3. A missed month: the 4th month before ``end_month`` (``end_month`` minus 3) has about 40 %
   fewer new leads than its seasonal expectation: the exhibition planned for it was cancelled
   (a ``【中止】`` exhibition campaign with only a cancellation fee) and the web-ad budget was
   halved.
4. Behaviour and profile predict conversion: pricing / product-detail page views and inquiry
   forms, executive / manager job levels and larger companies convert to SQL far more often;
   students almost never do.
5. Referral: few leads, the best MQL->SQL rate and the highest win rate.
"""

from .generator import generate_sample
from .helpers import last_complete_month
from .story import CHANNELS, PRODUCT_NAMES
from .writing import MONTH_COLUMNS, NULL_PARTITION, PART_FILE, write_month_partitions, write_sample

__all__ = [
    "CHANNELS",
    "MONTH_COLUMNS",
    "NULL_PARTITION",
    "PART_FILE",
    "PRODUCT_NAMES",
    "generate_sample",
    "last_complete_month",
    "write_month_partitions",
    "write_sample",
]
