"""The generator's campaigns, leads and profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .helpers import (
    _apportion,
    _choice_rows,
    _office_seconds,
    _Vocab,
    _weekday,
    _Window,
    _working_days,
)
from .story import (
    _AD,
    _ENG_CHANNEL,
    _ENG_PRODUCT,
    _EVT,
    _EXH,
    _EXH_PRODUCTS,
    _EXH_SHARE,
    _GIVEN,
    _GROWTH_PER_YEAR,
    _INDUSTRIES,
    _INDUSTRY_SUFFIX,
    _INDUSTRY_W,
    _JOB_MIX,
    _KANA,
    _KANJI_1,
    _KANJI_2,
    _MISSED_FACTOR,
    _MISSING,
    _NAME_PREFIX,
    _NONEXH_SHARE,
    _PREF_BOOST,
    _PREFECTURES,
    _PRODUCT_MIX,
    _SEASON,
    _SEASON_NAME,
    _SHORT,
    _SURNAMES,
    _UNIV_SUFFIX,
    _WEB,
    _Z_CHANNEL,
    _Z_JOB,
    DAY,
    HOUR,
    PRODUCTS,
)


class _People:
    """The company's campaigns, its leads and their profiles."""

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
                # The newest issue is a special one, named as people write it; names with
                # markup are the bad-input corpus's (tests/corpus.py), not the sample's.
                news_name = f"ミライ通信 {y}年{c}月号 特別号"
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
