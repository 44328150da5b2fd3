"""Customer segments: k-means on standardised behaviour, factor analysis, PCA projection.

k is chosen by the silhouette score (Rousseeuw 1987; ``sklearn.metrics.silhouette_score``
on a fixed random sample of at most 5,000 customers so the cost stays bounded); the
k-means inertia (elbow) is reported beside it. Factor analysis uses scikit-learn's
``FactorAnalysis`` with varimax rotation on the service and usage variables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# scikit-learn is imported inside the functions that fit: the warehouse build imports this module
# (its enrich step) and pages read the stored results (:mod:`churn_core.analytics.precomputed`).

SEED = 0

#: Behaviour used for clustering (no leakage, no target): usage, spend, tenure, contract.
BEHAVIOUR: tuple[str, ...] = (
    "tenure", "monthly_charges", "n_services", "avg_monthly_gb_download",
    "avg_monthly_long_distance_charges", "number_of_referrals", "month_to_month", "fiber_optic",
    "electronic_check", "paperless",
)  # fmt: skip

#: Service and usage variables for the factor analysis (1 = subscribed).
SERVICES: tuple[str, ...] = (
    "phone_service", "multiple_lines", "online_security", "online_backup", "device_protection",
    "tech_support", "streaming_tv", "streaming_movies", "streaming_music", "unlimited_data",
    "avg_monthly_gb_download", "avg_monthly_long_distance_charges", "monthly_charges",
)  # fmt: skip


_DERIVED_BEHAVIOUR = {
    "month_to_month": "contract", "fiber_optic": "internet_service", "electronic_check": "payment_method",
    "paperless": "paperless_billing",
}  # fmt: skip


def available(customers: pd.DataFrame, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The ``columns`` a customer table can provide (a classic-schema table lacks the usage columns).

    Parameters
    ----------
    customers : pandas.DataFrame
        Customers with warehouse names.
    columns : tuple of str
        :data:`BEHAVIOUR` or :data:`SERVICES`.

    Returns
    -------
    tuple of str
        Those of ``columns`` present in ``customers`` (or derived from a present column), in order.
    """
    return tuple(c for c in columns if _DERIVED_BEHAVIOUR.get(c, c) in customers.columns)


def behaviour_matrix(customers: pd.DataFrame, columns=BEHAVIOUR) -> pd.DataFrame:
    """Numeric behaviour table: numbers as they are, yes/no services and key categories as 0/1."""
    c = customers
    derived = {
        "month_to_month": (c["contract"] == "Month-to-month"),
        "fiber_optic": (c["internet_service"] == "Fiber optic"),
        "electronic_check": (c["payment_method"] == "Electronic check"),
        "paperless": (c["paperless_billing"] == "Yes"),
    }
    out = {}
    for col in columns:
        if col in derived:
            out[col] = derived[col].astype(float)
        elif c[col].dtype == object:
            out[col] = (c[col] == "Yes").astype(float)
        else:
            out[col] = c[col].astype(float)
    return pd.DataFrame(out, index=c.index)


class Segmenter:
    """k-means segmentation with k chosen by silhouette.

    Parameters
    ----------
    k_values : tuple of int
        Candidate numbers of clusters.
    sample_size : int
        Customers sampled (fixed seed) for each silhouette score.
    seed : int

    Attributes
    ----------
    scores_ : pandas.DataFrame
        ``k``, ``silhouette``, ``inertia`` for every candidate.
    k_ : int
        Chosen k (highest silhouette).
    scaler_, kmeans_ : fitted StandardScaler and KMeans
    """

    def __init__(self, k_values: tuple[int, ...] = tuple(range(2, 9)), sample_size: int = 5000, seed: int = SEED):
        self.k_values = k_values
        self.sample_size = sample_size
        self.seed = seed

    def fit(self, customers: pd.DataFrame) -> Segmenter:
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
        from sklearn.preprocessing import StandardScaler

        self.columns_ = available(customers, BEHAVIOUR)  # every column on the extended file; fewer on a classic one
        X = behaviour_matrix(customers, self.columns_).to_numpy()
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        rows, models = [], {}
        for k in self.k_values:
            km = KMeans(n_clusters=k, n_init=10, random_state=self.seed).fit(Z)
            sil = silhouette_score(Z, km.labels_, sample_size=min(self.sample_size, len(Z)), random_state=self.seed)
            rows.append({"k": k, "silhouette": float(sil), "inertia": float(km.inertia_)})
            models[k] = km
        self.scores_ = pd.DataFrame(rows)
        self.k_ = int(self.scores_.loc[self.scores_["silhouette"].idxmax(), "k"])
        self.kmeans_ = models[self.k_]
        return self

    def predict(self, customers: pd.DataFrame) -> np.ndarray:
        """Segment number (0..k-1) of each customer, shape (n_customers,)."""
        columns = getattr(self, "columns_", BEHAVIOUR)
        return self.kmeans_.predict(self.scaler_.transform(behaviour_matrix(customers, columns).to_numpy()))


