"""What each column means, in Japanese and English: the notes on the template's header cells
and its README sheet. A field not described here gets a note made from its kind."""

from __future__ import annotations

from .columns import Kind, SheetColumn

#: field -> (Japanese, English)
FIELDS: dict[str, tuple[str, str]] = {
    "key": (
        "この行で作るものの識別キー（半角英数字と - _ . :）",
        "the key of what this row creates (letters, digits, - _ . :)",
    ),
    "name": ("名称", "name"),
    "sector": ("主体の種別（一覧から選ぶ）", "kind of body (choose from the list)"),
    "capacity": ("年間予算などの規模（負担の大きさの比較に使う）", "annual budget, to compare burden with capacity"),
    "identifiers": ("法人番号など（JP-JCN-…）、; で区切る", "identifiers such as JP-JCN-…, separated by ;"),
    "area": ("地域コード（JP-LGC-…）", "area code (JP-LGC-…)"),
    "party": ("主体のキー", "a party's key"),
    "partnership": ("協働事業のキー", "a partnership's key"),
    "agreement": ("協定のキー", "an agreement's key"),
    "contribution": ("拠出（pledge の key）", "the contribution (a pledge's key)"),
    "target": ("数値目標のキー", "a target's key"),
    "evaluation": ("評価のキー", "an evaluation's key"),
    "title": ("表題", "title"),
    "purpose": ("目的", "purpose"),
    "proposed_by": ("提案した主体のキー", "the key of the party that proposed it"),
    "members": ("構成員のキー、; で区切る", "members' keys, separated by ;"),
    "parties": ("当事者のキー、; で区切る", "parties' keys, separated by ;"),
    "parent": ("上位の協働事業のキー", "the parent partnership's key"),
    "on": ("日付（年-月-日、日付セル可）", "date (YYYY-MM-DD or a date cell)"),
    "start": ("開始日", "start date"),
    "end": ("終了日", "end date"),
    "role": ("役割", "role"),
    "reason": ("理由", "reason"),
    "subject": ("議題", "subject"),
    "rule": ("決め方：consensus（全員一致）/ majority（多数決）", "rule: consensus or majority"),
    "votes": ("票：キー=for; キー=against; キー=abstain", "votes: key=for; key=against; key=abstain"),
    "shares": ("合意した負担割合：キー=0.4; キー=0.6（合計 1）", "agreed shares: key=0.4; key=0.6 (summing to 1)"),
    "annual_caps": ("年間上限：キー=10000000 JPY", "annual caps: key=10000000 JPY"),
    "max_years": ("最長年数", "longest number of years"),
    "fiscal_year_start": ("年度の始まりの月（既定 4）", "month the fiscal year starts (default 4)"),
    "amendment": ("変更のキー", "the amendment's key"),
    "changes": ("変更する条件", "the terms changed"),
    "kind": ("資源の種類（一覧から選ぶ）", "kind of resource (choose from the list)"),
    "value": (
        "金額（文字列のまま入力：1,000,000 や 1000000円 も可）",
        "amount (kept as text; 1,000,000 and 円 accepted)",
    ),
    "quantity": ("数量", "quantity"),
    "unit": ("単位", "unit"),
    "valuation_basis": ("金銭換算の根拠", "how it was valued in money"),
    "instrument": ("資金の形：contribution / subsidy / commission / grant / other", "form of money"),
    "recipient": ("資金を受け取る主体のキー", "the key of the party the money goes to"),
    "fiscal_year": ("年度（始まる年、例 2008）", "fiscal year (the year it starts in, e.g. 2008)"),
    "description": ("説明", "description"),
    "evidence": ("証拠書類（振込番号など）", "evidence (transfer number...)"),
    "delta": ("訂正額（減らすときは負の数、▲ も可）", "correction (negative to reduce; ▲ accepted)"),
    "indicator": ("指標", "indicator"),
    "direction": ("increase（増やす）/ decrease（減らす）", "increase or decrease"),
    "baseline": ("基準値", "baseline"),
    "targets": ("目標：期間=値; 期間=値（例 2008=3000; 2009=6000）", "targets: period=value; period=value"),
    "period": ("期間の名前（例 2008、2008/09）文字列で", "period label (2008, 2008/09), as text"),
    "source": ("出典", "source"),
    "criteria": ("評価項目、; で区切る", "criteria, separated by ;"),
    "scale_max": ("評点の上限（既定 5）", "highest score (default 5)"),
    "resident_weight": ("住民評価の重み 0〜1（既定 0.5）", "weight of residents' scores, 0 to 1 (default 0.5)"),
    "evaluator": ("評価者のキー（住民は匿名 ID）", "evaluator's key (residents: an opaque id)"),
    "scores": ("評点：項目=4; 項目=5", "scores: criterion=4; criterion=5"),
    "comment": ("コメント", "comment"),
    "evidence_private": ("証拠書類を非公開にするか（TRUE/FALSE）", "keep the evidence private (TRUE/FALSE)"),
    "evidence_subject": ("非公開の証拠書類が関わる人の匿名 ID", "opaque id of the person private evidence is about"),
    "comment_public": ("コメントを公開するか（TRUE/FALSE）", "publish the comment (TRUE/FALSE)"),
    "operation": ("取り消す記録の ID（history が示すもの）", "the id of the entry voided (as history shows it)"),
    "by": ("記録した人", "who recorded it"),
    "note": ("メモ（履歴に残る）", "note (kept in the history)"),
    "id": ("記録の ID（空欄でよい。書き出しが埋める）", "the entry's id (leave empty; export fills it)"),
    "seq": (
        "記録の順番（書き出しが埋める。新しい行は空欄：各シートの後に順に記録）",
        "recorded order (export fills it; leave empty for new rows, applied after the numbered ones)",
    ),
}

