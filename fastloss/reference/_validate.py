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


def check_ignore_index(ignore_index):
    """Return `ignore_index` as a Python int (or None): None or an integer
    (Python or NumPy, not bool)."""
    if ignore_index is None:
        return None
    if (isinstance(ignore_index, (bool, np.timedelta64))
            or not isinstance(ignore_index, (int, np.integer))):
        raise TypeError(f"ignore_index must be None or an int, got {ignore_index!r}")
    return int(ignore_index)


def check_ignore_index_target(ignore_index, dense_target):
    """ignore_index is only meaningful with class-index targets."""
    if ignore_index is not None and dense_target:
        raise ValueError(
            f"ignore_index={ignore_index!r} is only valid with class-index targets, "
            "not with a dense (one-hot or soft) target"
        )


def _as_real_array(value, name):
    """np.asarray(value), which must have a bool, integer or float dtype, else TypeError."""
    array = np.asarray(value)
    # NumPy's own floats only: ml_dtypes' float8 types have kind "f" too
    if array.dtype.kind not in _REAL_KINDS or (
            array.dtype.kind == "f"
            and array.dtype.type not in (np.float16, np.float32, np.float64, np.longdouble)):
        raise TypeError(f"unsupported dtype {array.dtype} for {name}")
    return array


def _is_bfloat16(dtype):
    """ml_dtypes' bfloat16, recognised by the dtype itself (no import)."""
    return dtype.kind == "V" and dtype.itemsize == 2 and dtype.name == "bfloat16"


def _is_half(dtype):
    return dtype.type is np.float16 or _is_bfloat16(dtype)


def _as_real_or_half_array(value, name):
    """np.asarray(value): a real array or a float16/bfloat16 one, else TypeError."""
    array = np.asarray(value)
    return array if _is_half(array.dtype) else _as_real_array(array, name)


def computation_dtype(array):
    """float32 if `array` is float32, float16 (either byte order) or bfloat16,
    float64 otherwise."""
    if array.dtype.type in (np.float32, np.float16) or _is_bfloat16(array.dtype):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def grad_dtype(array):
    """The gradient's dtype: native float16, bfloat16 or float32 for those
    inputs, float64 for every other."""
    if array.dtype.type is np.float16:
        return np.dtype(np.float16)
    if _is_bfloat16(array.dtype):
        return array.dtype
    return computation_dtype(array)


def as_pred(pred, name):
    """Return (`pred` as a C-contiguous native array of the computation
    dtype, the gradient's dtype).

    `name` is the argument's name in messages. It needs at least one axis.
    Working on a contiguous native copy makes every memory layout give the
    same bits.
    """
    array = pred if isinstance(pred, np.ndarray) else np.asarray(pred)
    if not _is_half(array.dtype):
        array = _as_real_array(array, name)
    if array.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (the classes), got shape ()")
    return np.ascontiguousarray(array, dtype=computation_dtype(array)), grad_dtype(array)


def check_axis(axis, pred, name):
    """Return the class axis as an index in [0, pred.ndim); a bad one raises
    numpy.exceptions.AxisError (TypeError if it is not an int); its
    length C must be at least 1."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {axis!r}")
    axis = int(axis)
    if not -pred.ndim <= axis < pred.ndim:
        raise np.exceptions.AxisError(axis, pred.ndim)
    axis %= pred.ndim
    if pred.shape[axis] == 0:
        raise ValueError(f"{name} has 0 classes (shape {pred.shape}, axis {axis}); "
                         "C must be at least 1")
    return axis


def positions_shape(pred, axis):
    """pred's shape without the class axis."""
    return pred.shape[:axis] + pred.shape[axis + 1:]


def as_dense_like(target, pred, name="target"):
    """Return `target` as a C-contiguous array of pred's dtype and exactly pred's shape."""
    target = _as_real_or_half_array(target, name)
    if target.shape != pred.shape:
        raise ValueError(
            f"{name} shape {target.shape} does not match pred shape {pred.shape}"
        )
    return np.ascontiguousarray(target, dtype=pred.dtype)


def as_class_target(target, pred, axis=-1):
    """Split a cross-entropy target into (labels, dense); exactly one is not None.

    Integer arrays and Python ints are class indices of the positions'
    shape (pred's without the class axis); float or bool arrays of pred's
    shape are dense targets, converted to pred's dtype. Nothing is ever
    broadcast.
    """
    index_shape = positions_shape(pred, axis % pred.ndim)
    if (isinstance(target, int) and not isinstance(target, bool)
            and not -(2**63) <= target < 2**63):
        # a Python int beyond int64 is still a class index: out of range,
        # reported with the labels (after every argument check)
        if index_shape != ():
            raise ValueError(
                f"class-index target shape () does not match pred shape "
                f"{pred.shape}: class indices must have shape {index_shape}")
        return np.array(target, dtype=object), None
    target = _as_real_or_half_array(target, "target")
    if target.dtype.kind in "iu":
        if target.shape != index_shape:
            raise ValueError(
                f"class-index target shape {target.shape} does not match pred shape "
                f"{pred.shape}: integer targets are class indices of shape {index_shape} "
                f"(one-hot rows must be float or bool)"
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


def as_weight(weight, pred, axis=-1):
    """Return the class weights as an array of pred's dtype and shape (C,), or None."""
    if weight is None:
        return None
    weight = _as_real_array(weight, "weight")
    n_classes = pred.shape[axis]
    if weight.shape != (n_classes,):
        raise ValueError(
            f"weight must have shape ({n_classes},), one per class, got shape {weight.shape}"
        )
    return np.asarray(weight, dtype=pred.dtype)


def as_sample_weight(sample_weight, pred, axis):
    """Return the per-position weights as an array of pred's dtype and the
    positions' shape, or None."""
    if sample_weight is None:
        return None
    sample_weight = _as_real_or_half_array(sample_weight, "sample_weight")
    positions = positions_shape(pred, axis)
    if sample_weight.shape != positions:
        raise ValueError(
            f"sample_weight shape {sample_weight.shape} does not match the positions' "
            f"shape {positions} (pred shape {pred.shape} without axis {axis})")
    return np.asarray(sample_weight, dtype=pred.dtype)


def check_out(out, pred, dtype):
    """Check that `out` can receive the gradient of `pred` (of `dtype`),
    before anything is written."""
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(
            f"out must have the gradient's native dtype {dtype}, got {out.dtype}"
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


def check_labels(labels, n_classes, ignored, positions=None):
    """Raise IndexError naming the first position whose label is outside
    [0, C) and not ignored: its row, or for two or more position axes
    (`positions`, the positions' shape) its index tuple."""
    bad = ~ignored & ((labels < 0) | (labels >= n_classes))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        if positions is not None and len(positions) >= 2:
            where = "position " + str(tuple(int(i) for i in np.unravel_index(row, positions)))
        else:
            where = f"row {row}"
        raise IndexError(
            f"target {int(labels[row])} is out of range for {n_classes} classes ({where})"
        )
