"""Argument validation of the reference losses (the rules of docs/contract.md).

Every check raises the error type and message the public API promises; the
loss functions call them all before they look at a single label value, so
argument, dtype and shape errors always win over label errors.
"""

import numbers

import numpy as np

REDUCTIONS = ("mean", "sum", "none")

# bool, signed and unsigned integers, floats: the dtypes a loss input may have.
_REAL_KINDS = "biuf"


def check_reduction(reduction):
    """Return `reduction` if it is "mean", "sum" or "none", else raise ValueError."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        valid = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"reduction must be one of {valid}, got {reduction!r}")
    return reduction


def check_n_threads(n_threads):
    """Accept None or an integer >= 1 (not a bool); the reference ignores it."""
    is_int = (isinstance(n_threads, (int, np.integer))
              and not isinstance(n_threads, (bool, np.timedelta64)))
    if n_threads is not None and not (is_int and n_threads >= 1):
        raise ValueError(f"n_threads must be None or an int >= 1, got {n_threads!r}")


def _real_number(value, name):
    """Return `value` as a float if it is a real number, else raise TypeError."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_eps(eps):
    """Return `eps` as a float; it must be a real number >= 0 (not NaN)."""
    value = _real_number(eps, "eps")
    if not value >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    return value


def check_label_smoothing(label_smoothing):
    """Return `label_smoothing` as a float; it must be a real number in [0, 1]."""
    value = _real_number(label_smoothing, "label_smoothing")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return value


def check_ignore_index(ignore_index, dense_target):
    """Return `ignore_index` as a Python int (or None).

    It must be None or an integer (Python or NumPy, not bool), and it is only
    meaningful with class-index targets.
    """
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index must be None or an int, got {ignore_index!r}")
    if dense_target:
        raise ValueError(
            f"ignore_index={ignore_index!r} is only valid with class-index targets, "
            "not with a dense (one-hot or soft) target"
        )
    return int(ignore_index)


def _as_real_array(value, name):
    """np.asarray(value), which must have a bool, integer or float dtype, else TypeError."""
    array = np.asarray(value)
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(f"unsupported dtype {array.dtype} for {name}")
    return array


def computation_dtype(array):
    """float32 if `array` is float32 (either byte order), float64 otherwise."""
    return np.dtype(np.float32 if array.dtype.type is np.float32 else np.float64)


def as_pred(pred, name):
    """Return `pred` as a C-contiguous native array of the computation dtype.

    `name` is the argument's name in messages. Its shape must be (N, C) or
    (C,) with C >= 1. Working on a contiguous
    native copy makes every memory layout give the same bits.
    """
    pred = _as_real_array(pred, name)
    if pred.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (N, C) or (C,), got shape {pred.shape}")
    if pred.shape[-1] == 0:
        raise ValueError(f"{name} has 0 classes (shape {pred.shape}); C must be at least 1")
    return np.ascontiguousarray(pred, dtype=computation_dtype(pred))


def as_dense_like(target, pred, name="target"):
    """Return `target` as a C-contiguous array of pred's dtype and exactly pred's shape."""
    target = _as_real_array(target, name)
    if target.shape != pred.shape:
        raise ValueError(
            f"{name} shape {target.shape} does not match pred shape {pred.shape}"
        )
    return np.ascontiguousarray(target, dtype=pred.dtype)


def as_class_target(target, pred):
    """Split a cross-entropy target into (labels, dense); exactly one is not None.

    Integer arrays and Python ints are class indices of shape pred.shape[:-1];
    float or bool arrays of pred's shape are dense targets, converted to
    pred's dtype. Nothing is ever broadcast.
    """
    index_shape = pred.shape[:-1]
    if (isinstance(target, int) and not isinstance(target, bool)
            and not -(2**63) <= target < 2**63):
        # a Python int beyond int64 is still a class index: out of range,
        # reported with the labels (after every argument check)
        if index_shape != ():
            raise ValueError(
                f"class-index target shape () does not match pred shape "
                f"{pred.shape}: class indices must have shape {index_shape}")
        return np.array(target, dtype=object), None
    target = _as_real_array(target, "target")
    if target.dtype.kind in "iu":
        if target.shape != index_shape:
            raise ValueError(
                f"class-index target shape {target.shape} does not match pred shape "
                f"{pred.shape}: class indices must have shape {index_shape}"
            )
        return target, None
    if target.shape == index_shape:
        raise TypeError(
            f"class indices must be integers, got a {target.dtype} target of shape "
            f"{target.shape}"
        )
    if target.shape != pred.shape:
        raise ValueError(
            f"target shape {target.shape} does not match pred shape {pred.shape}: "
            f"expected {index_shape} (class indices) or {pred.shape} (dense target)"
        )
    return None, np.ascontiguousarray(target, dtype=pred.dtype)


def as_weight(weight, pred):
    """Return the class weights as an array of pred's dtype and shape (C,), or None."""
    if weight is None:
        return None
    weight = _as_real_array(weight, "weight")
    n_classes = pred.shape[-1]
    if weight.shape != (n_classes,):
        raise ValueError(
            f"weight must have shape ({n_classes},), one per class, got shape {weight.shape}"
        )
    return np.asarray(weight, dtype=pred.dtype)


def check_out(out, pred):
    """Check that `out` can receive the gradient of `pred`, before anything is written."""
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != pred.dtype:
        raise TypeError(
            f"out must have the native dtype {pred.dtype} of the computation, got {out.dtype}"
        )
    if out.shape != pred.shape:
        raise ValueError(f"out must have pred's shape {pred.shape}, got shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError("out must be writable")


def ignored_rows(labels, ignore_index):
    """Boolean mask of the labels equal to `ignore_index`, compared as integers.

    NumPy 2 compares an integer array with a Python int by value, so an
    ignore_index outside the label dtype's range (-100 for uint8) never matches.
    """
    if ignore_index is None:
        return np.zeros(labels.shape, dtype=bool)
    return labels == ignore_index


def check_labels(labels, n_classes, ignored):
    """Raise IndexError naming the first row whose label is outside [0, C) and not ignored."""
    bad = ~ignored & ((labels < 0) | (labels >= n_classes))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise IndexError(
            f"target {int(labels[row])} is out of range for {n_classes} classes (row {row})"
        )
