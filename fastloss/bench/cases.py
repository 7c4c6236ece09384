"""Every benchmark case, in one place.

``python -m fastloss.bench`` and the pytest-benchmark suites in the
repository's ``bench/`` folder both enumerate the cases from here; neither
keeps a list of its own, so the two cannot drift apart.

A *case* is one operation ("op") on one batch: shape ``(n, c)`` and dtype.
An op knows the fastloss call it times and the same computation written by
each other implementation:

``fastloss``
    the compiled call (``n_threads=1`` unless a caller asks otherwise).
``numpy``
    the losses as a NumPy network computes them by hand (``np_ce_index``
    and friends below), kept verbatim: the baseline of most speedups.
``book``
    the book's NumPy code as published, from ``fastloss.reference.book``.
``reference``
    ``fastloss.reference``, the pure-NumPy oracle of the test suite.
``torch``
    ``torch.nn.functional`` on the CPU with one thread, only where ``torch``
    imports; it is never a dependency.

Every implementation of a case receives the very same array objects, drawn
once per case. For 10 classes they are drawn the way the book draws a
mini-batch: ``batch_mask = np.random.choice(60000, batch_size)`` over a
60000-row pool of logits, their softmax outputs and int64 labels (a
seeded ``RandomState``, whose ``choice`` is the function behind
``np.random.choice``). All cases of one batch size get the same rows;
float32 cases get those rows cast to float32. The wide 1000 x 1000 case has
no pool (60000 x 1000 would be 480 MB) and is drawn directly.

The binary losses (every element its own prediction) draw their rows the
same way from a pool of their own: logits ~ N(0, 3), targets 0 or 1 with
probability 1/2 each, independently of the logits (floats of the logits'
dtype), and as probabilities the sigmoid of the logits.
"""
from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

import fastloss
from fastloss import book as fastloss_book
from fastloss import reference
from fastloss.reference import book as reference_book

# ---------------------------------------------------------------------------
# The NumPy code fastloss replaces, as NumPy networks write it. Kept verbatim:
# do not "improve" it, or the speedups stop measuring what users had.


def np_ce_index(y, t):
    n = y.shape[0]
    return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n


def np_ce_onehot(y, t):
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]


def np_sse(y, t):
    return 0.5 * np.sum((y - t) ** 2)


def np_softmax_with_loss(x, t):          # forward + backward(1), class indices
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    y = e / e.sum(axis=1, keepdims=True)
    n = y.shape[0]
    loss = -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n
    dx = y.copy()
    dx[np.arange(n), t] -= 1
    return loss, dx / n


def np_sigmoid_bce(x, t):               # logits, 0/1 targets of x's shape
    return np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))


def np_sigmoid_bce_and_grad(x, t):
    loss = np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))
    return loss, (1 / (1 + np.exp(-x)) - t) / x.size


def np_bce(p, t):                       # probabilities, 0/1 targets of p's shape
    return -np.mean(t * np.log(p + 1e-7) + (1 - t) * np.log(1 - p + 1e-7))


def np_bce_and_grad(p, t):
    loss = -np.mean(t * np.log(p + 1e-7) + (1 - t) * np.log(1 - p + 1e-7))
    return loss, -(t / (p + 1e-7) - (1 - t) / (1 - p + 1e-7)) / p.size


# ---------------------------------------------------------------------------
# Sizes

POOL_ROWS = 60000
N_CLASSES = 10
POOL_SEED = 0
BATCH_SEED = 1

BATCH_SIZES = (1, 10, 100, 1000, 100_000, 1_000_000)
WIDE_SHAPE = (1000, 1000)
SHAPES = tuple((n, N_CLASSES) for n in BATCH_SIZES) + (WIDE_SHAPE,)
DTYPES = ("float64", "float32")

# The default run of ``python -m fastloss.bench``, per dtype: about a minute
# on two cores, every case that bench/targets.json names included (those are
# float64); ``--full`` runs SHAPES for both dtypes.
DEFAULT_SHAPES = {
    "float64": ((1, 10), (10, 10), (100, 10), (1000, 10), (1_000_000, 10)),
    "float32": ((1, 10), (10, 10), (100, 10), (1000, 10), (100_000, 10)),
}
# The book's own call patterns (the fastloss.book ops below): a training
# step's mini-batch, the chapter 4 and 5 examples (1 and 3 samples) and a
# 6000-row evaluation slice. These ops run on these shapes only, float64.
BOOK_SHAPES = ((1, 10), (3, 10), (100, 10), (6000, 10))

# A segmentation batch in PyTorch's layout: 16 images of 64 x 64 pixels and
# 21 classes (PASCAL VOC), class axis 1; its cases count positions as rows.
SEGMENTATION = (16, 21, 64, 64)
SEGMENTATION_ROWS = (SEGMENTATION[0] * SEGMENTATION[2] * SEGMENTATION[3], SEGMENTATION[1])

# Half precision and sample weights: the MNIST-sized batch and the big one.
HALF_DTYPES = ("float16", "bfloat16")
LARGE_SHAPES = ((100, N_CLASSES), (1_000_000, N_CLASSES))


def dtype_of(name):
    """The NumPy dtype of a case's dtype name ("bfloat16" comes from
    ml_dtypes, which only the test and bench environments install)."""
    if name == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _has_dtype(name):
    try:
        dtype_of(name)
    except ImportError:
        return False
    return True


# A smoke-test configuration (the CLI's hidden ``--quick``).
QUICK_SHAPES = ((1, 10), (100, 10))

