"""A tiny dataset whose January 2026 metrics were worked out by hand (see the comments).

Products A, B, C have leads; D exists only in opportunities (sales-sourced deals).
Traps: a lead created at 2025-12-31T15:30Z is 2026-01-01 00:30 in Tokyo; recycled MQLs
(first entry counts); an SQL without an MQL; a duplicate open; a bounce in January of a
December send; an orphan activity; an unknown activity type; an unknown stage; zero
denominators; a lead source with markup.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LEADS = """lead_id,created_at,product,lead_source,company,email
L1,2026-01-05 10:00:00,A,webinar,株式会社テスト,l1@example.com
L2,2026-01-31 23:59:59,A,web_ad,テスト工業株式会社,l2@example.com
L3,2026-02-01 00:00:00,A,organic,,
L4,2025-12-31T15:30:00Z,B,exhibition,,
L5,2026/01/10,B,,,
L6,2025-12-20 09:00:00,B,referral,,
L7,2026-01-15 12:00:00,C,<script>alert(1)</script>,,
"""

STAGE_CHANGES = """lead_id,stage,changed_at
L1,mql,2026-01-10 09:00:00
L1,mql,2026-01-25 09:00:00
L1,sql,2026-01-20 09:00:00
L2,mql,2026-02-03 09:00:00
L6,mql,2025-12-28 09:00:00
L6,mql,2026-01-15 09:00:00
L6,sql,2026-01-16 09:00:00
L4,mql,2026-01-31 23:00:00
L4,nurture,2026-01-20 09:00:00
X9,mql,2026-01-10 09:00:00
L7,sql,2026-01-07 09:00:00
"""

OPPORTUNITIES = """opportunity_id,lead_id,product,created_at,status,closed_at,amount
O1,L1,A,2026-01-21 10:00:00,won,2026-01-28 10:00:00,1000000
O2,L6,B,2025-12-10 10:00:00,lost,2026-01-05 10:00:00,500000
O3,L4,B,2026-01-25 10:00:00,open,,300000
O4,,D,2026-01-02 10:00:00,won,2026-02-01 00:00:00,2000000
O5,,D,2025-11-01 10:00:00,won,2026-01-31 23:59:59,"700,000"
"""

ACTIVITIES = """lead_id,activity_type,occurred_at,campaign_id,asset_name,category
L1,email_send,2026-01-05 10:00:00,K1,1月号,
L2,email_send,2026-01-05 10:00:00,K1,1月号,
L4,email_send,2026-01-05 10:00:00,K1,1月号,
L5,email_send,2026-01-05 10:00:00,K1,1月号,
L7,email_send,2026-01-05 10:00:00,K1,1月号,
L5,email_bounce,2026-01-05 10:01:00,K1,1月号,
L1,email_open,2026-01-05 12:00:00,K1,1月号,
L1,email_open,2026-01-06 12:00:00,K1,1月号,
L2,email_open,2026-01-06 12:00:00,K1,1月号,
L1,email_open,2026-01-20 12:00:00,K2,特集,
L1,email_click,2026-01-05 12:01:00,K1,1月号,
L1,email_click,2026-01-06 12:01:00,K1,1月号,
L2,unsubscribe,2026-01-06 12:05:00,K1,1月号,
L1,page_view,2026-01-07 10:00:00,,/products/a,product_detail
L1,page_view,2026-01-07 10:01:00,,/pricing,pricing
L4,page_view,2026-01-08 10:00:00,,/products/b,product_detail
L7,page_view,2026-02-01 00:00:00,,/products/c,product_detail
L1,form_submit,2026-01-09 10:00:00,,お問い合わせ,inquiry
L4,form_submit,2026-01-09 10:00:00,,資料ダウンロード,download
L4,form_submit,2026-01-09 11:00:00,,お問い合わせ,inquiry
ZZ,email_send,2026-01-05 10:00:00,K1,1月号,
L1,sms_sent,2026-01-05 10:00:00,,,
L3,email_open,2025-12-31 23:59:59,K1,1月号,
L6,email_send,2025-12-15 10:00:00,K1,12月号,
L6,email_bounce,2026-01-02 10:00:00,K1,12月号,
"""

CAMPAIGNS = """campaign_id,name,product,channel,cost
K1,<b>1月号</b> & ニュース,,email,50000
K2,特集,A,email,
"""

MONTH = "2026-01"
NAN = float("nan")

# (product, metric) -> value for 2026-01, worked out by hand:
#   new leads: A = L1, L2 (L3 is February); B = L4 (Tokyo time), L5; C = L7
#   mqls: A = L1 (recycled entry ignored); B = L4 (L6's first MQL is in December)
#   sqls: A = L1, B = L6, C = L7 (an SQL without an MQL)
#   opportunities created: A = O1, B = O3, D = O4; won closed in January: A = O1, D = O5
#   closed (won or lost): A = O1, B = O2, D = O5
#   e-mail A: sends L1, L2; open pairs (L1,K1) (L2,K1) (L1,K2); click pair (L1,K1); unsub L2
#   e-mail B: sends L4, L5, bounces L5 and L6 (a December send) -> delivered 0
#   e-mail C: one send, nothing else; ALL: sends 5, bounces 2, delivered 3
EXPECTED: dict[tuple[str, str], float] = {
    ("A", "new_leads"): 2,
    ("B", "new_leads"): 2,
    ("C", "new_leads"): 1,
    ("D", "new_leads"): 0,
    ("ALL", "new_leads"): 5,
    ("A", "mqls"): 1,
    ("B", "mqls"): 1,
    ("C", "mqls"): 0,
    ("D", "mqls"): 0,
    ("ALL", "mqls"): 2,
    ("A", "sqls"): 1,
    ("B", "sqls"): 1,
    ("C", "sqls"): 1,
    ("D", "sqls"): 0,
    ("ALL", "sqls"): 3,
    ("A", "opportunities"): 1,
    ("B", "opportunities"): 1,
    ("C", "opportunities"): 0,
    ("D", "opportunities"): 1,
    ("ALL", "opportunities"): 3,
    ("A", "won_deals"): 1,
    ("B", "won_deals"): 0,
    ("C", "won_deals"): 0,
    ("D", "won_deals"): 1,
    ("ALL", "won_deals"): 2,
    ("A", "revenue"): 1_000_000,
    ("B", "revenue"): 0,
    ("C", "revenue"): 0,
    ("D", "revenue"): 700_000,
    ("ALL", "revenue"): 1_700_000,
    ("A", "mql_rate"): 0.5,
    ("B", "mql_rate"): 0.5,
    ("C", "mql_rate"): 0.0,
    ("D", "mql_rate"): NAN,
    ("ALL", "mql_rate"): 0.4,
    ("A", "sql_rate"): 1.0,
    ("B", "sql_rate"): 1.0,
    ("C", "sql_rate"): NAN,
    ("D", "sql_rate"): NAN,
    ("ALL", "sql_rate"): 1.5,
    ("A", "win_rate"): 1.0,
    ("B", "win_rate"): 0.0,
    ("C", "win_rate"): NAN,
    ("D", "win_rate"): 1.0,
    ("ALL", "win_rate"): 2 / 3,
    ("A", "email_sends"): 2,
    ("B", "email_sends"): 2,
    ("C", "email_sends"): 1,
    ("D", "email_sends"): 0,
    ("ALL", "email_sends"): 5,
    ("A", "email_delivered"): 2,
    ("B", "email_delivered"): 0,
    ("C", "email_delivered"): 1,
    ("D", "email_delivered"): 0,
    ("ALL", "email_delivered"): 3,
    ("A", "email_open_rate"): 1.5,
    ("B", "email_open_rate"): NAN,
    ("C", "email_open_rate"): 0.0,
    ("D", "email_open_rate"): NAN,
    ("ALL", "email_open_rate"): 1.0,
    ("A", "email_ctr"): 0.5,
    ("B", "email_ctr"): NAN,
    ("C", "email_ctr"): 0.0,
    ("D", "email_ctr"): NAN,
    ("ALL", "email_ctr"): 1 / 3,
    ("A", "email_ctor"): 1 / 3,
    ("B", "email_ctor"): NAN,
    ("C", "email_ctor"): NAN,
    ("D", "email_ctor"): NAN,
    ("ALL", "email_ctor"): 1 / 3,
    ("A", "unsubscribe_rate"): 0.5,
    ("B", "unsubscribe_rate"): NAN,
    ("C", "unsubscribe_rate"): 0.0,
    ("D", "unsubscribe_rate"): NAN,
    ("ALL", "unsubscribe_rate"): 1 / 3,
    ("A", "product_page_views"): 1,
    ("B", "product_page_views"): 1,
    ("C", "product_page_views"): 0,
    ("D", "product_page_views"): 0,
    ("ALL", "product_page_views"): 2,
    ("A", "inquiries"): 1,
    ("B", "inquiries"): 1,
    ("C", "inquiries"): 0,
    ("D", "inquiries"): 0,
    ("ALL", "inquiries"): 2,
}


def write(folder: Path, *, leads_encoding: str = "cp932") -> Path:
    """Write the dataset as CSV files (leads in CP932, like a Japanese Excel export)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_bytes(LEADS.encode(leads_encoding))
    (folder / "activities.csv").write_bytes(b"\xef\xbb\xbf" + ACTIVITIES.encode("utf-8"))
    (folder / "stage_changes.csv").write_text(STAGE_CHANGES, encoding="utf-8")
    (folder / "opportunities.csv").write_text(OPPORTUNITIES, encoding="utf-8")
    (folder / "campaigns.csv").write_text(CAMPAIGNS, encoding="utf-8")
    return folder


def as_parquet(src: Path, dest: Path, layout: str) -> Path:
    """A copy of the dataset `src` (`write`) with activities as one Parquet file (`layout`
    "file") or a folder by month ("hive")."""
    shutil.copytree(src, dest)
    acts = pd.read_csv(
        dest / "activities.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    (dest / "activities.csv").unlink()
    typed = acts.replace("", None)
    if layout == "file":
        pq.write_table(
            pa.Table.from_pandas(typed, preserve_index=False), dest / "activities.parquet"
        )
        return dest
    month = typed["occurred_at"].str[:7].fillna("none")
    for m in sorted(month.unique()):
        part = dest / "activities" / f"month={m}"
        part.mkdir(parents=True)
        rows = typed[month == m]
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), part / "part-0.parquet")
    return dest
