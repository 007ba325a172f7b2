#!/usr/bin/env python3
"""Test oracle for src/analysis/changepoints.ts, written straight from the specification
(E-Divisive means with a t-test, Student's with pooled variance, as Apache Otava does it, plus the two guards; the re-tests with one report left out at alpha itself), with
no reference to the TypeScript implementation.

Input (stdin), either one case
    {"groups": [[...], ...], "options": {...}}      -> {"change_points": [...]}
or a batch
    {"cases": [{"groups": ..., "options": ...}, ...]} -> {"results": [{"change_points": [...]}, ...]}

options: alpha, tests, minReports, thresholdPct, floorNs, ciLevel (as in ChangePointOptions).
Each change point: index, before_mean, after_mean, delta_pct, ci_pct [lo, hi], p_value, direction.
Each result also carries "near_tie": true when the best split of some segment was chosen among
candidates whose floating-point Q values were within 1e-9 (relative) of each other; those were
decided by exact rational arithmetic (math ties -> smallest t), which a floating-point
implementation may legitimately decide otherwise; and "pruned": k when step D removed k change
points found by the search (so that the caller can check the pruning was exercised).

Choices where the specification is silent (reported to the caller of the oracle):
  * a t-test with fewer than 2 replicates on a side (only possible in the robustness
    re-tests, when a removed report leaves a single replicate) has no defined p: p = NaN, which
    does NOT satisfy rule 1, so the robustness guard fails;
  * "variance 0" means all replicates of the side are equal (exact comparison), not a computed
    variance that happens to round to 0.
"""
import json
import math
import sys
import warnings
from fractions import Fraction

import numpy as np
from scipy import stats

warnings.filterwarnings("ignore")


def replicates(groups, a, b):
    out = []
    for g in groups[a:b]:
        out.extend(g)
    return out


def mean(xs):
    return float(np.mean(np.asarray(xs, dtype=float)))


def all_equal(xs):
    return all(x == xs[0] for x in xs)


def pooled_p(x, y):
    """Raw two-sided p of Student's t-test with pooled variance of the replicate lists x (before) and y (after), by
    scipy.stats.ttest_ind(equal_var=True); used for the reported p values."""
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    if all_equal(x) and all_equal(y):
        return 0.0 if mean(x) != mean(y) else 1.0
    res = stats.ttest_ind(np.asarray(y, dtype=float), np.asarray(x, dtype=float), equal_var=True)
    return float(res.pvalue)


def pooled_p_many(pairs):
    """The same pooled-variance p for many (x, y) pairs in one vectorised scipy call
    (scipy.stats.ttest_ind_from_stats(equal_var=True): the test of ttest_ind from the
    means, sample standard deviations and sizes; ttest_ind costs milliseconds a call here).
    pooled_p and this agree (checked on every reported change point)."""
    ps = [float("nan")] * len(pairs)
    idx, m1, s1, n1, m2, s2, n2 = [], [], [], [], [], [], []
    for i, (x, y) in enumerate(pairs):
        if len(x) < 2 or len(y) < 2:
            continue
        if all_equal(x) and all_equal(y):
            ps[i] = 0.0 if mean(x) != mean(y) else 1.0
            continue
        xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        idx.append(i)
        m1.append(ya.mean()); s1.append(ya.std(ddof=1)); n1.append(len(ya))
        m2.append(xa.mean()); s2.append(xa.std(ddof=1)); n2.append(len(xa))
    if idx:
        res = stats.ttest_ind_from_stats(np.array(m1), np.array(s1), np.array(n1),
                                         np.array(m2), np.array(s2), np.array(n2), equal_var=True)
        for j, i in enumerate(idx):
            ps[i] = float(np.asarray(res.pvalue)[j])
    return ps


# ---------------------------------------------------------------- A. energy statistic

