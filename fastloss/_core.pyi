# Stubs of the compiled extension fastloss._core (fastloss/_core.pyx).
from typing import Literal, Optional, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

_Reduction = Literal["mean", "sum", "none"]
_Loss = Union[np.floating, npt.NDArray[np.floating]]
_Grad = npt.NDArray[np.floating]

def cross_entropy(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: _Reduction = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[int] = None,
    label_smoothing: float = 0.0,
    n_threads: Optional[int] = None,
) -> _Loss: ...
def softmax_cross_entropy(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: _Reduction = "mean",
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[int] = None,
    label_smoothing: float = 0.0,
    n_threads: Optional[int] = None,
) -> _Loss: ...
def mean_squared_error(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: _Reduction = "mean",
    n_threads: Optional[int] = None,
) -> _Loss: ...
def cross_entropy_and_grad(
    probs: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: _Reduction = "mean",
    eps: float = 1e-7,
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[int] = None,
    label_smoothing: float = 0.0,
    n_threads: Optional[int] = None,
    out: Optional[_Grad] = None,
) -> Tuple[_Loss, _Grad]: ...
def softmax_cross_entropy_and_grad(
    logits: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: _Reduction = "mean",
    weight: Optional[npt.ArrayLike] = None,
    ignore_index: Optional[int] = None,
    label_smoothing: float = 0.0,
    n_threads: Optional[int] = None,
    out: Optional[_Grad] = None,
) -> Tuple[_Loss, _Grad]: ...
def mean_squared_error_and_grad(
    pred: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    reduction: _Reduction = "mean",
    n_threads: Optional[int] = None,
    out: Optional[_Grad] = None,
) -> Tuple[_Loss, _Grad]: ...
def sum_squared_error(y: npt.ArrayLike, t: npt.ArrayLike) -> np.floating: ...
@overload
def _softmax(x: npt.ArrayLike, t: None = None, eps: float = 1e-7) -> _Grad: ...
@overload
def _softmax(x: npt.ArrayLike, t: npt.ArrayLike, eps: float = 1e-7) -> Tuple[_Grad, np.floating]: ...
def openmp_enabled() -> bool: ...
def simd() -> str: ...
def max_threads() -> int: ...