# "float64_copy" is what half precision cost before it had kernels of its
# own: a converted float64 copy, then the float64 kernel.
IMPLEMENTATIONS = ("fastloss", "numpy", "book", "reference", "torch", "float64_copy")


# ---------------------------------------------------------------------------
# Optional PyTorch


@functools.lru_cache(maxsize=None)
def torch_module():
    """``torch`` set to one thread, or None where it does not import."""
    try:
        import torch
    except Exception:  # ImportError, or a broken install raising OSError
        return None
    torch.set_num_threads(1)
    return torch


def _torch():
    torch = torch_module()
    if torch is None:
        raise RuntimeError("torch is not importable")
    return torch, torch.nn.functional


def _torch_ce(torch, F, y, t):
    if t.dim() == y.dim():            # one-hot or soft rows
        return -(t * torch.log(y + 1e-7)).sum() / y.shape[0]
    return F.nll_loss(torch.log(y + 1e-7), t)


def _torch_softmax_ce(torch, F, x, t):
    return F.cross_entropy(x, t)      # (N, C, d1, ...) logits: the class axis is 1


def _torch_mse(torch, F, y, t):
    return F.mse_loss(y, t)


def _torch_sse(torch, F, y, t):
    return 0.5 * F.mse_loss(y, t, reduction="sum")


def _torch_bce(torch, F, p, t):
    return F.binary_cross_entropy(p, t)


def _torch_sigmoid_bce(torch, F, x, t):
    return F.binary_cross_entropy_with_logits(x, t)


def torch_call(loss, grad=False):
    """``fn(pred, target)`` in PyTorch: ``loss(torch, F, pred, target)`` on
    tensors that share the arrays' memory; with ``grad``, (loss, d loss /
    d pred) by autograd."""

    def call(pred, target):
        torch, F = _torch()
        p = torch.from_numpy(pred)
        if grad:
            p.requires_grad_()
        value = loss(torch, F, p, torch.from_numpy(target))
        if not grad:
            return value
        value.backward()
        return value, p.grad

    call.__name__ = loss.__name__.lstrip("_") + ("_and_grad" if grad else "")
    return call


# name -> the PyTorch call of the ops below
TORCH = {
    "ce": torch_call(_torch_ce),
    "ce_and_grad": torch_call(_torch_ce, grad=True),
    "softmax_ce": torch_call(_torch_softmax_ce),
    "softmax_ce_and_grad": torch_call(_torch_softmax_ce, grad=True),
    "mse": torch_call(_torch_mse),
    "mse_and_grad": torch_call(_torch_mse, grad=True),
    "sse": torch_call(_torch_sse),
    "bce": torch_call(_torch_bce),
    "bce_and_grad": torch_call(_torch_bce, grad=True),
    "sigmoid_bce": torch_call(_torch_sigmoid_bce),
    "sigmoid_bce_and_grad": torch_call(_torch_sigmoid_bce, grad=True),
}


@contextlib.contextmanager
def run_one_threaded():
    """Hold OpenMP's default thread count to one while the benchmark runs.

    fastloss's automatic thread choice (``n_threads=None``, and fastloss.book,
    which has no ``n_threads``) follows OpenMP's default; this sets it to one
    through threadpoolctl where that is installed, so that every side runs on
    one thread. An explicit ``n_threads`` still wins. Yields a description.
    """
    try:
        from threadpoolctl import threadpool_limits
    except Exception:
        yield "automatic (threadpoolctl is not installed to hold it to 1)"
        return
    with threadpool_limits(limits=1, user_api="openmp"):
        yield "1 (OpenMP default held to 1 by threadpoolctl)"


# ---------------------------------------------------------------------------
# Calls and ops


@dataclass(frozen=True)
class Call:
    """``fn(*args, **kwargs)``, ready to time; ``code`` says it in Python."""

    fn: Callable[..., Any]
    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    code: str = ""

    def __call__(self):
        return self.fn(*self.args, **self.kwargs)


class _LayerForwardBackward:
    """One book layer's ``forward(x, t)`` then ``backward()``, as a training step does."""

    def __init__(self, layer_class):
        self.layer = layer_class()

    def __call__(self, x, t):
        loss = self.layer.forward(x, t)
        return loss, self.layer.backward()


def _plain(fn, code, threaded=False, **kwargs):
    """A builder: (pred, target, n_threads) -> Call of ``fn(pred, target,
    **kwargs)``.

    ``code`` says the call in Python; a threaded one gains ``n_threads=``.
    A keyword whose value is callable is made from the inputs:
    ``value(pred, target)`` (sample weights drawn for the batch, say).
    """

    def build(pred, target, n_threads):
        kw = {k: (v(pred, target) if callable(v) else v) for k, v in kwargs.items()}
        if threaded and n_threads is not None:
            return Call(fn, (pred, target), {**kw, "n_threads": n_threads},
                        f"{code[:-1]}, n_threads={n_threads})")
        return Call(fn, (pred, target), kw, code)

    return build


def _sample_weights(pred, target):
    """Per-row weights in [0.5, 1.5), one draw per batch size."""
    n = 0 if target is None else len(target)
    return np.random.RandomState(BATCH_SEED).uniform(0.5, 1.5, n)


def _via_float64(fn):
    """``fn`` on a float64 copy of its first argument."""

    def call(pred, target, **kwargs):
        return fn(pred.astype(np.float64), target, **kwargs)

    return call


