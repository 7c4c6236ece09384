"""fastloss's benchmarks.

``python -m fastloss.bench``         every loss and gradient against NumPy (and PyTorch)
``python -m fastloss.bench.digits``  end-to-end: the book's two-layer network on the digits

The cases live in :mod:`fastloss.bench.cases`; the pytest-benchmark suites in
the repository's ``bench/`` folder read the same module.
"""
