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

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "CHANNELS",
    "MONTH_COLUMNS",
    "PRODUCT_NAMES",
    "generate_sample",
    "last_complete_month",
    "write_month_partitions",
    "write_sample",
]

PRODUCT_NAMES: dict[str, str] = {
    "A": "ミライ会計クラウド（クラウド会計SaaS）",
    "B": "ミライ人事クラウド（人事労務SaaS）",
    "C": "ミライガード（セキュリティアプライアンス）",
}
PRODUCTS: tuple[str, ...] = ("A", "B", "C")
_SHORT = ("会計", "人事", "セキュリティ")

# Lead sources; "" is written as an empty cell (unknown source).
CHANNELS: tuple[str, ...] = ("exhibition", "webinar", "web_ad", "organic", "referral", "event", "")
_EXH, _WEB, _AD, _ORG, _REF, _EVT, _UNK = range(7)

DAY = 86_400
HOUR = 3_600

# ---------------------------------------------------------------------------------------------
# Volume and mix
# ---------------------------------------------------------------------------------------------

# Seasonality of new leads by calendar month (index 1..12).
_SEASON = np.array([np.nan, 0.80, 0.98, 1.12, 1.00, 1.22, 1.05, 1.02, 0.85, 1.00, 1.20, 1.08, 0.85])
_GROWTH_PER_YEAR = 0.15
_MISSED_FACTOR = 0.60  # new leads of the missed month / seasonal expectation
_SEASON_NAME = dict.fromkeys((12, 1, 2), "冬") | dict.fromkeys((3, 4, 5, 6), "春")
_SEASON_NAME |= dict.fromkeys((7, 8), "夏") | dict.fromkeys((9, 10, 11), "秋")

# Share of the month's leads that come from exhibitions, by calendar month, and the products
# that exhibit that month.
_EXH_SHARE = {2: 0.20, 4: 0.15, 5: 0.35, 6: 0.18, 7: 0.22, 9: 0.15, 10: 0.32, 11: 0.20}
_EXH_PRODUCTS = {
    2: (0,),
    4: (1,),
    5: (0, 1, 2),
    6: (2,),
    7: (0, 1),
    9: (1,),
    10: (0, 1, 2),
    11: (2,),
}
# Shares of the non-exhibition leads.
_NONEXH_SHARE = np.array([0.0, 0.16, 0.40, 0.27, 0.05, 0.07, 0.05])
# Product mix per channel (A, B, C).
_PRODUCT_MIX = np.array(
    [
        [0.40, 0.35, 0.25],  # exhibition (only products exhibiting that month are used)
        [0.36, 0.34, 0.30],  # webinar
        [0.44, 0.36, 0.20],  # web_ad
        [0.40, 0.33, 0.27],  # organic
        [0.38, 0.32, 0.30],  # referral
        [0.38, 0.34, 0.28],  # event
        [0.40, 0.35, 0.25],  # unknown
    ]
)

# Cost per lead (JPY) used to derive campaign costs from the leads a campaign brought.
_CPL = {_EXH: 20_000, _WEB: 9_000, _EVT: 16_000, _AD: 5_000}

# ---------------------------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------------------------

_JOB_LEVELS = ("executive", "manager", "staff", "student")
_JOB_MIX = np.array(
    [
        [0.12, 0.33, 0.52, 0.03],  # exhibition
        [0.08, 0.30, 0.55, 0.07],  # webinar
        [0.04, 0.16, 0.60, 0.20],  # web_ad
        [0.09, 0.27, 0.54, 0.10],  # organic
        [0.25, 0.45, 0.30, 0.00],  # referral
        [0.12, 0.35, 0.50, 0.03],  # event
        [0.08, 0.25, 0.57, 0.10],  # unknown
    ]
)
# Probability that a field is left empty, per channel: job_level, employees, industry, region.
_MISSING = np.array(
    [
        [0.01, 0.03, 0.02, 0.01],
        [0.02, 0.05, 0.03, 0.02],
        [0.05, 0.25, 0.15, 0.05],
        [0.02, 0.08, 0.05, 0.03],
        [0.00, 0.02, 0.01, 0.00],
        [0.01, 0.03, 0.02, 0.01],
        [0.30, 0.30, 0.25, 0.20],
    ]
)

_INDUSTRIES = (
    "製造業", "IT・通信", "サービス業", "小売", "建設", "金融", "医療", "物流", "不動産",
    "教育", "官公庁・団体", "その他",
)  # fmt: skip
_INDUSTRY_W = np.array([0.23, 0.20, 0.13, 0.08, 0.07, 0.06, 0.06, 0.05, 0.04, 0.03, 0.02, 0.03])
_INDUSTRY_SUFFIX = (
    ("工業", "製作所", "精機", "電機", "化成", "金属工業", "機械", "精密工業", "電子工業",
     "化学工業"),
    ("システムズ", "テクノロジーズ", "ソフトウェア", "ネットワークス", "ソリューションズ",
     "情報システム", "データ", "テック"),
    ("サービス", "企画", "コンサルティング", "パートナーズ", "ビジネスサポート", "人材サービス"),
    ("商事", "商店", "ストア", "リテール", "物産", "販売"),
    ("建設", "工務店", "建工", "土木", "設備工業"),
    ("ファイナンス", "キャピタル", "証券", "リース", "保険サービス"),
    ("メディカル", "薬品", "医療器", "ヘルスケア", "ファーマ"),
    ("運輸", "物流", "ロジスティクス", "倉庫", "運送", "総合物流"),
    ("不動産", "地所", "ハウジング", "エステート"),
    ("エデュケーション", "学習社", "教育センター", "ゼミナール"),
    ("協会", "振興会", "連合会"),
    ("商会", "ホールディングス", "グループ", "産業", "興産"),
)  # fmt: skip
_NAME_PREFIX = (
    "東洋", "大和", "富士", "三和", "北斗", "中央", "昭和", "太平洋", "東亜", "協和", "共栄",
    "大東", "新日本", "西日本", "東日本", "関東", "関西", "九州", "北海", "中部", "山陽", "湘南",
    "浜松", "瀬戸内", "常磐", "千代田", "青葉", "若葉", "桜木", "菊水", "旭", "朝日", "日の出",
    "光陽", "明星", "北辰", "白鳥", "鶴見", "高砂", "大成", "誠和", "信和", "三栄", "丸和",
    "サクラ", "アオバ", "ミナト", "ヒカリ", "ツバサ", "ミドリ", "ソラ", "カナメ", "ホクト",
    "アスカ", "ハヤテ", "リンクス", "ネクスト", "フロンティア", "グローバル", "ユニオン",
    "エース", "ブライト", "アクシス", "クレスト", "ノース", "ライズ", "プライム", "シグマ",
    "デルタ", "アルファ", "コスモ", "ウィズ", "ベスト", "マルヤマ", "タカミ", "ヤマブキ",
)  # fmt: skip
# Two-kanji stems (e.g. 栄進, 豊和) and katakana stems (e.g. ソラネ) give many more distinct names.
_KANJI_1 = (
    "東西南北大新高山川中富栄光明成和平安日星松竹桜菊青緑白金丸三千永豊福吉寿瑞秀誠信協共進興宝恵"
)
_KANJI_2 = "和栄進成光洋陽興信友伸昌豊盛邦宝正徳輝祥隆雄幸福翔邦産工電化"
_KANA = "アイウエオカキクコサシスセソタチテトナニノハヒフホマミムモヤユヨラリルレロワ"
_UNIV_SUFFIX = ("大学", "工業大学", "学院大学", "情報大学", "経済大学")

