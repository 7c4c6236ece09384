"""fastloss's benchmarks.

``python -m fastloss.bench``            every loss and gradient against NumPy (and PyTorch)
``python -m fastloss.bench --targets``  the same, and whether the speed targets of
                                        bench/targets.json are met
``python -m fastloss.bench.digits``     end-to-end: the book's two-layer network on the digits

The cases live in :mod:`fastloss.bench.cases`, the reading and checking of
targets in :mod:`fastloss.bench.targets`; the pytest-benchmark suites in the
repository's ``bench/`` folder read the same cases.
"""
