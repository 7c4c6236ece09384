"""The public docstrings: numpydoc sections, and examples that run.

Every public function and class of ``fastloss``, ``fastloss.book``,
``fastloss.reference`` (with ``fastloss.reference.book``) and
``fastloss.dask`` (where dask is installed) is listed here by name, from
its module's ``__all__``, and its docstring's examples are run with the
standard ``doctest`` module, one test per object. The compiled functions
are Cython functions, which doctest's module discovery does not find: the
objects are handed to ``DocTestFinder`` one by one.
"""
import doctest
import importlib
import inspect

import numpy as np
import pytest

import fastloss

OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
SECTIONS = ("Parameters", "Returns", "Examples")

# fastloss.dask needs dask; its names are fastloss's ten losses
LOSSES = [
    "binary_cross_entropy", "binary_cross_entropy_and_grad",
    "cross_entropy", "cross_entropy_and_grad",
    "mean_squared_error", "mean_squared_error_and_grad",
    "sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy_and_grad",
    "softmax_cross_entropy", "softmax_cross_entropy_and_grad",
]


def _public_names(module_name):
    """The public functions and classes of a module: its ``__all__``, or
    (``fastloss.reference.book`` has none) the names it defines itself."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                 and obj.__module__ == module_name]
    return [n for n in names
            if callable(getattr(module, n)) and not inspect.ismodule(getattr(module, n))]


def _objects():
    """(qualified name, module name, attribute path) of every public object,
    the methods of the public classes included; an object reachable under
    two names (``fastloss.book.mean_squared_error`` is ``sum_squared_error``)
    is listed once."""
    found, seen = [], set()
    for module_name in ("fastloss", "fastloss.book", "fastloss.reference",
                        "fastloss.reference.binary", "fastloss.reference.book"):
        module = importlib.import_module(module_name)
        for name in _public_names(module_name):
            obj = getattr(module, name)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            found.append((f"{module_name}.{name}", module_name, name))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (inspect.isfunction(member)
                                                     or isinstance(member, property)):
                        found.append((f"{module_name}.{name}.{attr}", module_name,
                                      f"{name}.{attr}"))
    found += [(f"fastloss.dask.{n}", "fastloss.dask", n) for n in LOSSES]
    return found


OBJECTS = _objects()


def _resolve(module_name, path):
    if module_name == "fastloss.dask":
        pytest.importorskip("dask.array")
    obj = importlib.import_module(module_name)
    for part in path.split("."):
        obj = vars(obj)[part] if inspect.isclass(obj) else getattr(obj, part)
    return obj


def _doc(obj):
    return obj.fget.__doc__ if isinstance(obj, property) else obj.__doc__


def test_the_list_is_complete():
    names = {q for q, _, _ in OBJECTS}
    for name in LOSSES + ["show_config", "partial_sums", "combine_partial_sums",
                          "PartialSums"]:
        assert f"fastloss.{name}" in names
    for name in ["softmax", "cross_entropy_error", "sum_squared_error", "SoftmaxWithLoss",
                 "SoftmaxWithLoss.forward", "SoftmaxWithLoss.backward"]:
        assert f"fastloss.book.{name}" in names
        assert f"fastloss.reference.book.{name}" in names
    assert len(names) == len(OBJECTS)


@pytest.mark.parametrize("qualname,module_name,path", OBJECTS, ids=[q for q, _, _ in OBJECTS])
def test_examples_run(qualname, module_name, path):
    obj = _resolve(module_name, path)
    doc = _doc(obj)
    assert doc and ">>>" in doc, f"{qualname} has no examples"
    test = doctest.DocTestParser().get_doctest(doc, {}, qualname, None, 0)
    finder_tests = [] if isinstance(obj, property) else [
        t for t in doctest.DocTestFinder(recurse=False).find(obj, qualname, module=False, globs={})
        if t.examples]
    if finder_tests:        # functions, Cython's included, and classes
        (test,) = finder_tests
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    messages = []
    with np.printoptions(legacy=False):
        result = runner.run(test, out=messages.append)
    assert result.attempted > 0, f"{qualname}: no example ran"
    assert result.failed == 0, "".join(messages)


@pytest.mark.parametrize("qualname,module_name,path", OBJECTS, ids=[q for q, _, _ in OBJECTS])
def test_numpydoc_sections(qualname, module_name, path):
    """Functions and methods have Parameters (unless they take none),
    Returns and Examples; classes have Examples, and Parameters when their
    constructor takes arguments (numpydoc gives classes no Returns)."""
    obj = _resolve(module_name, path)
    doc = inspect.cleandoc(_doc(obj) or "")
    summary = doc.splitlines()[0] if doc else ""
    if summary.startswith(path.split(".")[-1] + "("):   # Cython's embedded signature
        summary = doc.split("\n\n", 1)[1].splitlines()[0]
    assert summary.strip(), f"{qualname}: no one-line summary"
    headers = {line.strip() for line, under in zip(doc.splitlines(), doc.splitlines()[1:])
               if under.strip() and set(under.strip()) == {"-"}
               and len(under.strip()) == len(line.strip())}
    if inspect.isclass(obj):
        params = [p for p in inspect.signature(obj).parameters]
        wanted = ("Parameters", "Examples") if params else ("Examples",)
    elif isinstance(obj, property):
        wanted = ("Examples",)
    else:
        params = [p for p in inspect.signature(obj).parameters if p != "self"]
        wanted = SECTIONS if params else ("Returns", "Examples")
    missing = [s for s in wanted if s not in headers]
    assert not missing, f"{qualname}: no {', '.join(missing)} section"


def _documented_parameters(doc):
    """The names a numpydoc Parameters section lists (``a, b : type`` lists
    two; ``*args, **kwargs`` their bare names)."""
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = next(i for i, (line, under) in enumerate(zip(lines, lines[1:]))
                     if line.strip() == "Parameters" and set(under.strip()) == {"-"})
    except StopIteration:
        return []
    names = []
    for line, after in zip(lines[start + 2:], lines[start + 3:] + [""]):
        if after.strip() and set(after.strip()) == {"-"}:
            break                               # the next section
        if line and not line.startswith(" ") and " : " in line + " : ":
            head = line.split(" : ")[0]
            names += [n.strip().lstrip("*") for n in head.split(",")]
    return names


@pytest.mark.parametrize("qualname,module_name,path",
                         [o for o in OBJECTS if not o[2].endswith(".lead")],
                         ids=[q for q, _, p in OBJECTS if not p.endswith(".lead")])
def test_the_parameters_documented_are_the_signatures(qualname, module_name, path):
    """Every parameter of the signature (which tests/test_stubs.py holds
    equal to the stubs') is documented, and nothing else is."""
    obj = _resolve(module_name, path)
    if isinstance(obj, property):
        return
    signature = [n for n in inspect.signature(obj).parameters if n != "self"]
    documented = _documented_parameters(_doc(obj))
    assert documented == signature, f"{qualname}: documents {documented}, takes {signature}"
