"""Nearest-neighbour geometry shared by the manifold, class and memorisation metrics.

Distances are computed in row blocks (`_chunk_rows`) so memory stays bounded at any N.
"""

from __future__ import annotations

import numpy as np

from kgan.errors import KganError


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def _chunks(n: int, rows: int):
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def _chunk_rows(m: int) -> int:
    """Rows per block so a block of distances to `m` points stays near 32 MB."""
    return max(1, min(4096, (4 << 20) // max(m, 1)))


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of `x` to its k-th nearest other row (leave-one-out).

    Example:
        >>> knn_radii(np.array([[0.0], [1.0], [3.0]]), 1)
        array([1., 1., 2.])
    """
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= k < len(x):
        raise KganError(f"k must be between 1 and {len(x) - 1} for {len(x)} samples, got {k}")
    radii = np.empty(len(x))
    for rows in _chunks(len(x), _chunk_rows(len(x))):
        d = _squared_distances(x[rows], x)
        d[np.arange(d.shape[0]), np.arange(rows.start, rows.stop)] = np.inf  # leave self out
        radii[rows] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return np.sqrt(radii)


def nearest(queries: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and index of each query's nearest point."""
    dist = np.empty(len(queries))
    index = np.empty(len(queries), dtype=np.int64)
    for rows in _chunks(len(queries), _chunk_rows(len(points))):
        d = _squared_distances(queries[rows], points)
        index[rows] = d.argmin(1)
        dist[rows] = d[np.arange(d.shape[0]), index[rows]]
    return np.sqrt(dist), index


def inside_any_ball(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Whether each query lies within radius of at least one centre (boundary included)."""
    inside = np.zeros(len(queries), dtype=bool)
    r2 = radii**2
    for rows in _chunks(len(queries), _chunk_rows(len(centres))):
        inside[rows] = (_squared_distances(queries[rows], centres) <= r2[None, :]).any(1)
    return inside


def balls_containing(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """How many centres' open balls (distance strictly under the radius) hold each query."""
    counts = np.zeros(len(queries), dtype=np.int64)
    r2 = radii**2
    for rows in _chunks(len(queries), _chunk_rows(len(centres))):
        counts[rows] = (_squared_distances(queries[rows], centres) < r2[None, :]).sum(1)
    return counts