_SUBS: dict[str, tuple[str, str]] = {
    "amount": ("金額", "amount"),
    "currency": ("通貨（JPY など）", "currency (JPY...)"),
    "period": ("期間", "period"),
    "value": ("値", "value"),
}

_KINDS: dict[str, tuple[str, str]] = {
    "key": ("キー", "a key"),
    "text": ("文字", "text"),
    "date": ("日付", "a date"),
    "decimal": ("数値（文字列で）", "a number (as text)"),
    "integer": ("整数", "a whole number"),
    "boolean": ("TRUE/FALSE", "TRUE/FALSE"),
    "keys": ("キー、; で区切る", "keys separated by ;"),
    "texts": ("; で区切る", "separated by ;"),
    "map": ("名前=値; 名前=値", "name=value; name=value"),
}


def _kind_note(kind: Kind) -> tuple[str, str]:
    return _KINDS.get(kind.name, ("文字または JSON", "text or JSON"))


def column_note(column: SheetColumn) -> str:
    """The note on a header cell: what to write, in Japanese then English."""
    ja, en = FIELDS.get(column.field) or _kind_note(column.kind)
    if column.sub is not None:
        sub_ja, sub_en = _SUBS.get(column.sub) or FIELDS.get(column.sub) or _kind_note(column.kind)
        ja, en = f"{ja}：{sub_ja}", f"{en}: {sub_en}"
    need = ("必須", "required") if column.required else ("任意", "optional")
    lines = [f"{ja}（{need[0]}）", f"{en} ({need[1]})"]
    if column.kind.choices:
        lines.append(" / ".join(column.kind.choices))
    return "\n".join(lines)


