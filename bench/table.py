"""Render the collected results as markdown, each figure next to its target."""

import statistics

from bench import targets as T


def _ratio(a, b):
    return a / b if a and b else None


def _fmt(x, spec=",.0f", unit=""):
    return "—" if x is None else f"{x:{spec}}{unit}"


def throughput(rows: list[dict]) -> list[str]:
    as_written = any("usual_openmp_defaults" in r for r in rows)
    out = [
        "## Training throughput (images/s, same model, batch and images)",
        "",
        "usual way: with the project's thread policy (OMP_WAIT_POLICY=PASSIVE)"
        + ("; as written: the same loop with OpenMP defaults, fresh interpreter" if as_written else ""),
        "",
        "| model | batch | usual way | ours | ratio | target | result |"
        + (" usual, as written | ratio to it |" if as_written else ""),
        "|---|---|---|---|---|---|---|" + ("---|---|" if as_written else ""),
    ]
    cnn = {r["batch"]: _ratio(r["ours"], r["usual"]) for r in rows if r["arch"] == "simple_cnn"}
    for r in rows:
        ratio = _ratio(r["ours"], r["usual"])
        if r["arch"] == "mlp":
            need = max(T.SPEEDUP_MLP, cnn.get(r["batch"]) or 0)
            target = f"≥{T.SPEEDUP_MLP:g}x and > simple_cnn"
        else:
            need, target = T.SPEEDUP_CNN, f"≥{T.SPEEDUP_CNN:g}x"
        ok = None if ratio is None or r["arch"] not in ("mlp", "simple_cnn") else ratio >= need
        line = (
            f"| {r['arch']} | {r['batch']} | {_fmt(r['usual'])} | {_fmt(r['ours'])} | "
            f"{_fmt(ratio, '.1f', 'x')} | {target} | {T.mark(ok)} |"
        )
        if as_written:
            written = r.get("usual_openmp_defaults")
            line += f" {_fmt(written)} | {_fmt(_ratio(r['ours'], written), '.1f', 'x')} |"
        out.append(line)
    return out


def _reached(run: dict, t: float) -> str:
    s = run["reached"].get(t)
    if s is not None:
        return f"{s:.0f} s"
    return f"not reached: best {run['best']:.2%} in {run['seconds']:.0f} s ({run['epochs']} epoch{'s' if run['epochs'] != 1 else ''})"