def _layer(layer_class, code):
    def build(pred, target, n_threads):
        return Call(_LayerForwardBackward(layer_class), (pred, target), {}, code)

    return build


class _LayerForward:
    """One book layer's ``forward(x, t)`` alone, as an evaluation or a
    gradient check calls it."""

    def __init__(self, layer_class):
        self.layer = layer_class()

    def __call__(self, x, t):
        return self.layer.forward(x, t)


def _layer_forward(layer_class, code):
    def build(pred, target, n_threads):
        return Call(_LayerForward(layer_class), (pred, target), {}, code)

    return build


def _unary(fn, code):
    """A builder of ``fn(pred)``: an op without a target (softmax)."""

    def build(pred, target, n_threads):
        return Call(fn, (pred,), {}, code)

    return build


@dataclass(frozen=True, eq=False)
class Op:
    """One computation, written by each implementation that has it.

    ``approx`` names the implementations whose *loss* adds the book's 1e-7
    inside the log where the fastloss call does not (or the other way
    round): they agree to about 1e-7 / p rather than to rounding. Their
    gradients agree to rounding all the same, except those that
    ``approx_grad`` names: PyTorch's ``binary_cross_entropy`` divides by
    ``p (1 - p)`` where fastloss divides by ``p + eps`` and
    ``(1 - p) + eps``: a relative difference of about ``eps / p`` (or
    ``eps / (1 - p)``), of the order of the entry itself where ``p`` is near
    ``eps``. Their gradients are compared where it is below 1e-4 (see
    :func:`disagreements`).
    """

    key: str            # identifier used in case ids
    label: str          # what the table prints
    family: str         # "cross_entropy", "softmax_cross_entropy", "squared_error", "softmax",
                        # "binary_cross_entropy", "sigmoid_binary_cross_entropy"
    api: str            # the fastloss name timed, e.g. "book.SoftmaxWithLoss"
    pred: str           # "probs" or "logits"
    target: str         # "index" (int64), "uint8" (labels as load_mnist gives them),
                        # "onehot", "binary" (0/1 floats of pred's shape and dtype,
                        # for the element-wise binary losses) or "none"
    grad: bool          # the calls return (loss, gradient)
    threaded: bool      # the fastloss call takes n_threads
    baseline: str       # implementation shown in the table's NumPy column
    builders: Mapping[str, Callable[..., Call]]
    approx: frozenset = frozenset()
    shapes: tuple = ()  # the op's own shapes (float64 only), instead of SHAPES
    output: str = "loss"  # "array" for an op whose result is an array (softmax)
    dtypes: tuple = ()  # the op's own dtypes (with its own shapes), instead of float64
    layout: str = "rows"  # "nchw": pred (N, C, H, W), class axis 1 (SEGMENTATION)
    approx_grad: frozenset = frozenset()  # see above

    def implementations(self, torch=True):
        names = [name for name in IMPLEMENTATIONS if name in self.builders]
        if not (torch and torch_module() is not None):
            names = [name for name in names if name != "torch"]
        return tuple(names)


def book_softmax_cross_entropy(x, t):
    """The book's forward pass of SoftmaxWithLoss, without the layer."""
    return reference_book.cross_entropy_error(reference_book.softmax(x), t)


_FL = "fastloss."
_FB = "fastloss.book."
_R = "fastloss.reference."
_RB = "fastloss.reference.book."
_TORCH_CE = "F.nll_loss(torch.log(y + 1e-7), t)"
_TORCH_CE_ONEHOT = "-(t_onehot * torch.log(y + 1e-7)).sum() / n"
_LAYER = "layer.forward(x, {t}); layer.backward()  # layer = {m}SoftmaxWithLoss(), made once"

