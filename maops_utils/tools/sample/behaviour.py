"""The generator's activities: acquisition, the web, events, e-mail, the lifecycle."""

from __future__ import annotations

import numpy as np

from .helpers import _Acts, _choice_rows, _expand, _office_seconds, _sigmoid, _to_office_hours
from .people import _People
from .story import (
    _ACTIVITY_TYPES,
    _AD,
    _C_BLOG,
    _C_CASE,
    _C_DETAIL,
    _C_DL,
    _C_INQ,
    _C_PRICING,
    _C_REG,
    _C_TOP,
    _CATEGORIES,
    _CPL,
    _CYCLE_DAYS,
    _DEAL_MEDIAN,
    _DEAL_RANGE,
    _DEAL_SIGMA,
    _EVT,
    _EXH,
    _MISSED_FACTOR,
    _MQL_THRESHOLD,
    _OPP_RATE,
    _ORG,
    _REF,
    _SCORE_ACTIVITY,
    _SCORE_FORM,
    _SCORE_JOB,
    _SCORE_PAGE,
    _SHORT,
    _SQL_BASE,
    _T_BOUNCE,
    _T_CLICK,
    _T_EVENT,
    _T_FORM,
    _T_OPEN,
    _T_PV,
    _T_SEND,
    _T_UNSUB,
    _T_WEBINAR,
    _WEB,
    _WIN_BASE,
    DAY,
    HOUR,
    PRODUCTS,
)


class _Behaviour(_People):
    """What the leads do: acquisition, the web, events, e-mail, their lifecycle."""

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
