"""Batch scoring of an uploaded file: what was read, the column mapping step, rejected rows, scores.

Streamlit glue over :mod:`churn_core.data.reading` (issues #13 and #16). The scoring page calls
:func:`batch_scoring` with the uploader's file; everything below the uploader is drawn here.
Steps 1 and 2 (:func:`read_upload`, :func:`column_step`) are parameterised by slot, columns,
aliases and purpose: the contact import (:func:`ui.widgets.contacts_from_upload`) uses them too.

1. the limits (size before parsing; rows), then the file read once per upload: CSV in any usual
   encoding and separator, or an Excel workbook (a sheet picker when it has several), and a caption
   saying what was detected;
2. headers matched to the columns scoring needs (exact, saved mapping, case / spaces /
   underscores, Korean aliases); columns still missing → a clear error naming them and a mapping
   step (one select box per missing column, the best-matching header preselected, "save this
   mapping");
3. obvious variants of category values normalised and counted in a note; every row validated:
   a file-level problem refuses the file, row problems list the rows, offer the problem list as a
   download and, when some rows pass, "score the valid rows" and the rejected rows with reasons;
4. scoring with a progress bar that is removed whatever happens.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd
import streamlit as st

from churn_core.data.loading import DataValidationError, normalise_values
from churn_core.data.reading import (
    SEPARATOR_NAMES,
    ColumnMatch,
    ReadResult,
    RowCheck,
    apply_columns,
    can_save_mapping,
    is_excel,
    match_columns,
    partition_rows,
    read_table,
    save_mapping,
    saved_mapping,
)
from churn_core.data.schema import COLUMN_ALIASES, LEAKAGE_COLUMNS_RAW, RAW_COLUMNS, detect_schema
from churn_core.data.uploads import UploadLimitError, check_upload
from churn_core.escaping import markdown_text
from churn_core.i18n import fmt_int
from ui.navigation import lang, relabel, tr

#: File types the scoring and contact uploaders accept (content decides how a file is read).
UPLOAD_TYPES: list[str] = ["csv", "tsv", "txt", "xlsx", "xlsm"]
#: What saved mappings of the scoring upload are filed under (:func:`churn_core.data.reading.save_mapping`).
PURPOSE = "scoring"
#: What saved mappings of the contact import are filed under.
CONTACTS_PURPOSE = "contacts"
_KEY = "score"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_upload(name: str, data: bytes, slot: str = _KEY, refused: str | None = None) -> ReadResult | None:
    """An uploaded file read once (limits first), with a caption of what was detected.

    A workbook with several sheets gets a sheet picker (key ``<slot>_sheet``; first sheet by default).
    A workbook's rows are checked against the row limit from its dimensions, before its cells are
    read (:func:`churn_core.data.reading.read_table`).

    Parameters
    ----------
    name, data
        The uploaded file's name and content.
    slot : str
        Prefix of the widget and session keys (``"score"``, ``"contacts"``).
    refused : str, optional
        The error shown above the problems of an unreadable file (default: the scoring page's).

    Returns
    -------
    ReadResult or None
        None when the file was refused (the error is shown).
    """
    from ui.data import once_per_upload, upload_limits
    from ui.widgets import upload_limit_text

    max_mb, max_rows = upload_limits()

    def read(sheet: str | None) -> ReadResult:
        # a workbook is compressed: its lines say nothing about its rows (read_table checks its dimensions)
        check_upload(data, name, max_mb, sys.maxsize if is_excel(data) else max_rows)
        result = read_table(data, name, sheet, max_rows=max_rows)
        if len(result.frame) > max_rows:
            raise UploadLimitError(name, "rows", len(result.frame), max_rows)
        return result

    try:
        result = once_per_upload(f"{slot}_read", data, lambda: read(None), f"{max_mb}:{max_rows}")
        if len(result.sheets) > 1:
            sheet = st.selectbox(tr("upload.sheet"), result.sheets, key=f"{slot}_sheet")
            if sheet != result.sheet:
                result = once_per_upload(f"{slot}_read_sheet", data, lambda: read(sheet), sheet, f"{max_mb}:{max_rows}")
    except UploadLimitError as exc:
        st.error(upload_limit_text(exc))
        return None
    except DataValidationError as exc:
        rejected_file(exc.problems, slot, refused)
        return None
    rows = fmt_int(len(result.frame))
    if result.kind == "excel":
        st.caption(tr("upload.detected_excel", sheet=markdown_text(str(result.sheet)), rows=rows))
    else:
        separator = tr(f"upload.sep_{SEPARATOR_NAMES[result.separator]}")
        st.caption(tr("upload.detected_csv", encoding=result.encoding_label, separator=separator, rows=rows))
    return result


def column_step(
    result: ReadResult,
    required: Callable[[Iterable[str]], Sequence[str]],
    slot: str = _KEY,
    wanted: Sequence[str] = RAW_COLUMNS,
    aliases: Mapping[str, Sequence[str]] = COLUMN_ALIASES,
    purpose: str = PURPOSE,
) -> ColumnMatch | None:
    """Match headers to the columns ``required(matched columns)`` names; the mapping step if some are missing.

    A mapping the user confirms is kept for this file (session) and, when asked, saved for files
    with the same headers under ``purpose`` (:func:`churn_core.data.reading.save_mapping`; files
    with too many or too long headers get no "save" box, :func:`~churn_core.data.reading.can_save_mapping`).

    Parameters
    ----------
    result : ReadResult
        The file read (:func:`read_upload`).
    required : callable(matched columns) -> sequence of str
        The columns the file must have, given those already matched (the scoring schema decides).
    slot : str
        Prefix of the widget and session keys.
    wanted, aliases : sequence of str, mapping of str to sequence of str
        Every column a header may map to, and their other accepted names.
    purpose : str
        What saved mappings are filed under (``"scoring"``, ``"contacts"``).

    Returns
    -------
    ColumnMatch or None
        The match when it is complete or when no unused header is left to map (validation then
        names the missing columns); None while the mapping step is shown (error and form).
    """
    headers = result.headers
    digest = _digest("\x1f".join(headers).encode())
    chosen = st.session_state.get(f"_{slot}_mapping", {}).get(digest, {})
    saved = {**(saved_mapping(headers, purpose) or {}), **chosen}
    needed = tuple(required(match_columns(headers, wanted, aliases, saved=saved).mapping.values()))
    match = match_columns(headers, wanted, aliases, saved=saved, required=needed)
    if match.saved and not chosen:
        st.caption(tr("upload.mapping_applied"))
    if match.renamed:
        pairs = ", ".join(f"{markdown_text(h)} → {c}" for h, c in match.renamed.items())
        st.caption(tr("upload.columns_matched", pairs=pairs))
    if match.complete:
        return match
    if not match.unused:  # nothing to map: validation names the missing columns (table and download)
        return match
    st.error(tr("upload.columns_missing", columns=", ".join(match.missing)))
    options: list[str | None] = [None, *match.unused]  # None = "not in the file", labelled per language
    labels = {None: tr("upload.not_in_file")}
    with st.form(f"{slot}_mapping_form"):
        st.markdown(f"**{tr('upload.mapping_title')}**")
        picks = {
            column: st.selectbox(
                column,
                options,
                index=options.index(match.suggestions.get(column)),
                format_func=lambda h: labels.get(h, h),
                key=relabel(f"{slot}_map_{column}"),
            )
            for column in match.missing
        }
        keep = can_save_mapping(headers) and st.checkbox(tr("upload.save_mapping"), key=f"{slot}_map_save")
        if st.form_submit_button(tr("upload.use_mapping")):
            picked = {header: column for column, header in picks.items() if header is not None}
            mappings = st.session_state.setdefault(f"_{slot}_mapping", {})
            mappings[digest] = {**chosen, **picked}
            if keep:
                full = match_columns(headers, wanted, aliases, saved={**saved, **picked})
                save_mapping(headers, full.renamed, purpose)
            st.rerun()
    return None


def value_note(notes: pd.DataFrame) -> None:
    """Say which category values were normalised (:func:`churn_core.data.loading.normalise_values`), counted."""
    if notes.empty:
        return
    items = [
        tr(
            "upload.value_item",
            column=n.column,
            count=fmt_int(n.count),
            variants=", ".join(markdown_text(repr(v)) for v in n.variants),
            values=", ".join(n.values),
        )
        for n in notes.itertuples()
    ]
    st.info(tr("upload.values_normalised", items="; ".join(items)), icon=":material/spellcheck:")


def _problem_download(problems: pd.DataFrame, slot: str) -> None:
    from churn_core.formatting import problems_table, with_labels
    from ui.widgets import download_button

    lg = lang()
    table = problems_table(problems, lg)
    table["lines"] = [", ".join(map(str, lines)) for lines in problems["lines"]]  # every line, not the first 10
    download_button(
        tr("upload.download_problems"), with_labels(table, lg, "problem_"), "problems.csv", key=f"{slot}_problems_csv"
    )


def rejected_file(problems: pd.DataFrame, slot: str = _KEY, title: str | None = None) -> None:
    """A refused file: the error (``title``, default the scoring page's), the translated problems and their download."""
    from ui.tables import show_problems

    st.error(title or tr("score.invalid"))
    show_problems(problems)
    _problem_download(problems, slot)


def rejected_rows_table(check: RowCheck) -> pd.DataFrame:
    """The rejected rows as read, with their line and translated reasons (first and last columns)."""
    from churn_core.formatting import problems_table

    lg = lang()
    shown = problems_table(check.problems, lg)
    reasons: dict[int, list[str]] = {}
    for (_, p), (_, text) in zip(check.problems.iterrows(), shown.iterrows(), strict=True):
        for line in p["lines"]:
            reasons.setdefault(int(line), []).append(f"{text['column']}: {text['reason']}")
    table = check.rejected.drop(columns=["problems"]).rename(columns={"line": tr("upload.col_line")})
    table[tr("upload.col_problems")] = ["; ".join(reasons.get(int(n), [])) for n in check.rejected["line"]]
    return table


def batch_scoring(upload, economics) -> None:
    """Everything the batch tab shows below its uploader (see the module docstring).

    Parameters
    ----------
    upload : streamlit.runtime.uploaded_file_manager.UploadedFile
        The uploaded file.
    economics : churn_core.prediction.business.Economics
        Offer assumptions of the sidebar.
    """
    from churn_core.prediction.scoring import SCORING_COLUMNS_BY_SCHEMA, prepare_for_scoring
    from ui.data import once_per_upload
    from ui.tables import show_problems

    name, data = upload.name, upload.getvalue()
    result = read_upload(name, data)
    if result is None:
        return
    match = column_step(result, lambda columns: SCORING_COLUMNS_BY_SCHEMA[detect_schema(columns)])
    if match is None:
        return
    schema = detect_schema(match.mapping.values())
    raw, notes = normalise_values(apply_columns(result.frame, match))
    value_note(notes)

    def check() -> RowCheck:
        return partition_rows(raw, lambda frame, source: prepare_for_scoring(frame, source, schema), name)

    key = (str(result.sheet), repr(sorted(match.mapping.items())))
    try:
        checked = once_per_upload(f"{_KEY}_checked", data, check, *key)
    except DataValidationError as exc:
        rejected_file(exc.problems)
        return
    ignored = tuple(c for c in raw.columns if c in LEAKAGE_COLUMNS_RAW)
    report = {"schema": schema, "ignored": ignored, "n_columns": len(result.headers)}
    if not checked.rejected.empty:
        bad, total = len(checked.rejected), checked.n_rows
        st.error(tr("upload.rows_rejected", bad=fmt_int(bad), total=fmt_int(total)))
        show_problems(checked.problems)
        _problem_download(checked.problems, _KEY)
        from ui.widgets import download_button

        download_button(
            tr("upload.download_rejected"), lambda: rejected_rows_table(checked), "rejected_rows.csv",
            key=f"{_KEY}_rejected_csv",
        )  # fmt: skip
        if checked.valid.empty:
            st.warning(tr("upload.all_rows_rejected", total=fmt_int(total)))
            return
        flag = f"_{_KEY}_valid_only"
        if st.session_state.get(flag) != _digest(data) + repr(key):
            if not st.button(tr("upload.score_valid", n=fmt_int(len(checked.valid))), key=f"{_KEY}_score_valid"):
                return
            st.session_state[flag] = _digest(data) + repr(key)
        st.info(tr("upload.scored_valid_only", n=fmt_int(len(checked.valid)), bad=fmt_int(bad)))
    _scores(data, checked.valid, schema, economics, report, key)


def _scores(data: bytes, prepared: pd.DataFrame, schema: str, economics, report: dict, key: tuple) -> None:
    """Score validated rows once per economics, with a progress bar that never outlives the run's scoring."""
    from churn_core.config import get_settings
    from churn_core.prediction.scoring import score_prepared
    from churn_core.prediction.training import model_label
    from ui.data import explainer, model_bundle, model_version, once_per_upload
    from ui.tables import show_scores
    from ui.widgets import scoring_report

    bundle = model_bundle(schema)
    slot = st.empty()

    def score() -> pd.DataFrame:
        bar = slot.progress(0.0, text=tr("score.scoring"))

        def done(n: int, total: int) -> None:
            bar.progress(min(1.0, n / total), text=tr("score.progress", done=fmt_int(n)))

        scored = score_prepared(bundle.model, prepared, economics, explainer(schema), progress=done)
        _log_upload_run(prepared, scored, schema)
        return scored

    try:
        result = once_per_upload(
            f"{_KEY}_scored", data, score, economics.model_dump_json(), model_version(schema), *key
        )
    finally:
        slot.empty()  # an error while scoring must not leave "scoring…" on screen
    st.success(tr("score.done", n=fmt_int(len(result))))
    scoring_report({**report, "model": model_label(bundle.card)})
    show_scores(result, tr("score.download"), "churn_scores.csv", rows=get_settings().max_table_rows)


def _log_upload_run(prepared: pd.DataFrame, scored: pd.DataFrame, schema: str) -> None:
    """Log the upload's scoring run in ``scoring_runs`` (model health, issue #14); a failure only logs a warning."""
    from churn_core.config import get_settings
    from churn_core.monitoring.runs import log_scoring_run, model_version_of
    from ui.data import model_version, warehouse

    try:
        settings = get_settings()
        log_scoring_run(
            warehouse(), source="app", model_version=model_version_of(model_version(schema), settings, schema),
            snapshot_date=None, features=prepared, probabilities=scored["churn_probability"].to_numpy(dtype=float),
            settings=settings,
        )  # fmt: skip
    except Exception:  # the user's scores matter more than their summary
        logging.getLogger(__name__).exception("could not log the upload's scoring run")