def q_float(d, t_rep):
    """Q of splitting a segment's replicates after the first t_rep of them, by brute force from
    d, the matrix of all |z_i - z_j| of the segment (no prefix sums)."""
    m, k = t_rep, d.shape[0] - t_rep
    between = float(np.sum(d[:t_rep, t_rep:]))
    wx = float(np.sum(d[:t_rep, :t_rep])) / 2  # d is symmetric with a zero diagonal
    wy = float(np.sum(d[t_rep:, t_rep:])) / 2
    e = 2.0 * between / (m * k) - wx / (m * (m - 1) / 2) - wy / (k * (k - 1) / 2)
    return (m * k / (m + k)) * e


def q_exact(zs, t_rep):
    """Same Q in exact rational arithmetic (for deciding near-ties). Every float is a dyadic
    rational, so the replicates times a common power of two are integers and the three sums of
    |differences| are exact integers (numpy int64 when they cannot overflow, else Python ints)."""
    den = max(v.as_integer_ratio()[1] for v in map(float, zs))
    ints = [int(Fraction(v) * den) for v in zs]
    m, k = t_rep, len(ints) - t_rep
    if max(abs(v) for v in ints) * len(ints) ** 2 < 2 ** 60:
        z = np.asarray(ints, dtype=np.int64)
        d = np.abs(z[:, None] - z[None, :])
        between = int(np.sum(d[:m, m:]))
        wx = int(np.sum(d[:m, :m])) // 2  # symmetric, zero diagonal: exactly twice the i<j sum
        wy = int(np.sum(d[m:, m:])) // 2
    else:
        x, y = ints[:m], ints[m:]
        between = sum(abs(a - b) for a in x for b in y)
        wx = sum(abs(x[i] - x[j]) for i in range(m) for j in range(i + 1, m))
        wy = sum(abs(y[i] - y[j]) for i in range(k) for j in range(i + 1, k))
    e = (Fraction(2 * between, m * k) - Fraction(wx * 2, m * (m - 1)) - Fraction(wy * 2, k * (k - 1))) / den
    return Fraction(m * k, m + k) * e


def best_split(groups, a, b, o, diag):
    mr = o["minReports"]
    zs = replicates(groups, a, b)
    z = np.asarray(zs, dtype=float)
    d = np.abs(z[:, None] - z[None, :])
    cands = []  # (t, t_rep, Q)
    for t in range(a + mr, b - mr + 1):
        t_rep = sum(len(g) for g in groups[a:t])
        m, k = t_rep, len(zs) - t_rep
        if m < 2 or k < 2:
            continue
        cands.append((t, t_rep, q_float(d, t_rep)))
    if not cands:
        return None
    qmax = max(c[2] for c in cands)
    tol = 1e-9 * max(abs(qmax), 1e-300)
    near = [c for c in cands if qmax - c[2] <= tol]
    if len(near) == 1:
        return near[0][0]
    diag["near_tie"] = True
    best_t, best_q = None, None
    for t, t_rep, _ in near:  # ascending t: strict > keeps the smallest t on exact ties
        qe = q_exact(zs, t_rep)
        if best_q is None or qe > best_q:
            best_t, best_q = t, qe
    return best_t


# ---------------------------------------------------------------- B. test of a split

def test_split(groups, la, lb, ra, rb, o, level):
    """B with L = reports [la, lb), R = [ra, rb) (lb == ra). Returns (passes, raw p).
    The full test and every robustness re-test (rules 1 and 2, same sign) are evaluated."""
    x = replicates(groups, la, lb)
    y = replicates(groups, ra, rb)
    pairs = [(x, y)]
    if lb - la >= 2:
        for r in range(la, lb):
            pairs.append((replicates(groups, la, r) + replicates(groups, r + 1, lb), y))
    if rb - ra >= 2:
        for r in range(ra, rb):
            pairs.append((x, replicates(groups, ra, r) + replicates(groups, r + 1, rb)))
    ps = pooled_p_many(pairs)
    sign0 = None
    ok_all = True
    for k, ((xx, yy), p) in enumerate(zip(pairs, ps)):
        ml, mr_ = mean(xx), mean(yy)
        diff = mr_ - ml
        sign = (diff > 0) - (diff < 0)
        if sign0 is None:
            sign0 = sign
        # The whole sides at the series' level, the re-tests with one report left out at alpha itself.
        ok = (p < (level if k == 0 else o["alpha"]))  # NaN (a side of fewer than 2 replicates) -> False
        ok = ok and abs(diff) >= o["floorNs"] and 100.0 * abs(diff) / ml >= o["thresholdPct"]
        ok = ok and sign == sign0
        if not ok:
            ok_all = False
            break
    return ok_all, ps[0]


