"""Turning samples into pictures: uint8 conversion, image grids and 2-D scatter plots (PIL).

Example:
    >>> picture = grid(to_uint8(gan.generate(64, seed=0)), cols=8)     # (H, W, C) uint8
    >>> png = png_bytes(picture)
"""

from __future__ import annotations

import io
import math

import numpy as np


def to_uint8(images) -> np.ndarray:
    """Images in [-1, 1] as uint8 in [0, 255] (rounded, clipped)."""
    x = np.asarray(images, np.float32)
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def grid(
    images: np.ndarray, cols: int | None = None, pad: int = 1, min_cell: int = 32
) -> np.ndarray:
    """Tiles uint8 images `(N, H, W, C)` into one `(rows*H', cols*W', C)` picture.

    Tiny images are enlarged by an integer factor (nearest neighbour) so each cell is at least
    `min_cell` pixels; cells are separated by `pad` black pixels.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (N, H, W, C), got {images.shape}")
    n, h, w, c = images.shape
    cols = int(cols or math.ceil(math.sqrt(max(n, 1))))
    rows = max(1, math.ceil(n / cols))
    scale = max(1, math.ceil(min_cell / max(h, w)))
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
        h, w = h * scale, w * scale
    out = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, c), np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        out[y : y + h, x : x + w] = images[i]
    return out


def scatter(
    points: np.ndarray,
    reference: np.ndarray | None = None,
    extent: float | None = None,
    size: int = 384,
) -> np.ndarray:
    """A `(size, size, 3)` uint8 scatter plot of the first two coordinates of `points` (blue)
    over optional `reference` points (grey), on the square [-extent, extent]^2."""
    from PIL import Image, ImageDraw

    points = np.asarray(points, np.float32).reshape(len(points), -1)
    if extent is None:
        both = points if reference is None else np.concatenate([points, reference])
        finite = both[np.isfinite(both).all(axis=1)]
        extent = float(np.abs(finite[:, :2]).max()) * 1.15 if len(finite) else 1.0
    extent = max(float(extent), 1e-6)
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    centre = size / 2
    draw.line([(0, centre), (size, centre)], fill=(230, 230, 230))
    draw.line([(centre, 0), (centre, size)], fill=(230, 230, 230))

    def plot(xy, colour, radius):
        for x, y in xy[:, :2]:
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            px = centre + x / extent * centre
            py = centre - y / extent * centre
            draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=colour)

    if reference is not None:
        plot(np.asarray(reference, np.float32).reshape(len(reference), -1), (190, 190, 190), 1.5)
    plot(points, (31, 119, 180), 1.2)
    return np.asarray(image)


def png_bytes(picture: np.ndarray) -> bytes:
    """PNG encoding of a uint8 `(H, W)` / `(H, W, 1)` / `(H, W, 3)` array."""
    from PIL import Image

    picture = np.asarray(picture, np.uint8)
    if picture.ndim == 3 and picture.shape[-1] == 1:
        picture = picture[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["grid", "png_bytes", "scatter", "to_uint8"]
