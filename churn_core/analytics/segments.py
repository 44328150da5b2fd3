"""Customer segments: k-means on standardised behaviour, factor analysis, PCA projection.

k is chosen by the silhouette score (Rousseeuw 1987; ``sklearn.metrics.silhouette_score``
on a fixed random sample of at most 5,000 customers so the cost stays bounded); the
k-means inertia (elbow) is reported beside it. Factor analysis uses scikit-learn's
``FactorAnalysis`` with varimax rotation on the service and usage variables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

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
        X = behaviour_matrix(customers).to_numpy()
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
        return self.kmeans_.predict(self.scaler_.transform(behaviour_matrix(customers).to_numpy()))


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
    if clv_usd is not None:
        agg["clv_usd"] = ("clv_usd", "mean")
    return df.groupby("segment").agg(**agg).reset_index()


def factor_loadings(customers: pd.DataFrame, n_factors: int = 3, seed: int = SEED) -> pd.DataFrame:
    """Varimax-rotated factor loadings of the service and usage variables.

    Returns
    -------
    pandas.DataFrame of shape (n_variables, n_factors)
        Columns ``F1``..``Fn``; each factor named in :func:`factor_labels`.
    """
    X = StandardScaler().fit_transform(behaviour_matrix(customers, SERVICES).to_numpy())
    fa = FactorAnalysis(n_components=n_factors, rotation="varimax", svd_method="lapack", random_state=seed).fit(X)
    loadings = fa.components_.T
    loadings *= np.sign(loadings[np.abs(loadings).argmax(axis=0), np.arange(n_factors)])  # largest loading positive
    return pd.DataFrame(loadings, index=list(SERVICES), columns=[f"F{i + 1}" for i in range(n_factors)])


def factor_labels(loadings: pd.DataFrame, top: int = 3) -> dict[str, list[str]]:
    """The ``top`` variables with the largest absolute loading on each factor (its interpretation)."""
    return {f: list(loadings[f].abs().sort_values(ascending=False).index[:top]) for f in loadings}


def projection(customers: pd.DataFrame, labels, seed: int = SEED) -> pd.DataFrame:
    """2-D PCA projection of the standardised behaviour: ``pc1``, ``pc2``, ``segment``, ``churned``."""
    Z = StandardScaler().fit_transform(behaviour_matrix(customers).to_numpy())
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