OPS: "tuple[Op, ...]" = (
    Op("cross_entropy_index", "cross_entropy (index)", "cross_entropy", "cross_entropy",
       "probs", "index", grad=False, threaded=True, baseline="numpy", builders={
           "fastloss": _plain(fastloss.cross_entropy, _FL + "cross_entropy(y, t)", True),
           "numpy": _plain(np_ce_index, "np_ce_index(y, t)"),
           "reference": _plain(reference.cross_entropy, _R + "cross_entropy(y, t)"),
           "torch": _plain(TORCH["ce"], _TORCH_CE),
       }),
    Op("cross_entropy_onehot", "cross_entropy (one-hot)", "cross_entropy", "cross_entropy",
       "probs", "onehot", grad=False, threaded=True, baseline="numpy", builders={
           "fastloss": _plain(fastloss.cross_entropy, _FL + "cross_entropy(y, t_onehot)", True),
           "numpy": _plain(np_ce_onehot, "np_ce_onehot(y, t_onehot)"),
           "reference": _plain(reference.cross_entropy, _R + "cross_entropy(y, t_onehot)"),
           "torch": _plain(TORCH["ce"], _TORCH_CE_ONEHOT),
       }),
    Op("softmax_cross_entropy_index", "softmax_cross_entropy (index)", "softmax_cross_entropy",
       "softmax_cross_entropy", "logits", "index", grad=False, threaded=True, baseline="book",
       builders={
           "fastloss": _plain(fastloss.softmax_cross_entropy,
                              _FL + "softmax_cross_entropy(x, t)", True),
           "book": _plain(book_softmax_cross_entropy, _RB + "cross_entropy_error(softmax(x), t)"),
           "reference": _plain(reference.softmax_cross_entropy,
                               _R + "softmax_cross_entropy(x, t)"),
           "torch": _plain(TORCH["softmax_ce"], "F.cross_entropy(x, t)"),
       }, approx=frozenset({"book"})),
    Op("mean_squared_error", "mean_squared_error", "squared_error", "mean_squared_error",
       "probs", "onehot", grad=False, threaded=True, baseline="reference", builders={
           "fastloss": _plain(fastloss.mean_squared_error,
                              _FL + "mean_squared_error(y, t_onehot)", True),
           "reference": _plain(reference.mean_squared_error,
                               _R + "mean_squared_error(y, t_onehot)"),
           "torch": _plain(TORCH["mse"], "F.mse_loss(y, t_onehot)"),
       }),
    Op("cross_entropy_and_grad_index", "cross_entropy_and_grad (index)", "cross_entropy",
       "cross_entropy_and_grad", "probs", "index", grad=True, threaded=True,
       baseline="reference", builders={
           "fastloss": _plain(fastloss.cross_entropy_and_grad,
                              _FL + "cross_entropy_and_grad(y, t)", True),
           "reference": _plain(reference.cross_entropy_and_grad,
                               _R + "cross_entropy_and_grad(y, t)"),
           "torch": _plain(TORCH["ce_and_grad"], _TORCH_CE + ".backward(); y.grad"),
       }),
    Op("cross_entropy_and_grad_onehot", "cross_entropy_and_grad (one-hot)", "cross_entropy",
       "cross_entropy_and_grad", "probs", "onehot", grad=True, threaded=True,
       baseline="reference", builders={
           "fastloss": _plain(fastloss.cross_entropy_and_grad,
                              _FL + "cross_entropy_and_grad(y, t_onehot)", True),
           "reference": _plain(reference.cross_entropy_and_grad,
                               _R + "cross_entropy_and_grad(y, t_onehot)"),
           "torch": _plain(TORCH["ce_and_grad"], f"({_TORCH_CE_ONEHOT}).backward(); y.grad"),
       }),
    Op("softmax_cross_entropy_and_grad_index", "softmax_cross_entropy_and_grad (index)",
       "softmax_cross_entropy", "softmax_cross_entropy_and_grad", "logits", "index",
       grad=True, threaded=True, baseline="numpy", builders={
           "fastloss": _plain(fastloss.softmax_cross_entropy_and_grad,
                              _FL + "softmax_cross_entropy_and_grad(x, t)", True),
           "numpy": _plain(np_softmax_with_loss, "np_softmax_with_loss(x, t)"),
           "book": _layer(reference_book.SoftmaxWithLoss, _LAYER.format(t="t", m=_RB)),
           "reference": _plain(reference.softmax_cross_entropy_and_grad,
                               _R + "softmax_cross_entropy_and_grad(x, t)"),
           "torch": _plain(TORCH["softmax_ce_and_grad"],
                           "F.cross_entropy(x, t).backward(); x.grad"),
       }, approx=frozenset({"numpy", "book"})),
    Op("mean_squared_error_and_grad", "mean_squared_error_and_grad", "squared_error",
       "mean_squared_error_and_grad", "probs", "onehot", grad=True, threaded=True,
       baseline="reference", builders={
           "fastloss": _plain(fastloss.mean_squared_error_and_grad,
                              _FL + "mean_squared_error_and_grad(y, t_onehot)", True),
           "reference": _plain(reference.mean_squared_error_and_grad,
                               _R + "mean_squared_error_and_grad(y, t_onehot)"),
           "torch": _plain(TORCH["mse_and_grad"], "F.mse_loss(y, t_onehot).backward(); y.grad"),
       }),
    Op("book_sum_squared_error", "book.sum_squared_error", "squared_error",
       "book.sum_squared_error", "probs", "onehot", grad=False, threaded=False,
       baseline="numpy", builders={
           "fastloss": _plain(fastloss_book.sum_squared_error,
                              _FB + "sum_squared_error(y, t_onehot)"),
           "numpy": _plain(np_sse, "np_sse(y, t_onehot)"),
           "book": _plain(reference_book.sum_squared_error,
                          _RB + "sum_squared_error(y, t_onehot)"),
           "torch": _plain(TORCH["sse"], "0.5 * F.mse_loss(y, t_onehot, reduction='sum')"),
       }),
    Op("book_cross_entropy_error_index", "book.cross_entropy_error (index)", "cross_entropy",
       "book.cross_entropy_error", "probs", "index", grad=False, threaded=False,
       baseline="numpy", builders={
           "fastloss": _plain(fastloss_book.cross_entropy_error,
                              _FB + "cross_entropy_error(y, t)"),
           "numpy": _plain(np_ce_index, "np_ce_index(y, t)"),
           "book": _plain(reference_book.cross_entropy_error, _RB + "cross_entropy_error(y, t)"),
           "torch": _plain(TORCH["ce"], _TORCH_CE),
       }),
    Op("book_cross_entropy_error_onehot", "book.cross_entropy_error (one-hot)", "cross_entropy",
       "book.cross_entropy_error", "probs", "onehot", grad=False, threaded=False,
       baseline="numpy", builders={
           "fastloss": _plain(fastloss_book.cross_entropy_error,
                              _FB + "cross_entropy_error(y, t_onehot)"),
           "numpy": _plain(np_ce_onehot, "np_ce_onehot(y, t_onehot)"),
           "book": _plain(reference_book.cross_entropy_error,
                          _RB + "cross_entropy_error(y, t_onehot)"),
           "torch": _plain(TORCH["ce"], _TORCH_CE_ONEHOT),
       }),
    Op("book_SoftmaxWithLoss_index", "book.SoftmaxWithLoss fwd+bwd (index)",
       "softmax_cross_entropy", "book.SoftmaxWithLoss", "logits", "index", grad=True,
       threaded=False, baseline="numpy", builders={
           "fastloss": _layer(fastloss_book.SoftmaxWithLoss, _LAYER.format(t="t", m=_FB)),
           "numpy": _plain(np_softmax_with_loss, "np_softmax_with_loss(x, t)"),
           "book": _layer(reference_book.SoftmaxWithLoss, _LAYER.format(t="t", m=_RB)),
           "torch": _plain(TORCH["softmax_ce_and_grad"],
                           "F.cross_entropy(x, t).backward(); x.grad"),
       }, approx=frozenset({"torch"})),
    Op("book_SoftmaxWithLoss_onehot", "book.SoftmaxWithLoss fwd+bwd (one-hot)",
       "softmax_cross_entropy", "book.SoftmaxWithLoss", "logits", "onehot", grad=True,
       threaded=False, baseline="book", builders={
           "fastloss": _layer(fastloss_book.SoftmaxWithLoss, _LAYER.format(t="t_onehot", m=_FB)),
           "book": _layer(reference_book.SoftmaxWithLoss, _LAYER.format(t="t_onehot", m=_RB)),
           "torch": _plain(TORCH["softmax_ce_and_grad"],
                           "F.cross_entropy(x, t_onehot).backward(); x.grad"),
       }, approx=frozenset({"torch"})),
)

