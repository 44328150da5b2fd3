"""The outreach contact book: validated import, and a demo book that reaches nobody.

The IBM customers have no phone numbers or e-mail addresses, so outreach needs a contact
book keyed by ``customer_id`` (warehouse table ``contacts``, :data:`churn_core.data.tables.CONTACTS`).

Import (:func:`validate_contacts`) checks every row: the customer exists, the mobile
number is a Korean mobile (phonenumbers, region KR) and is stored in E.164, the e-mail
address is well formed (email-validator, no DNS lookup), consent flags are yes/no with a
date when given, the preferred channel is ``sms`` or ``email``. Rows with problems are
not imported; each problem names its CSV line, column and reason.

The demo book (:func:`demo_contacts`) is for the default setup only: names say "데모",
e-mail addresses use the reserved ``example.com`` domain (RFC 2606), and mobile numbers
come from the 010-0000-xxxx block, which is not issued to subscribers. Demo contacts are
flagged ``is_demo`` and the outreach module never hands them to a real provider.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from churn_core.data.tables import CONTACTS

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
    "opted_out": "opted_out",
    "opted_out_date": "opted_out_date",
    "preferred_channel": "preferred_channel",
    "gu": "gu",
}
REQUIRED = ("customerID", "name", "sms_consent", "email_consent", "opted_out")
YES = {"y", "yes", "true", "1", "예", "동의"}
NO = {"n", "no", "false", "0", "", "아니오", "미동의"}
CHANNELS = ("sms", "email")


@dataclass
class ContactImport:
    """Result of validating a contact CSV: rows ready to load and the problems found."""

    contacts: pd.DataFrame
    problems: pd.DataFrame
    n_rows: int

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


def validate_contacts(data: bytes, known_customers: set[str], source: str = "<upload>") -> ContactImport:
    """Validate a contact CSV (UTF-8, headers of :data:`CSV_COLUMNS`).

    Parameters
    ----------
    data : bytes
        The file.
    known_customers : set of str
        ``customer_id`` values in the warehouse.

    Returns
    -------
    ContactImport
        Valid rows (``contacts`` table columns, ``is_demo`` False) and one problem row per
        (CSV line, column, reason); a row with any problem is left out of ``contacts``.

    Raises
    ------
    ValueError
        If the file is not CSV or lacks required headers (named in the message).
    """
    try:
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{source}: not a readable UTF-8 CSV file ({exc})") from exc
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{source}: missing columns {missing}; expected {list(CSV_COLUMNS)}")
    for col in CSV_COLUMNS:
        if col not in raw.columns:
            raw[col] = ""
    problems: list[dict] = []

    def problem(i: int, column: str, value: str, reason: str) -> None:
        problems.append({"line": i + 2, "column": column, "value": value, "reason": reason})

    rows = []
    duplicated = raw["customerID"].duplicated(keep=False)
    for i, r in raw.iterrows():
        out: dict = {"customer_id": r["customerID"].strip(), "name": r["name"].strip(), "is_demo": False}
        if out["customer_id"] not in known_customers:
            problem(i, "customerID", r["customerID"], "no such customer in the warehouse")
        if duplicated[i]:
            problem(i, "customerID", r["customerID"], "customer listed more than once")
        out["phone_e164"] = mobile_e164(r["mobile"]) if r["mobile"].strip() else None
        if r["mobile"].strip() and out["phone_e164"] is None:
            problem(i, "mobile", r["mobile"], "not a valid Korean mobile number")
        out["email"] = None
        if r["email"].strip():
            try:
                out["email"] = validate_email(r["email"].strip(), check_deliverability=False).normalized
            except EmailNotValidError as exc:
                problem(i, "email", r["email"], f"not a valid e-mail address: {exc}")
        for flag in ("sms_consent", "email_consent", "night_consent", "opted_out"):
            out[flag] = _flag(r[flag])
            if out[flag] is None:
                problem(i, flag, r[flag], "expected yes/no (Y, N, true, false, 1, 0)")
        for date_col, flag in (("sms_consent_date", "sms_consent"), ("email_consent_date", "email_consent"),
                               ("opted_out_date", "opted_out")):  # fmt: skip
            value = r[date_col].strip()
            out[date_col] = None
            if value:
                parsed = pd.to_datetime(value, errors="coerce", format="%Y-%m-%d")
                if pd.isna(parsed):
                    problem(i, date_col, value, "expected a date YYYY-MM-DD")
                else:
                    out[date_col] = parsed.date()
            elif out.get(flag):
                problem(i, date_col, value, f"{flag} is yes but has no date (consent must be provable)")
        if out["sms_consent"] and not out["phone_e164"]:
            problem(i, "mobile", r["mobile"], "SMS consent without a mobile number")
        if out["email_consent"] and not out["email"]:
            problem(i, "email", r["email"], "e-mail consent without an address")
        channel = r["preferred_channel"].strip().lower() or None
        if channel is not None and channel not in CHANNELS:
            problem(i, "preferred_channel", r["preferred_channel"], f"expected one of {CHANNELS}")
        out["preferred_channel"] = channel
        out["gu"] = r["gu"].strip() or None
        rows.append(out)
    problem_df = pd.DataFrame(problems, columns=["line", "column", "value", "reason"])
    bad_lines = set(problem_df["line"])
    good = [row for i, row in enumerate(rows) if i + 2 not in bad_lines]
    contacts = pd.DataFrame(good, columns=CONTACTS.names) if good else pd.DataFrame(columns=CONTACTS.names)
    return ContactImport(contacts, problem_df, len(raw))


def demo_contacts(customers: pd.DataFrame, seed: int = 0, gus: tuple[str, ...] = ()) -> pd.DataFrame:
    """A clearly labelled demo contact book for ``customers`` (columns ``customer_id``).

    Consent is varied on purpose (about 70 % SMS, 60 % e-mail, 15 % night-time consent,
    5 % opted out) so the compliance rules have something to do. ``gu`` is drawn from
    ``gus`` (Seoul's 구) for personalised content.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_contact_columns)
    """
    rng = np.random.default_rng(seed)
    n = len(customers)
    ids = customers["customer_id"].to_numpy()
    consent_day = pd.Timestamp("2026-01-02").date()
    sms = rng.random(n) < 0.7
    email = rng.random(n) < 0.6
    opted = rng.random(n) < 0.05
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": [f"데모 고객 {i + 1:04d}" for i in range(n)],
            "phone_e164": [f"+82100000{i % 10000:04d}" for i in range(n)],
            "email": [f"demo-{i + 1:05d}@example.com" for i in range(n)],
            "sms_consent": sms,
            "sms_consent_date": [consent_day if s else None for s in sms],
            "email_consent": email,
            "email_consent_date": [consent_day if e else None for e in email],
            "night_consent": rng.random(n) < 0.15,
            "opted_out": opted,
            "opted_out_date": [pd.Timestamp("2026-06-01").date() if o else None for o in opted],
            "preferred_channel": np.where(rng.random(n) < 0.6, "sms", "email"),
            "gu": rng.choice(np.array(gus or ("종로구",), dtype=object), n),
            "is_demo": True,
        }
    )


def contact_book(wh, seniors: pd.DataFrame, gus: tuple[str, ...] = ()) -> pd.DataFrame:
    """The warehouse's contact book; when it is empty, a clearly labelled demo book is stored first.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
    seniors : pandas.DataFrame
        ``customer_id`` of the customers the demo book is made for (the seniors).
    gus : tuple of str
        Seoul's 구 drawn for the demo contacts (personalised store and centre content).

    Returns
    -------
    pandas.DataFrame of shape (n_contacts, n_contact_columns)
        Ordered by ``customer_id``; ``is_demo`` marks demo rows.
    """
    book = wh.query("SELECT * FROM {contacts} ORDER BY customer_id")
    if book.empty:
        wh.replace_table("contacts", demo_contacts(seniors, gus=gus))
        book = wh.query("SELECT * FROM {contacts} ORDER BY customer_id")
    return book
