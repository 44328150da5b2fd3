"""Safe retraining: a challenger trained on the labelled snapshots, compared with the champion on held-out customers.

``churn-studio retrain`` runs :func:`retrain`:

1. **Data.** The warehouse's customer snapshots (:mod:`churn_core.data.snapshots`), oldest first.
   Each snapshot's rows carry their own churn label (``churn_flag``, from its ``Churn`` column).
   The challenger is fitted on every snapshot **except the newest**; the newest snapshot is the
   held-out set: its rows are never seen in training (a split in time, as the model will be used:
   the same customers' *earlier* rows may be in training, the evaluated rows and their labels are
   not). Fewer than two snapshots, or a held-out snapshot with too few churners
   (``Settings.min_outcome_events``, 30 by default), is "not enough labelled data" (exit 2).
2. **Challenger.** The same ensemble as ``churn-studio train`` (LightGBM + XGBoost + logistic
   regression, soft voting, Platt calibration) fitted once, with few optuna trials
   (``Settings.retrain_trials``), no nested cross-validation and no candidate grid: minutes, not
   the half hour of ``train``. Its model card says that its evaluation is the held-out snapshot
   (metrics ± bootstrap standard errors), not cross-validation, and its ``oof_predictions.parquet``
   holds its held-out probabilities (the models page draws its curves from them).
3. **Comparison.** Champion and challenger score the *same* held-out customers: ROC-AUC, PR-AUC
   and Brier score (:func:`churn_core.prediction.metrics.churn_metrics`).
4. **Decision.** The challenger is promoted only if it beats the champion on
   ``Settings.retrain_metric`` (ROC-AUC by default) by at least ``retrain_margin`` (0.005) **and**
   its Brier score is not worse by more than ``retrain_max_brier_increase`` (0.0: calibration must
   not get worse). Otherwise the champion stays and the reason names the numbers. Either way the
   challenger is registered (``churn-studio model promote VERSION`` can still promote it by hand)
   and the decision, with both sets of metrics, goes to the registry's ``history.jsonl``.

Exit codes of the command (:data:`EXIT_CODES`): 0 promoted, 3 champion kept, 2 not enough labelled
snapshots, 1 error. Progress and the decision are logged through :mod:`logging`.

Why no sequence model (LSTM) yet: :func:`sequence_model_note`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import platform
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from typing import Any

import numpy as np
import pandas as pd

from churn_core.config import Settings, get_settings
from churn_core.data.schema import LEAKAGE_COLUMNS, TARGET
from churn_core.data.warehouse import Warehouse
from churn_core.i18n import t
from churn_core.prediction import registry
from churn_core.prediction.business import Economics
from churn_core.prediction.features import FEATURE_SETS
from churn_core.prediction.metrics import METRICS, churn_metrics
from churn_core.prediction.model_selection import SEED
from churn_core.prediction.training import LIBRARIES, OOF_FILE, fit_final_model, load_bundle, write_card, write_manifest

logger = logging.getLogger(__name__)

#: Exit code of ``churn-studio retrain`` per decision.
EXIT_CODES: dict[str, int] = {"promoted": 0, "kept": 3, "not_enough_data": 2, "error": 1}
#: Metrics compared on the held-out snapshot (the decision uses ``Settings.retrain_metric`` and Brier).
COMPARED_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier")
#: Bootstrap resamples behind the ± of the challenger card's held-out metrics.
CARD_BOOTSTRAP = 100
#: The held-out snapshot must hold at least this many churners when the settings have no ``min_outcome_events``.
MIN_HELD_OUT_CHURNERS = 30
#: Catalog keys of the note on sequence models (:func:`sequence_model_note`).
SEQUENCE_NOTE_KEYS: tuple[str, str] = ("registry.sequence_title", "registry.sequence_text")

Progress = Callable[[float, str], None]


def _quiet(fraction: float, message: str) -> None:
    return None


class NotEnoughLabelledData(ValueError):
    """Too few labelled snapshots (or churners in the held-out one) to train and compare honestly."""


@dataclass
class RetrainResult:
    """What :func:`retrain` decided, and on which numbers.

    Attributes
    ----------
    decision : {"promoted", "kept", "not_enough_data"}
    reason : str
        One sentence with the numbers behind the decision.
    schema : str
    champion_version : str
        The champion before the decision.
    challenger_version : str or None
        The registered challenger (None when no challenger was trained).
    metric : str
        The deciding metric (``Settings.retrain_metric``).
    champion_metrics, challenger_metrics : dict of str to float
        ROC-AUC, PR-AUC and Brier on the held-out snapshot.
    train_snapshots : list of str
        ISO dates of the training snapshots.
    held_out_snapshot : str or None
        ISO date of the held-out snapshot.
    n_train, n_held_out : int
        Training rows (after any ``max_train_rows`` sample) and held-out customers.
    seconds : float
        Wall-clock time of the whole run.
    """

    decision: str
    reason: str
    schema: str = "extended"
    champion_version: str = ""
    challenger_version: str | None = None
    metric: str = "roc_auc"
    champion_metrics: dict[str, float] = field(default_factory=dict)
    challenger_metrics: dict[str, float] = field(default_factory=dict)
    train_snapshots: list[str] = field(default_factory=list)
    held_out_snapshot: str | None = None
    n_train: int = 0
    n_held_out: int = 0
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 promoted, 3 kept, 2 not enough labelled data (see :data:`EXIT_CODES`)."""
        return EXIT_CODES[self.decision]

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (with ``exit_code``)."""
        return {**asdict(self), "exit_code": self.exit_code}


def sequence_model_note() -> dict[str, dict[str, str]]:
    """Why the churn model uses one snapshot plus tenure-based survival, not an LSTM on monthly histories.

    Returns
    -------
    dict
        ``{"title": {"ko": …, "en": …}, "text": {"ko": …, "en": …}}`` from the message catalog (what
        the models page shows and every model card served by ``GET /v1/model`` carries as
        ``sequence_model``).
    """
    title, text = SEQUENCE_NOTE_KEYS
    return {"title": {lg: t(title, lg) for lg in ("ko", "en")}, "text": {lg: t(text, lg) for lg in ("ko", "en")}}


# -- data ------------------------------------------------------------------------------------------
def labelled_snapshots(wh: Warehouse) -> tuple[list[dt.date], dt.date]:
    """(training snapshot dates, held-out snapshot date): every snapshot but the newest, and the newest.

    Raises
    ------
    NotEnoughLabelledData
        With fewer than two snapshots.
    """
    from churn_core.data.snapshots import snapshot_dates

    dates = sorted(snapshot_dates(wh))
    if len(dates) < 2:
        raise NotEnoughLabelledData(
            f"retraining needs at least two snapshots (found {len(dates)}): the newest is held out to compare "
            "the models, the earlier ones train the challenger. Ingest the next month with "
            "`churn-studio ingest FILE --as-of YYYY-MM-DD` (or `churn-studio snapshot synthesize` for a demo)"
        )
    return dates[:-1], dates[-1]


def _snapshot_rows(wh: Warehouse, day: dt.date) -> pd.DataFrame:
    from churn_core.data.snapshots import snapshot_frame

    return snapshot_frame(wh, day)


def _frame_sha256(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


# -- metrics ---------------------------------------------------------------------------------------
def compared_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC and Brier score of ``proba`` against ``y`` (the numbers a decision compares).

    Parameters
    ----------
    y : array-like of shape (n_customers,)
        1 churned, 0 stayed; both classes present.
    proba : array-like of shape (n_customers,)
        Churn probabilities.
    """
    m = churn_metrics(y, proba)
    return {k: float(m[k]) for k in COMPARED_METRICS}