_TB = "t_binary"  # 0/1 floats of the pred's shape
_BINARY_OPS = (
    Op("sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy",
       "sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy", "logits", "binary",
       grad=False, threaded=True, baseline="numpy", builders={
           "fastloss": _plain(fastloss.sigmoid_binary_cross_entropy,
                              _FL + f"sigmoid_binary_cross_entropy(x, {_TB})", True),
           "numpy": _plain(np_sigmoid_bce, f"np_sigmoid_bce(x, {_TB})"),
           "reference": _plain(reference.sigmoid_binary_cross_entropy,
                               _R + f"sigmoid_binary_cross_entropy(x, {_TB})"),
           "torch": _plain(TORCH["sigmoid_bce"],
                           f"F.binary_cross_entropy_with_logits(x, {_TB})"),
       }),
    Op("binary_cross_entropy", "binary_cross_entropy", "binary_cross_entropy",
       "binary_cross_entropy", "probs", "binary", grad=False, threaded=True,
       baseline="numpy", builders={
           "fastloss": _plain(fastloss.binary_cross_entropy,
                              _FL + f"binary_cross_entropy(y, {_TB})", True),
           "numpy": _plain(np_bce, f"np_bce(y, {_TB})"),
           "reference": _plain(reference.binary_cross_entropy,
                               _R + f"binary_cross_entropy(y, {_TB})"),
           "torch": _plain(TORCH["bce"], f"F.binary_cross_entropy(y, {_TB})"),
       }, approx=frozenset({"torch"})),   # PyTorch: no eps (its log clamped at -100)
    Op("sigmoid_binary_cross_entropy_and_grad", "sigmoid_binary_cross_entropy_and_grad",
       "sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy_and_grad", "logits",
       "binary", grad=True, threaded=True, baseline="numpy", builders={
           "fastloss": _plain(fastloss.sigmoid_binary_cross_entropy_and_grad,
                              _FL + f"sigmoid_binary_cross_entropy_and_grad(x, {_TB})", True),
           "numpy": _plain(np_sigmoid_bce_and_grad, f"np_sigmoid_bce_and_grad(x, {_TB})"),
           "reference": _plain(reference.sigmoid_binary_cross_entropy_and_grad,
                               _R + f"sigmoid_binary_cross_entropy_and_grad(x, {_TB})"),
           "torch": _plain(TORCH["sigmoid_bce_and_grad"],
                           f"F.binary_cross_entropy_with_logits(x, {_TB}).backward(); x.grad"),
       }),
    Op("binary_cross_entropy_and_grad", "binary_cross_entropy_and_grad",
       "binary_cross_entropy", "binary_cross_entropy_and_grad", "probs", "binary",
       grad=True, threaded=True, baseline="numpy", builders={
           "fastloss": _plain(fastloss.binary_cross_entropy_and_grad,
                              _FL + f"binary_cross_entropy_and_grad(y, {_TB})", True),
           "numpy": _plain(np_bce_and_grad, f"np_bce_and_grad(y, {_TB})"),
           "reference": _plain(reference.binary_cross_entropy_and_grad,
                               _R + f"binary_cross_entropy_and_grad(y, {_TB})"),
           "torch": _plain(TORCH["bce_and_grad"],
                           f"F.binary_cross_entropy(y, {_TB}).backward(); y.grad"),
       }, approx=frozenset({"torch"}), approx_grad=frozenset({"torch"})),
)