class StoredSegmenter:
    """A fitted :class:`Segmenter`'s results read back from storage (no scikit-learn needed).

    Stands in for a :class:`Segmenter` on the segments page: the k-selection table, the chosen
    k and the segment of each customer it was fitted on.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``k``, ``silhouette``, ``inertia`` (:attr:`Segmenter.scores_`).
    k : int
        The chosen number of segments.
    labels : pandas.Series
        Segment (0..k-1) by ``customer_id`` of the customers the segmenter was fitted on.
    """

    def __init__(self, scores: pd.DataFrame, k: int, labels: pd.Series):
        self.scores_ = scores
        self.k_ = int(k)
        self.labels_ = labels

    def predict(self, customers: pd.DataFrame) -> np.ndarray:
        """Stored segment of each of ``customers`` (matched by ``customer_id``), shape (n_customers,).

        Raises
        ------
        KeyError
            If a customer has no stored segment (naming up to five IDs).
        """
        from churn_core.analytics.survival import stored_rows

        return stored_rows(self.labels_, customers, "segment").to_numpy(dtype="int64")


def add_segments(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers with a ``segment`` column (int64, 0..k-1) from a :class:`Segmenter` fitted on them.

    The warehouse build's enrich step (:func:`churn_core.studio.open_studio_warehouse`):
    the EDA filters and segment profile read the stored labels.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with warehouse column names.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_columns + 1)
        A copy with ``segment`` added.
    """
    out = customers.copy()
    out["segment"] = Segmenter().fit(customers).predict(customers).astype("int64")
    return out


def profile(customers: pd.DataFrame, labels, clv_usd=None) -> pd.DataFrame:
    """Per segment: customers, churn rate, mean monthly charges (USD/month), total revenue
    (USD), CLV (USD, if given), age, number of services, share of seniors and of
    month-to-month contracts."""
    df = customers.assign(segment=np.asarray(labels))
    if clv_usd is not None:
        df = df.assign(clv_usd=np.asarray(clv_usd))
    agg = {
        "customers": ("customer_id", "size"),
        "churn_rate": ("churn_flag", "mean"),
        "monthly_charges": ("monthly_charges", "mean"),
        "total_revenue": ("total_revenue", "mean"),
        "age": ("age", "mean"),
        "n_services": ("n_services", "mean"),
        "senior_share": ("is_senior", "mean"),
        "tenure": ("tenure", "mean"),
    }
    agg = {k: v for k, v in agg.items() if v[0] in df.columns}  # a classic file has no age or total revenue
    if clv_usd is not None:
        agg["clv_usd"] = ("clv_usd", "mean")
    return df.groupby("segment").agg(**agg).reset_index()


#: Traits a segment name may carry, in the order they are read: (code, profile measure,
#: comparison with everyone clustered, threshold). Measures: mean ``age`` (years, difference),
#: mean ``tenure`` and ``monthly_charges`` (ratio), share of month-to-month contracts, of fibre
#: and of no internet (difference in share), mean ``n_services`` (difference).
SEGMENT_TRAITS: tuple[tuple[str, str, str, float], ...] = (
    ("young", "age", "below", 5.0),
    ("older", "age", "above", 5.0),
    ("new", "tenure", "ratio_below", 0.6),
    ("long_tenure", "tenure", "ratio_above", 1.4),
    ("month_to_month", "month_to_month", "above", 0.2),
    ("long_contract", "month_to_month", "below", 0.2),
    ("fibre", "fiber_optic", "above", 0.2),
    ("no_internet", "no_internet", "above", 0.2),
    ("many_services", "n_services", "above", 1.5),
    ("few_services", "n_services", "below", 1.5),
    ("high_spend", "monthly_charges", "ratio_above", 1.25),
    ("low_spend", "monthly_charges", "ratio_below", 0.75),
)


def segment_traits(customers: pd.DataFrame, labels, max_traits: int = 3) -> dict[int, list[str]]:
    """Descriptive traits of each segment from its profile against everyone clustered (deterministic).

    A trait applies when the segment's measure passes its threshold in :data:`SEGMENT_TRAITS`
    (e.g. mean age 5 years below everyone's: ``young``); the ``max_traits`` strongest (by how
    far past the threshold, relative to it) are kept, in the table's reading order. A segment
    with none is ``average``. Names are built from them by :func:`churn_core.formatting.segment_name`.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        ``age``, ``tenure``, ``monthly_charges``, ``n_services``, ``contract``, ``internet_service``.
    labels : array-like of shape (n_customers,)
        Segment of each customer.
    max_traits : int, default 3

    Returns
    -------
    dict of int to list of str
        Trait codes (``seg.trait.<code>`` in the catalog) by segment, segments in ascending order.
    """
    c = customers
    columns = {
        "age": lambda: c["age"].astype(float),
        "tenure": lambda: c["tenure"].astype(float),
        "monthly_charges": lambda: c["monthly_charges"].astype(float),
        "n_services": lambda: c["n_services"].astype(float),
        "month_to_month": lambda: (c["contract"] == "Month-to-month").astype(float),
        "fiber_optic": lambda: (c["internet_service"] == "Fiber optic").astype(float),
        "no_internet": lambda: (c["internet_service"] == "No").astype(float),
    }
    source = {"month_to_month": "contract", "fiber_optic": "internet_service", "no_internet": "internet_service"}
    present = {m: f().to_numpy() for m, f in columns.items() if source.get(m, m) in c.columns}  # classic: no age
    measures = pd.DataFrame({**present, "segment": np.asarray(labels)})
    overall = measures.drop(columns="segment").mean()
    order = {code: i for i, (code, *_) in enumerate(SEGMENT_TRAITS)}
    traits: dict[int, list[str]] = {}
    for segment, grp in measures.groupby("segment", sort=True):
        mean = grp.drop(columns="segment").mean()
        found = []
        for code, measure, how, bound in SEGMENT_TRAITS:
            if measure not in present:
                continue
            value, base = float(mean[measure]), float(overall[measure])
            if how == "above":
                strength = (value - base - bound) / bound
            elif how == "below":
                strength = (base - value - bound) / bound
            elif base <= 0:
                continue
            elif how == "ratio_above":
                strength = (value / base - bound) / bound
            else:
                strength = (bound - value / base) / bound
            if strength >= 0:
                found.append((-strength, order[code], code))
        chosen = sorted(sorted(found)[:max_traits], key=lambda f: f[1])
        traits[int(segment)] = [code for *_, code in chosen] or ["average"]
    return traits


def factor_loadings(customers: pd.DataFrame, n_factors: int = 3, seed: int = SEED) -> pd.DataFrame:
    """Varimax-rotated factor loadings of the service and usage variables.

    Returns
    -------
    pandas.DataFrame of shape (n_variables, n_factors)
        Columns ``F1``..``Fn``; each factor named in :func:`factor_labels`.
    """
    from sklearn.decomposition import FactorAnalysis
    from sklearn.preprocessing import StandardScaler

    variables = available(customers, SERVICES)  # a classic file lacks music, unlimited data and usage
    X = StandardScaler().fit_transform(behaviour_matrix(customers, variables).to_numpy())
    fa = FactorAnalysis(n_components=n_factors, rotation="varimax", svd_method="lapack", random_state=seed).fit(X)
    loadings = fa.components_.T
    loadings *= np.sign(loadings[np.abs(loadings).argmax(axis=0), np.arange(n_factors)])  # largest loading positive
    return pd.DataFrame(loadings, index=list(variables), columns=[f"F{i + 1}" for i in range(n_factors)])


def factor_labels(loadings: pd.DataFrame, top: int = 3) -> dict[str, list[str]]:
    """The ``top`` variables with the largest absolute loading on each factor (its interpretation)."""
    return {f: list(loadings[f].abs().sort_values(ascending=False).index[:top]) for f in loadings}


def projection(customers: pd.DataFrame, labels, seed: int = SEED) -> pd.DataFrame:
    """2-D PCA projection of the standardised behaviour: ``pc1``, ``pc2``, ``segment``, ``churned``."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    Z = StandardScaler().fit_transform(behaviour_matrix(customers, available(customers, BEHAVIOUR)).to_numpy())
    pcs = PCA(n_components=2, random_state=seed).fit_transform(Z)
    return pd.DataFrame(
        {
            "pc1": pcs[:, 0],
            "pc2": pcs[:, 1],
            "segment": np.asarray(labels).astype(str),
            "churned": customers["churn_flag"].to_numpy(),
        }
    )


