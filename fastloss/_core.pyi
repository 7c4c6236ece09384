# Stubs of the compiled extension fastloss._core (fastloss/_core.pyx).
# tests/test_stubs.py runs mypy.stubtest on them against the built extension.
#
# The loss is a NumPy scalar of the computation dtype (np.float32 for float32,
# float16 and bfloat16 input, else np.float64) for reduction="mean" or "sum",
# and an ndarray for "none": of the positions' shape (pred's without the class
# axis `axis`), or of pred's own shape for the element-wise binary losses,
# which have no class axis; the overloads tell the two apart when the
# reduction is a literal. The gradient is an ndarray of pred's shape and the gradient dtype
# (float16, bfloat16 or float32 for those inputs, else float64).
from typing import Any, Callable, Literal, Optional, SupportsIndex, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

_Scalar = np.floating[Any]
_Array = npt.NDArray[np.floating[Any]]
_Loss = Union[_Scalar, _Array]
_Index = Union[int, np.integer[Any]]

@overload
def cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Scalar: ...
@overload
def cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Array: ...
@overload
def cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Loss: ...
@overload
def softmax_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Scalar: ...
@overload
def softmax_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Array: ...
@overload
def softmax_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Loss: ...
@overload
def mean_squared_error(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Scalar: ...
@overload
def mean_squared_error(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Array: ...
@overload
def mean_squared_error(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
) -> _Loss: ...
@overload
def cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Scalar, _Array]: ...
@overload
def cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Array, _Array]: ...
@overload
def cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Loss, _Array]: ...
@overload
def softmax_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Scalar, _Array]: ...
@overload
def softmax_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Array, _Array]: ...
@overload
def softmax_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[_Index] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Loss, _Array]: ...
@overload
def mean_squared_error_and_grad(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Scalar, _Array]: ...
@overload
def mean_squared_error_and_grad(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Array, _Array]: ...
@overload
def mean_squared_error_and_grad(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    sample_weight: Optional[npt.ArrayLike] = None,
    axis: SupportsIndex = -1,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Loss, _Array]: ...
@overload
def binary_cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
) -> _Scalar: ...
@overload
def binary_cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
) -> _Array: ...
@overload
def binary_cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
) -> _Loss: ...
@overload
def sigmoid_binary_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
) -> _Scalar: ...
@overload
def sigmoid_binary_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
) -> _Array: ...
@overload
def sigmoid_binary_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
) -> _Loss: ...
@overload
def binary_cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Scalar, _Array]: ...
@overload
def binary_cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Array, _Array]: ...
@overload
def binary_cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Loss, _Array]: ...
@overload
def sigmoid_binary_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = "mean",
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Scalar, _Array]: ...
@overload
def sigmoid_binary_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: Literal["none"],
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Array, _Array]: ...
@overload
def sigmoid_binary_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: str = "mean",
    weight: Optional[npt.ArrayLike] = None,
    pos_weight: Optional[npt.ArrayLike] = None,
    label_smoothing: float = 0.0,
    sample_weight: Optional[npt.ArrayLike] = None,
    n_threads: Optional[int] = None,
    out: Optional[_Array] = None,
) -> Tuple[_Loss, _Array]: ...

# Helpers of fastloss.book and fastloss.show_config (not public API)
def sum_squared_error(y: npt.ArrayLike, t: npt.ArrayLike) -> _Scalar: ...
def softmax(x: npt.ArrayLike) -> Any: ...
def cross_entropy_error(y: npt.ArrayLike, t: npt.ArrayLike) -> _Scalar: ...
def _softmax_with_loss(x: npt.ArrayLike, t: npt.ArrayLike) -> Tuple[_Array, _Scalar]: ...
def _softmax_with_loss_backward(y: npt.ArrayLike, t: npt.ArrayLike, dout: Any) -> Optional[_Array]: ...
def _book_target_of(y: npt.ArrayLike, t: npt.ArrayLike) -> Tuple[bool, _Array]: ...
_BLOCK: int
# (loss, its *_and_grad twin, kernel family, element-wise, prediction's name)
_LOSSES: Tuple[Tuple[Callable[..., Any], Callable[..., Any], int, bool, str], ...]
def openmp_enabled() -> bool: ...
def simd() -> str: ...
def max_threads() -> int: ...

def _argmax_rows(t: object) -> Optional[npt.NDArray[np.intp]]: ...
# For the tests (not public API)
def _binary_product(
    p: npt.ArrayLike, t: npt.ArrayLike, eps: float = 1e-7, sparse: bool = False
) -> Optional[Tuple[float, float, float]]: ...