_BOOK_OPS = (
    Op("book_softmax", "book.softmax", "softmax", "book.softmax", "logits", "none",
       grad=False, threaded=False, baseline="book", shapes=BOOK_SHAPES, output="array",
       builders={
           "fastloss": _unary(fastloss_book.softmax, _FB + "softmax(x)"),
           "book": _unary(reference_book.softmax, _RB + "softmax(x)"),
       }),
    Op("book_cross_entropy_error_uint8", "book.cross_entropy_error (uint8 labels)",
       "cross_entropy", "book.cross_entropy_error", "probs", "uint8", grad=False,
       threaded=False, baseline="book", shapes=BOOK_SHAPES, builders={
           "fastloss": _plain(fastloss_book.cross_entropy_error,
                              _FB + "cross_entropy_error(y, t_uint8)"),
           "book": _plain(reference_book.cross_entropy_error,
                          _RB + "cross_entropy_error(y, t_uint8)"),
       }),
    Op("book_SoftmaxWithLoss_uint8", "book.SoftmaxWithLoss fwd+bwd (uint8 labels)",
       "softmax_cross_entropy", "book.SoftmaxWithLoss", "logits", "uint8", grad=True,
       threaded=False, baseline="book", shapes=BOOK_SHAPES, builders={
           "fastloss": _layer(fastloss_book.SoftmaxWithLoss, _LAYER.format(t="t_uint8", m=_FB)),
           "book": _layer(reference_book.SoftmaxWithLoss, _LAYER.format(t="t_uint8", m=_RB)),
       }),
    Op("book_SoftmaxWithLoss_forward", "book.SoftmaxWithLoss forward (index)",
       "softmax_cross_entropy", "book.SoftmaxWithLoss", "logits", "index", grad=False,
       threaded=False, baseline="book", shapes=BOOK_SHAPES, builders={
           "fastloss": _layer_forward(fastloss_book.SoftmaxWithLoss,
                                      "layer.forward(x, t)  # layer = " + _FB
                                      + "SoftmaxWithLoss(), made once"),
           "book": _layer_forward(reference_book.SoftmaxWithLoss,
                                  "layer.forward(x, t)  # layer = " + _RB
                                  + "SoftmaxWithLoss(), made once"),
       }),
)
_SEG = "x_nchw, t_nhw, axis=1"
_NEW_INPUT_OPS = (
    Op("segmentation_softmax_cross_entropy", "softmax_cross_entropy (N, C, H, W), axis=1",
       "softmax_cross_entropy", "softmax_cross_entropy", "logits", "index", grad=False,
       threaded=True, baseline="reference", shapes=(SEGMENTATION_ROWS,),
       dtypes=("float32", "float64"), layout="nchw", builders={
           "fastloss": _plain(fastloss.softmax_cross_entropy,
                              _FL + f"softmax_cross_entropy({_SEG})", True, axis=1),
           "reference": _plain(reference.softmax_cross_entropy,
                               _R + f"softmax_cross_entropy({_SEG})", axis=1),
           "torch": _plain(TORCH["softmax_ce"], "F.cross_entropy(x_nchw, t_nhw)"),
       }),
    Op("segmentation_softmax_cross_entropy_and_grad",
       "softmax_cross_entropy_and_grad (N, C, H, W), axis=1", "softmax_cross_entropy",
       "softmax_cross_entropy_and_grad", "logits", "index", grad=True, threaded=True,
       baseline="reference", shapes=(SEGMENTATION_ROWS,), dtypes=("float32", "float64"),
       layout="nchw", builders={
           "fastloss": _plain(fastloss.softmax_cross_entropy_and_grad,
                              _FL + f"softmax_cross_entropy_and_grad({_SEG})", True, axis=1),
           "reference": _plain(reference.softmax_cross_entropy_and_grad,
                               _R + f"softmax_cross_entropy_and_grad({_SEG})", axis=1),
           "torch": _plain(TORCH["softmax_ce_and_grad"],
                           "F.cross_entropy(x_nchw, t_nhw).backward(); x_nchw.grad"),
       }),
    Op("softmax_cross_entropy_half", "softmax_cross_entropy (index), half precision",
       "softmax_cross_entropy", "softmax_cross_entropy", "logits", "index", grad=False,
       threaded=True, baseline="reference", shapes=LARGE_SHAPES, dtypes=HALF_DTYPES,
       builders={
           "fastloss": _plain(fastloss.softmax_cross_entropy,
                              _FL + "softmax_cross_entropy(x_half, t)", True),
           "reference": _plain(reference.softmax_cross_entropy,
                               _R + "softmax_cross_entropy(x_half, t)"),
           "float64_copy": _plain(_via_float64(fastloss.softmax_cross_entropy),
                                  _FL + "softmax_cross_entropy(x_half.astype(np.float64), t)",
                                  True),
       }),
    Op("softmax_cross_entropy_weighted", "softmax_cross_entropy (index), sample weights",
       "softmax_cross_entropy", "softmax_cross_entropy", "logits", "index", grad=False,
       threaded=True, baseline="reference", shapes=LARGE_SHAPES,
       dtypes=("float32", "float64"), builders={
           "fastloss": _plain(fastloss.softmax_cross_entropy,
                              _FL + "softmax_cross_entropy(x, t, sample_weight=s)", True,
                              sample_weight=_sample_weights),
           "reference": _plain(reference.softmax_cross_entropy,
                               _R + "softmax_cross_entropy(x, t, sample_weight=s)",
                               sample_weight=_sample_weights),
       }),
)
OPS = OPS + _BINARY_OPS + _BOOK_OPS + _NEW_INPUT_OPS

OPS_BY_KEY = {op.key: op for op in OPS}

