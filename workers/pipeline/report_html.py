"""report.html: one self-contained page (inline CSS and SVG, no scripts) from the report dict.

Built for reading on a phone as well as a desktop: a viewport meta tag, tables that scroll inside
their own box, a coverage plot that scales with the page, and real headings, captions and table
headers so screen readers can move around it.
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape
from typing import Any

from gems.states import SampleStatus

CSS = """
:root{--fg:#1b1f23;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--bad:#b42318;--warn:#9a6700;--accent:#0b5cad}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#fff}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}
.banner{padding:.75rem 1rem;border-radius:6px;font-weight:600;margin:.75rem 0}
.banner.failed{background:#fde8e7;color:var(--bad);border:2px solid var(--bad)}
.banner.complete{background:#e6f4ea;color:var(--ok);border:1px solid var(--ok)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.5rem;padding:0;margin:0}
.cards div{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem}
.cards dt{color:var(--muted);font-size:.85rem}
.cards dd{margin:0;font-size:1.25rem;font-weight:600}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;color:var(--muted);padding:.25rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.status-done{color:var(--ok)}.status-failed{color:var(--bad);font-weight:700}.status-skipped{color:var(--warn)}
.muted{color:var(--muted)}
figure.plot{margin:.5rem 0 1rem}
figure.plot svg{display:block;width:100%;height:200px;border-left:1px solid var(--muted);border-bottom:1px solid var(--muted)}
.axis{display:flex;justify-content:space-between;gap:.75rem;font-size:.8rem;color:var(--muted)}
.axis span{overflow-wrap:anywhere}.axis span:last-child{text-align:right}
figcaption{font-size:.85rem;color:var(--muted)}
code{font-size:.85em;word-break:break-all}
details{margin:.25rem 0}
@media (max-width:600px){body{font-size:15px}main{padding:.6rem}th,td{padding:.3rem}figure.plot svg{height:150px}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return _e(value)


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, int | float) else "–"


def _table(caption: str, headers: list[str], rows: list[list[str]], numeric: Collection[int] = ()) -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _banner(report: dict) -> str:
    if report.get("status") == SampleStatus.FAILED:
        f = report.get("failure") or {}
        step = f.get("step", "?")
        return (
            f'<div class="banner failed" role="alert"><span aria-hidden="true">&#10007;</span> FAILED at step '
            f"<strong>{_e(step)}</strong>: {_e(f.get('reason', 'unknown reason'))}</div>"
        )
    return (
        '<div class="banner complete" role="status"><span aria-hidden="true">&#10003;</span> COMPLETE</div>'
    )


def _cards(report: dict) -> str:
    s = report.get("summary") or {}
    items = [
        ("Read pairs", _fmt(s.get("read_pairs")) if "read_pairs" in s else "–"),
        ("Mean base quality", _fmt(s.get("mean_quality")) if "mean_quality" in s else "–"),
        ("Mapped", _pct(s.get("mapping_rate"))),
        ("Duplicates", _pct(s.get("duplicate_rate"))),
        (
            f"Mean coverage ({s.get('coverage_over', 'n/a')})",
            f"{s['mean_coverage']:.1f}×" if "mean_coverage" in s else "–",
        ),
        ("Bases ≥ 20×", _pct(s.get("fraction_20x"))),
        ("Variants", _fmt(s.get("variants")) if "variants" in s else "–"),
        ("HLA genes typed", str(len(s.get("hla_calls") or [])) if "hla_calls" in s else "–"),
    ]
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{v}</dd></div>" for k, v in items)
    return f'<dl class="cards">{cells}</dl>'


def coverage_svg(cov: dict) -> str:
    """Area plot of the binned depth with 10x/20x/30x guide lines, in a <figure>; "" without a profile.

    The SVG stretches to the page width at a fixed height, so it holds shapes only; the labels are
    HTML around it and stay legible on a phone.
    """
    profile = cov.get("profile") or {}
    bins = profile.get("bins") or []
    if not bins:
        return ""
    w, h = 1000, 200
    depths = [b[2] for b in bins]
    ymax = max(max(depths), 30) * 1.1
    n = len(bins)
    x = lambda i: w * i / max(n - 1, 1)  # noqa: E731
    y = lambda d: h * (1 - d / ymax)  # noqa: E731
    pts = " ".join(f"{x(i):.1f},{y(d):.1f}" for i, d in enumerate(depths))
    area = f"0,{h} {pts} {w},{h}"
    guides = "".join(
        f'<line x1="0" x2="{w}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#9a6700" stroke-dasharray="6 4" '
        'vector-effect="non-scaling-stroke"/>'
        for t in (10, 20, 30)
    )
    first, last = bins[0], bins[-1]
    desc = (
        f"Mean depth {cov.get('mean_depth')}× over {cov.get('bases', 0):,} bases in {n} bins of about "
        f"{profile.get('bin_bases')} bases, from {first[0]}:{first[1]:,} to {last[0]}:{last[1]:,}; "
        f"lowest bin {min(depths):.1f}×, highest {max(depths):.1f}×."
    )
    svg = (
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="covt covd" preserveAspectRatio="none">'
        f'<title id="covt">Coverage depth along the {_e(cov.get("over", "regions"))}</title><desc id="covd">{_e(desc)}</desc>'
        f'<polygon points="{area}" fill="#0b5cad" fill-opacity="0.25" stroke="none"/>'
        f'<polyline points="{pts}" fill="none" stroke="#0b5cad" stroke-width="1.5" vector-effect="non-scaling-stroke"/>'
        f"{guides}</svg>"
    )
    axis = f'<div class="axis"><span>{_e(first[0])}:{first[1]:,}</span><span>{_e(last[0])}:{last[1]:,}</span></div>'
    caption = (
        f"Mean depth per bin of about {_fmt(profile.get('bin_bases'))} bases; the plot's height is "
        f"{ymax:.0f}×, dashed lines mark 10×, 20× and 30×."
    )
    return f'<figure class="plot">{svg}{axis}<figcaption>{_e(caption)}</figcaption></figure>'


def _coverage(report: dict) -> str:
    cov = report.get("coverage")
    if not isinstance(cov, dict):
        return '<p class="muted">No coverage figures (no alignments).</p>'
    frac = cov.get("fraction_at_least") or {}
    rows = [[_e(k), _pct(v)] for k, v in frac.items()]
    intro = (
        f"<p>Mean depth <strong>{_fmt(cov.get('mean_depth'))}×</strong>, median {_fmt(cov.get('median_depth'))}× "
        f"over {_fmt(cov.get('bases'))} bases ({_e(cov.get('over'))}).</p>"
    )
    return (
        intro
        + coverage_svg(cov)
        + _table("Fraction of bases at or above each depth", ["Depth", "Bases"], rows, {1})
    )


def _hla(report: dict) -> str:
    hla = report.get("hla")
    if not isinstance(hla, dict) or not hla.get("calls"):
        reason = (report.get("steps") or {}).get("hla", {}).get("reason")
        return f'<p class="muted">HLA typing did not run{": " + _e(reason) if reason else "."}</p>'
    rows = [
        [
            _e(c.get("gene")),
            _e(c.get("allele1")),
            _e(c.get("allele2")),
            _e(" + ".join(g for g in (c.get("g_group1"), c.get("g_group2")) if g) or "-"),
            _fmt(c.get("confidence")),
            _e(str(c.get("flag") or "-").replace("_", " ")),
        ]
        for c in hla["calls"]
        if isinstance(c, dict)
    ]
    release = f" (IMGT/HLA {_e(hla['imgt_release'])})" if hla.get("imgt_release") else ""
    head = ["Gene", "Allele 1", "Allele 2", "G groups", "Confidence (posterior)", "Flag"]
    gl = f'<p>GL String: <code class="gl">{_e(hla["gl_string"])}</code></p>' if hla.get("gl_string") else ""
    return _table(f"HLA genotype calls{release}", head, rows, {4}) + gl


def _variants(report: dict, rows: list[dict], total: int) -> str:
    counts = (report.get("summary") or {}).get("variant_counts") or {}
    parts = []
    if counts:
        parts.append(
            _table(
                "Called alleles by type (PASS calls when the caller counted them)",
                ["Type", "Count"],
                [[_e(k), _fmt(v)] for k, v in counts.items()],
                {1},
            )
        )
    if not rows:
        reason = (report.get("steps") or {}).get("annotate", {}).get("reason")
        parts.append(f'<p class="muted">No annotated variants{": " + _e(reason) if reason else "."}</p>')
        return "".join(parts)
    cols = [
        "chrom",
        "pos",
        "ref",
        "alt",
        "genotype",
        "filter",
        "gene",
        "consequence",
        "protein_change",
        "cdna_change",
        "GQ",
        "DP",
    ]
    body = [
        [_e(r.get(c, "")).replace("&amp;", "&amp;<wbr>") if c == "consequence" else f"<code>{_e(r.get(c, ''))}</code>"
         if c in ("ref", "alt") else _e(r.get(c, "")) for c in cols]
        for r in rows
    ]  # fmt: skip
    shown = f"the {len(rows)} most severe of {total:,}" if total > len(rows) else f"all {total:,}"
    caption = f"Annotated alleles, most severe consequence first ({shown}; all in variants.tsv)"
    headers = [
        "Chrom",
        "Pos",
        "Ref",
        "Alt",
        "GT",
        "Filter",
        "Gene",
        "Consequence",
        "Protein",
        "cDNA",
        "GQ",
        "DP",
    ]
    parts.append(_table(caption, headers, body, {1, 10, 11}))
    return "".join(parts)


def _steps(report: dict) -> str:
    steps = report.get("steps") or {}
    rows = []
    for name in steps:  # in the order the pipeline ran them (workers/pipeline/sample.py defines it)
        st = steps[name]
        status = st.get("status", "")
        rows.append(
            [
                _e(name),
                f'<span class="status-{_e(status)}">{_e(status)}</span>',
                _fmt(st.get("seconds")),
                _fmt(st.get("peak_rss_mb")),
                _e(st.get("reason", "")),
            ]
        )
    return _table("Pipeline steps", ["Step", "Status", "Seconds", "Peak memory (MB)", "Note"], rows, {2, 3})


def _details(report: dict) -> str:
    """Every scalar metric of every step, folded away, so the page holds what report.json holds."""
    out = []
    for name in [s for s in report.get("steps") or {} if isinstance(report.get(s), dict)]:
        scalars = [
            [_e(k), _fmt(v)] for k, v in report[name].items() if isinstance(v, int | float | str | bool)
        ]
        if scalars:
            out.append(
                f"<details><summary>{_e(name)}</summary>{_table(name + ' metrics', ['Metric', 'Value'], scalars)}</details>"
            )
    tools = [[_e(k), _e(v)] for k, v in (report.get("tools") or {}).items()]
    out.append(
        f"<details><summary>Tool versions</summary>{_table('Tool versions', ['Tool', 'Version'], tools)}</details>"
    )
    sums = [
        [_e(k), f"<code>{_e(v.get('sha256') or v.get('imgt_release') or '')}</code>"]
        for k, v in (report.get("checksums") or {}).items()
    ]
    if sums:
        out.append(
            f"<details><summary>Input checksums</summary>{_table('Inputs', ['Input', 'sha256 / release'], sums)}</details>"
        )
    return "".join(out)


def render_html(report: dict, variant_rows: list[dict], variant_total: int) -> str:
    sample = _e(report.get("sample"))
    status = _e(report.get("status"))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{sample}: {status} – gems sample report</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<h1>Sample {sample}</h1>
{_banner(report)}
<p class="muted">Generated {_e(report.get("generated_at"))} · total step time {_fmt((report.get("timing") or {}).get("total_seconds"))} s</p>
</header>
<section aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>{_cards(report)}</section>
<section aria-labelledby="h-cov"><h2 id="h-cov">Coverage</h2>{_coverage(report)}</section>
<section aria-labelledby="h-hla"><h2 id="h-hla">HLA typing</h2>{_hla(report)}</section>
<section aria-labelledby="h-var"><h2 id="h-var">Variants</h2>{_variants(report, variant_rows, variant_total)}</section>
<section aria-labelledby="h-steps"><h2 id="h-steps">Steps</h2>{_steps(report)}</section>
<section aria-labelledby="h-more"><h2 id="h-more">All metrics</h2>{_details(report)}
<p class="muted">Every figure is also in <code>report.json</code>.</p></section>
</main>
</body>
</html>
"""
