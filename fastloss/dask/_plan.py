"""How a chunked array is cut into pieces that end on block boundaries.

fastloss adds its rows in blocks of ``BLOCK_ROWS`` (256): block b holds rows
``[256 b, 256 (b + 1))`` of the whole array, rows numbered in C order over
the position axes (elements, for the binary losses).  Dask chunks the first
position axis (the *lead* axis) anywhere, so a chunk boundary may fall
inside a block.  A piece of lead indices ``[lo, hi)`` holds whole blocks
when ``lo * P`` is a multiple of 256, ``P`` the rows per lead index: every
multiple of ``unit = 256 / gcd(256, P)`` is such a boundary.

The plan: each chunk's *interior*, the units that lie inside it, is computed
from that chunk alone; each unit that a chunk boundary cuts is a small
*seam* piece, computed from the few lead indices on either side (read a
second time).  Interiors and seams, in order, cover the lead axis, and each
starts on a block boundary: their partial sums combine to the whole array's.
"""
from math import gcd

from .._partials import BLOCK_ROWS


def unit(rows_per_index):
    """The lead indices between two block boundaries that fall on an index."""
    if rows_per_index == 0:
        return 1
    return BLOCK_ROWS // gcd(BLOCK_ROWS, rows_per_index)


def pieces(chunks, u):
    """The pieces of a lead axis chunked as ``chunks`` (lengths), in order.

    Returns a list of ``(kind, k, lo, hi)``: ``kind`` is ``"interior"`` (of
    chunk ``k``, lead indices ``[lo, hi)`` of the whole array, possibly
    empty) or ``"seam"`` (``k`` None, lo a multiple of ``u``, the indices
    spanning two or more chunks).  Every piece starts on a multiple of
    ``u``, and together they cover ``[0, sum(chunks))`` once.
    """
    n = sum(chunks)
    bounds = [0]
    for c in chunks:
        bounds.append(bounds[-1] + c)
    out = []
    seams = set()
    for b in bounds[1:-1]:
        if 0 < b < n and b % u:         # (empty chunks at either end cut nothing)
            seams.add(b // u)
    for k in range(len(chunks)):
        s = bounds[k]
        lo, hi = interior(s, bounds[k + 1], n, u)
        if hi > lo or n == 0:           # (an empty array: one empty piece)
            out.append(("interior", k, s + lo, s + hi))
    for j in seams:
        out.append(("seam", None, j * u, min((j + 1) * u, n)))
    out.sort(key=lambda p: p[2])
    return out


def interior(chunk_start, chunk_stop, n, u):
    """The interior ``[lo, hi)`` of a chunk, relative to its start (the
    units that lie inside it; hi < lo never: an empty interior is lo == hi)."""
    lo = -(-chunk_start // u) * u
    hi = chunk_stop if chunk_stop == n else (chunk_stop // u) * u
    if lo > hi:
        lo = hi = chunk_start
    return lo - chunk_start, hi - chunk_start
