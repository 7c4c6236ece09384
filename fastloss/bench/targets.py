"""Speed targets: read from a JSON file, checked against one benchmark run.

``python -m fastloss.bench --targets`` reads ``bench/targets.json`` of the
source checkout (``--targets FILE`` another file) and prints, after the
user's table, whether each target is met in that run. The file holds a list
``"targets"`` of objects with these keys:

``title``     what the table prints
``case``      the id of the case that measures it (``python -m fastloss.bench --list``)
``kind``      "speedup": the baseline's time / fastloss's time >= ``bound``;
              "time": fastloss's whole-call time <= ``bound`` microseconds;
              "floor": fastloss's time / the time of ``np.sum(pred) +
              np.sum(target)`` on the same arrays <= ``bound``;
              "relative": fastloss's time / fastloss's time on the case
              ``against`` (another dtype, no sample weights) <= ``bound``;
              "added": fastloss's time - fastloss's time on the case
              ``against`` <= ``bound`` microseconds
``bound``     the number the measurement is held to
``baseline``  for "speedup", the implementation compared with (default "numpy")
``against``   for "relative" and "added", the id of the case compared with
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

KINDS = ("speedup", "time", "floor", "relative", "added")
_AGAINST = ("relative", "added")     # the kinds that compare two cases
FILE_NAME = "targets.json"


@dataclass(frozen=True)
class Target:
    """One goal, tied to the case that measures it (see the module docstring)."""

    title: str
    case_id: str
    kind: str
    bound: float
    baseline: str = "numpy"
    against: str = ""


def default_path():
    """``bench/targets.json`` of the checkout: the one under the current
    directory, else the one beside the package's own source tree. Where
    neither exists, the first (an error message names it)."""
    candidates = [Path.cwd() / "bench" / FILE_NAME,
                  Path(__file__).resolve().parents[2] / "bench" / FILE_NAME]
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0]


def load(path):
    """The targets of a JSON file, in its order; ValueError if one is malformed."""
    with open(path) as f:
        data = json.load(f)
    targets = []
    for i, entry in enumerate(data.get("targets", []) if isinstance(data, dict) else []):
        try:
            target = Target(title=str(entry["title"]), case_id=str(entry["case"]),
                            kind=str(entry["kind"]), bound=float(entry["bound"]),
                            baseline=str(entry.get("baseline", "numpy")),
                            against=str(entry.get("against", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: target {i} is malformed ({exc!r})") from None
        if target.kind not in KINDS:
            raise ValueError(f"{path}: target {i} has kind {target.kind!r}, not one of {KINDS}")
        if (target.kind in _AGAINST) != bool(target.against):
            raise ValueError(f"{path}: target {i}: \"against\" goes with the kinds "
                             f"{_AGAINST} and only with them")
        targets.append(target)
    if not targets:
        raise ValueError(f"{path}: no targets (a JSON object with a list \"targets\")")
    return tuple(targets)


def case_ids(targets):
    """Every case a target measures or is compared with, in order."""
    ids = []
    for t in targets:
        for cid in (t.case_id, t.against):
            if cid and cid not in ids:
                ids.append(cid)
    return ids


def floor_case_ids(targets):
    """The cases that must also time the floor, np.sum of both inputs."""
    return frozenset(t.case_id for t in targets if t.kind == "floor")


def evaluate(targets, records):
    """Each target's measured value and status ("met", "MISSED", "not measured")."""
    by_id = {r["id"]: r for r in records}
    out = []
    for target in targets:
        r = by_id.get(target.case_id)
        entry = {"title": target.title, "case": target.case_id, "kind": target.kind,
                 "bound": target.bound, "baseline": target.baseline, "value": None,
                 "status": "not measured"}
        if r is not None:
            fast = r["impls"]["fastloss"]["us"]
            if target.kind == "speedup":
                base = r["impls"].get(target.baseline)
                if base is None:
                    entry["status"] = ("n/a (torch not installed)" if target.baseline == "torch"
                                       else "not measured")
                else:
                    entry["value"] = base["us"] / fast
                    entry["status"] = "met" if entry["value"] >= target.bound else "MISSED"
            elif target.kind == "time":
                entry["value"] = fast
                entry["status"] = "met" if fast <= target.bound else "MISSED"
            elif target.kind in _AGAINST:
                other = by_id.get(target.against)
                if other is not None:
                    them = other["impls"]["fastloss"]["us"]
                    entry["value"] = fast / them if target.kind == "relative" else fast - them
                    entry["status"] = "met" if entry["value"] <= target.bound else "MISSED"
            elif target.kind == "floor" and r["floor_us"]:
                entry["value"] = fast / r["floor_us"]
                entry["floor_us"] = r["floor_us"]
                entry["status"] = "met" if entry["value"] <= target.bound else "MISSED"
        out.append(entry)
    return out


def format_table(evaluated, source, table):
    """The targets section of the report; ``table`` lays out rows of cells."""
    rows = []
    for t in evaluated:
        v, b = t["value"], t["bound"]
        if t["kind"] == "speedup":
            measured, goal = ("-" if v is None else f"{v:.1f}x"), f">= {b:g}x"
        elif t["kind"] == "time":
            measured, goal = ("-" if v is None else f"{v:.3f} us"), f"<= {b:g} us"
        elif t["kind"] == "relative":
            measured, goal = ("-" if v is None else f"{v:.2f}x"), f"<= {b:g}x"
        elif t["kind"] == "added":
            measured, goal = ("-" if v is None else f"{v:+.3f} us"), f"<= +{b:g} us"
        else:
            measured = "-" if v is None else f"{v:.2f}x the floor"
            goal = f"<= {b:g}x"
        rows.append([t["title"], measured, goal, t["status"]])
    met = sum(t["status"] == "met" for t in evaluated)
    missed = sum(t["status"] == "MISSED" for t in evaluated)
    head = (f"Targets of {source} (same run, one thread, minimum of repeats): {met} met, "
            f"{missed} missed, {len(evaluated) - met - missed} not measured")
    return head + "\n" + table(["target", "measured", "goal", "result"], rows, list("<>><"))