def _group_metrics(y: np.ndarray, proba: np.ndarray, threshold: float, seed: int) -> dict[str, dict[str, float]]:
    """Every metric of :data:`METRICS` with a bootstrap standard error: ``{metric: {"mean", "std"}}``."""
    point = churn_metrics(y, proba, threshold)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(CARD_BOOTSTRAP):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            draws.append(churn_metrics(y[idx], proba[idx], threshold))
    return {
        m: {"mean": float(point[m]), "std": float(np.std([d[m] for d in draws], ddof=1)) if len(draws) > 1 else 0.0}
        for m in METRICS
    }


def held_out_evaluation(
    held_out: pd.DataFrame, proba: np.ndarray, schema: str, threshold: float, held_out_date: dt.date
) -> dict[str, Any]:
    """The challenger card's ``evaluation``: metrics on the held-out snapshot (all customers, seniors).

    Returns
    -------
    dict
        ``kind`` = ``"held_out_snapshot"``, ``method`` (text), ``held_out_snapshot`` (ISO date),
        ``n_customers``, ``threshold_for_f1_precision_recall`` and ``<schema>_features`` with
        ``all`` and, when both classes occur among them, ``seniors``: ``{metric: {"mean": value,
        "std": bootstrap standard error}}``.
    """
    y = held_out[TARGET].to_numpy().astype(int)
    groups = {"all": _group_metrics(y, proba, threshold, SEED)}
    senior = held_out["is_senior"].to_numpy().astype(bool) if "is_senior" in held_out else np.zeros(len(y), bool)
    if 0 < y[senior].sum() < senior.sum():
        groups["seniors"] = _group_metrics(y[senior], proba[senior], threshold, SEED + 1)
    return {
        "kind": "held_out_snapshot",
        "method": f"held-out snapshot {held_out_date.isoformat()} ({len(y)} customers, never in training); "
        f"no cross-validation; mean = the metric on the snapshot, std = bootstrap standard error "
        f"({CARD_BOOTSTRAP} resamples); metrics from probabilities",
        "held_out_snapshot": held_out_date.isoformat(),
        "n_customers": len(y),
        "threshold_for_f1_precision_recall": threshold,
        f"{schema}_features": groups,
    }