# ---------------------------------------------------------------- C, D, E

def change_points(groups, o):
    n = len(groups)
    level = o["alpha"] / o["tests"]
    mr = o["minReports"]
    diag = {}
    cache = {}

    def test_b(la, lb, rb):
        if (la, lb, rb) not in cache:
            cache[(la, lb, rb)] = test_split(groups, la, lb, lb, rb, o, level)
        return cache[(la, lb, rb)]

    # C. recursive search, depth-first, left before right
    found = []
    stack = [(0, n)]
    while stack:
        a, b = stack.pop()
        if b - a < 2 * mr:
            continue
        t = best_split(groups, a, b, o, diag)
        if t is None:
            continue
        ok, _ = test_b(a, t, b)
        if not ok:
            continue
        found.append(t)
        stack.append((t, b))  # right pushed first so that left is processed first
        stack.append((a, t))

    # D. pruning with final neighbours
    cps = sorted(found)
    while True:
        bounds = [0] + cps + [n]
        failures = []  # (raw p, position)
        for i in range(1, len(bounds) - 1):
            ok, p = test_b(bounds[i - 1], bounds[i], bounds[i + 1])
            if not ok:
                failures.append((p, i - 1))
        if not failures:
            break
        worst = None
        for p, pos in failures:  # largest p, ties -> leftmost (strict > keeps the first)
            if worst is None or p > worst[0]:
                worst = (p, pos)
        del cps[worst[1]]
        diag["pruned"] = diag.get("pruned", 0) + 1

    # E. output
    out = []
    bounds = [0] + cps + [n]
    for i in range(1, len(bounds) - 1):
        x = replicates(groups, bounds[i - 1], bounds[i])
        y = replicates(groups, bounds[i], bounds[i + 1])
        bm, am = mean(x), mean(y)
        diff = am - bm
        delta = 100.0 * diff / bm
        xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        nl, nr = len(x), len(y)
        vl = 0.0 if all_equal(x) else float(np.var(xa, ddof=1))
        vr = 0.0 if all_equal(y) else float(np.var(ya, ddof=1))
        df = nl + nr - 2
        se = math.sqrt(((nl - 1) * vl + (nr - 1) * vr) / df * (1 / nl + 1 / nr))
        if se == 0:
            ci = [delta, delta]
        else:
            half = float(stats.t.ppf((1 + o["ciLevel"]) / 2, df)) * se
            ci = [100.0 * (diff - half) / bm, 100.0 * (diff + half) / bm]
        p = pooled_p(x, y)
        p_fast = test_b(bounds[i - 1], bounds[i], bounds[i + 1])[1]
        assert p == p_fast or abs(p - p_fast) <= 1e-9 * max(p, p_fast) or max(p, p_fast) < 1e-300, (p, p_fast)
        out.append({
            "index": bounds[i],
            "before_mean": bm,
            "after_mean": am,
            "delta_pct": delta,
            "ci_pct": ci,
            "p_value": min(1.0, p * o["tests"]),
            "raw_p": p,
            "direction": "regressed" if diff > 0 else "improved",
        })
    res = {"change_points": out}
    if diag.get("near_tie"):
        res["near_tie"] = True
    if diag.get("pruned"):
        res["pruned"] = diag["pruned"]
    return res


def main():
    data = json.load(sys.stdin)
    if "cases" in data:
        out = {"results": [change_points(c["groups"], c["options"]) for c in data["cases"]]}
    else:
        out = change_points(data["groups"], data["options"])
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