# Prefectures with population (10,000 people, 2020 census, rounded); business leads cluster in
# the big cities, so a few weights are boosted (Tokyo most of all).
_PREFECTURES = (
    ("北海道", 522), ("青森県", 124), ("岩手県", 121), ("宮城県", 230), ("秋田県", 96),
    ("山形県", 107), ("福島県", 183), ("茨城県", 287), ("栃木県", 193), ("群馬県", 194),
    ("埼玉県", 734), ("千葉県", 628), ("東京都", 1405), ("神奈川県", 924), ("新潟県", 220),
    ("富山県", 103), ("石川県", 113), ("福井県", 77), ("山梨県", 81), ("長野県", 205),
    ("岐阜県", 198), ("静岡県", 363), ("愛知県", 754), ("三重県", 177), ("滋賀県", 141),
    ("京都府", 258), ("大阪府", 884), ("兵庫県", 547), ("奈良県", 132), ("和歌山県", 92),
    ("鳥取県", 55), ("島根県", 67), ("岡山県", 189), ("広島県", 280), ("山口県", 134),
    ("徳島県", 72), ("香川県", 95), ("愛媛県", 133), ("高知県", 69), ("福岡県", 514),
    ("佐賀県", 81), ("長崎県", 131), ("熊本県", 174), ("大分県", 112), ("宮崎県", 107),
    ("鹿児島県", 159), ("沖縄県", 147),
)  # fmt: skip
_PREF_BOOST = {"東京都": 2.2, "大阪府": 1.3, "愛知県": 1.15, "福岡県": 1.1, "神奈川県": 1.05}

