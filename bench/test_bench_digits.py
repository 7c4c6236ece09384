"""One training step of the book's two-layer network on the digits, per loss layer.

The pytest-benchmark twin of ``python -m fastloss.bench.digits`` (which also
trains to the end and checks the accuracy): the same network, data and
step, timed with the book's NumPy SoftmaxWithLoss and with fastloss's, in
one group. Needs scikit-learn.
"""
import pytest

from fastloss.bench import digits


@pytest.mark.parametrize("layer", [key for key, _, _ in digits.LAYERS])
@pytest.mark.parametrize("labels", ["onehot", "index"])
def test_digits_train_step(benchmark, layer, labels):
    pytest.importorskip("sklearn")
    x_train, t_train, _, _ = digits.load_data(seed=0, one_hot=labels == "onehot")
    network = digits.make_network(digits.loss_layer(layer), x_train.shape[1])
    benchmark.group = f"digits-train-step-{labels}"
    benchmark(digits.train_step, network, x_train, t_train)