def decide(
    champion: dict[str, float], challenger: dict[str, float], metric: str, margin: float, max_brier_increase: float
) -> tuple[bool, str]:
    """Promote or keep, and why.

    Parameters
    ----------
    champion, challenger : dict of str to float
        :func:`compared_metrics` of each on the same held-out customers.
    metric : {"roc_auc", "pr_auc"}
        The deciding metric (larger is better).
    margin : float
        The challenger must beat the champion on ``metric`` by at least this much.
    max_brier_increase : float
        Its Brier score may be worse than the champion's by at most this much.

    Returns
    -------
    (bool, str)
        Whether to promote, and one sentence with the numbers.
    """
    gain = challenger[metric] - champion[metric]
    brier_up = challenger["brier"] - champion["brier"]
    name = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC"}.get(metric, metric)
    better = gain >= margin
    calibrated = brier_up <= max_brier_increase
    text = (
        f"challenger {name} {challenger[metric]:.4f} vs champion {champion[metric]:.4f} "
        f"({gain:+.4f}; margin {margin:.4f}), Brier {challenger['brier']:.4f} vs {champion['brier']:.4f} "
        f"({brier_up:+.4f}; at most +{max_brier_increase:.4f} allowed)"
    )
    if better and calibrated:
        return True, f"promoted: {text}"
    why = []
    if not better:
        why.append(f"{name} gain below the margin")
    if not calibrated:
        why.append("calibration (Brier) worse than allowed")
    return False, f"champion kept ({' and '.join(why)}): {text}"