_SURNAMES = (
    "sato", "suzuki", "takahashi", "tanaka", "watanabe", "ito", "yamamoto", "nakamura",
    "kobayashi", "kato", "yoshida", "yamada", "sasaki", "yamaguchi", "matsumoto", "inoue",
    "kimura", "hayashi", "shimizu", "yamazaki", "mori", "abe", "ikeda", "hashimoto", "yamashita",
    "ishikawa", "nakajima", "maeda", "fujita", "ogawa", "goto", "okada", "hasegawa", "murakami",
    "kondo", "ishii", "saito", "sakamoto", "endo", "aoki", "fujii", "nishimura", "fukuda",
    "ota", "miura", "fujiwara", "okamoto", "matsuda", "nakagawa", "nakano", "harada", "ono",
    "tamura", "takeuchi", "kaneko", "wada", "nakayama", "ishida", "ueda", "morita", "hara",
    "shibata", "sakai", "kudo", "yokoyama", "miyazaki", "miyamoto", "uchida", "takagi", "ando",
    "taniguchi", "ohno", "maruyama", "imai", "fujimoto", "takeda", "murata", "ueno", "sugiyama",
    "masuda", "hirano", "otsuka", "chiba", "kubo", "matsui", "iwasaki", "sakurai", "kinoshita",
    "noguchi", "matsuo", "kikuchi", "nomura", "arai",
)  # fmt: skip
_GIVEN = (
    "hiroshi", "takashi", "makoto", "kenji", "daisuke", "yuta", "shota", "kazuki", "naoki",
    "tsuyoshi", "akira", "satoshi", "yusuke", "ryo", "takuya", "kenta", "sho", "yuki",
    "haruka", "yui", "misaki", "ayaka", "mai", "yoko", "keiko", "tomoko", "naoko", "yumi",
    "emi", "sayaka", "kana", "mao", "rina", "nanami", "aoi", "hina", "sakura", "riko", "yuna",
    "mio", "kaito", "ren", "sota", "hiroki", "masaki", "tomoya", "yoshiko", "megumi",
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Behaviour, scoring and conversion
# ---------------------------------------------------------------------------------------------

_ACTIVITY_TYPES = (
    "email_send", "email_open", "email_click", "email_bounce", "unsubscribe", "page_view",
    "form_submit", "webinar_attend", "event_attend",
)  # fmt: skip
(_T_SEND, _T_OPEN, _T_CLICK, _T_BOUNCE, _T_UNSUB, _T_PV, _T_FORM, _T_WEBINAR, _T_EVENT) = range(9)

_CATEGORIES = (
    "top", "blog", "case_study", "product_detail", "pricing", "inquiry", "download", "registration",
)  # fmt: skip
_C_TOP, _C_BLOG, _C_CASE, _C_DETAIL, _C_PRICING, _C_INQ, _C_DL, _C_REG = range(8)

# Intent (true buying interest) by job level and channel.
_Z_JOB = np.array([1.0, 0.7, 0.0, -2.5, -0.3])  # executive, manager, staff, student, missing
_Z_CHANNEL = np.array([0.2, 0.3, -0.9, 0.5, 1.3, 0.4, -0.3])
# Engagement (content consumption) by product and channel; C's audience reads a lot.
_ENG_PRODUCT = np.array([0.0, 0.0, 0.45])
_ENG_CHANNEL = np.array([0.1, 0.2, -0.5, 0.1, 0.2, 0.2, -0.2])

# The MA tool's uniform lead score (same rules for every product).
_SCORE_JOB = np.array([15, 10, 5, 0, 0])
_SCORE_ACTIVITY = {_T_OPEN: 1, _T_CLICK: 3, _T_WEBINAR: 12, _T_EVENT: 10, _T_UNSUB: -10}
_SCORE_PAGE = np.array([1, 1, 3, 5, 8])  # top, blog, case_study, product_detail, pricing
_SCORE_FORM = {_C_INQ: 40, _C_DL: 10, _C_REG: 5}
_MQL_THRESHOLD = 60

# Sales acceptance (MQL -> SQL) and deals.
_SQL_BASE = np.array([-3.0, -2.95, -6.0])  # per product; C is over-qualified by the score
_OPP_RATE = np.array([0.85, 0.85, 0.80])
_WIN_BASE = np.array([-1.6, -1.4, -1.7])
_CYCLE_DAYS = np.array([60.0, 45.0, 120.0])  # mean days from opportunity to close
_DEAL_MEDIAN = np.array([1_800_000.0, 900_000.0, 5_000_000.0])
_DEAL_SIGMA = np.array([0.28, 0.28, 0.25])
_DEAL_RANGE = ((600_000, 6_000_000), (300_000, 3_000_000), (1_500_000, 15_000_000))


@dataclass(frozen=True)
class _Window:
    """The months covered, as seconds since 1970-01-01 in naive local time."""

    bounds: np.ndarray  # months + 1 month starts (int64 seconds)
    years: np.ndarray
    cal: np.ndarray  # calendar month 1..12 of each month

    @property
    def months(self) -> int:
        return len(self.bounds) - 1

    @property
    def start(self) -> int:
        return int(self.bounds[0])

    @property
    def end(self) -> int:
        return int(self.bounds[-1])


def last_complete_month(today: date | None = None) -> str:
    """The last complete calendar month before `today` (default: the local date), as YYYY-MM."""
    today = today or date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


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


def _window(end_month: str, months: int) -> _Window:
    last = np.datetime64(end_month, "M")
    bounds_m = np.arange(last - (months - 1), last + 2)
    mi = bounds_m[:-1].astype(np.int64)
    return _Window(
        bounds=bounds_m.astype("datetime64[s]").astype(np.int64),
        years=mi // 12 + 1970,
        cal=mi % 12 + 1,
    )


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------


def _weekday(sec: np.ndarray) -> np.ndarray:
    """Monday = 0 for int64 seconds since 1970-01-01 (a Thursday)."""
    return (sec // DAY + 3) % 7


def _office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day (seconds) for office activity: morning and afternoon peaks, some evening."""
    u = rng.random(n)
    h = np.where(
        u < 0.45,
        rng.normal(10.8, 1.3, n),
        np.where(u < 0.9, rng.normal(15.3, 1.6, n), rng.uniform(6.0, 24.0, n)),
    )
    return np.clip(h * HOUR, 0, DAY - 1).astype(np.int64)


def _working_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A day start (seconds) drawn in [lo, hi) days, weekends mostly redrawn."""
    lo_d, hi_d = lo // DAY, np.maximum(hi // DAY, lo // DAY + 1)
    day = lo_d + (rng.random(len(lo)) * (hi_d - lo_d)).astype(np.int64)
    for _ in range(3):
        redo = ((day + 3) % 7 >= 5) & (rng.random(len(day)) < 0.6)
        day = np.where(redo, lo_d + (rng.random(len(lo)) * (hi_d - lo_d)).astype(np.int64), day)
    return day * DAY


def _to_office_hours(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Move raw instants to a working day's office hours (weekends mostly to Monday)."""
    day = t // DAY
    wd = (day + 3) % 7
    move = (wd >= 5) & (rng.random(len(t)) < 0.8)
    day = np.where(move, day + (7 - wd), day)
    return day * DAY + _office_seconds(rng, len(t))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids such as ``L000123`` built straight into an Arrow string buffer."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    p = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    w = len(p) + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : len(p)] = p
    rest = numbers.astype(np.uint32) if numbers.max(initial=0) < 2**32 else numbers.copy()
    for k in range(w - 1, len(p) - 1, -1):
        buf[:, k] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.ravel()))


def _str_col(codes: np.ndarray, vocabulary: list[str] | tuple[str, ...] | pa.Array) -> pd.Series:
    """A str column from integer codes into `vocabulary`; code -1 (or an empty word) is missing."""
    codes = np.asarray(codes)
    if isinstance(vocabulary, pa.Array):
        dictionary = vocabulary
        empty = np.zeros(len(vocabulary) + 1, dtype=bool)
    else:
        dictionary = pa.array(list(vocabulary), type=pa.large_string())
        empty = np.array([v == "" for v in vocabulary] + [False])
    empty[-1] = True
    missing = empty[np.where(codes < 0, len(dictionary), codes)]
    arr = pa.DictionaryArray.from_arrays(
        pa.array(np.where(missing, 0, codes).astype(np.int32), mask=missing), dictionary
    ).dictionary_decode()
    return _arrow_str(arr)


def _arrow_str(arr: pa.Array) -> pd.Series:
    return pd.Series(pd.array(arr, dtype="str"))


def _ts(sec: np.ndarray) -> pd.Series:
    """Naive datetime64[us] from int64 seconds; negative sentinel values become NaT."""
    sec = np.asarray(sec, dtype=np.int64)
    out = sec.astype("datetime64[s]").astype("datetime64[us]")
    out[sec < 0] = np.datetime64("NaT")
    return pd.Series(out)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` summing to `total` (largest remainders)."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row owners (np.repeat of arange) and the 0-based position of each row in its group."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner]


class _Acts:
    """Activity rows collected as parallel integer arrays."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, lead, t, typ, camp=None, asset=None, cat=None) -> None:  # noqa: ANN001
        n = len(lead)
        if n == 0:
            return

        def full(x, dtype):  # noqa: ANN001, ANN202
            if x is None:
                return np.full(n, -1, dtype=dtype)
            return np.broadcast_to(np.asarray(x, dtype=dtype), (n,)).copy()

        self.parts.append(
            (
                np.asarray(lead, dtype=np.int64),
                np.asarray(t, dtype=np.int64),
                full(typ, np.int8),
                full(camp, np.int32),
                full(asset, np.int32),
                full(cat, np.int8),
            )
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        cols = list(zip(*self.parts, strict=True))
        return tuple(np.concatenate(c) for c in cols)


class _Vocab:
    """Asset names, interned to integer codes."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, word: str) -> int:
        if word not in self.index:
            self.index[word] = len(self.words)
            self.words.append(word)
        return self.index[word]


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


class _Generator:
    def __init__(self, n_leads: int, window: _Window, seed: int) -> None:
        self.n = n_leads
        self.w = window
        self.rng = np.random.default_rng(seed)
        self.assets = _Vocab()
        # campaigns as python lists (a few hundred rows)
        self.c_id: list[str] = []
        self.c_name: list[str] = []
        self.c_product: list[int] = []
        self.c_channel: list[str] = []
        self.c_start: list[int] = []
        self.c_end: list[int] = []
        self.c_cost: list[float] = []

    # -- campaigns --------------------------------------------------------------------------

    def _add_campaign(self, cid, name, product, channel, start, end, cost=0.0) -> int:  # noqa: ANN001
        self.c_id.append(cid)
        self.c_name.append(name)
        self.c_product.append(product)
        self.c_channel.append(channel)
        self.c_start.append(int(start) // DAY * DAY)
        self.c_end.append(int(end) // DAY * DAY)
        self.c_cost.append(float(cost))
        return len(self.c_id) - 1

    def _pick_day(self, m: int, lo: int, hi: int, weekdays: tuple[int, ...]) -> int:
        """A day start in month m between day-of-month lo and hi on one of `weekdays`."""
        first = int(self.w.bounds[m])
        ndays = (int(self.w.bounds[m + 1]) - first) // DAY
        days = [first + d * DAY for d in range(lo - 1, min(hi, ndays))]
        ok = [d for d in days if int(_weekday(np.int64(d))) in weekdays] or days
        return ok[int(self.rng.integers(len(ok)))]

    def _make_schedule(self) -> None:
        w, M, rng = self.w, self.w.months, self.rng
        self.missed = M - 4 if M >= 4 else -1
        # webinars, own seminars, web ads, e-mails: one per month and product
        self.webinar_camp = np.zeros((M, 3), dtype=np.int64)
        self.webinar_t = np.zeros((M, 3), dtype=np.int64)
        self.event_camp = np.zeros((M, 3), dtype=np.int64)
        self.event_t = np.zeros((M, 3), dtype=np.int64)
        self.ad_camp = np.zeros((M, 3), dtype=np.int64)
        self.nurture_camp = np.zeros((M, 3), dtype=np.int64)
        self.nurture_t = np.zeros((M, 3), dtype=np.int64)
        self.news_camp = np.zeros(M, dtype=np.int64)
        self.news_t = np.zeros(M, dtype=np.int64)
        self.exh: list[tuple[int, int, int, int]] = []  # (campaign, month, product, start)
        self.exh_of = -np.ones((M, 3), dtype=np.int64)
        topics = (
            ("インボイス制度対応の実務ポイント", "電子帳簿保存法 完全ガイド",
             "月次決算を3日早める方法", "経理DX Q&A大会", "予算管理をExcelから卒業する"),
            ("人的資本開示の始め方", "勤怠管理DXの進め方", "評価制度見直しのQ&A",
             "年末調整を<ラク>にする", "採用から入社手続きまでの一元化"),
            ("ランサムウェア対策の最前線", "ゼロトラスト入門", "UTM入れ替えのチェックポイント",
             "中小企業のセキュリティ対策Q&A", "テレワーク時代のネットワーク防御"),
        )  # fmt: skip
        expo = ("バックオフィス改革フェア", "人事・労務ソリューション展", "情報セキュリティ対策展")
        city = ("東京", "大阪", "名古屋", "福岡")
        for m in range(M):
            y, c = int(w.years[m]), int(w.cal[m])
            ym = f"{y % 100:02d}{c:02d}"
            m_start, m_last = int(w.bounds[m]), int(w.bounds[m + 1]) - DAY
            for p, code in enumerate(PRODUCTS):
                d = self._pick_day(m, 12, 26, (1, 2, 3))
                t = d + 14 * HOUR
                topic = topics[p][int(rng.integers(len(topics[p])))]
                self.webinar_t[m, p] = t
                self.webinar_camp[m, p] = self._add_campaign(
                    f"WB-{code}-{ym}",
                    f"【ウェビナー】{topic}（{c}/{(t - m_start) // DAY + 1}）",
                    p,
                    "webinar",
                    d,
                    d,
                )
                d = self._pick_day(m, 8, 25, (1, 2, 3, 4))
                self.event_t[m, p] = d + 15 * HOUR
                self.event_camp[m, p] = self._add_campaign(
                    f"EV-{code}-{ym}",
                    f"{_SHORT[p]}導入事例セミナー in {city[int(rng.integers(4))]}（{y}年{c}月）",
                    p,
                    "event",
                    d,
                    d,
                )
                self.ad_camp[m, p] = self._add_campaign(
                    f"AD-{code}-{ym}",
                    f"Web広告（リスティング・SNS）{_SHORT[p]} {y}年{c}月",
                    p,
                    "web_ad",
                    m_start,
                    m_last,
                )
                d = self._pick_day(m, 6, 20, (1, 2))
                self.nurture_t[m, p] = d + (10 + p) * HOUR
                self.nurture_camp[m, p] = self._add_campaign(
                    f"EM-{code}-{ym}",
                    f"【{_SHORT[p]}】{y}年{c}月 ナーチャリングメール",
                    p,
                    "email",
                    d,
                    d,
                    30_000,
                )
            d = self._pick_day(m, 20, 28, (3,))
            self.news_t[m] = d + 11 * HOUR
            news_name = f"ミライ通信 {y}年{c}月号（メールマガジン）"
            if m == M - 1:
                # Names are typed by people and may hold markup: the newest newsletter's name
                # shows that every report prints it as text, never as HTML.
                news_name = f"<script>alert('ミライ通信')</script> {y}年{c}月号 & <b>特別号</b>"
            self.news_camp[m] = self._add_campaign(f"NL-{ym}", news_name, -1, "email", d, d, 50_000)
            # exhibitions (3 days, Wednesday to Friday)
            products = _EXH_PRODUCTS.get(c, ())
            if m == self.missed and not products:
                products = (0,)
            for p in products:
                d = self._pick_day(m, 5, 17, (2,))
                name = f"{expo[p]} {y}【{_SEASON_NAME[c]}】（{city[(m + p) % 2]}）"
                cancelled = m == self.missed
                cid = self._add_campaign(
                    f"EX-{PRODUCTS[p]}-{ym}",
                    ("【中止】" if cancelled else "") + name,
                    p,
                    "exhibition",
                    d,
                    d + 2 * DAY,
                )
                if not cancelled:
                    self.exh.append((cid, m, p, d))
                    self.exh_of[m, p] = cid

    # -- leads ------------------------------------------------------------------------------

    def _month_weights(self) -> np.ndarray:
        w, M = self.w, self.w.months
        t = np.arange(M) / 12.0
        expected = (1 + _GROWTH_PER_YEAR) ** t * _SEASON[w.cal]
        weights = expected.copy()
        if self.missed >= 0:
            weights[self.missed] *= _MISSED_FACTOR
        return weights

    def _channel_shares(self) -> np.ndarray:
        M = self.w.months
        shares = np.zeros((M, 7))
        for m in range(M):
            e = _EXH_SHARE.get(int(self.w.cal[m]), 0.0) if self.exh_of[m].max() >= 0 else 0.0
            shares[m] = _NONEXH_SHARE * (1 - e)
            shares[m, _EXH] = e
            if m == self.missed:  # exhibition cancelled and the web-ad budget halved
                shares[m] = _NONEXH_SHARE
                shares[m, _AD] *= 0.5
            shares[m] /= shares[m].sum()
        return shares

    def _make_leads(self) -> None:
        rng, w, N = self.rng, self.w, self.n
        weights = self._month_weights()
        # month totals follow the plan closely (small noise), so the missed month stands out
        noisy = weights * np.exp(rng.normal(0, 0.04, len(weights)))
        if self.missed >= 0:
            noisy[self.missed] = weights[self.missed]
        per_month = _apportion(N, noisy)
        per_mc = rng.multinomial(per_month, self._channel_shares())  # (M, 7)
        flat = per_mc.ravel()
        cell = np.repeat(np.arange(flat.size), flat)
        month, chan = cell // 7, cell % 7

        # product: channel mix, exhibitions restricted to the products exhibiting that month
        probs = _PRODUCT_MIX[chan].copy()
        ex = chan == _EXH
        probs[ex] *= self.exh_of[month[ex]] >= 0
        product = _choice_rows(rng, probs)

        # created_at
        lo, hi = w.bounds[month], w.bounds[month + 1]
        created = _working_days(rng, lo, hi) + _office_seconds(rng, N)
        exh_camp = np.full(N, -1, dtype=np.int64)
        if ex.any():
            exh_camp[ex] = self.exh_of[month[ex], product[ex]]
            day = (
                np.array(self.c_start, dtype=np.int64)[exh_camp[ex]]
                + rng.integers(0, 3, ex.sum()) * DAY
            )
            created[ex] = day + rng.integers(10 * HOUR, 17 * HOUR + 1800, ex.sum())
        for ch, t_arr in ((_WEB, self.webinar_t), (_EVT, self.event_t)):
            sel = chan == ch
            ev_t = t_arr[month[sel], product[sel]]
            day = _working_days(rng, lo[sel], ev_t - DAY)
            created[sel] = np.minimum(day + _office_seconds(rng, sel.sum()), ev_t - HOUR)

        order = np.lexsort((np.arange(N), created))
        self.created = created[order]
        self.month = month[order]
        self.chan = chan[order]
        self.product = product[order]
        self.exh_lead_camp = exh_camp[order]

    def _make_profiles(self) -> None:
        rng, N, chan = self.rng, self.n, self.chan
        # company pool
        n_comp = max(1, int(N * 0.6))
        industry = rng.choice(len(_INDUSTRIES), n_comp, p=_INDUSTRY_W)
        emp = np.exp(rng.normal(np.log(120), 1.55, n_comp))
        emp = np.clip(emp, 2, 80_000)
        mag = 10.0 ** np.maximum(np.floor(np.log10(emp)) - 1, 0)
        emp = (np.round(emp / mag) * mag).astype(np.int64)
        pref_w = np.array([pop * _PREF_BOOST.get(name, 1.0) for name, pop in _PREFECTURES])
        region = rng.choice(len(_PREFECTURES), n_comp, p=pref_w / pref_w.sum())
        pre = rng.integers(len(_NAME_PREFIX), size=n_comp)
        stem_kind = rng.random(n_comp)
        k1 = np.array(list(_KANJI_1), dtype=object)[rng.integers(len(_KANJI_1), size=n_comp)]
        k2 = np.array(list(_KANJI_2), dtype=object)[rng.integers(len(_KANJI_2), size=n_comp)]
        kana = np.array(list(_KANA), dtype=object)[rng.integers(len(_KANA), size=(3, n_comp))]
        kana_end = np.where(rng.random(n_comp) < 0.3, "ン", kana[2])
        stem = np.where(
            stem_kind < 0.4,
            np.array(_NAME_PREFIX, dtype=object)[pre],
            np.where(stem_kind < 0.8, k1 + k2, kana[0] + kana[1] + kana_end),
        )
        suf_u = rng.random(n_comp)
        # industry-specific suffix (工業, システムズ, 商事 ...) after the stem
        suf_idx = np.zeros(n_comp, dtype=np.int64)
        suf_words: list[str] = []
        suf_offset = []
        for i, words in enumerate(_INDUSTRY_SUFFIX):
            suf_offset.append(len(suf_words))
            suf_words.extend(words)
            sel = industry == i
            suf_idx[sel] = suf_offset[i] + (suf_u[sel] * len(words)).astype(int)
        form_u = rng.random(n_comp)
        gov = industry == _INDUSTRIES.index("官公庁・団体")
        # legal form: 0 株式会社X, 1 X株式会社, 2 有限会社X, 3 合同会社X, 4 X, 5 一般社団法人X
        form = np.select(
            [gov, form_u < 0.55, form_u < 0.88, (form_u < 0.94) & (emp < 50), form_u < 0.96],
            [5, 0, 1, 2, 3],
            4,
        )
        base = pd.Series(stem) + np.array(suf_words, dtype=object)[suf_idx]
        left = np.array(["株式会社", "", "有限会社", "合同会社", "", "一般社団法人"], dtype=object)[
            form
        ]
        right = np.array(["", "株式会社", "", "", "", ""], dtype=object)[form]
        comp_name = (left + base + right).to_numpy(dtype=object)

        # universities for students
        n_univ = max(1, min(80, N // 60))
        univ_name = (
            pd.Series(
                np.array(_NAME_PREFIX, dtype=object)[rng.integers(len(_NAME_PREFIX), size=n_univ)]
            )
            + np.array(_UNIV_SUFFIX, dtype=object)[rng.integers(len(_UNIV_SUFFIX), size=n_univ)]
        ).to_numpy(dtype=object)
        univ_region = rng.choice(len(_PREFECTURES), n_univ, p=pref_w / pref_w.sum())

        # per lead
        job = _choice_rows(rng, _JOB_MIX[chan])
        student = job == 3
        comp_p = emp.astype(float) ** 0.35
        company = rng.choice(n_comp, N, p=comp_p / comp_p.sum())
        univ = rng.integers(n_univ, size=N)
        name = np.where(student, univ_name[univ], comp_name[company])
        ind = np.where(student, _INDUSTRIES.index("教育"), industry[company])
        employees = np.where(student, -1, emp[company])
        reg = np.where(student, univ_region[univ], region[company])

        # contacts: e-mail addresses at example domains only
        sur = rng.integers(len(_SURNAMES), size=N)
        giv = rng.integers(len(_GIVEN), size=N)
        pattern = rng.integers(4, size=N)
        s = np.array(_SURNAMES, dtype=object)[sur]
        g = np.array(_GIVEN, dtype=object)[giv]
        g1 = np.array([x[0] for x in _GIVEN], dtype=object)[giv]
        local = np.select(
            [pattern == 0, pattern == 1, pattern == 2],
            [g + "." + s, s + "." + g, g1 + "." + s],
            s + "-" + g1,
        )
        local_s = pd.Series(local)
        dup = local_s.groupby(local_s, sort=False).cumcount().to_numpy()
        local = np.where(dup > 0, local + (dup + 1).astype(str).astype(object), local)
        freemail = student | (rng.random(N) < 0.07)
        email = local + np.where(freemail, "@example.com", "@example.co.jp")

        # company as entered: a few abbreviations and spacing variants
        variant_u = rng.random(N)
        name_s = pd.Series(name)
        v1 = variant_u < 0.025
        v2 = (variant_u >= 0.025) & (variant_u < 0.04)
        v3 = (variant_u >= 0.04) & (variant_u < 0.05)
        name_s[v1] = name_s[v1].str.replace("株式会社", "(株)", regex=False)
        name_s[v2] = name_s[v2].str.replace("株式会社", "㈱", regex=False)
        name_s[v3] = name_s[v3].str.replace("株式会社", "株式会社 ", regex=False).str.strip()
        name = name_s.to_numpy(dtype=object)

        # the same person interested in a second product: ~5 % of leads share a contact_id
        cand = rng.choice(N, size=int(N * 0.04), replace=False)
        cand = cand[cand > 0]
        prim = (rng.random(len(cand)) * cand).astype(np.int64)
        is_cand = np.zeros(N, dtype=bool)
        is_cand[cand] = True
        ok = (self.product[prim] != self.product[cand]) & ~is_cand[prim]
        cand, prim = cand[ok], prim[ok]
        _, first = np.unique(prim, return_index=True)
        first = np.sort(first)
        sec, prim = cand[first], prim[first]
        for arr in (job, name, ind, employees, reg, email, company):
            arr[sec] = arr[prim]
        student = job == 3

        contact = np.arange(N)
        contact[sec] = prim
        is_primary = np.ones(N, dtype=bool)
        is_primary[sec] = False
        number = np.cumsum(is_primary)  # 1-based contact number in order of first lead
        self.contact_no = number[contact]

        # fields left empty on the form
        miss = rng.random((N, 4)) < _MISSING[chan]
        self.job = np.where(miss[:, 0], -1, job)
        self.employees = np.where(miss[:, 1], -1, employees)
        self.industry = np.where(miss[:, 2], -1, ind)
        self.region = np.where(miss[:, 3], -1, reg)
        self.company = name
        self.email = email
        self.student = student

        # latent intent (true buying interest) and engagement (content consumption)
        jl = np.where(self.job < 0, 4, self.job)
        size = np.where(
            self.employees > 0,
            np.clip(np.log10(np.maximum(self.employees, 1)) - 2, -1.5, 2.3),
            -0.45,
        )
        self.z = _Z_JOB[jl] + 0.75 * size + _Z_CHANNEL[chan] + rng.normal(0, 0.9, N)
        self.eng = (
            0.35 * self.z + _ENG_PRODUCT[self.product] + _ENG_CHANNEL[chan] + rng.normal(0, 0.75, N)
        )
        self.jl = jl
        self.size = size

    # -- activities -------------------------------------------------------------------------

    def _offsets(self, n: int, mean_days: float = 45.0) -> np.ndarray:
        """Days after lead creation for engagement: mostly early, a long tail."""
        rng = self.rng
        early = rng.exponential(mean_days, n)
        late = rng.exponential(220.0, n)
        return np.where(rng.random(n) < 0.75, early, late) * DAY

    def _asset_codes(self, words: list[str]) -> np.ndarray:
        return np.array([self.assets.code(x) for x in words], dtype=np.int32)

    def _acquisition(self, acts: _Acts) -> None:
        rng, N = self.rng, self.n
        lead = np.arange(N)
        t0, chan, prod, month = self.created, self.chan, self.product, self.month
        dl = self._asset_codes([f"資料ダウンロード（{s}サービス紹介資料）" for s in _SHORT])
        inq = self._asset_codes([f"お問い合わせ（{s}）" for s in _SHORT])
        reg_web = self.assets.code("ウェビナー申込フォーム")
        reg_sem = self.assets.code("セミナー申込フォーム")
        news = self.assets.code("メールマガジン登録")

        sel = chan == _EXH
        acts.add(lead[sel], t0[sel], _T_EVENT, camp=self.exh_lead_camp[sel])

        for ch, camp, evt_t, reg, typ, p_att in (
            (_WEB, self.webinar_camp, self.webinar_t, reg_web, _T_WEBINAR, 0.55),
            (_EVT, self.event_camp, self.event_t, reg_sem, _T_EVENT, 0.70),
        ):
            sel = np.flatnonzero(chan == ch)
            c = camp[month[sel], prod[sel]]
            acts.add(sel, t0[sel], _T_FORM, camp=c, asset=reg, cat=_C_REG)
            att = rng.random(len(sel)) < p_att
            acts.add(
                sel[att],
                evt_t[month[sel], prod[sel]][att] + rng.integers(0, 900, att.sum()),
                typ,
                camp=c[att],
            )

        sel = np.flatnonzero(chan == _AD)
        acts.add(
            sel,
            t0[sel],
            _T_FORM,
            camp=self.ad_camp[month[sel], prod[sel]],
            asset=dl[prod[sel]],
            cat=_C_DL,
        )

        sel = np.flatnonzero(chan == _ORG)
        u = rng.random(len(sel))
        p_inq = _sigmoid(-1.8 + 0.9 * self.z[sel])
        kind = np.where(u < p_inq, _C_INQ, np.where(u < p_inq + 0.2, _C_REG, _C_DL))
        asset = np.select([kind == _C_INQ, kind == _C_REG], [inq[prod[sel]], news], dl[prod[sel]])
        acts.add(sel, t0[sel], _T_FORM, asset=asset, cat=kind)

    def _web(self, acts: _Acts) -> None:
        rng, N = self.rng, self.n
        z, eng, prod, t0, end = self.z, self.eng, self.product, self.created, self.w.end
        # page views
        lam = 2.0 * np.exp(0.5 * eng)
        lead, _ = _expand(rng.poisson(lam))
        t = t0[lead] + self._offsets(len(lead)).astype(np.int64)
        t = np.maximum(_to_office_hours(rng, t), t0[lead] + 60)
        keep = t < end
        lead, t = lead[keep], t[keep]
        zl = z[lead]
        logits = np.column_stack(
            [
                np.zeros(len(lead)),
                0.5 + 0.5 * (prod[lead] == 2),
                -0.6 + 0.2 * zl,
                -0.4 + 0.55 * zl,
                -1.7 + 0.85 * zl,
            ]
        )
        cat = _choice_rows(rng, np.exp(logits))
        own = rng.random(len(lead)) < 0.85
        page_prod = np.where(own, prod[lead], (prod[lead] + rng.integers(1, 3, len(lead))) % 3)
        paths: list[str] = ["/"]  # top
        blog = [f"/blog/{s}/" for s in (
            "invoice-basics", "denchoho-guide", "closing-faster", "budget-excel", "jinteki-shihon",
            "kintai-dx", "nenmatsu-chosei", "onboarding", "ransomware-2026", "zero-trust",
            "utm-replace", "telework-security", "dx-suishin", "backoffice-kaizen", "seminar-report",
        )]  # fmt: skip
        blog_codes = self._asset_codes(blog)
        case_codes = self._asset_codes(
            [f"/case-studies/{p.lower()}-{k:02d}/" for p in PRODUCTS for k in range(1, 9)]
        )
        detail_codes = self._asset_codes(
            [
                f"/products/{p.lower()}/{s}"
                for p in PRODUCTS
                for s in ("", "features/", "integrations/")
            ]
        )
        pricing_codes = self._asset_codes([f"/products/{p.lower()}/pricing/" for p in PRODUCTS])
        top = self.assets.code(paths[0])
        n = len(lead)
        blog_pick = np.where(
            rng.random(n) < 0.6,
            page_prod * 5 + rng.integers(0, 5, n),
            rng.integers(0, len(blog), n),
        )
        asset = np.select(
            [cat == 0, cat == 1, cat == 2, cat == 3],
            [
                top,
                blog_codes[np.minimum(blog_pick, len(blog) - 1)],
                case_codes[page_prod * 8 + rng.integers(0, 8, n)],
                detail_codes[page_prod * 3 + rng.choice(3, n, p=[0.6, 0.3, 0.1])],
            ],
            pricing_codes[page_prod],
        )
        page_cat = np.array([_C_TOP, _C_BLOG, _C_CASE, _C_DETAIL, _C_PRICING])[cat]
        acts.add(lead, t, _T_PV, asset=asset, cat=page_cat)
        self.pv = (lead, page_cat, page_prod == prod[lead])

        # forms: white-paper downloads (C's audience downloads the most) and inquiries
        papers = [
            (
                "ホワイトペーパー：インボイス制度対応チェックリスト",
                "ホワイトペーパー：経理業務の自動化ガイド",
            ),
            ("ホワイトペーパー：人的資本経営の基礎", "ホワイトペーパー：勤怠管理の法改正対応"),
            (
                "ホワイトペーパー：ランサムウェア被害事例集",
                "ホワイトペーパー：セキュリティ対策チェックシート",
            ),
        ]
        dl_codes = self._asset_codes(
            [
                x
                for p in range(3)
                for x in (*papers[p], f"資料ダウンロード（{_SHORT[p]}サービス紹介資料）")
            ]
        )
        lam_dl = 0.28 * np.exp(0.45 * eng) * np.where(prod == 2, 2.2, 1.0)
        lead, _ = _expand(rng.poisson(lam_dl))
        t = t0[lead] + self._offsets(len(lead), 60.0).astype(np.int64)
        t = np.maximum(_to_office_hours(rng, t), t0[lead] + 60)
        keep = t < end
        lead, t = lead[keep], t[keep]
        acts.add(
            lead,
            t,
            _T_FORM,
            asset=dl_codes[prod[lead] * 3 + rng.integers(0, 3, len(lead))],
            cat=_C_DL,
        )

        inq_codes = self._asset_codes(
            [f"{k}（{s}）" for s in _SHORT for k in ("お問い合わせ", "見積依頼", "デモ依頼")]
        )
        p_inq = _sigmoid(-3.6 + 1.1 * z)
        lead = np.flatnonzero(rng.random(N) < p_inq)
        t = t0[lead] + self._offsets(len(lead), 40.0).astype(np.int64)
        t = np.maximum(_to_office_hours(rng, t), t0[lead] + 60)
        keep = t < end
        lead, t = lead[keep], t[keep]
        acts.add(
            lead,
            t,
            _T_FORM,
            asset=inq_codes[prod[lead] * 3 + rng.choice(3, len(lead), p=[0.5, 0.3, 0.2])],
            cat=_C_INQ,
        )

    def _events(self, acts: _Acts) -> None:
        """Existing leads registering for webinars / seminars and visiting exhibition booths."""
        rng, N, M = self.rng, self.n, self.w.months
        eng, prod, t0, bounds = self.eng, self.product, self.created, self.w.bounds
        # the webinar / seminar a lead registered for when it was created is not repeated
        own = np.full(N, -1, dtype=np.int64)
        for ch, table in ((_WEB, self.webinar_camp), (_EVT, self.event_camp)):
            sel = self.chan == ch
            own[sel] = table[self.month[sel], prod[sel]]
        reg_web = self.assets.code("ウェビナー申込フォーム")
        reg_sem = self.assets.code("セミナー申込フォーム")
        for lam, camp, evt_t, reg, typ, p_att in (
            (
                0.30 * np.exp(0.5 * eng) * np.where(prod == 2, 1.8, 1.0),
                self.webinar_camp,
                self.webinar_t,
                reg_web,
                _T_WEBINAR,
                0.6,
            ),
            (0.05 * np.exp(0.4 * eng), self.event_camp, self.event_t, reg_sem, _T_EVENT, 0.7),
        ):
            lead, _ = _expand(rng.poisson(lam))
            want = t0[lead] + self._offsets(len(lead), 90.0).astype(np.int64)
            m = np.searchsorted(bounds, want, side="right") - 1
            m = np.where((m < M) & (evt_t[np.minimum(m, M - 1), prod[lead]] <= t0[lead]), m + 1, m)
            ok = m < M
            lead, m = lead[ok], m[ok]
            et = evt_t[m, prod[lead]]
            c = camp[m, prod[lead]]
            ok = (et > t0[lead] + HOUR) & (c != own[lead])
            lead, c, et = lead[ok], c[ok], et[ok]
            key = np.unique(lead * len(self.c_id) + c, return_index=True)[1]
            key = np.sort(key)
            lead, c, et = lead[key], c[key], et[key]
            reg_t = np.maximum(
                et
                - rng.integers(1, 15, len(lead)) * DAY
                + _office_seconds(rng, len(lead))
                - 14 * HOUR,
                t0[lead] + 60,
            )
            reg_t = np.minimum(reg_t, et - 60)
            acts.add(lead, reg_t, _T_FORM, camp=c, asset=reg, cat=_C_REG)
            att = rng.random(len(lead)) < p_att
            acts.add(lead[att], et[att] + rng.integers(0, 900, att.sum()), typ, camp=c[att])

        # exhibition booth visits by existing leads of the exhibiting product
        if self.exh:
            ex = np.array([(e[0], e[2], e[3]) for e in self.exh], dtype=np.int64)
            visit = np.flatnonzero(rng.random(N) < 0.10 * np.exp(0.3 * eng))
            skip = rng.geometric(0.5, len(visit)) - 1
            for p in range(3):
                mine = ex[ex[:, 1] == p]
                sel = prod[visit] == p
                v = visit[sel]
                idx = np.searchsorted(mine[:, 2], t0[v], side="right") + skip[sel]
                ok = idx < len(mine)
                v, idx = v[ok], idx[ok]
                t = (
                    mine[idx, 2]
                    + rng.integers(0, 3, len(v)) * DAY
                    + rng.integers(10 * HOUR, 17 * HOUR, len(v))
                )
                ok = t > t0[v]
                acts.add(v[ok], t[ok], _T_EVENT, camp=mine[idx[ok], 0])

    def _email(self, acts: _Acts) -> None:
        rng, N, M, end = self.rng, self.n, self.w.months, self.w.end
        eng, prod, t0 = self.eng, self.product, self.created
        nurture_months = 6
        # nurturing: the first six monthly mails of the lead's product after creation
        nurture_ok = rng.random(N) < 0.92
        first = np.empty(N, dtype=np.int64)
        for p in range(3):
            sel = prod == p
            first[sel] = np.searchsorted(self.nurture_t[:, p], t0[sel], side="right")
        cnt = np.where(nurture_ok, np.clip(M - first, 0, nurture_months), 0)
        lead_n, k = _expand(cnt)
        mi = first[lead_n] + k
        camp_n = self.nurture_camp[mi, prod[lead_n]]
        t_n = self.nurture_t[mi, prod[lead_n]]
        # newsletter to subscribers
        news_ok = rng.random(N) < 0.45
        first = np.searchsorted(self.news_t, t0, side="right")
        lead_l, k = _expand(np.where(news_ok, M - first, 0))
        mi = first[lead_l] + k
        camp_l = self.news_camp[mi]
        t_l = self.news_t[mi]

        lead = np.concatenate([lead_n, lead_l])
        t = np.concatenate([t_n, t_l])
        camp = np.concatenate([camp_n, camp_l])
        is_news = np.concatenate([np.zeros(len(lead_n), bool), np.ones(len(lead_l), bool)])
        order = np.argsort(lead * (self.w.end - self.w.start) + (t - self.w.start), kind="stable")
        lead, t, camp, is_news = lead[order], t[order], camp[order], is_news[order]
        start = np.searchsorted(lead, np.arange(N))
        ordinal = np.arange(len(lead)) - start[lead]
        # a few addresses are dead: the first mail hard-bounces, then they are suppressed
        dead = rng.random(N) < 0.012
        keep = ~dead[lead] | (ordinal == 0)
        bounce = (dead[lead] & (ordinal == 0)) | (rng.random(len(lead)) < 0.02)
        # unsubscribe: at one delivered mail, no mails afterwards
        u_at = rng.geometric(0.003, N) - 1
        unsub_row = (ordinal == u_at[lead]) & ~bounce & keep
        unsubscribed = np.zeros(N, dtype=bool)
        unsubscribed[lead[unsub_row]] = True
        keep &= ~(unsubscribed[lead] & (ordinal > u_at[lead]))
        lead, t, camp, is_news, bounce, unsub_row = (
            a[keep] for a in (lead, t, camp, is_news, bounce, unsub_row)
        )
        acts.add(lead, t, _T_SEND, camp=camp)
        acts.add(
            lead[bounce],
            t[bounce] + rng.integers(5, 600, bounce.sum()),
            _T_BOUNCE,
            camp=camp[bounce],
        )

        delivered = ~bounce
        e = eng[lead]
        p_open = np.clip(0.25 * np.exp(0.5 * (e - 0.2)) * np.where(is_news, 0.85, 1.05), 0.01, 0.9)
        opened = delivered & (rng.random(len(lead)) < p_open)
        ol, oc, ot0 = lead[opened], camp[opened], t[opened]
        ot = ot0 + np.minimum(rng.lognormal(np.log(2.5 * HOUR), 1.5, len(ol)), 14 * DAY).astype(
            np.int64
        )
        again = rng.random(len(ol)) < 0.25
        ot2 = ot[again] + np.minimum(
            rng.lognormal(np.log(20 * HOUR), 1.0, again.sum()), 10 * DAY
        ).astype(np.int64)
        for ll, cc, tt in ((ol, oc, ot), (ol[again], oc[again], ot2)):
            ok = tt < end
            acts.add(ll[ok], tt[ok], _T_OPEN, camp=cc[ok])
        p_click = np.clip(0.16 * np.exp(0.35 * (eng[ol] - 0.2)), 0.02, 0.6)
        clicked = rng.random(len(ol)) < p_click
        cl, cc, ct = ol[clicked], oc[clicked], ot[clicked] + rng.integers(5, 900, clicked.sum())
        twice = rng.random(len(cl)) < 0.12
        for ll, c2, tt in (
            (cl, cc, ct),
            (cl[twice], cc[twice], ct[twice] + rng.integers(3, 300, twice.sum())),
        ):
            ok = tt < end
            acts.add(ll[ok], tt[ok], _T_CLICK, camp=c2[ok])
        ul, uc = lead[unsub_row], camp[unsub_row]
        ut = t[unsub_row] + np.minimum(
            rng.lognormal(np.log(3 * HOUR), 1.2, len(ul)), 5 * DAY
        ).astype(np.int64)
        ok = ut < end
        acts.add(ul[ok], ut[ok], _T_UNSUB, camp=uc[ok])

    # -- lifecycle --------------------------------------------------------------------------

    def _lifecycle(self, lead, t, typ, cat) -> None:  # noqa: ANN001
        rng, N, end = self.rng, self.n, self.w.end
        prod, z = self.product, self.z
        # points by (activity type, category + 1): the MA tool's uniform scoring rules
        table = np.zeros((len(_ACTIVITY_TYPES), len(_CATEGORIES) + 1), dtype=np.int64)
        for k, v in _SCORE_ACTIVITY.items():
            table[k, :] = v
        for c, v in zip(
            (_C_TOP, _C_BLOG, _C_CASE, _C_DETAIL, _C_PRICING), _SCORE_PAGE, strict=True
        ):
            table[_T_PV, c + 1] = v
        for c, v in _SCORE_FORM.items():
            table[_T_FORM, c + 1] = v
        pts = table[typ, cat.astype(np.int64) + 1]
        sc = np.flatnonzero(pts != 0)
        sl, st, sp = lead[sc], t[sc], pts[sc]
        order = np.argsort(sl * (end - self.w.start) + (st - self.w.start), kind="stable")
        sl, st, sp = sl[order], st[order], sp[order]
        size_pts = np.select(
            [self.employees >= 1000, self.employees >= 300, self.employees >= 50], [10, 7, 4], 0
        )
        profile = _SCORE_JOB[self.jl] + size_pts
        cs = np.cumsum(sp)
        start = np.searchsorted(sl, np.arange(N))
        before = np.where(start > 0, cs[np.maximum(start - 1, 0)], 0)
        score = profile[sl] + cs - before[sl]
        hit = np.flatnonzero(score >= _MQL_THRESHOLD)
        mql_lead, first = np.unique(sl[hit], return_index=True)
        mql_t = np.full(N, -1, dtype=np.int64)
        mql_t[mql_lead] = st[hit[first]] + rng.integers(60, 4 * HOUR, len(mql_lead))
        is_mql = (mql_t >= 0) & (mql_t < end)
        mql_t[~is_mql] = -1

        # behaviour flags used by sales acceptance
        pv_lead, pv_cat, pv_own = self.pv
        has_pricing = np.zeros(N, bool)
        has_pricing[pv_lead[(pv_cat == _C_PRICING) & pv_own]] = True
        has_detail = np.zeros(N, bool)
        has_detail[pv_lead[(pv_cat == _C_DETAIL) & pv_own]] = True
        inq = (typ == _T_FORM) & (cat == _C_INQ)
        has_inq = np.zeros(N, bool)
        has_inq[lead[inq]] = True
        logit = (
            _SQL_BASE[prod]
            + 0.55 * z
            + 0.9 * has_pricing
            + 0.5 * has_detail
            + 1.5 * has_inq
            + 0.35 * self.size
            + 0.9 * (self.chan == _REF)
            - 0.5 * (self.chan == _AD)
            + 0.3 * (self.chan == _EXH)
            - 5.0 * self.student
        )
        accept = is_mql & (rng.random(N) < _sigmoid(logit))
        delay = np.where(has_inq, rng.gamma(1.5, 1.5, N), rng.gamma(2.0, 5.0, N)) * DAY
        sql_t = np.where(accept, mql_t + 3600 + delay.astype(np.int64), -1)
        sql_t = np.where(sql_t >= 0, _to_office_hours(rng, sql_t), -1)
        sql_t = np.where(sql_t >= 0, np.maximum(sql_t, mql_t + 600), -1)
        sql_t[sql_t >= end] = -1

        # recycled MQLs: back to nurturing, qualified again later
        recyc = is_mql & (sql_t < 0) & (rng.random(N) < 0.11)
        re_t = np.where(recyc, mql_t + (rng.uniform(45, 300, N) * DAY).astype(np.int64), -1)
        re_t[re_t >= end] = -1

        sl_ = np.concatenate(
            [np.flatnonzero(mql_t >= 0), np.flatnonzero(re_t >= 0), np.flatnonzero(sql_t >= 0)]
        )
        stage = np.concatenate(
            [
                np.zeros((mql_t >= 0).sum(), np.int8),
                np.zeros((re_t >= 0).sum(), np.int8),
                np.ones((sql_t >= 0).sum(), np.int8),
            ]
        )
        ts = np.concatenate([mql_t[mql_t >= 0], re_t[re_t >= 0], sql_t[sql_t >= 0]])
        order = np.lexsort((stage, sl_, ts))
        self.sc = (sl_[order], stage[order], ts[order])

        # opportunities from SQLs, plus a few sales-sourced deals without a lead
        src = np.flatnonzero((sql_t >= 0) & (rng.random(N) < _OPP_RATE[prod]))
        oc = sql_t[src] + (rng.gamma(2.0, 3.0, len(src)) * DAY).astype(np.int64)
        oc = _to_office_hours(rng, oc)
        oc = np.maximum(oc, sql_t[src] + 600)
        ok = oc < end
        src, oc = src[ok], oc[ok]
        n_sales = max(int(rng.binomial(N, 0.005)), int(N >= 200))
        s_prod = rng.choice(3, n_sales, p=[0.4, 0.35, 0.25])
        s_t = _to_office_hours(rng, rng.integers(self.w.start, end, n_sales))
        s_t = np.clip(s_t, self.w.start, end - 1)
        o_lead = np.concatenate([src, np.full(n_sales, -1)])
        o_prod = np.concatenate([prod[src], s_prod])
        o_created = np.concatenate([oc, s_t])
        o_z = np.concatenate([z[src], rng.normal(0.8, 0.8, n_sales)])
        o_ref = np.concatenate([self.chan[src] == _REF, np.zeros(n_sales, bool)])
        o_size = np.concatenate(
            [
                np.where(self.employees[src] > 0, self.employees[src], 100),
                rng.integers(30, 3000, n_sales),
            ]
        )
        n_o = len(o_lead)
        win = rng.random(n_o) < _sigmoid(_WIN_BASE[o_prod] + 0.2 * o_z + 1.7 * o_ref)
        cycle = rng.gamma(2.5, _CYCLE_DAYS[o_prod] / 2.5) * np.where(win, 1.0, 0.8)
        closed = _to_office_hours(rng, o_created + (cycle * DAY).astype(np.int64) + DAY)
        closed = np.maximum(closed, o_created + HOUR)
        is_open = closed >= end
        status = np.where(is_open, 0, np.where(win, 1, 2))  # open, won, lost
        closed = np.where(is_open, -1, closed)
        amount = (
            _DEAL_MEDIAN[o_prod]
            * np.exp(rng.normal(0, _DEAL_SIGMA[o_prod]))
            * (np.clip(o_size, 10, 20_000) / 300.0) ** 0.12
        )
        lo = np.array([r[0] for r in _DEAL_RANGE])[o_prod]
        hi = np.array([r[1] for r in _DEAL_RANGE])[o_prod]
        amount = np.round(np.clip(amount, lo, hi), -4)
        order = np.lexsort((o_lead, o_created))
        self.opps = tuple(a[order] for a in (o_lead, o_prod, o_created, status, closed, amount))

    # -- campaign costs ---------------------------------------------------------------------

    def _costs(self) -> None:
        rng, M = self.rng, self.w.months
        chan, month, prod = self.chan, self.month, self.product
        counts = np.zeros((7, M, 3), dtype=np.int64)
        np.add.at(counts, (chan, month, prod), 1)
        noise = np.exp(rng.normal(0, 0.12, (7, M, 3)))
        for ch, table in ((_WEB, self.webinar_camp), (_EVT, self.event_camp), (_AD, self.ad_camp)):
            for m in range(M):
                for p in range(3):
                    base = max(counts[ch, m, p], 1) * _CPL[ch] * noise[ch, m, p]
                    self.c_cost[int(table[m, p])] = float(np.round(base, -3))
        exh_counts = np.bincount(self.exh_lead_camp[self.chan == _EXH], minlength=len(self.c_id))
        for cid, m, _p, _d in self.exh:
            self.c_cost[cid] = float(
                np.round(max(exh_counts[cid], 1) * _CPL[_EXH] * noise[_EXH, m, 0], -4)
            )
        # a cancelled booth costs a cancellation fee: 30 % of a booth for 1/4 of a normal month
        if self.missed >= 0:
            weights = self._month_weights()
            normal_month = self.n * weights[self.missed] / _MISSED_FACTOR / weights.sum()
            fee = float(np.round(0.3 * 0.25 * normal_month * _CPL[_EXH], -4))
            for cid, name in enumerate(self.c_name):
                if name.startswith("【中止】"):
                    self.c_cost[cid] = fee

    # -- assembly ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Writing, with optional Hive-style month partitions
# ---------------------------------------------------------------------------------------------

# The time column that decides a row's month when a table is written partitioned by month.
MONTH_COLUMNS: dict[str, str] = {
    "leads": "created_at",
    "activities": "occurred_at",
    "stage_changes": "changed_at",
    "opportunities": "created_at",
    "campaigns": "start_date",
}
PART_FILE = "part-0.parquet"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # what Hive, Spark, DuckDB and Arrow read as null


def _month_codes(values: pd.Series) -> np.ndarray:
    """Months since 1970-01 of each timestamp as written (naive wall-clock time; an aware
    column is taken in its own zone); missing values get the smallest int64."""
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def _month_name(code: np.int64) -> str:
    month = np.datetime64(int(code), "M")
    return NULL_PARTITION if np.isnat(month) else str(month)


def _is_partition_folder(folder: Path) -> bool:
    """A folder of `month=...` sub-folders only, as `write_month_partitions` leaves it."""
    return all(e.is_dir() and e.name.startswith("month=") for e in folder.iterdir())


def write_month_partitions(frame: pd.DataFrame, folder: Path, column: str) -> list[Path]:
    """Write `frame` as a Hive-partitioned Parquet folder, one file per month of `column`:
    ``folder/month=YYYY-MM/part-0.parquet`` (zstd, as `io.write_dataset` writes single files).

    The partition column `month` is in the path only, not in the files, as Hive does it; rows
    keep their order within a month. The folder is built beside `folder` and then put in its
    place, so a partly written folder is never left behind. Returns the files written.
    """
    import pyarrow.parquet as pq

    codes = _month_codes(frame[column])
    order = np.argsort(codes, kind="stable")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if not np.array_equal(order, np.arange(len(order))):
        table = table.take(pa.array(order))
    codes = codes[order]
    del order
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True]) if len(codes) else []
    stage = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    try:
        parts = []
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
            part = Path(f"month={_month_name(codes[lo])}") / PART_FILE
            (stage / part.parent).mkdir()
            pq.write_table(table.slice(lo, hi - lo), stage / part, compression="zstd")
            parts.append(part)
        if folder.exists():
            if not folder.is_dir() or not _is_partition_folder(folder):
                raise FileExistsError(f"{folder} exists and is not a month-partitioned folder")
            shutil.rmtree(folder)
        stage.rename(folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return [folder / part for part in parts]


def write_sample(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    parquet: Iterable[str] = (),
    partition_months: Iterable[str] = (),
) -> list[Path]:
    """Write the tables of `generate_sample` to `out_dir`, as `maops sample` does.

    Tables in `partition_months` become Hive-partitioned Parquet folders
    (`write_month_partitions`, by the month of `MONTH_COLUMNS[table]`); the others are written
    by `io.write_dataset` exactly as without partitions (CSV, or Parquet for the tables in
    `parquet`). A table exists once: a single file of a partitioned table is removed, and so
    is a month-partitioned folder of a table now written as one file. Returns the files and
    folders written, in table order.
    """
    from . import io
    from .core.errors import ConfigError

    partitioned = tuple(dict.fromkeys(partition_months))
    unknown = [t for t in partitioned if t not in tables or t not in MONTH_COLUMNS]
    if unknown:
        raise ConfigError(
            f"--partition-months: unknown table(s) {', '.join(unknown)}; use "
            f"{', '.join(t for t in tables if t in MONTH_COLUMNS)}"
        )
    single = {name: frame for name, frame in tables.items() if name not in partitioned}
    written = dict.fromkeys(tables, None)
    for path in io.write_dataset(single, out_dir, parquet=tuple(parquet)):
        written[path.stem] = path
    for name in single:
        stale = out_dir / name
        if stale.is_dir() and _is_partition_folder(stale):
            shutil.rmtree(stale)
    for name in partitioned:
        for suffix in (".csv", ".parquet"):
            (out_dir / f"{name}{suffix}").unlink(missing_ok=True)
        write_month_partitions(tables[name], out_dir / name, MONTH_COLUMNS[name])
        written[name] = out_dir / name
    return [p for p in written.values() if p is not None]
