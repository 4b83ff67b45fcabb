"""Report text in Japanese (default) and English, and locale-aware number formatting."""

from __future__ import annotations

import math

TEXT: dict[str, dict[str, str]] = {
    "kpi_report": {"ja": "KPI評価レポート", "en": "KPI evaluation report"},
    "tier": {"ja": "区分", "en": "Tier"},
    "kpi": {"ja": "指標", "en": "Metric"},
    "value": {"ja": "実績", "en": "Value"},
    "target": {"ja": "目標", "en": "Target"},
    "attainment": {"ja": "達成率", "en": "Attainment"},
    "previous": {"ja": "前月", "en": "Previous month"},
    "change": {"ja": "前月比", "en": "vs previous month"},
    "product": {"ja": "商材", "en": "Product"},
    "month": {"ja": "月", "en": "Month"},
    "stage": {"ja": "ステージ", "en": "Stage"},
    "count": {"ja": "件数", "en": "Count"},
    "all": {"ja": "全体", "en": "All"},
    "funnel_title": {
        "ja": "{month} のファネル（当月件数）",
        "en": "Funnel for {month} (counts in the month)",
    },
    "trend_title": {
        "ja": "{first}〜{last} の推移（破線は目標）",
        "en": "{first} to {last} (dashed: target)",
    },
    "severity": {"ja": "重要度", "en": "Severity"},
    "table": {"ja": "テーブル", "en": "Table"},
    "message": {"ja": "内容", "en": "Message"},
    "rows": {"ja": "行数", "en": "Rows"},
    "warning": {"ja": "警告", "en": "warning"},
    "error": {"ja": "エラー", "en": "error"},
    "no_findings": {"ja": "データ品質の指摘はありません。", "en": "No data-quality findings."},
    "ci": {"ja": "95%信頼区間", "en": "95% interval"},
    "status": {"ja": "状態", "en": "Status"},
    "year_change": {"ja": "前年同月比", "en": "vs a year before"},
    "on_track": {"ja": "順調", "en": "On track"},
    "at_risk": {"ja": "注意", "en": "At risk"},
    "off_track": {"ja": "未達", "en": "Off track"},
    "small_sample_note": {
        "ja": "※ 件数が少なく（分母 {n} 件未満）、率は大きくぶれます。",
        "en": "* Few events (denominator under {n}): the rate can swing widely.",
    },
    "channel": {"ja": "チャネル", "en": "Channel"},
    "campaign": {"ja": "キャンペーン", "en": "Campaign"},
    "cost": {"ja": "費用", "en": "Cost"},
    "cost_per_lead": {"ja": "リード単価", "en": "Cost per lead"},
    "cost_per_mql": {"ja": "MQL単価", "en": "Cost per MQL"},
    "cost_per_sql": {"ja": "SQL単価", "en": "Cost per SQL"},
    "bounce_rate": {"ja": "バウンス率", "en": "Bounce rate"},
    "flag": {"ja": "評価", "en": "Flag"},
    "best": {"ja": "最良", "en": "best"},
    "worst": {"ja": "最低", "en": "worst"},
    "no_campaigns": {
        "ja": "当月のメール配信はありません。",
        "en": "No e-mails were sent this month.",
    },
    "sales_sourced": {"ja": "営業起点", "en": "sales-sourced"},
    "unknown": {"ja": "不明", "en": "unknown"},
}

STAGE_METRICS = ("new_leads", "mqls", "sqls", "opportunities", "won_deals")


def t(key: str, locale: str = "ja", **fmt: object) -> str:
    text = TEXT[key].get(locale) or TEXT[key]["en"]
    return text.format(**fmt) if fmt else text