# The public fastloss names the cases must cover (tests check it).
PUBLIC_APIS = (
    "cross_entropy", "softmax_cross_entropy", "mean_squared_error",
    "cross_entropy_and_grad", "softmax_cross_entropy_and_grad", "mean_squared_error_and_grad",
    "binary_cross_entropy", "sigmoid_binary_cross_entropy",
    "binary_cross_entropy_and_grad", "sigmoid_binary_cross_entropy_and_grad",
    "book.sum_squared_error", "book.cross_entropy_error", "book.SoftmaxWithLoss",
    "book.softmax",
)


# ---------------------------------------------------------------------------
# Inputs


@dataclass
class Inputs:
    """One case's arrays: every implementation gets these very objects."""

    pred: np.ndarray
    target: np.ndarray


@functools.lru_cache(maxsize=1)
def pool():
    """The 60000-row pool: logits, their softmax outputs and int64 labels.

    The logits look like those of a network part-way through training: noise
    plus a margin on the true class, so the label's probability is mostly
    between 0.2 and 0.9 and never tiny.
    """
    rng = np.random.RandomState(POOL_SEED)
    labels = rng.randint(0, N_CLASSES, POOL_ROWS).astype(np.int64)
    logits = rng.standard_normal((POOL_ROWS, N_CLASSES))
    logits[np.arange(POOL_ROWS), labels] += 2.0
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    for a in (labels, logits, probs):
        a.setflags(write=False)
    return logits, probs, labels


@functools.lru_cache(maxsize=2)
def batch_mask(n):
    """The book's draw: ``np.random.choice(train_size, batch_size)``."""
    return np.random.RandomState(BATCH_SEED).choice(POOL_ROWS, n)


def _wide_batch(n, c):
    rng = np.random.RandomState(BATCH_SEED)
    labels = rng.randint(0, c, n).astype(np.int64)
    logits = rng.standard_normal((n, c))
    logits[np.arange(n), labels] += 4.0
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return logits, probs, labels


BINARY_LOGIT_STD = 3.0


@functools.lru_cache(maxsize=1)
def binary_pool():
    """The binary losses' 60000-row pool: logits ~ N(0, 3) and 0/1 targets
    (float64), drawn independently, each element its own prediction."""
    rng = np.random.RandomState(POOL_SEED)
    logits = BINARY_LOGIT_STD * rng.standard_normal((POOL_ROWS, N_CLASSES))
    targets = (rng.random_sample((POOL_ROWS, N_CLASSES)) < 0.5).astype(np.float64)
    for a in (logits, targets):
        a.setflags(write=False)
    return logits, targets


def _binary_inputs(n, c, dtype, pred):
    """Logits or probabilities (their sigmoid) and 0/1 targets of shape
    (n, c), both of ``dtype``: pooled rows for 10 outputs, drawn directly for
    other widths."""
    if c == N_CLASSES:
        logits, targets = binary_pool()
        mask = batch_mask(n)
        x, t = logits[mask], targets[mask]
    else:
        rng = np.random.RandomState(BATCH_SEED)
        x = BINARY_LOGIT_STD * rng.standard_normal((n, c))
        t = (rng.random_sample((n, c)) < 0.5).astype(np.float64)
    if pred == "probs":
        x = 1.0 / (1.0 + np.exp(-x))
    x = np.ascontiguousarray(x, dtype=dtype)
    if pred == "probs":
        # in (0, 1): float32 rounds the sigmoid of a logit above 16.6 to 1
        np.minimum(x, np.nextafter(dtype.type(1), dtype.type(0)), out=x)
    return Inputs(x, np.ascontiguousarray(t, dtype=dtype))