# -- the run ---------------------------------------------------------------------------------------
def _challenger_card(
    train: pd.DataFrame,
    schema: str,
    economics: Economics,
    threshold: float,
    evaluation: dict,
    train_dates: list[dt.date],
    trials: int,
    champion_version: str,
) -> dict:
    return {
        "name": f"churn-ensemble-{schema}",
        "schema": schema,
        "model": "ChurnEnsemble: weighted soft voting of LightGBM, XGBoost and logistic regression, "
        f"optuna-tuned ({trials} trials per tuned member), Platt-calibrated; retraining challenger",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_data": {
            "file": ", ".join(f"snapshot {d.isoformat()}" for d in train_dates),
            "sha256": _frame_sha256(train),
            "n_customers": len(train),
            "churn_rate": float(train[TARGET].mean()),
            "snapshots": [d.isoformat() for d in train_dates],
        },
        "features": list(FEATURE_SETS[schema]),
        "excluded_leakage_columns": list(LEAKAGE_COLUMNS),
        "seed": SEED,
        "economics": economics.model_dump(),
        "operating_threshold": threshold,
        "versions": {"python": platform.python_version(), **{lib: package_version(lib) for lib in LIBRARIES}},
        "evaluation": evaluation,
        "retraining": {
            "champion_at_training": champion_version,
            "held_out_snapshot": evaluation["held_out_snapshot"],
            "tune_trials": trials,
            "nested_cv": False,
        },
        "sequence_model": sequence_model_note(),
    }