README_ROWS: tuple[tuple[str, str], ...] = (
    ("partnership-ledger 記録用ワークブック", "partnership-ledger records workbook"),
    ("", ""),
    (
        "操作の種類ごとに 1 枚のシートがあります。1 行が 1 件の記録です。",
        "One sheet per kind of operation; each row records one operation.",
    ),
    (
        "1 行目の列名は変えないでください。列にカーソルを合わせると説明が出ます。",
        "Keep row 1's column names; hover over one to read what it means.",
    ),
    (
        "シートは左から順に記録されます（主体→協働事業→協定→拠出→…→終了）。",
        "Sheets are recorded left to right (parties, partnerships, agreements, contributions... endings last).",
    ),
    (
        "日付は日付セルか 2008-04-15 の形で。金額は文字列で（1,000,000 や 1000000円 も可）。",
        "Dates as date cells or 2008-04-15; amounts as text (1,000,000 and 1000000円 are accepted).",
    ),
    (
        "複数のキーは ; で区切ります（npo-puppets; pref-fukushima）。",
        "Several keys: separate them with ; (npo-puppets; pref-fukushima).",
    ),
    (
        "票・割合・評点は 名前=値; 名前=値 と書きます。",
        "Votes, shares and scores: name=value; name=value.",
    ),
    (
        "空の行・空のシートは読み飛ばします。行を隠したりセルを結合したりしないでください。",
        "Empty rows and sheets are skipped. Do not hide rows or merge cells.",
    ),
    (
        "取り込み：partnership-ledger import この表.xlsx（全部記録されるか、何も記録されないか）",
        "Import: partnership-ledger import this.xlsx (all of it is recorded, or none of it)",
    ),
    (
        "同じ表をもう一度取り込んでも二重には記録されません。行を足して取り込むと、足した行だけが記録されます。",
        "Importing the same workbook again records nothing new; added rows are recorded alone.",
    ),
    (
        "誤りは シート!セル（列名）で示されます。例：pledge!F14 (value/amount)",
        "Problems are named by sheet!cell (column), e.g. pledge!F14 (value/amount).",
    ),
)

#: What each sheet records, in Japanese and English (the README sheet lists them in order).
OPS: dict[str, tuple[str, str]] = {
    "register_party": (
        "主体（NPO、県、市町村、企業…）の登録",
        "register a party (an NPO, a prefecture, a business...)",
    ),
    "amend_party": ("主体の登録内容の訂正", "correct a party's registration"),
    "propose_partnership": ("協働事業の提案", "propose a partnership"),
    "join_partnership": ("協働事業への参加", "a party joins a partnership"),
    "activate_partnership": ("協働事業の開始", "a partnership becomes active"),
    "record_decision": ("意思決定（票つき）", "a decision, with the votes"),
    "draft_agreement": ("協定（協定書）の作成", "draft an agreement"),
    "sign_agreement": ("協定への署名", "a party signs an agreement"),
    "amend_agreement": ("協定の変更の提案", "propose an amendment of an agreement"),
    "consent_amendment": ("協定の変更への同意", "a party consents to an amendment"),
    "pledge": ("拠出の約束（資金、人、場所、物…）", "pledge a contribution (money, staff time, a venue...)"),
    "deliver": ("拠出の実績", "a delivery on a contribution"),
    "correct_contribution": ("拠出の訂正（理由つき）", "correct a contribution, with the reason"),
    "withdraw_pledge": ("約束の取り下げ", "withdraw a pledge"),
    "define_target": ("数値目標の設定", "define a numeric target"),
    "record_measurement": ("目標の実績値", "a target's measured value"),
    "revise_target": ("目標の見直し", "revise a target"),
    "open_evaluation": ("評価の開始", "open an evaluation round"),
    "submit_evaluation": ("評価の提出（住民は匿名 ID）", "submit an evaluation (residents by an opaque id)"),
    "close_evaluation": ("評価の締め切り", "close an evaluation round"),
    "terminate_agreement": ("協定の終了", "terminate an agreement"),
    "leave_partnership": ("協働事業からの離脱", "a party leaves a partnership"),
    "conclude_partnership": ("協働事業の終了", "conclude a partnership"),
    "void_operation": ("誤って記録したものの取り消し", "void an entry recorded in error"),
    "erase_subject": ("住民の個人データの消去", "erase a resident's private data"),
}
