"""The outreach contact book: validated import that merges, and a demo book that reaches nobody.

The IBM customers have no phone numbers or e-mail addresses, so outreach needs a contact
book keyed by ``customer_id`` (warehouse table ``contacts``, :data:`churn_core.data.tables.CONTACTS`):
names, addresses, preferred channel and 구. Consent is **not** in the book: it is the
append-only history of :mod:`churn_core.outreach.consent`, and :func:`contact_book` joins the
consent in force to the book.

Import (:func:`validate_contacts`) checks every row: the customer exists, the mobile
number is a Korean mobile (phonenumbers, region KR) and is stored in E.164, the e-mail
address is well formed (email-validator, no DNS lookup), consent flags are yes/no, every
"yes" has its date (``sms_consent_date``, ``email_consent_date``, ``night_consent_date``,
``opted_out_date``; consent must be provable, so a "yes" without a date refuses the row), no
date lies in the future, the preferred channel is ``sms`` or ``email``. Rows with problems
are not imported; each problem names its CSV line, column and reason.

The file's consent columns become **dated consent events** (the file's dates are the event
times, :func:`churn_core.outreach.consent.events_from_flags`): a grant only takes effect if it
is newer than the customer's latest withdrawal, so re-importing an older export never undoes
a later opt-out. An import **merges** (:func:`preview_import` shows what it would change,
:func:`apply_import` does it): customers in the file are added or updated (a blank cell keeps
the stored value), everyone else stays; consent events already recorded are not repeated; the
first real import retires the demo book.

The demo book (:func:`demo_contacts`) is for the default setup only: names say "데모",
e-mail addresses use the reserved ``example.com`` domain (RFC 2606), and mobile numbers
come from the 010-0000-xxxx block, which is not issued to subscribers. Demo contacts are
flagged ``is_demo`` and the outreach module never hands them to a real provider; their
consent is demo consent events (source ``demo``), which count only for demo contacts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from churn_core.data.reading import apply_columns, match_columns, read_table
from churn_core.data.schema import CONTACT_COLUMN_ALIASES
from churn_core.data.tables import CONSENT_EVENTS, CONTACTS, LEGACY_CONTACT_CONSENT_COLUMNS
from churn_core.data.warehouse import Warehouse
from churn_core.outreach import consent as consent_lib
from churn_core.outreach.compliance import CAMPAIGN_CHANNELS as CAMPAIGN_CHANNELS  # re-exported
from churn_core.outreach.compliance import KST

#: CSV header → contacts column.
CSV_COLUMNS: dict[str, str] = {
    "customerID": "customer_id",
    "name": "name",
    "mobile": "phone_e164",
    "email": "email",
    "sms_consent": "sms_consent",
    "sms_consent_date": "sms_consent_date",
    "email_consent": "email_consent",
    "email_consent_date": "email_consent_date",
    "night_consent": "night_consent",
    "night_consent_date": "night_consent_date",
    "opted_out": "opted_out",
    "opted_out_date": "opted_out_date",
    "preferred_channel": "preferred_channel",
    "gu": "gu",
}
REQUIRED = ("customerID", "name", "sms_consent", "email_consent", "opted_out")
YES = {"y", "yes", "true", "1", "예", "동의"}
NO = {"n", "no", "false", "0", "", "아니오", "미동의"}
#: Preferred channels a contact file may name.
CHANNELS = ("sms", "email")
#: Channels a campaign may use (issue #15): ``CAMPAIGN_CHANNELS``, imported above from compliance (Twilio
#: SMS, SOLAPI SMS/LMS, 알림톡, 브랜드 메시지, e-mail). The phone channels use the ``sms`` consent and
#: the mobile number (:func:`~churn_core.outreach.compliance.consent_channel`).

#: Columns of :attr:`ContactImport.problems`: ``reason`` is English (logs, CLI); ``code`` and
#: ``params`` give the translated text (``contact_problem.<code>`` in the catalog,
#: :func:`churn_core.formatting.contact_problems_table`).
PROBLEM_COLUMNS: tuple[str, ...] = ("line", "column", "value", "reason", "code", "params")

#: English reason of each contact-import problem code (``{name}``: its parameters).
CONTACT_PROBLEMS: dict[str, str] = {
    "unknown_customer": "no such customer in the warehouse",
    "duplicate_customer": "customer listed more than once",
    "bad_mobile": "not a valid Korean mobile number",
    "bad_email": "not a valid e-mail address: {detail}",
    "bad_flag": "expected yes/no (Y, N, true, false, 1, 0)",
    "bad_date": "expected a date YYYY-MM-DD",
    "future_date": "date in the future (today is {today} in Korea)",
    "consent_without_date": "{flag} is yes but has no date (consent must be provable)",
    "sms_without_mobile": "SMS consent without a mobile number",
    "email_without_address": "e-mail consent without an address",
    "bad_channel": "expected one of {allowed}",
}


#: Address and profile columns an import may set (the key ``customer_id`` aside).
PROFILE_COLUMNS = ("name", "phone_e164", "email", "preferred_channel", "gu")


@dataclass
class ContactImport:
    """Result of validating a contact CSV.

    Attributes
    ----------
    contacts : pandas.DataFrame
        Valid rows, columns of :data:`churn_core.data.tables.CONTACTS` (``is_demo`` False).
    problems : pandas.DataFrame
        :data:`PROBLEM_COLUMNS`: ``line``, ``column``, ``value``, ``reason`` (English), ``code``
        (:data:`CONTACT_PROBLEMS`) and ``params`` (dict); a line with any problem is refused.
    n_rows : int
        Data rows in the file.
    events : pandas.DataFrame
        The valid rows' consent as dated events (:data:`churn_core.data.tables.CONSENT_EVENTS`
        columns; evidence ``<file> line <n>``; ``recorded_by``/``recorded_at`` set on import).
    """

    contacts: pd.DataFrame
    problems: pd.DataFrame
    n_rows: int
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CONSENT_EVENTS.names))

    @property
    def n_rejected(self) -> int:
        return int(self.problems["line"].nunique()) if len(self.problems) else 0


def mobile_e164(raw: str) -> str | None:
    """A Korean mobile number in E.164 (``010-1234-5678`` → ``+821012345678``), or None."""
    try:
        number = phonenumbers.parse(str(raw).strip(), "KR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _flag(value: str) -> bool | None:
    v = str(value).strip().lower()
    return True if v in YES else False if v in NO else None


def validate_contacts(
    data: bytes,
    known_customers: set[str],
    source: str = "<upload>",
    today: dt.date | None = None,
    sheet: str | None = None,
    saved: dict[str, str] | None = None,
) -> ContactImport:
    """Validate a contact file (headers of :data:`CSV_COLUMNS` or their aliases).

    The file may be CSV in UTF-8, CP949 or UTF-16, separated by commas, semicolons or tabs, or an
    Excel workbook (:func:`churn_core.data.reading.read_table`); headers match ignoring case and
    spaces, or through :data:`churn_core.data.schema.CONTACT_COLUMN_ALIASES` (이름, 휴대폰 …).

    Parameters
    ----------
    data : bytes
        The file.
    known_customers : set of str
        ``customer_id`` values in the warehouse.
    source : str
        The file's name, for messages and the consent events' evidence.
    today : datetime.date, optional
        Today in Korea (default: now); later dates are refused.
    sheet : str, optional
        The sheet of a workbook (default: the first).
    saved : dict of str to str, optional
        A mapping the user confirmed (header → column; the upload's mapping step), applied after
        exact headers and before aliases (:func:`churn_core.data.reading.match_columns`).

    Returns
    -------
    ContactImport
        Valid rows (``contacts`` table columns, ``is_demo`` False), their consent as dated
        events, and one problem row per (CSV line, column, reason); a row with any problem
        is left out of both.

    Raises
    ------
    ValueError
        If the file lacks required headers (named in the message); a
        :class:`~churn_core.data.loading.DataValidationError` (a ``ValueError``) if it cannot be read.
    """
    # CSV in any usual encoding and separator, or Excel; headers matched with their aliases (이름, 휴대폰 …)
    table = read_table(data, source, sheet)
    match = match_columns(
        table.headers, list(CSV_COLUMNS), aliases=CONTACT_COLUMN_ALIASES, saved=saved, required=REQUIRED
    )
    if match.missing:
        raise ValueError(f"{source}: missing columns {list(match.missing)}; expected {list(CSV_COLUMNS)}")
    raw = apply_columns(table.frame, match).fillna("")
    for col in CSV_COLUMNS:
        if col not in raw.columns:
            raw[col] = ""
    problems: list[dict] = []
    day = today or dt.datetime.now(KST).date()

    def problem(i: int, column: str, value: str, code: str, **params: str) -> None:
        reason = CONTACT_PROBLEMS[code].format(**params)  # English, for logs and the CLI
        problems.append({"line": i + 2, "column": column, "value": value, "reason": reason, "code": code,
                         "params": params})  # fmt: skip

    rows = []
    duplicated = raw["customerID"].duplicated(keep=False)
    for i, r in raw.iterrows():
        out: dict = {"customer_id": r["customerID"].strip(), "name": r["name"].strip(), "is_demo": False}
        if out["customer_id"] not in known_customers:
            problem(i, "customerID", r["customerID"], "unknown_customer")
        if duplicated[i]:
            problem(i, "customerID", r["customerID"], "duplicate_customer")
        out["phone_e164"] = mobile_e164(r["mobile"]) if r["mobile"].strip() else None
        if r["mobile"].strip() and out["phone_e164"] is None:
            problem(i, "mobile", r["mobile"], "bad_mobile")
        out["email"] = None
        if r["email"].strip():
            try:
                out["email"] = validate_email(r["email"].strip(), check_deliverability=False).normalized
            except EmailNotValidError as exc:
                problem(i, "email", r["email"], "bad_email", detail=str(exc))
        for flag in ("sms_consent", "email_consent", "night_consent", "opted_out"):
            out[flag] = _flag(r[flag])
            if out[flag] is None:
                problem(i, flag, r[flag], "bad_flag")
        for flag, (date_col, _) in consent_lib.FLAG_EVENTS.items():
            value = r[date_col].strip()
            out[date_col] = None
            if value:
                parsed = pd.to_datetime(value, errors="coerce", format="%Y-%m-%d")
                if pd.isna(parsed):
                    problem(i, date_col, value, "bad_date")
                elif parsed.date() > day:
                    problem(i, date_col, value, "future_date", today=day.isoformat())
                else:
                    out[date_col] = parsed.date()
            elif out.get(flag):
                problem(i, date_col, value, "consent_without_date", flag=flag)
        if out["sms_consent"] and not out["phone_e164"]:
            problem(i, "mobile", r["mobile"], "sms_without_mobile")
        if out["email_consent"] and not out["email"]:
            problem(i, "email", r["email"], "email_without_address")
        channel = r["preferred_channel"].strip().lower() or None
        if channel is not None and channel not in CHANNELS:
            problem(i, "preferred_channel", r["preferred_channel"], "bad_channel", allowed=", ".join(CHANNELS))
        out["preferred_channel"] = channel
        out["gu"] = r["gu"].strip() or None
        out["line"] = i + 2
        rows.append(out)
    problem_df = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    bad_lines = set(problem_df["line"])
    good = pd.DataFrame([row for row in rows if row["line"] not in bad_lines])
    if good.empty:
        return ContactImport(pd.DataFrame(columns=CONTACTS.names), problem_df, len(raw))
    events = consent_lib.events_from_flags(good, "import", source + " line " + good["line"].astype(str), "")
    return ContactImport(good[CONTACTS.names].reset_index(drop=True), problem_df, len(raw), events)


def demo_contacts(
    customers: pd.DataFrame, seed: int = 0, gus: tuple[str, ...] = (), today: dt.date | None = None
) -> pd.DataFrame:
    """A clearly labelled demo contact book for ``customers`` (columns ``customer_id``), as a file would have it.

    Consent is varied on purpose (about 70 % SMS, 60 % e-mail, 15 % night-time consent,
    5 % opted out) so the compliance rules have something to do. Grants are dated 1 to 25
    months before ``today`` (so a few are due for, or past, the two-yearly reconfirmation),
    opt-outs 2 to 20 days before it. ``gu`` is drawn from ``gus`` (Seoul's 구) for
    personalised content.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_contact_columns + 8)
        The contact columns plus the consent flags and dates of :data:`CSV_COLUMNS`
        (:func:`store_demo_book` turns those into demo consent events).
    """
    rng = np.random.default_rng(seed)
    n = len(customers)
    ids = customers["customer_id"].to_numpy()
    day = pd.Timestamp(today or dt.datetime.now(KST).date())
    sms = rng.random(n) < 0.7
    email = rng.random(n) < 0.6
    night = rng.random(n) < 0.15
    opted = rng.random(n) < 0.05
    granted = [(day - pd.Timedelta(days=int(d))).date() for d in rng.integers(30, 760, n)]
    withdrawn = [(day - pd.Timedelta(days=int(d))).date() for d in rng.integers(2, 21, n)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": [f"데모 고객 {i + 1:04d}" for i in range(n)],
            "phone_e164": [f"+82100000{i % 10000:04d}" for i in range(n)],
            "email": [f"demo-{i + 1:05d}@example.com" for i in range(n)],
            "sms_consent": sms,
            "sms_consent_date": [g if s else None for g, s in zip(granted, sms, strict=True)],
            "email_consent": email,
            "email_consent_date": [g if e else None for g, e in zip(granted, email, strict=True)],
            "night_consent": night,
            "night_consent_date": [g if x else None for g, x in zip(granted, night, strict=True)],
            "opted_out": opted,
            "opted_out_date": [w if o else None for w, o in zip(withdrawn, opted, strict=True)],
            "preferred_channel": np.where(rng.random(n) < 0.6, "sms", "email"),
            "gu": rng.choice(np.array(gus or ("종로구",), dtype=object), n),
            "is_demo": True,
        }
    )


def store_demo_book(
    wh: Warehouse, customers: pd.DataFrame, gus: tuple[str, ...] = (), now: dt.datetime | None = None
) -> int:
    """Store :func:`demo_contacts` as the contact book and its consent as demo events (source ``demo``).

    Returns
    -------
    int
        Contacts stored.
    """
    when = now or dt.datetime.now(dt.UTC)
    book = demo_contacts(customers, gus=gus, today=pd.Timestamp(when).tz_convert(KST).date())
    wh.replace_table(CONTACTS.name, book[CONTACTS.names])
    events = consent_lib.events_from_flags(book, "demo", "demo book", "demo")
    if len(events):
        consent_lib.record_events(wh, events.assign(recorded_at=when))
    return len(book)


def migrate_legacy_contacts(wh: Warehouse, now: dt.datetime | None = None) -> int:
    """Move the consent columns of a contact book stored before the consent history into events.

    A warehouse made by an earlier version keeps consent flags in ``contacts``. Their dated
    flags become consent events (source ``demo`` for demo rows, else ``import``; evidence says
    so), then the book is rewritten with the current columns. Does nothing on a current book.

    Returns
    -------
    int
        Consent events recorded (0 when there was nothing to migrate).
    """
    if getattr(wh, "_contacts_current", False):
        return 0
    if not wh.table_exists(CONTACTS.name) or "sms_consent" not in wh.schema(CONTACTS.name):
        wh._contacts_current = True  # checked once per warehouse object
        return 0
    old = wh.query("SELECT * FROM {contacts}")
    for col in LEGACY_CONTACT_CONSENT_COLUMNS:
        if col not in old:
            old[col] = None
    n = 0
    for is_demo, part in old.groupby(old["is_demo"].fillna(False).astype(bool)):
        events = consent_lib.events_from_flags(
            part, "demo" if is_demo else "import", "contacts table before the consent history (migrated)", "migration"
        )
        if len(events):
            n += consent_lib.record_events(wh, events.assign(recorded_at=now or dt.datetime.now(dt.UTC)))
    wh.replace_table(CONTACTS.name, old[CONTACTS.names])
    return n


def contact_book(
    wh: Warehouse, seniors: pd.DataFrame, gus: tuple[str, ...] = (), now: dt.datetime | None = None
) -> pd.DataFrame:
    """The warehouse's contact book with the consent in force; a demo book is stored first when it is empty.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
    seniors : pandas.DataFrame
        ``customer_id`` of the customers the demo book is made for (the seniors).
    gus : tuple of str
        Seoul's 구 drawn for the demo contacts (personalised store and centre content).
    now : datetime.datetime, optional
        Moment the consent is read at (default: now).

    Returns
    -------
    pandas.DataFrame of shape (n_contacts, n_contact_columns + 8)
        Ordered by ``customer_id``; ``is_demo`` marks demo rows; the consent columns of
        :func:`churn_core.outreach.consent.current_consent` (read from the history now).
    """
    migrate_legacy_contacts(wh, now)
    book = wh.query("SELECT * FROM {contacts} ORDER BY customer_id")
    if book.empty:
        store_demo_book(wh, seniors, gus, now)
        book = wh.query("SELECT * FROM {contacts} ORDER BY customer_id")
    return consent_lib.attach_consent(book, consent_lib.current_consent(wh, as_of=now))


@dataclass
class ImportPreview:
    """What merging a validated contact file changes (before or after :func:`apply_import`).

    Attributes
    ----------
    added, updated, unchanged : int
        Contacts new to the book (a replaced demo contact counts as added), changed, the same.
    demo_removed : int
        Demo contacts retired because this is the first real import.
    events_new, events_known : int
        Consent events the file adds, and those already recorded (not repeated).
    grants_without_effect : int
        New grants that do not take effect because a withdrawal is as new or newer.
    refused : int
        File lines refused (see the problems).
    changes : pandas.DataFrame
        Per customer in the file: ``customer_id``, ``change`` (added / updated / unchanged),
        ``fields`` (changed columns), ``consent_events`` (new events, as text),
        ``without_effect`` (grants that stay without effect).
    rows : pandas.DataFrame
        The merged contact rows to write.
    events : pandas.DataFrame
        The new consent events to record.
    """

    added: int
    updated: int
    unchanged: int
    demo_removed: int
    events_new: int
    events_known: int
    grants_without_effect: int
    refused: int
    changes: pd.DataFrame
    rows: pd.DataFrame
    events: pd.DataFrame

    def counts(self) -> dict[str, int]:
        """The counts as a dict (for messages)."""
        names = ("added", "updated", "unchanged", "demo_removed", "events_new", "events_known",
                 "grants_without_effect", "refused")  # fmt: skip
        return {n: int(getattr(self, n)) for n in names}


def preview_import(wh: Warehouse, result: ContactImport) -> ImportPreview:
    """What :func:`apply_import` would change; writes nothing (a legacy book is migrated first).

    Returns
    -------
    ImportPreview
    """
    migrate_legacy_contacts(wh)
    incoming = result.contacts
    ids = list(incoming["customer_id"])
    stored = (
        wh.query("SELECT * FROM {contacts} WHERE customer_id IN UNNEST(@ids)", {"ids": ids}) if ids else
        pd.DataFrame(columns=CONTACTS.names)
    )  # fmt: skip
    stored = stored.set_index("customer_id")
    n_demo = int(wh.query("SELECT COUNT(*) AS n FROM {contacts} WHERE is_demo")["n"].iloc[0]) if ids else 0
    merged, change, fields = [], [], []
    for row in incoming.to_dict("records"):
        cid = row["customer_id"]
        old = stored.loc[cid].to_dict() if cid in stored.index else None
        if old is None or _true(old.get("is_demo")):
            merged.append(row)
            change.append("added")
            fields.append("")
            continue
        new = {"customer_id": cid, "is_demo": False}
        for col in PROFILE_COLUMNS:
            value = row.get(col)
            new[col] = old.get(col) if value is None or (isinstance(value, float) and np.isnan(value)) else value
        diff = [c for c in PROFILE_COLUMNS if not _same(old.get(c), new[c])]
        merged.append(new)
        change.append("updated" if diff else "unchanged")
        fields.append(", ".join(diff))
    rows = pd.DataFrame(merged, columns=CONTACTS.names)
    replaced_demo = int(sum(c in stored.index and _true(stored.loc[c, "is_demo"]) for c in ids))
    new_events, known, without_effect = _new_events(wh, result.events, ids)
    per_customer = {cid: _describe_events(group) for cid, group in new_events.groupby("customer_id")}
    changes = pd.DataFrame({"customer_id": ids, "change": change, "fields": fields})
    changes["consent_events"] = changes["customer_id"].map(per_customer).fillna("")
    changes["without_effect"] = changes["customer_id"].map(without_effect).fillna(0).astype(int)
    return ImportPreview(
        added=change.count("added"), updated=change.count("updated"), unchanged=change.count("unchanged"),
        demo_removed=max(n_demo - replaced_demo, 0) if ids else 0, events_new=len(new_events), events_known=known,
        grants_without_effect=int(sum(without_effect.values())), refused=result.n_rejected, changes=changes,
        rows=rows, events=new_events,
    )  # fmt: skip


def apply_import(
    wh: Warehouse, result: ContactImport, recorded_by: str, now: dt.datetime | None = None
) -> ImportPreview:
    """Merge a validated contact file into the book and record its consent events.

    Customers in the file are upserted (:meth:`~churn_core.data.warehouse.Warehouse.merge_rows`),
    nobody else is touched except demo contacts, which the first real import retires; consent
    events not yet recorded are appended with ``recorded_by``. A grant older than the
    customer's latest withdrawal stays in the history without effect.

    Returns
    -------
    ImportPreview
        What was changed.
    """
    preview = preview_import(wh, result)
    if len(preview.rows):
        wh.merge_rows(CONTACTS.name, preview.rows, update=True)
        if preview.demo_removed:
            wh.execute("DELETE FROM {contacts} WHERE is_demo")
    if len(preview.events):
        consent_lib.record_events(
            wh, preview.events.assign(recorded_by=recorded_by, recorded_at=now or dt.datetime.now(dt.UTC))
        )
    return preview


def _new_events(wh: Warehouse, events: pd.DataFrame, ids: list[str]) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """Events not recorded yet, how many were, and per customer the new grants without effect."""
    if events.empty:
        return events, 0, {}
    past = consent_lib.history(wh, ids)
    key = ["customer_id", "channel", "event", "occurred_at"]
    seen = set(map(tuple, past[key].assign(occurred_at=pd.to_datetime(past["occurred_at"], utc=True)).to_numpy()))
    ev = events.assign(occurred_at=pd.to_datetime(events["occurred_at"], utc=True))
    fresh = ev[[tuple(r) not in seen for r in ev[key].to_numpy()]].reset_index(drop=True)
    every = pd.concat([past.assign(occurred_at=pd.to_datetime(past["occurred_at"], utc=True))[key], fresh[key]])
    withdrawals = every[every["event"] == "withdrawn"]
    without_effect: dict[str, int] = {}
    for g in fresh[fresh["event"] == "granted"].itertuples():
        w = withdrawals[(withdrawals["customer_id"] == g.customer_id) & withdrawals["channel"].isin([g.channel, "all"])]
        if (w["occurred_at"] >= g.occurred_at).any():
            without_effect[g.customer_id] = without_effect.get(g.customer_id, 0) + 1
    return fresh, len(ev) - len(fresh), without_effect


def _describe_events(group: pd.DataFrame) -> str:
    return "; ".join(
        f"{r.channel} {r.event} {r.occurred_at.tz_convert(KST).date().isoformat()}" for r in group.itertuples()
    )


def _true(value) -> bool:
    return bool(value) and not pd.isna(value)


def _same(a, b) -> bool:
    a_na = a is None or (not isinstance(a, str) and pd.isna(a))
    b_na = b is None or (not isinstance(b, str) and pd.isna(b))
    return (a_na and b_na) or (not a_na and not b_na and a == b)