def format_value(value: float | None, unit: str, locale: str = "ja", currency: str = "JPY") -> str:
    """A metric value as people read it: 1,234 / 12.3% / ¥12,345,678; empty when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "currency":
        symbol = {"JPY": "¥", "USD": "$", "EUR": "€"}.get(currency, "")
        if currency == "JPY":
            return f"{symbol}{value:,.0f}"
        return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_ratio(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value * 100:.0f}%"


TEXT.update(
    {
        "cohort": {"ja": "コホート（作成月）", "en": "Cohort (month created)"},
        "leads_in_cohort": {"ja": "リード数", "en": "Leads"},
        "too_young": {"ja": "判定前", "en": "too young"},
        "within_days": {"ja": "{days}日以内", "en": "within {days} days"},
        "cohort_title": {
            "ja": "作成月ごとの {stage} 到達率（{days}日以内）",
            "en": "Share reaching {stage} within {days} days, by month created",
        },
        "transition": {"ja": "区間", "en": "Transition"},
        "lead_to_mql": {"ja": "リード → MQL", "en": "Lead → MQL"},
        "mql_to_sql": {"ja": "MQL → SQL", "en": "MQL → SQL"},
        "sql_to_won": {"ja": "SQL → 受注", "en": "SQL → won"},
        "lead_to_won": {"ja": "リード → 受注", "en": "Lead → won"},
        "days_median": {"ja": "中央値 [四分位] 日（件数）", "en": "median [quartiles] days (n)"},
    }
)

# Data-quality notebook (00) and 名寄せ.
TEXT.update(
    {
        "quality_report": {"ja": "データ品質レポート", "en": "Data quality report"},
        "total": {"ja": "合計", "en": "Total"},
        "activity_type": {"ja": "活動種別", "en": "Activity type"},
        "latest": {"ja": "最新の日時", "en": "Newest row"},
        "days_old": {"ja": "経過日数", "en": "Days old"},
        "fresh": {"ja": "最新", "en": "fresh"},
        "stale": {"ja": "古い", "en": "stale"},
        "column": {"ja": "列", "en": "Column"},
        "required": {"ja": "必須", "en": "Required"},
        "yes": {"ja": "はい", "en": "yes"},
        "no": {"ja": "いいえ", "en": "no"},
        "empty": {"ja": "空欄", "en": "Empty"},
        "empty_share": {"ja": "空欄率", "en": "Empty share"},
        "action": {"ja": "対処", "en": "What to do"},
        "what": {"ja": "対象", "en": "What"},
        "no_gaps": {"ja": "欠けている月はありません。", "en": "No month is missing data."},
        "no_duplicates": {
            "ja": "重複の疑いがある人物はいません。",
            "en": "No likely duplicate people.",
        },
        "pair_left": {"ja": "レコードA", "en": "Record A"},
        "pair_right": {"ja": "レコードB", "en": "Record B"},
        "company": {"ja": "会社名", "en": "Company"},
        "email": {"ja": "メール", "en": "E-mail"},
        "person_name": {"ja": "氏名", "en": "Name"},
        "evidence": {"ja": "根拠", "en": "Evidence"},
        "confidence": {"ja": "確度", "en": "Confidence"},
        "note_clean": {
            "ja": "データ品質の指摘はありません。KPIレポートの数値はそのまま読めます。",
            "en": "No data-quality findings: the KPI report's figures can be read as they are.",
        },
        "note_leads": {
            "ja": "リードに {n} 件の指摘があります。新規リード数・MQL率は除外された行の分だけ低く出ている可能性があります。",
            "en": "{n} finding(s) on leads: new leads and the MQL rate may be low by the rows left out.",
        },
        "note_activities": {
            "ja": "活動に {n} 件の指摘があります。メール・Web の指標は除外された行や欠けた月の分だけ低く出ている可能性があります。",
            "en": "{n} finding(s) on activities: e-mail and web metrics may be low by the rows left out or the months missing.",
        },
        "note_stage_changes": {
            "ja": "ステージ変更に {n} 件の指摘があります。MQL・SQL 数は除外された行の分だけ低く出ている可能性があります。",
            "en": "{n} finding(s) on stage changes: MQL and SQL counts may be low by the rows left out.",
        },
        "note_opportunities": {
            "ja": "商談に {n} 件の指摘があります。受注数・受注金額・受注率の読み方に注意してください。",
            "en": "{n} finding(s) on opportunities: read won deals, revenue and win rate with care.",
        },
        "note_campaigns": {
            "ja": "キャンペーンに {n} 件の指摘があります。チャネル別の費用に影響します。",
            "en": "{n} finding(s) on campaigns: costs per channel are affected.",
        },
        "note_other": {
            "ja": "{table} に {n} 件の指摘があります。",
            "en": "{n} finding(s) on {table}.",
        },
        "note_email_gap": {
            "ja": "{months} はメール配信の記録がありません。エクスポート漏れでなければ、その月のメール指標は空欄です。",
            "en": "No e-mail sends are recorded in {months}: unless the export missed them, that month's e-mail rates are empty.",
        },
    }
)

# Product comparison (notebooks/03_product_comparison.ipynb, maops_utils/compare.py).
TEXT.update(
    {
        "cmp_lead_to_mql": {
            "ja": "リード→MQL転換率（{days}日以内）",
            "en": "Lead → MQL within {days} days",
        },
        "cmp_mql_to_sql": {
            "ja": "MQL→SQL転換率（{days}日以内）",
            "en": "MQL → SQL within {days} days",
        },
        "cmp_win_rate": {"ja": "受注率", "en": "Win rate"},
        "cmp_of_lead_to_mql": {"ja": "リード {n}件中 {k}件", "en": "{k} of {n} leads"},
        "cmp_of_mql_to_sql": {"ja": "MQL {n}件中 {k}件", "en": "{k} of {n} MQLs"},
        "cmp_of_win_rate": {"ja": "クローズ {n}件中 受注 {k}件", "en": "{k} won of {n} closed"},
        "cmp_product_named": {"ja": "商材 {product}", "en": "product {product}"},
        "cmp_combined": {"ja": "{products} の合計", "en": "{products} combined"},
        "cmp_baseline_rest": {
            "ja": "ほかの比較商材の合計",
            "en": "the other compared products combined",
        },
        "cmp_finding_higher": {
            "ja": "商材 {product}：{metric}は {value}（{of}）で、{group}の {other}（{other_of}）より高い"
            "（差 {diff}ポイント、95%区間 {low}〜{high}、補正後 {p}）。",
            "en": "Product {product}: {metric} {value} ({of}), higher than {group} at {other} "
            "({other_of}); difference {diff} points (95% interval {low} to {high}), adjusted {p}.",
        },
        "cmp_finding_lower": {
            "ja": "商材 {product}：{metric}は {value}（{of}）で、{group}の {other}（{other_of}）より低い"
            "（差 {diff}ポイント、95%区間 {low}〜{high}、補正後 {p}）。",
            "en": "Product {product}: {metric} {value} ({of}), lower than {group} at {other} "
            "({other_of}); difference {diff} points (95% interval {low} to {high}), adjusted {p}.",
        },
        "cmp_note_opposite": {
            "ja": "ただし比較相手の合計には、逆方向にさらに大きく差のある商材 {other} が含まれる"
            "ため、この差だけから打ち手は導かない。",
            "en": " The others include product {other}, which differs the other way by more, so "
            "no action is drawn from this difference alone.",
        },
        "cmp_pair": {"ja": "{metric} {value} 対 {other}", "en": "{metric} {value} vs {other}"},
        "cmp_no_difference_all": {
            "ja": "商材 {product}：{group}との差の証拠はない（{parts}）。",
            "en": "Product {product}: no evidence of a difference from {group} ({parts}).",
        },
        "cmp_no_difference": {
            "ja": "商材 {product}：ほかの指標では{group}との差の証拠はない（{parts}）。",
            "en": "Product {product}: no evidence of a difference from {group} in the other "
            "rates ({parts}).",
        },
        "cmp_few_item": {
            "ja": "{metric}（分母 {n}件 対 {other}件）",
            "en": "{metric} ({n} vs {other} in the denominators)",
        },
        "cmp_too_few": {
            "ja": "商材 {product}：件数が少なく検定していない（両側に {min_n}件以上が必要）：{parts}。",
            "en": "Product {product}: too few to test (at least {min_n} needed on each side): "
            "{parts}.",
        },
        "cmp_do": {
            "ja": "商材 {product} の打ち手（{basis}）：",
            "en": "Product {product}, what to do ({basis}): ",
        },
        "cmp_do_mql_lower": {
            "ja": "共通のMQL閾値では {product} のMQLが営業に受け入れられにくい。"
            "{product} 専用の（より高い）閾値かスコアリングルールを設ける。",
            "en": "Under the uniform MQL threshold its MQLs are seldom accepted by sales: give "
            "{product} its own (higher) threshold or scoring rules.",
        },
        "cmp_do_mql_lower_after_more_mql": {
            "ja": "{product} のリードは共通の閾値を超えやすいのにSQLになりにくく、共通のスコアが "
            "{product} を過大評価している。{product} 専用の（より高い）閾値かスコアリングルールを設ける。",
            "en": "More of its leads pass the uniform threshold, yet fewer of its MQLs become "
            "SQL: the uniform score over-rates {product}'s leads. Give {product} its own "
            "(higher) threshold or scoring rules.",
        },
        "cmp_do_mql_higher": {
            "ja": "{product} のMQLは営業に受け入れられやすい。共通の閾値は {product} には厳しい"
            "可能性があり、{product} だけ閾値を下げてMQLを増やせるか試す。",
            "en": "Its MQLs are accepted by sales more often: the uniform threshold may be strict "
            "for {product}. Test a lower threshold for {product} to gain MQLs.",
        },
        "cmp_do_mql_higher_after_less_mql": {
            "ja": "{product} のリードは共通の閾値を超えにくいが、MQLになればSQLになりやすく、"
            "共通のスコアが {product} を過小評価している。{product} 専用の（より低い）閾値か"
            "スコアリングルールを設ける。",
            "en": "Fewer of its leads pass the uniform threshold, yet more of its MQLs become "
            "SQL: the uniform score under-rates {product}'s leads. Give {product} its own "
            "(lower) threshold or scoring rules.",
        },
        "cmp_do_lead_higher": {
            "ja": "{product} のリードは共通の閾値を超えやすい。MQLの質（MQL→SQL）の差は示されて"
            "いないので閾値は変えず、{product} のMQL→SQLを見続ける。",
            "en": "More of its leads pass the uniform threshold; no difference in MQL → SQL is "
            "shown, so keep the threshold and keep watching {product}'s MQL → SQL.",
        },
        "cmp_do_lead_lower": {
            "ja": "{product} のリードは共通の閾値を超えにくい。{product} のナーチャリングシナリオと、"
            "スコアが {product} の購買行動を捉えているかを見直す。",
            "en": "Fewer of its leads pass the uniform threshold: review {product}'s nurturing "
            "scenarios and whether the score rewards how {product}'s buyers behave.",
        },
        "cmp_do_win_lower": {
            "ja": "{product} の商談は受注しにくい。{product} の商談化の基準と営業への引き渡しを見直す。",
            "en": "Its deals are won less often: review {product}'s qualification criteria and "
            "the hand-over to sales.",
        },
        "cmp_do_win_higher": {
            "ja": "{product} の商談は受注しやすい。{product} の商談を優先して扱う価値がある。",
            "en": "Its deals are won more often: {product}'s opportunities deserve priority.",
        },
        "cmp_ready_own_scenarios": {
            "ja": "商材 {product}：独自シナリオで運用する準備がある。直近{months}か月でMQL {mqls}件・"
            "SQL {sqls}件（各 {min}件以上）あり、独自の閾値やシナリオを調整して効果を測れる。",
            "en": "Product {product} is ready to run on its own scenarios: {mqls} MQLs and {sqls} "
            "SQLs in the last {months} months (at least {min} each), enough to tune its own "
            "threshold and scenarios and to measure their effect.",
        },
        "cmp_ready_own_threshold_first": {
            "ja": "商材 {product}：独自の扱いが必要だが、独自シナリオで運用するにはまだデータが"
            "足りない（直近{months}か月でMQL {mqls}件・SQL {sqls}件、各 {min}件以上が目安）。"
            "まず {product} のMQL閾値だけを分け、件数がたまってから独自のスコアリングとシナリオに移る。",
            "en": "Product {product} needs its own treatment but is not ready to run on its own "
            "scenarios yet: {mqls} MQLs and {sqls} SQLs in the last {months} months (at least "
            "{min} each needed). Start with its own MQL threshold; move to its own scoring and "
            "scenarios once the counts are there.",
        },
        "cmp_ready_shared_ok": {
            "ja": "商材 {product}：{nodiff}、共通シナリオのままでよい。独自シナリオに"
            "移るだけのデータはある（直近{months}か月でMQL {mqls}件・SQL {sqls}件）。",
            "en": "Product {product} can stay on the shared scenarios ({nodiff}); it "
            "has the data to run on its own if the team wants to ({mqls} MQLs and {sqls} SQLs "
            "in the last {months} months).",
        },
        "cmp_ready_shared_too_few": {
            "ja": "商材 {product}：{nodiff}、独自シナリオで運用するにはデータも足りない"
            "（直近{months}か月でMQL {mqls}件・SQL {sqls}件、各 {min}件以上が目安）。共通シナリオを続ける。",
            "en": "Product {product}: {nodiff}, and too little data to run on its own "
            "scenarios ({mqls} MQLs and {sqls} SQLs in the last {months} months; at least "
            "{min} each needed): keep it on the shared scenarios.",
        },
        "cmp_nodiff": {"ja": "差は示されておらず", "en": "no difference shown"},
        "cmp_nodiff_mirror": {
            "ja": "この商材自身の差は示されておらず（上の差の比較相手には、逆方向により大きく差のある "
            "{others} が含まれる）",
            "en": "no difference of its own shown: the comparison group above includes {others}, "
            "which differs the other way by more",
        },
        "cmp_ready_baseline": {
            "ja": "商材 {product} は比較の基準（{values}）。直近{months}か月でMQL {mqls}件・SQL {sqls}件。",
            "en": "Product {product} is the baseline ({values}), with {mqls} MQLs and {sqls} "
            "SQLs in the last {months} months.",
        },
        "cmp_need_two": {
            "ja": "比較には2つ以上の商材が必要（選択：{products}）。products を空にするか、"
            "2つ以上の商材コードをカンマ区切りで指定する。",
            "en": "A comparison needs at least two products (selected: {products}); leave "
            "products empty or list two or more codes separated by commas.",
        },
        # verdicts, statuses and table headers
        "cmp_v_higher": {"ja": "高い", "en": "higher"},
        "cmp_v_lower": {"ja": "低い", "en": "lower"},
        "cmp_v_no_difference": {"ja": "差の証拠なし", "en": "no evidence of a difference"},
        "cmp_v_too_few": {"ja": "件数不足（未検定）", "en": "too few to test"},
        "cmp_v_baseline": {"ja": "基準", "en": "baseline"},
        "cmp_s_own_scenarios": {"ja": "独自シナリオへ", "en": "own scenarios"},
        "cmp_s_own_threshold_first": {
            "ja": "まず独自の閾値（データ不足）",
            "en": "own threshold first (too little data)",
        },
        "cmp_s_shared_ok": {"ja": "共通のままでよい", "en": "shared is fine"},
        "cmp_s_shared_too_few": {
            "ja": "共通のまま（データ不足）",
            "en": "shared (too little data)",
        },
        "cmp_s_baseline": {"ja": "基準", "en": "baseline"},
        "cmp_metric": {"ja": "指標", "en": "Metric"},
        "cmp_rate_ci": {"ja": "率（95%区間）", "en": "Rate (95% interval)"},
        "cmp_k_of_n": {"ja": "件数", "en": "Count"},
        "cmp_compared_with": {"ja": "比較相手", "en": "Compared with"},
        "cmp_compared_rate": {"ja": "比較相手の率", "en": "Their rate"},
        "cmp_difference": {"ja": "差（95%区間）", "en": "Difference (95% interval)"},
        "cmp_p_adjusted": {"ja": "補正後p値", "en": "Adjusted p"},
        "cmp_verdict": {"ja": "判定", "en": "Verdict"},
        "cmp_rest": {"ja": "他商材の合計", "en": "the rest"},
        "cmp_points": {"ja": "ポイント", "en": "points"},
        "cmp_share_of": {"ja": "{what}のシェア", "en": "Share of {what}"},
        "cmp_differs": {"ja": "差が示された指標", "en": "Differs on"},
        "cmp_ready": {"ja": "独自シナリオの準備", "en": "Ready for own scenarios"},
        "cmp_next": {"ja": "次の一手", "en": "Next step"},
        "cmp_yes": {"ja": "あり", "en": "yes"},
        "cmp_no": {"ja": "なし", "en": "no"},
        "cmp_revenue": {"ja": "受注金額", "en": "Revenue"},
        "cmp_leads": {"ja": "リード数", "en": "Leads"},
        "cmp_cost_per_mql": {"ja": "MQL単価", "en": "Cost per MQL"},
        "cmp_summary": {
            "ja": "**対象月: {month}**　｜　比較期間: {first}〜{last}（{months}か月）　｜　"
            "転換の期限 N = {days}日　｜　商材: {products}　｜　比較相手: {baseline}　｜　"
            "有意水準 {alpha}（Holm補正、{tests}検定）",
            "en": "**Month: {month}** | window: {first} to {last} ({months} months) | "
            "conversion time N = {days} days | products: {products} | compared with: "
            "{baseline} | alpha {alpha} (Holm-adjusted over {tests} tests)",
        },
        "cmp_funnel_title": {
            "ja": "{first}〜{last} の商材別ファネル（件数）",
            "en": "Funnel by product, {first} to {last} (counts)",
        },
        "cmp_rates_title": {
            "ja": "商材別の転換率と95%区間（× は比較相手）",
            "en": "Conversion by product with 95% intervals (× the compared group)",
        },
        "cmp_cohort_title": {
            "ja": "作成月ごとの到達率（{days}日以内、帯は95%区間、破線は比較商材の合計）",
            "en": "Share reaching the stage within {days} days by month created "
            "(band: 95% interval; dashed: compared products combined)",
        },
        "cmp_quality_title": {
            "ja": "商材別のシェア：MQL・営業の労力（SQL・商談）・受注金額",
            "en": "Share by product: MQLs, sales effort (SQLs, opportunities) and revenue",
        },
        "cmp_heatmap_channel": {
            "ja": "チャネル × 商材（{first}〜{last}）",
            "en": "Channel × product ({first} to {last})",
        },
        "cmp_heatmap_campaign": {
            "ja": "獲得キャンペーン × 商材（{first}〜{last}、リード数上位）",
            "en": "Acquisition campaign × product ({first} to {last}, most leads)",
        },
        "cmp_no_campaigns": {
            "ja": "比較期間に獲得キャンペーンが分かるリードはありません。",
            "en": "No lead of the window has a known acquisition campaign.",
        },
        "cmp_term": {"ja": "用語", "en": "Term"},
        "cmp_definition": {"ja": "定義", "en": "Definition"},
        # definitions (the notebook's glossary; docs/product-comparison.md says the same)
        "cmp_def_window_term": {"ja": "比較期間と締め", "en": "Window and cut-off"},
        "cmp_def_window": {
            "ja": "{first}〜{last} の{months}か月。締めは {last} の月末（翌月1日 0:00、現地時間）で、"
            "それ以降のステージ到達やクローズは数えない（古い月を再実行しても同じ数字になる）。",
            "en": "The {months} months {first} to {last}. The cut-off is the end of {last} (the "
            "first day of the next month, 00:00 local time); stage entries and closes after it "
            "are not counted, so re-running an old month gives the same numbers.",
        },
        "cmp_def_lead_to_mql_term": {
            "ja": "リード→MQL転換率（{days}日以内）",
            "en": "Lead → MQL within {days} days",
        },
        "cmp_def_lead_to_mql": {
            "ja": "比較期間の作成月のうち、月末から{days}日が締めまでに経過した月（{first}〜"
            "{mature_last}）に作成されたリードのうち、作成から{days}日以内に初めてMQLになった割合。"
            "KPIレポートのコホートビューと同じ定義で、期間の浅い月は含めない。",
            "en": "Of the leads created in the window's cohort months whose end lies at least "
            "{days} days before the cut-off ({first} to {mature_last}), the share whose first "
            "MQL came within {days} days of creation. The KPI report's cohort definition; "
            "younger months are left out.",
        },
        "cmp_def_mql_to_sql_term": {
            "ja": "MQL→SQL転換率（{days}日以内）",
            "en": "MQL → SQL within {days} days",
        },
        "cmp_def_mql_to_sql": {
            "ja": "比較期間に初めてMQLになり、締めまでに{days}日以上あったリードのうち、"
            "初回MQLから{days}日以内に初めてSQLになった割合（MQLより前のSQLも到達に数える）。",
            "en": "Of the leads whose first MQL falls in the window at least {days} days before "
            "the cut-off, the share whose first SQL came at most {days} days after that MQL (an "
            "SQL dated before the MQL counts).",
        },
        "cmp_def_win_rate_term": {"ja": "受注率", "en": "Win rate"},
        "cmp_def_win_rate": {
            "ja": "比較期間にクローズした商談（受注＋失注）のうち受注の割合。商談自身の商材で数え、"
            "営業起点の商談も含む（コア指標 win_rate の分子と分母を期間の各月で合計）。",
            "en": "Won deals / deals won or lost with their close in the window, by the "
            "opportunity's own product, sales-sourced deals included (the core win_rate's "
            "numerator and denominator summed over the window's months).",
        },
        "cmp_def_counts_term": {"ja": "件数", "en": "Counts"},
        "cmp_def_counts": {
            "ja": "新規リード・MQL・SQL・商談・受注・受注金額は、データ契約のコア指標を比較期間の"
            "各月で合計したもの（リードとステージはリードの商材、商談は商談自身の商材）。",
            "en": "New leads, MQLs, SQLs, opportunities, won deals and revenue are the data "
            "contract's core metrics summed over the window's months (leads and stages by the "
            "lead's product, opportunities by their own).",
        },
        "cmp_def_shares_term": {"ja": "シェア", "en": "Shares"},
        "cmp_def_shares": {
            "ja": "比較する商材の合計に占める各商材の割合（MQL・SQL・商談・受注金額）。"
            "営業の労力（SQL・商談）と成果（受注金額）の配分を比べる。検定はしない。",
            "en": "Each product's part of the compared products' total MQLs, SQLs, "
            "opportunities and revenue: where sales effort (SQLs, opportunities) goes against "
            "where revenue comes from. Not tested.",
        },
        "cmp_def_test_term": {"ja": "検定", "en": "Test"},
        "cmp_def_test": {
            "ja": "各商材を{baseline}と比べる。Fisherの正確検定（両側）を使う：件数が少なくても"
            "近似に頼らず、偽の差を主張しにくい（保守的）。本レポートのすべての検定（商材×指標）を"
            "一つのファミリーとしてHolm法で補正する。差の95%区間はNewcombe法（Wilson区間に基づく、"
            "補正なし）。",
            "en": "Each product is compared with {baseline}. Fisher's exact test (two-sided): "
            "exact at any count and conservative, so it does not claim differences too "
            "easily. Every test of this report (products × rates) is one family, adjusted "
            "with Holm's method. The difference's 95% interval is Newcombe's (from the Wilson "
            "intervals; not adjusted).",
        },
        "cmp_def_verdicts_term": {"ja": "判定", "en": "Verdicts"},
        "cmp_def_verdicts": {
            "ja": "補正後p値が {alpha} 未満のときだけ「高い」「低い」。それ以外は「差の証拠なし」"
            "（差がないことの証明ではない）。どちらかの分母が {min_n}件未満なら「件数不足」として"
            "検定せず、補正のファミリーにも入れない。",
            "en": "Higher or lower only when the adjusted p-value is below {alpha}; otherwise "
            "no evidence of a difference (which does not prove there is none). With fewer than "
            "{min_n} in either denominator: too few to test, left out of the family.",
        },
        "cmp_def_ready_term": {"ja": "独自シナリオの準備", "en": "Ready for own scenarios"},
        "cmp_def_ready": {
            "ja": "検定で差が示された商材は独自の扱いが必要。比較期間にMQLとSQLが各 {min_ready}件"
            "以上あれば、独自の閾値・シナリオを調整してその効果を測れるため「準備あり」。",
            "en": "A product with a tested difference needs its own treatment. It is ready to "
            "run on its own scenarios with at least {min_ready} MQLs and {min_ready} SQLs in "
            "the window: enough to tune its own threshold and scenarios and to measure them.",
        },
        "cmp_def_channels_term": {"ja": "チャネル×商材", "en": "Channel × product"},
        "cmp_def_channels": {
            "ja": "リード数とMQL数はコア指標（リードの獲得経路別）、MQL化率はリード→MQL転換率と"
            "同じ定義。費用はその商材のキャンペーンのうちチャネルが獲得経路と一致するものを"
            "KPIレポートと同じ日割りで期間に配分（商材共通のキャンペーンは配分しない）。"
            "MQL単価 = 費用 ÷ MQL数。検定はしない。",
            "en": "Leads and MQLs are the core counts by the lead's source; the MQL rate is "
            "the lead → MQL definition above. Cost is the spend of the product's own campaigns "
            "whose channel equals the source, placed in the window day by day as in the KPI "
            "report (cross-product campaigns are not split). Cost per MQL = cost / MQLs. Not "
            "tested.",
        },
        "cmp_def_campaigns_term": {"ja": "獲得キャンペーン×商材", "en": "Campaign × product"},
        "cmp_def_campaigns": {
            "ja": "リードの獲得キャンペーンは、作成の前後1日以内にあったフォーム送信・ウェビナー"
            "参加・イベント参加のうち最初のもののキャンペーン。比較期間のリード数上位 "
            "{campaigns} 件。費用はキャンペーン自身の商材の欄にだけ計上する。検定はしない。",
            "en": "A lead's acquisition campaign is the campaign of its first form, webinar or "
            "event touch within a day of its creation. The {campaigns} campaigns with most "
            "leads in the window. A campaign's cost counts for its own product only. Not "
            "tested.",
        },
    }
)

# Lead scoring calibration (notebooks/02_scoring_calibration.ipynb, maops_utils/scoring/).
TEXT.update(
    {
        "sc_current": {"ja": "現行モデル", "en": "Current model"},
        "sc_proposed": {"ja": "提案モデル", "en": "Proposed model"},
        "sc_outcome_sql": {"ja": "SQL", "en": "SQL"},
        "sc_outcome_opportunity": {"ja": "商談", "en": "opportunity"},
        "sc_outcome_won": {"ja": "受注", "en": "won"},
        "sc_band": {"ja": "スコア帯", "en": "Score band"},
        "sc_rating": {"ja": "レーティング", "en": "Rating"},
        "sc_score": {"ja": "スコア", "en": "Score"},
        "sc_rate": {"ja": "成果率", "en": "Success rate"},
        "sc_rate_cell": {
            "ja": "{rate} [{low}–{high}] ({events}/{n})",
            "en": "{rate} [{low}–{high}] ({events}/{n})",
        },
        "sc_expected": {"ja": "均一モデルの期待値", "en": "Expected (uniform model)"},
        "sc_metric": {"ja": "指標", "en": "Metric"},
        "sc_auc": {"ja": "AUC（順位づけ）", "en": "AUC (ranking)"},
        "sc_brier": {"ja": "Brierスコア（低いほど良い）", "en": "Brier score (lower is better)"},
        "sc_cal_intercept": {"ja": "校正切片（理想 0）", "en": "Calibration intercept (ideal 0)"},
        "sc_cal_slope": {"ja": "校正傾き（理想 1）", "en": "Calibration slope (ideal 1)"},
        "sc_lift": {"ja": "上位10%のリフト", "en": "Lift of the top 10%"},
        "sc_n": {"ja": "判定数", "en": "Judged"},
        "sc_events": {"ja": "成果数", "en": "Successes"},
        "sc_threshold": {"ja": "閾値", "en": "Threshold"},
        "sc_threshold_now": {"ja": "現在の閾値", "en": "Current threshold"},
        "sc_recommended": {"ja": "推奨閾値", "en": "Recommended threshold"},
        "sc_mqls_per_month": {"ja": "MQL/月", "en": "MQLs / month"},
        "sc_precision": {"ja": "成果率（適合率）", "en": "Precision"},
        "sc_recall": {"ja": "再現率", "en": "Recall"},
        "sc_sqls_per_month": {"ja": "成果/月", "en": "Successes / month"},
        "sc_net_benefit": {"ja": "純便益/月", "en": "Net benefit / month"},
        "sc_now_to_rec": {"ja": "{now} → {rec}", "en": "{now} → {rec}"},
        "sc_none": {"ja": "なし（渡さない）", "en": "none (hand over none)"},
        "sc_no_fit": {"ja": "該当なし", "en": "none qualifies"},
        "sc_model": {"ja": "モデル", "en": "Model"},
        "sc_kind": {"ja": "種類", "en": "Kind"},
        "sc_attribute": {"ja": "項目", "en": "Attribute"},
        "sc_value": {"ja": "値", "en": "Value"},
        "sc_points": {"ja": "点数", "en": "Points"},
        "sc_cap": {"ja": "上限（期間あたり）", "en": "Cap per period"},
        "sc_profile": {"ja": "属性", "en": "Profile"},
        "sc_engagement": {"ja": "行動", "en": "Engagement"},
        "sc_empty_value": {"ja": "（空欄）", "en": "(empty)"},
        "sc_any": {"ja": "（すべて）", "en": "(any)"},
        "sc_observed": {"ja": "実績の成果率", "en": "Observed rate"},
        "sc_ratio": {"ja": "実績 ÷ 期待", "en": "Observed ÷ expected"},
        "sc_flag": {"ja": "判定", "en": "Verdict"},
        "sc_flag_over": {
            "ja": "過大評価（MQLが成果になりにくい）",
            "en": "over-qualified (its MQLs rarely succeed)",
        },
        "sc_flag_under": {
            "ja": "過小評価（期待より成果が多い）",
            "en": "under-qualified (more successes than expected)",
        },
        "sc_flag_ok": {"ja": "おおむね妥当", "en": "about right"},
        "sc_auc_current": {"ja": "AUC 現行", "en": "AUC current"},
        "sc_auc_proposed": {"ja": "AUC 提案", "en": "AUC proposed"},
        "sc_rec_current": {"ja": "推奨閾値（現行）", "en": "Recommended (current)"},
        "sc_rec_proposed": {"ja": "推奨閾値（提案）", "en": "Recommended (proposed)"},
        "sc_objective_capacity": {
            "ja": "営業の対応能力（月 {capacity:g} 件のMQL）内で成果を最大にする",
            "en": "the most successes within sales capacity ({capacity:g} MQLs a month)",
        },
        "sc_objective_precision": {
            "ja": "成果率 {precision:.0%} を保てる最も低い閾値",
            "en": "the lowest threshold keeping a precision of {precision:.0%}",
        },
        "sc_objective_net_benefit": {
            "ja": "純便益（成果1件 = {value:g}、MQL1件の対応 = {cost:g}）を最大にする",
            "en": "the best net benefit (a success is worth {value:g}, working an MQL costs {cost:g})",
        },
        "sc_source_rules": {
            "ja": "スコアは params/scoring.yaml の現行ルールで活動履歴から再計算しました（判定時点より後の活動は使っていません）。",
            "en": "Scores were rebuilt from the activity history with the current rules in params/scoring.yaml (never using activities after the moment judged).",
        },
        "sc_source_scores": {
            "ja": "スコアはデータの scores テーブル（MAツール自身のスコアとレーティング）をそのまま使い、再計算していません。各判定時点の直前に記録された値です。",
            "en": "Scores are the tool's own, from the dataset's scores table, not recomputed: at each moment judged, the latest value recorded at or before it.",
        },
        "sc_judged_mql": {
            "ja": "判定時点: 各リードが初めてMQLになった時点。{first}〜{last} の {n:,} 件（すでに成果に到達していたリードを除く）。",
            "en": "Judged: each lead when it first became an MQL; {n:,} leads from {first} to {last} (leads that had already succeeded left out).",
        },
        "sc_judged_month_end": {
            "ja": "判定時点: 各月末、まだ成果に到達していないすべてのリード。{first}〜{last} の {n:,} 行。",
            "en": "Judged: at each month end, every lead not yet successful; {n:,} rows from {first} to {last}.",
        },
        "sc_outcome_rule": {
            "ja": "成果: 判定から {days} 日以内に初めて{outcome}へ到達。{days} 日がまだ経っていない {censored:,} 件は打ち切りとして除外し、失敗には数えていません。",
            "en": "Success: first reaching {outcome} within {days} days of the judgement. The {censored:,} judged whose {days} days have not yet passed are left out (censored), not counted as failures.",
        },
        "sc_counts": {
            "ja": "評価対象（期間が終わった {first}〜{last}）: {n:,} 件、成果 {events:,} 件・非成果 {non:,} 件（成果率 {rate:.1%}）。",
            "en": "Evaluated (windows closed, {first} to {last}): {n:,}, with {events:,} successes and {non:,} failures (rate {rate:.1%}).",
        },
        "sc_mql_check": {
            "ja": "再計算したスコアは、記録されたMQL {n:,} 件のうち {share:.0%} の時点で閾値 {threshold:g} に達していました。",
            "en": "The rebuilt score had reached the threshold {threshold:g} at {share:.0%} of the {n:,} recorded MQL moments.",
        },
        "sc_mql_check_low": {
            "ja": "再計算したスコアは、記録されたMQL {n:,} 件のうち {share:.0%} の時点でしか閾値 {threshold:g} に達していません。params/scoring.yaml のルールがMAツールの設定と違う可能性があります。",
            "en": "The rebuilt score had reached the threshold {threshold:g} at only {share:.0%} of the {n:,} recorded MQL moments: the rules in params/scoring.yaml may differ from the tool's.",
        },
        "sc_backtest": {
            "ja": "バックテスト: {train_first}〜{train_last} に判定され、{test_first} までに成果が確定したリードで当てはめ、{test_first}〜{test_last} に判定されたリードで評価。",
            "en": "Backtest: fitted on the leads judged from {train_first} to {train_last} whose outcome was known by {test_first}, judged on the leads of {test_first} to {test_last}.",
        },
        "sc_note_no_tool_score": {
            "ja": "{n:,} 件の判定時点には、それ以前のツールのスコアがないため除外しました。",
            "en": "{n:,} moments judged had no earlier score from the tool and were left out.",
        },
        "sc_note_no_backtest": {
            "ja": "バックテストに必要な期間（当てはめと評価の両方）がそろわないため、バックテストは行っていません。",
            "en": "The months needed for a backtest (both to fit and to judge) are not there, so there is no backtest.",
        },
        "sc_note_tool_scores": {"ja": "", "en": ""},
        "sc_sample_small": {
            "ja": "※ {what}: 成果 {events:,} 件・非成果 {non:,} 件。信頼できるキャリブレーションの目安（それぞれ約 {min:,} 件以上）に届かないため、確率の当てはまり（信頼性図、校正切片・傾き）は大きくぶれます。",
            "en": "* {what}: {events:,} successes and {non:,} failures, fewer than the rule of thumb for a reliable calibration (about {min:,} of each): the calibration (reliability diagram, intercept, slope) can swing widely.",
        },
        "sc_sample_ok": {
            "ja": "{what}: 成果 {events:,} 件・非成果 {non:,} 件（キャリブレーションの目安 各 {min:,} 件以上を満たしています）。",
            "en": "{what}: {events:,} successes and {non:,} failures (enough for a calibration by the rule of thumb of {min:,} each).",
        },
        "sc_scope_all": {"ja": "評価対象全体", "en": "All evaluated"},
        "sc_scope_backtest": {"ja": "バックテストの評価期間", "en": "The backtest's judged months"},
        "sc_scope_product": {"ja": "商材 {product}", "en": "Product {product}"},
        "sc_proposed_auc": {
            "ja": "バックテストのAUCは現行 {cur:.2f} → 提案 {prop:.2f}、Brierスコアは {cur_b:.3f} → {prop_b:.3f} です（{n:,} 件、成果 {events:,} 件）。",
            "en": "On the backtest, AUC goes from {cur:.2f} (current) to {prop:.2f} (proposed) and the Brier score from {cur_b:.3f} to {prop_b:.3f} ({n:,} judged, {events:,} successes).",
        },
        "sc_proposed_use_mql": {
            "ja": "提案モデルはMQLになった時点のリードで当てはめたため、MQLのうち営業が受け入れるリードを見分ける点数です。現行スコアが {current:g} に達し、かつ提案スコアが {threshold:g} 以上のリードを営業に渡す運用を想定しています（MQL/月 {mqls:.1f}、成果率 {precision:.0%}、成果/月 {sqls:.1f}）。",
            "en": "The proposed model was fitted on leads at the moment they became MQLs, so its points tell which MQLs sales will accept: hand a lead over when its current score reaches {current:g} and its proposed score is at least {threshold:g} ({mqls:.1f} MQLs a month, precision {precision:.0%}, {sqls:.1f} successes a month).",
        },
        "sc_proposed_use_month_end": {
            "ja": "提案モデルは月末時点のすべてのリードで当てはめたスコアです。閾値 {threshold:g} で MQL/月 {mqls:.1f}、成果率 {precision:.0%}、成果/月 {sqls:.1f} です。",
            "en": "The proposed model was fitted on every open lead at month ends; at a threshold of {threshold:g} it gives {mqls:.1f} MQLs a month with a precision of {precision:.0%} ({sqls:.1f} successes a month).",
        },
        "sc_proposed_in_sample": {
            "ja": "閾値の表の提案モデルの数値は当てはめに使ったのと同じリードでの値（楽観的）です。公平な比較はバックテストです。",
            "en": "The proposed model's figures in the threshold table are on the leads it was fitted on (optimistic); the backtest is the fair comparison.",
        },
        "sc_threshold_now_rec": {
            "ja": "現行モデル: 閾値 {now:g} では MQL/月 {mqls_now:.1f}、成果率 {p_now:.0%}、成果/月 {s_now:.1f}。目的（{objective}）に対する推奨は {rec} です{after}。",
            "en": "Current model: at {now:g}, {mqls_now:.1f} MQLs a month, precision {p_now:.0%}, {s_now:.1f} successes a month. For the objective ({objective}) the recommendation is {rec}{after}.",
        },
        "sc_threshold_after": {
            "ja": "（MQL/月 {mqls:.1f}、成果率 {p:.0%}、成果/月 {s:.1f}）",
            "en": " ({mqls:.1f} MQLs a month, precision {p:.0%}, {s:.1f} successes a month)",
        },
        "sc_threshold_floor": {
            "ja": "判定がMQL時点のため、現在の閾値より低い閾値は評価できません（閾値未満のリードは営業に渡されておらず、成果が観察できないため）。",
            "en": "Leads are judged when they became MQLs, so thresholds below the current one cannot be judged (leads below it were never handed over, so their outcome is unknown).",
        },
        "sc_product_flag": {
            "ja": "商材 {product}: 成果率 {observed:.1%}（均一モデルの期待 {expected:.1%}、実績÷期待 {ratio:.2f} [{low:.2f}–{high:.2f}]）→ {flag}。",
            "en": "Product {product}: success rate {observed:.1%} (the uniform model expects {expected:.1%}; observed ÷ expected {ratio:.2f} [{low:.2f}–{high:.2f}]) → {flag}.",
        },
        "sc_band_title": {
            "ja": "スコア帯別の{outcome}到達率（{days}日以内、95%区間）",
            "en": "Share reaching {outcome} within {days} days by score band (95% interval)",
        },
        "sc_rating_title": {
            "ja": "レーティング別の{outcome}到達率（%、件数）",
            "en": "Share reaching {outcome} by rating (%, n)",
        },
        "sc_no_ratings": {
            "ja": "このデータとモデルにはレーティングがありません。",
            "en": "This dataset and model have no ratings.",
        },
        "sc_reliability_title": {
            "ja": "信頼性図（バックテスト）",
            "en": "Reliability diagram (backtest)",
        },
        "sc_predicted": {"ja": "予測確率", "en": "Predicted probability"},
        "sc_observed_short": {"ja": "実績の成果率", "en": "Observed rate"},
        "sc_gain_title": {"ja": "累積ゲイン（バックテスト）", "en": "Cumulative gain (backtest)"},
        "sc_depth": {
            "ja": "スコア上位から見たリードの割合",
            "en": "Share of leads, best scores first",
        },
        "sc_gain": {"ja": "見つかった成果の割合", "en": "Share of successes found"},
        "sc_random": {"ja": "ランダム", "en": "Random"},
        "sc_threshold_title": {
            "ja": "閾値ごとのMQL数と成果率（{first}〜{last}）",
            "en": "MQLs and precision by threshold ({first} to {last})",
        },
        "sc_capacity_line": {"ja": "対応能力", "en": "capacity"},
        "sc_target_line": {"ja": "目標成果率", "en": "target precision"},
        "sc_product_title": {
            "ja": "商材別: 実績 ÷ 均一モデルの期待（95%区間）",
            "en": "By product: observed ÷ expected by the uniform model (95% interval)",
        },
        "sc_no_backtest_chart": {"ja": "バックテストなし", "en": "no backtest"},
        "sc_all_products": {"ja": "全体", "en": "All"},
    }
)

TEXT["skipped_note"] = {
    "ja": "このレポートは今月のデータでは作成できませんでした。理由:",
    "en": "This report could not be made from this month's data. The reason:",
}