def retrain(
    wh: Warehouse,
    settings: Settings | None = None,
    *,
    trials: int | None = None,
    metric: str | None = None,
    margin: float | None = None,
    max_brier_increase: float | None = None,
    max_train_rows: int | None = None,
    actor: str = "churn-studio retrain",
    progress: Progress = _quiet,
) -> RetrainResult:
    """Train a challenger on the labelled snapshots, compare it with the champion, promote it or keep the champion.

    Parameters
    ----------
    wh : Warehouse
        The built warehouse with its snapshots (the schema of ``customers`` picks the model).
    settings : Settings, optional
        ``registry_dir``, ``retrain_*`` and the offer economics (default: the process settings).
    trials, metric, margin, max_brier_increase : optional
        Override ``retrain_trials``, ``retrain_metric``, ``retrain_margin`` and ``retrain_max_brier_increase``.
    max_train_rows : int, optional
        Fit the challenger on a deterministic sample of this many training rows (tests, quick runs);
        the held-out snapshot is always used whole.
    actor : str
        Who runs it (for the registry history).
    progress : callable (fraction in [0, 1], message) -> None

    Returns
    -------
    RetrainResult
        ``decision`` is ``"promoted"`` or ``"kept"``; :class:`NotEnoughLabelledData` is raised otherwise.

    Raises
    ------
    NotEnoughLabelledData
        Fewer than two snapshots, or too few churners (or stayers) in the held-out snapshot, or too few
        training rows.
    FileNotFoundError, ModelFileError, ValueError
        A champion that cannot be loaded, a challenger refused by the registry's checks.
    """
    from churn_core.data.customers import customer_columns
    from churn_core.data.schema import detect_schema

    settings = settings or get_settings()
    start = time.perf_counter()
    metric = metric or settings.retrain_metric
    margin = settings.retrain_margin if margin is None else margin
    max_brier = settings.retrain_max_brier_increase if max_brier_increase is None else max_brier_increase
    trials = settings.retrain_trials if trials is None else trials
    schema = detect_schema(customer_columns(wh))
    train_dates, held_date = labelled_snapshots(wh)
    progress(0.02, f"reading snapshots {', '.join(d.isoformat() for d in train_dates)} and {held_date.isoformat()}")
    train = pd.concat([_snapshot_rows(wh, d) for d in train_dates], ignore_index=True)
    held_out = _snapshot_rows(wh, held_date).reset_index(drop=True)
    if max_train_rows is not None and len(train) > max_train_rows:
        train = train.sample(max_train_rows, random_state=SEED).reset_index(drop=True)
    need = int(getattr(settings, "min_outcome_events", MIN_HELD_OUT_CHURNERS))
    y_held = held_out[TARGET].to_numpy().astype(int)
    churners, stayers = int(y_held.sum()), int(len(y_held) - y_held.sum())
    if churners < need or stayers < need:
        raise NotEnoughLabelledData(
            f"the held-out snapshot {held_date.isoformat()} has {churners} churners and {stayers} stayers; "
            f"comparing models needs at least {need} of each (Settings.min_outcome_events)"
        )
    if len(train) < 200 or train[TARGET].nunique() < 2:
        raise NotEnoughLabelledData(f"the training snapshots hold {len(train)} rows; a challenger needs 200 with both "
                                    "churners and stayers")  # fmt: skip

    champion, champion_version = registry.load_champion(settings, schema)
    logger.info("retrain: champion %s, training on %s (%d rows), held out %s (%d customers)", champion_version,
                [d.isoformat() for d in train_dates], len(train), held_date.isoformat(), len(held_out))  # fmt: skip
    champion_proba = champion.model.predict_proba(held_out)[:, 1]

    economics = Economics.from_settings(settings)
    threshold = economics.global_threshold(train["monthly_charges"])
    staging = registry.schema_dir(settings, schema) / f".staging-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        progress(0.1, f"fitting the challenger ({trials} optuna trials per tuned member, no nested CV)")
        entries = fit_final_model(train, staging, trials, features=FEATURE_SETS[schema])
        write_card({"schema": schema, "trusted_types": entries["trusted_types"]}, staging)  # provisional, to load
        write_manifest(staging)
        challenger = load_bundle(staging).model
        progress(0.8, "scoring the held-out snapshot with both models")
        challenger_proba = challenger.predict_proba(held_out)[:, 1]
        evaluation = held_out_evaluation(held_out, challenger_proba, schema, threshold, held_date)
        card = _challenger_card(train, schema, economics, threshold, evaluation, train_dates, trials, champion_version)
        card.update(entries)
        write_card(card, staging)
        cols = [c for c in ("customer_id", TARGET, "is_senior", "monthly_charges") if c in held_out]
        held_out[cols].assign(proba=challenger_proba).to_parquet(staging / OOF_FILE, index=False)
        write_manifest(staging)
        champ_m = compared_metrics(y_held, champion_proba)
        chall_m = compared_metrics(y_held, challenger_proba)
        registered = {**chall_m, "evaluated_on": f"held-out snapshot {held_date.isoformat()}"}
        challenger_version = registry.register(
            staging, settings, schema, trained_on=[d.isoformat() for d in train_dates], metrics=registered,
            actor=actor, reason=f"retraining challenger, held-out snapshot {held_date.isoformat()}",
        )  # fmt: skip
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    promote, reason = decide(champ_m, chall_m, metric, margin, max_brier)
    details = {"metric": metric, "margin": margin, "max_brier_increase": max_brier,
               "held_out_snapshot": held_date.isoformat(), "train_snapshots": [d.isoformat() for d in train_dates],
               "champion": champion_version, "champion_metrics": champ_m, "challenger_metrics": chall_m}  # fmt: skip
    if challenger_version == champion_version:  # the same model file again: nothing to decide
        promote, reason = False, f"champion kept: the challenger is the champion's own model file ({reason})"
    if promote:
        registry.promote(challenger_version, reason, settings, schema, actor=actor, details=details)
    else:
        registry.reject(challenger_version, reason, settings, schema, actor=actor, details=details)
    result = RetrainResult(
        decision="promoted" if promote else "kept", reason=reason, schema=schema, champion_version=champion_version,
        challenger_version=challenger_version, metric=metric, champion_metrics=champ_m, challenger_metrics=chall_m,
        train_snapshots=[d.isoformat() for d in train_dates], held_out_snapshot=held_date.isoformat(),
        n_train=len(train), n_held_out=len(held_out), seconds=time.perf_counter() - start,
    )  # fmt: skip
    logger.info("retrain decision: %s (challenger %s, %.1f s): %s", result.decision, challenger_version,
                result.seconds, reason)  # fmt: skip
    progress(1.0, result.decision)
    return result