def _nchw_shape(n, c):
    """(N, C, H, W) of n positions: SEGMENTATION's images where n is a
    multiple of 64 x 64, else one image of n x 1 pixels."""
    h, w = SEGMENTATION[2], SEGMENTATION[3]
    if n % (h * w) == 0 and n:
        return (n // (h * w), c, h, w)
    return (1, c, n, 1)


def make_inputs(n, c, dtype, pred="probs", target="index", layout="rows"):
    """A fresh, writable, C-contiguous batch of the given kind; with layout
    "nchw", pred in PyTorch's (N, C, H, W) layout (rows are the pixels,
    taken in C order) and class indices of shape (N, H, W). Target kind
    "binary": 0/1 targets of pred's shape and dtype (see binary_pool)."""
    if layout == "nchw":
        rows = make_inputs(n, c, dtype, pred, target)
        shape = _nchw_shape(n, c)
        positions = (shape[0], shape[2], shape[3])
        x = rows.pred.reshape(positions + (c,))
        return Inputs(np.ascontiguousarray(np.moveaxis(x, -1, 1)),
                      np.ascontiguousarray(rows.target.reshape(positions)))
    dtype = dtype_of(dtype)
    if target == "binary":
        return _binary_inputs(n, c, dtype, pred)
    if c == N_CLASSES:
        logits, probs, labels = pool()
        mask = batch_mask(n)
        source = logits if pred == "logits" else probs
        x, t = source[mask], labels[mask]
    else:
        logits, probs, t = _wide_batch(n, c)
        x = logits if pred == "logits" else probs
    x = np.ascontiguousarray(x, dtype=dtype)
    if target == "none":
        return Inputs(x, None)
    if target == "uint8":
        t = t.astype(np.uint8)
    if target == "onehot":
        onehot = np.zeros((n, c), dtype=dtype)
        onehot[np.arange(n), t] = 1
        t = onehot
    return Inputs(x, np.ascontiguousarray(t))


# ---------------------------------------------------------------------------
# Cases


@dataclass(frozen=True)
class Case:
    op: Op
    n: int
    c: int
    dtype: str

    @property
    def id(self):
        return f"{self.op.key}-{self.shape_str}-{self.dtype}"

    @property
    def shape(self):
        return (self.n, self.c)

    @property
    def shape_str(self):
        return "x".join(str(d) for d in self.pred_shape)

    @property
    def pred_shape(self):
        """The shape of the case's pred (its rows, or (N, C, H, W))."""
        if self.op.layout == "nchw":
            return _nchw_shape(self.n, self.c)
        return self.shape

    @property
    def large(self):
        """Cases big enough to report two-thread speedups and memory."""
        return self.n * self.c >= 1_000_000

    def implementations(self, torch=True):
        return self.op.implementations(torch=torch)

    def inputs(self):
        return make_inputs(self.n, self.c, self.dtype, self.op.pred, self.op.target,
                           self.op.layout)

    @property
    def fastloss_threads(self):
        """The ``n_threads`` the fastloss call is timed with: one thread, always.

        Large batches say ``n_threads=1``. Below a million elements fastloss's
        automatic choice already is one thread, so the call is timed as users
        write it, without the keyword (whose parsing alone costs tens of ns,
        a fifth of a one-sample call); run_one_threaded() makes sure.
        """
        return 1 if self.large else None

    def calls(self, inputs=None, n_threads="case", torch=True, implementations=None):
        """Implementation name -> Call, all on the same ``inputs``.

        ``n_threads`` goes to the fastloss call: "case" for
        :attr:`fastloss_threads`, None to leave it out, or an int.
        """
        if inputs is None:
            inputs = self.inputs()
        if n_threads == "case":
            n_threads = self.fastloss_threads
        names = self.implementations(torch=torch) if implementations is None else implementations
        return {name: self.op.builders[name](inputs.pred, inputs.target, n_threads)
                for name in names}


def all_cases(shapes=SHAPES, dtypes=DTYPES, ops=OPS):
    """Every op on ``shapes`` and ``dtypes``; an op with shapes of its own
    runs on those, in its own dtypes (float64 if it names none; bfloat16
    only where ml_dtypes is installed)."""
    def op_dtypes(op):
        if not op.shapes:
            return dtypes
        return [d for d in (op.dtypes or ("float64",)) if _has_dtype(d)]

    return [Case(op, n, c, dtype) for op in ops for dtype in op_dtypes(op)
            for (n, c) in (op.shapes or shapes)]


def default_cases():
    return [case for case in all_cases()
            if case.op.shapes or case.shape in DEFAULT_SHAPES[case.dtype]]


def quick_cases():
    return [case for case in all_cases(shapes=QUICK_SHAPES) if case.n * case.c <= 100_000]


def select(mode="default"):
    """The cases of a run mode: "default", "full" or "quick"."""
    return {"default": default_cases, "full": all_cases, "quick": quick_cases}[mode]()


CASES_BY_ID = {case.id: case for case in all_cases()}


# ---------------------------------------------------------------------------
# Results, compared


def as_loss_and_grad(result):
    """Any implementation's result as ``(loss as float, grad ndarray or None)``."""
    def to_numpy(a):
        if hasattr(a, "detach"):  # a torch tensor
            a = a.detach().numpy()
        return np.asarray(a)

    if isinstance(result, tuple):
        loss, grad = result
        return float(to_numpy(loss)), to_numpy(grad)
    value = to_numpy(result)
    if value.ndim:                  # an array result (softmax): no loss, the array
        return 0.0, value
    return float(value), None


def tolerance(case, implementation):
    """(loss rtol, grad rtol) within which ``implementation`` must match fastloss."""
    rtol = 1e-9 if case.dtype == "float64" else 1e-4
    loss_rtol = max(rtol, 1e-3) if implementation in case.op.approx else rtol
    grad_rtol = max(rtol, 1e-3) if implementation in case.op.approx_grad else rtol
    return loss_rtol, grad_rtol


# An ``approx_grad`` implementation's gradient is compared on the entries
# where fastloss's is at most this many times 1 / pred.size in magnitude: for
# 0/1 targets (the bench's) and "mean", there the p (target 1) or 1 - p
# (target 0) that the entry divides by exceeds about 1e-3, so the eps makes a
# relative difference below 1e-4.
APPROX_GRAD_LIMIT = 1e3


def disagreements(case, results):
    """Names of implementations whose result does not match fastloss's.

    ``results`` maps implementation name -> raw result. Gradients are
    compared with an absolute tolerance scaled by the largest entry, since
    entries near zero carry no relative precision.
    """
    loss0, grad0 = as_loss_and_grad(results["fastloss"])
    bad = []
    for name, result in results.items():
        if name == "fastloss":
            continue
        loss, grad = as_loss_and_grad(result)
        loss_rtol, grad_rtol = tolerance(case, name)
        ok = np.isclose(loss, loss0, rtol=loss_rtol, atol=0.0)
        if case.op.grad or case.op.output == "array":
            ok = ok and grad is not None and grad.shape == grad0.shape
            want = grad0
            if ok and name in case.op.approx_grad:
                keep = np.abs(grad0) <= APPROX_GRAD_LIMIT / grad0.size
                grad, want = grad[keep], grad0[keep]
            ok = ok and np.allclose(grad, want, rtol=grad_rtol,
                                    atol=grad_rtol * float(np.max(np.abs(want), initial=0.0)))
        if not ok:
            bad.append(name)
    return bad