def fit_segmenters(customers: pd.DataFrame) -> tuple[Segmenter, Segmenter]:
    """Fit the segmentation of all customers and, separately, of the seniors.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        Validated customers with ``is_senior``.

    Returns
    -------
    (Segmenter, Segmenter)
        Fitted on every customer, and on the seniors (65+) only.
    """
    return Segmenter().fit(customers), Segmenter().fit(customers[customers["is_senior"]])


def segment_clv_means(clv: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Mean CLV (USD) per stored segment, matched by ``customer_id`` (never by row position).

    Parameters
    ----------
    clv : pandas.DataFrame
        ``customer_id``, ``clv_usd`` (USD).
    customers : pandas.DataFrame
        ``customer_id``, ``segment``.

    Returns
    -------
    pandas.DataFrame of shape (n_segments, 2)
        ``segment``, ``clv_usd`` (mean, USD).
    """
    return (
        clv.merge(customers[["customer_id", "segment"]], on="customer_id")
        .groupby("segment", as_index=False)["clv_usd"]
        .mean()
    )


def projection_sample(customers: pd.DataFrame, labels, n: int = 3000, seed: int = SEED) -> pd.DataFrame:
    """:func:`projection` of every customer, of which at most ``n`` rows are kept for a plot.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
    labels : array-like of shape (n_customers,)
        Segment of each customer.
    n : int
        Rows kept (a fixed random sample when there are more; all when fewer).

    Returns
    -------
    pandas.DataFrame of shape (min(n, n_customers), 4)
        ``pc1``, ``pc2``, ``segment``, ``churned``.
    """
    proj = projection(customers, labels, seed)
    return proj.sample(min(n, len(proj)), random_state=seed) if len(proj) > n else proj


def fit_segmenters_on_sample(wh, sample_rows: int) -> tuple[Segmenter, Segmenter]:
    """:func:`fit_segmenters` on the deterministic sample of at most ``sample_rows`` customers.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
    sample_rows : int
        See :func:`churn_core.data.customers.customer_sample`.
    """
    from churn_core.data.customers import customer_sample

    return fit_segmenters(customer_sample(wh, sample_rows))


def factor_loadings_on_sample(wh, sample_rows: int) -> pd.DataFrame:
    """:func:`factor_loadings` of the deterministic sample of at most ``sample_rows`` customers.

    Returns
    -------
    pandas.DataFrame of shape (n_variables, 3)
    """
    from churn_core.data.customers import customer_sample

    return factor_loadings(customer_sample(wh, sample_rows))


def projection_on_sample(wh, sample_rows: int) -> pd.DataFrame:
    """:func:`projection_sample` of the deterministic sample of at most ``sample_rows`` customers, by stored segment.

    Returns
    -------
    pandas.DataFrame of shape (min(3000, n_sample), 4)
    """
    from churn_core.data.customers import customer_sample

    sample = customer_sample(wh, sample_rows)
    return projection_sample(sample, sample["segment"])


def segment_traits_on_sample(wh, sample_rows: int) -> dict[int, list[str]]:
    """:func:`segment_traits` of the stored segments over the deterministic sample of at most ``sample_rows``."""
    from churn_core.data.customers import customer_sample

    sample = customer_sample(wh, sample_rows)
    return segment_traits(sample, sample["segment"])
