"""The synthetic company: its products, channels, seasons, people and how they behave."""

from __future__ import annotations

import numpy as np

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
_SQL_BASE = np.array([-3.0, -2.95, -6.0])  # per product; C is over-scored (its MQLs rarely succeed)
_OPP_RATE = np.array([0.85, 0.85, 0.80])
_WIN_BASE = np.array([-1.6, -1.4, -1.7])
_CYCLE_DAYS = np.array([60.0, 45.0, 120.0])  # mean days from opportunity to close
_DEAL_MEDIAN = np.array([1_800_000.0, 900_000.0, 5_000_000.0])
_DEAL_SIGMA = np.array([0.28, 0.28, 0.25])
_DEAL_RANGE = ((600_000, 6_000_000), (300_000, 3_000_000), (1_500_000, 15_000_000))