def accuracy(result: dict) -> list[str]:
    usual, ours = result["usual"], result["ours"]
    out = [
        f"## Time to test accuracy (training seconds, tests excluded; budget {result['budget_s']:.0f} s each)",
        "",
        f"usual: {result['usual_label']}; ours: {result['ours_label']}",
        "",
        "| accuracy | usual way | ours | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for t in result["targets"]:
        a, b = usual["reached"].get(t), ours["reached"].get(t)
        if b is not None and a is None:
            bound = usual["seconds"] / b  # a lower bound: the usual way might get there after its budget
            ratio = f">{bound:.1f}x (usual never got there)"
            ok = True if bound >= T.TIME_TO_91 else None  # undecided: a longer budget is needed
        else:
            r = _ratio(a, b)
            ratio, ok = _fmt(r, ".1f", "x"), (None if r is None else r >= T.TIME_TO_91)
        ok = ok if t == 0.91 else None
        target = f"≥{T.TIME_TO_91:g}x" if t == 0.91 else "(shown)"
        out.append(f"| {t:.0%} | {_reached(usual, t)} | {_reached(ours, t)} | {ratio} | {target} | {T.mark(ok)} |")
    return out


def latency(rows: list[dict]) -> list[str]:
    n = rows[0]["test_images"] if rows else 0
    out = [
        "## Latency (p50 / p95; fresh = untrained model with the preset's settings)",
        "",
        f"| model | classify a drawing (ms) | all feature maps (ms) | test set, {n:,} images (s) | result |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        arch = r["model"].split(" ")[0]
        checks = [r["classify"]["p50"] <= T.CLASSIFY_MS]
        if arch in ("simple_cnn", "lenet5"):
            checks.append(r["feature_maps"]["p50"] <= T.FEATURE_MAPS_MS)
        if arch == "simple_cnn":
            checks.append(r["test_set"]["p50"] / 1000 <= T.TEST_SET_S)
        c, f, t = r["classify"], r["feature_maps"], r["test_set"]
        out.append(
            f"| {r['model']} | {c['p50']:.1f} / {c['p95']:.1f} | {f['p50']:.1f} / {f['p95']:.1f} | "
            f"{t['p50'] / 1000:.2f} / {t['p95'] / 1000:.2f} | {T.mark(all(checks))} |"
        )
    out += [
        "",
        f"Targets: classify p50 ≤ {T.CLASSIFY_MS:g} ms (every model); feature maps p50 ≤ "
        f"{T.FEATURE_MAPS_MS:g} ms (simple_cnn, lenet5); test set p50 ≤ {T.TEST_SET_S:g} s (simple_cnn).",
    ]
    return out


def memory(m: dict) -> list[str]:
    ok = m["peak_mb"] <= T.RSS_MB
    what = "streamlit + dashboard.common + dataset" if m["app_imports"] else "core + dataset (streamlit missing)"
    return [
        "## Memory",
        "",
        "| process | peak RSS | target | result |",
        "|---|---|---|---|",
        f"| {what} + {len(m['models'])} models ({', '.join(m['models'])}; fresh: {', '.join(m['fresh']) or 'none'}) | "
        f"{m['peak_mb']:,.0f} MB (before models {m['before_models_mb']:,.0f} MB) | ≤{T.RSS_MB:,.0f} MB | "
        f"{T.mark(ok)} |",
    ]


def process(p: dict) -> list[str]:
    ratio = _ratio(p["usual"], p["ours"])
    runs = len(p.get("ours_all", [p["ours"]]))
    each = {way: ", ".join(f"{t:.1f}" for t in p.get(f"{way}_all", [p[way]])) for way in ("usual", "ours")}
    return [
        "## Whole process, one epoch (fresh interpreter: imports, data, training, test)",
        "",
        f"| command | wall time (median of {runs}) | every run |",
        "|---|---|---|",
        f"| `{p['usual_cmd']}` | {p['usual']:.1f} s | {each['usual']} |",
        f"| `{p['ours_cmd']}` | {p['ours']:.1f} s | {each['ours']} |",
        f"| ratio (target ≥{T.WHOLE_PROCESS:g}x) | {ratio:.1f}x | {T.mark(ratio >= T.WHOLE_PROCESS)} |",
    ]


def quick_demo(q: dict) -> list[str]:
    ratio = _ratio(q["ours"], q["usual"])
    runs = len(q["ours_all"])
    accuracy = statistics.median(q["ours_accuracy"])
    ok = ratio <= T.QUICK_DEMO_RATIO and min(q["ours_accuracy"]) >= T.QUICK_DEMO_ACCURACY

    def each(way):
        return ", ".join(f"{t:.1f} s ({a:.2%})" for t, a in zip(q[f"{way}_all"], q[f"{way}_accuracy"]))

    return [
        "## Quick demo, whole process (fresh interpreter: imports, data, training, test)",
        "",
        f"| command | wall time (median of {runs}) | every run (test accuracy) |",
        "|---|---|---|",
        f"| `{q['usual_cmd']}`, one epoch | {q['usual']:.1f} s | {each('usual')} |",
        *(
            [f"| the same with OMP_WAIT_POLICY=PASSIVE (reference) | {q['passive']:.1f} s | {each('passive')} |"]
            if "passive" in q
            else []
        ),
        f"| `{q['ours_cmd']}` | {q['ours']:.1f} s | {each('ours')} |",
        f"| ours / one usual epoch (target ≤{T.QUICK_DEMO_RATIO:g}x, every run ≥{T.QUICK_DEMO_ACCURACY:.0%}) | "
        f"{ratio:.2f}x, {accuracy:.2%} | {T.mark(ok)} |",
        *(
            [f"| ours / one usual epoch with PASSIVE (reference) | {_ratio(q['ours'], q['passive']):.2f}x | |"]
            if "passive" in q
            else []
        ),
    ]


def render(results: dict) -> str:
    lines = [f"# Fashion-MNIST Studio benchmark ({results['mode']})", "", results["machine"], ""]
    for key, part in (
        ("throughput", throughput),
        ("accuracy", accuracy),
        ("quick_demo", quick_demo),
        ("process", process),
        ("memory", memory),
    ):
        if key in results:
            lines += part(results[key]) + [""]
    if "race" in results:
        from bench.race import table as race_table

        lines += race_table(results["race"]) + [""]
    if "latency" in results:
        lines += latency(results["latency"]) + [""]
    return "\n".join(lines)
