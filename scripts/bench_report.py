#!/usr/bin/env python3
"""Turn `shootout --json` output into a Markdown report and an SVG plot.

    cargo bench --bench shootout -- --quick --json > docs/shootout.jsonl
    python3 scripts/bench_report.py docs/shootout.jsonl \
        --md docs/shootout.md --svg docs/shootout.svg

Standard library only; the SVG is written by hand. Lines that are not JSON
objects (cargo's own output) are ignored.
"""

import argparse
import json
import math
import sys

DESIGN_ORDER = [
    "clone-only",
    "rwlock",
    "rwlock-parking_lot",
    "haproxy3",
    "lock-free",
    "lock-free-reader",
    "rustls-cache",
]
COLOURS = {
    "clone-only": "#999999",
    "rwlock": "#d62728",
    "rwlock-parking_lot": "#ff7f0e",
    "haproxy3": "#8c564b",
    "lock-free": "#1f77b4",
    "lock-free-reader": "#2ca02c",
    "rustls-cache": "#9467bd",
}
PCTS = [("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9"), ("p9999_ns", "p99.99")]


def load(path):
    rows, ratios = [], None
    with (sys.stdin if path == "-" else open(path)) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "ratios" in obj:
                ratios = obj
            elif "scenario" in obj:
                rows.append(obj)
    return rows, ratios


def designs_in(rows):
    seen = {r["design"] for r in rows}
    return [d for d in DESIGN_ORDER if d in seen] + sorted(seen - set(DESIGN_ORDER))


def fmt_ns(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f} ms"
    if x >= 1e4:
        return f"{x / 1e3:.1f} µs"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.1f}"


def fmt_num(x, digits=2):
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def md_table(header, body):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(out)


def markdown(rows, ratios):
    out = []
    if ratios:
        r = ratios["ratios"]
        out.append(
            f"Mode: `{ratios.get('mode')}`, {ratios.get('cores')} cores; the lock-free numbers "
            f"that decide P1–P5 are the `{ratios.get('primary')}` path.\n"
        )
        body = []
        for key in ["P1", "P2", "P3", "P4", "P5", "P6"]:
            p = r.get(key, {})
            measured = ", ".join(
                f"{k} = {fmt_num(v)}" for k, v in p.items() if k not in ("target", "met", "note")
            )
            if p.get("note"):
                measured = (measured + "; " if measured else "") + p["note"]
            met = {True: "**met**", False: "**missed**", None: "not measured"}[p.get("met")]
            body.append([key, p.get("target", ""), measured, met])
        out.append("### Targets\n")
        out.append(md_table(["", "target", "measured", ""], body))

    steady = [r for r in rows if r["scenario"].startswith(("read_", "store_", "mixed"))]
    if steady:
        ds = designs_in(steady)
        keys = []
        for r in steady:
            k = (r["scenario"], r["threads"])
            if k not in keys:
                keys.append(k)
        for field, title in [
            ("ns_per_op", "wall clock (`ns_per_op`, median of runs; decides P1/P2)"),
            ("cpu_ns_per_op", "thread CPU time (median of runs; excludes time preempted "
             "by other jobs on the machine)"),
        ]:
            body = []
            for sc, t in keys:
                cells = []
                for d in ds:
                    m = [r for r in steady
                         if (r["scenario"], r["threads"], r["design"]) == (sc, t, d)]
                    cells.append(fmt_ns(m[0].get(field)) if m else "")
                body.append([sc, t] + cells)
            out.append(f"\n### Steady state, ns per operation per thread: {title}\n")
            out.append(md_table(["scenario", "threads"] + ds, body))

    storms = [r for r in rows if r["scenario"].startswith("storm_")]
    if storms:
        body = [
            [r["scenario"], r["threads"], r["design"]]
            + [fmt_ns(r[k]) for k, _ in PCTS]
            + [fmt_ns(r.get("reader_max_ns")), r.get("commits", "–"),
               fmt_ns(r.get("commit_p50_ns")), fmt_ns(r.get("commit_p99_ns"))]
            for r in storms
        ]
        out.append("\n### Commit storms: one connection's latency in ns (readers = threads)\n")
        out.append(md_table(
            ["scenario", "readers", "design", "p50", "p99", "p99.9", "p99.99", "max",
             "commits", "commit p50", "commit p99"], body))

    cost = [r for r in rows if r["scenario"] == "commit_64w"]
    if cost:
        body = [
            [r["design"], r.get("live_sessions")] + [fmt_ns(r[k]) for k, _ in PCTS]
            for r in cost
        ]
        out.append("\n### Commit cost, 64 workers: commit latency in ns by live sessions\n")
        out.append(md_table(["design", "live sessions", "p50", "p99", "p99.9", "p99.99"], body))

    rec = [r for r in rows if r["scenario"] == "reclaim_1m"]
    if rec:
        body = [
            [r["design"], r.get("commits"), fmt_ns(r["ns_per_op"]), fmt_ns(r["p50_ns"]),
             fmt_ns(r["p99_ns"]), fmt_ns(r["p9999_ns"]), r.get("backlog_peak"),
             r.get("backlog_end"), fmt_num(r.get("backlog_settled"), 0),
             r.get("rss_start_kib"), r.get("rss_peak_kib"), r.get("rss_end_kib"),
             fmt_num(r.get("rss_change_pct"), 1)]
            for r in rec
        ]
        out.append(
            "\n### Reclamation: commits back to back under read load "
            "(backlog in sessions, RSS in KiB)\n")
        out.append(md_table(
            ["design", "commits", "ns/commit", "p50", "p99", "p99.99", "backlog peak",
             "backlog end", "backlog settled", "RSS start", "RSS peak", "RSS end", "RSS Δ %"],
            body))

    e2e = [r for r in rows if r["scenario"] == "e2e_resumed"]
    if e2e:
        body = [
            [r["threads"], r["design"], fmt_num(r.get("handshakes_per_sec"), 0),
             f"{fmt_num(r.get('min_handshakes_per_sec'), 0)}–"
             f"{fmt_num(r.get('max_handshakes_per_sec'), 0)}",
             fmt_num(r.get("resumed_share"), 3), fmt_ns(r["p50_ns"]), fmt_ns(r["p99_ns"]),
             fmt_ns(r["p999_ns"]), fmt_ns(r.get("client_cpu_ns_per_hs")),
             fmt_ns(r.get("store_ns_per_hs"))]
            for r in e2e
        ]
        out.append(
            "\n### End to end: TLS 1.3 resumed handshakes over 127.0.0.1 "
            "(client threads = threads, each beside its own server thread on its core)\n")
        out.append(md_table(
            ["threads", "design", "handshakes/s (median run)", "runs min–max", "resumed",
             "connect p50", "p99", "p99.9", "client CPU ns/hs", "store ns/hs"], body))

    st = [r for r in rows if r["scenario"] == "store_6calls"]
    if st:
        calls = ["take_tls13_ticket", "kx_hint", "set_kx_hint", "remove_tls12_session",
                 "insert_tls13_ticket"]
        body = [
            [r["threads"], r["design"], fmt_ns(r["ns_per_op"]), fmt_num(r.get("calls_per_hs")),
             fmt_num(r.get("share_of_hs_pct")), fmt_num(r.get("calls_over_1us_pct"))]
            + [fmt_ns(r.get(c)) for c in calls]
            + [fmt_ns(r["p50_ns"]), fmt_ns(r["p99_ns"]), fmt_ns(r["p999_ns"])]
            for r in st
        ]
        out.append(
            "\n### Inside the session store: the calls rustls makes per resumed handshake, "
            "timed by one forwarding wrapper around every store (ns)\n")
        out.append(md_table(
            ["threads", "design", "ns/handshake", "calls/hs", "% of handshake",
             "% calls > 1 µs"] + [f"{c} (mean)" for c in calls]
            + ["one call p50", "p99", "p99.9"], body))

    cm = [r for r in rows if r["scenario"].startswith("e2e_commit")]
    if cm:
        body = [
            [r["scenario"], r["threads"], r["design"]] + [fmt_ns(r[k]) for k, _ in PCTS]
            + [fmt_ns(r.get("connect_max_ns")), fmt_num(r.get("handshakes_per_sec"), 0),
               r.get("commits"), r.get("full"), r.get("stale_resumptions")]
            for r in cm
        ]
        out.append("\n### Connect latency (ns) with a commit every 100 ms, and without\n")
        out.append(md_table(
            ["scenario", "threads", "design", "p50", "p99", "p99.9", "p99.99", "max",
             "handshakes/s", "commits", "full handshakes", "stale resumptions"], body))

    clock = [r for r in rows if r["scenario"] == "clock"]
    if clock:
        out.append(
            f"\nTimer overhead included in every per-operation latency: "
            f"`Instant::now` pair p50 = {clock[0]['p50_ns']} ns.\n")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ SVG


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Panel:
    def __init__(self, x, y, w, h, title, xlabels, ylog, ylabel):
        self.x, self.y, self.w, self.h = x, y, w, h
        self.title, self.xlabels, self.ylog, self.ylabel = title, xlabels, ylog, ylabel
        self.series = []

    def add(self, name, values):
        self.series.append((name, values))

    def svg(self):
        vals = [v for _, vs in self.series for v in vs if v is not None and v > 0]
        if not vals:
            return ""
        lo, hi = min(vals), max(vals)
        if self.ylog:
            lo = 10 ** math.floor(math.log10(lo))
            hi = 10 ** math.ceil(math.log10(hi))
            ticks = [lo * 10 ** i for i in range(int(round(math.log10(hi / lo))) + 1)]
            ty = lambda v: math.log10(v / lo) / math.log10(hi / lo)
        else:
            lo = 0
            step = 10 ** math.floor(math.log10(hi))
            if hi / step < 3:
                step /= 2
            hi = math.ceil(hi / step) * step
            ticks = [i * step for i in range(int(hi / step) + 1)]
            ty = lambda v: (v - lo) / (hi - lo)
        px, py, pw, ph = self.x + 60, self.y + 30, self.w - 80, self.h - 80
        n = len(self.xlabels)
        tx = lambda i: px + (pw * (i + 0.5) / n)
        out = [f'<text x="{self.x + self.w / 2}" y="{self.y + 18}" text-anchor="middle" '
               f'font-weight="bold">{esc(self.title)}</text>',
               f'<rect x="{px}" y="{py}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>']
        for t in ticks:
            yy = py + ph - ph * ty(t)
            out.append(f'<line x1="{px}" y1="{yy:.1f}" x2="{px + pw}" y2="{yy:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{px - 4}" y="{yy + 4:.1f}" text-anchor="end" font-size="10">'
                       f'{esc(fmt_ns(t))}</text>')
        for i, lab in enumerate(self.xlabels):
            out.append(f'<text x="{tx(i):.1f}" y="{py + ph + 15}" text-anchor="middle" '
                       f'font-size="11">{esc(lab)}</text>')
        out.append(f'<text x="{self.x + 12}" y="{py + ph / 2}" font-size="11" text-anchor="middle" '
                   f'transform="rotate(-90 {self.x + 12} {py + ph / 2})">{esc(self.ylabel)}</text>')
        for k, (name, vs) in enumerate(self.series):
            colour = COLOURS.get(name, "#000")
            pts = [(tx(i), py + ph - ph * ty(v)) for i, v in enumerate(vs) if v is not None and v > 0]
            if len(pts) > 1:
                out.append('<polyline fill="none" stroke-width="2" stroke="{}" points="{}"/>'.format(
                    colour, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
            for a, b in pts:
                out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>')
            ly = py + ph + 32 + 13 * (k // 2)
            lx = px + (pw / 2) * (k % 2)
            out.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
            out.append(f'<text x="{lx + 14}" y="{ly + 1}" font-size="11">{esc(name)}</text>')
        return "\n".join(out)


def svg(rows):
    panels = []
    storms = [r for r in rows if r["scenario"] == "storm_1ms"]
    readers = sorted({r["threads"] for r in storms})
    width = 380
    for i, t in enumerate(readers):
        p = Panel(i * width, 0, width, 330,
                  f"commit every 1 ms, {t} reader{'s' if t > 1 else ''}: latency",
                  [lab for _, lab in PCTS], True, "ns per connection")
        for d in designs_in(storms):
            m = [r for r in storms if r["threads"] == t and r["design"] == d]
            if m:
                p.add(d, [m[0][k] for k, _ in PCTS])
        panels.append(p)
    reads = [r for r in rows if r["scenario"] == "read_200B"]
    threads = sorted({r["threads"] for r in reads})
    if reads:
        p = Panel(len(panels) * width, 0, width, 330, "read path, 200 B: cost per thread",
                  [f"{t} thread{'s' if t > 1 else ''}" for t in threads], False,
                  "ns per read per thread")
        for d in designs_in(reads):
            p.add(d, [next((r["ns_per_op"] for r in reads
                            if r["design"] == d and r["threads"] == t), None) for t in threads])
        panels.append(p)
    st = [r for r in rows if r["scenario"] == "store_6calls"]
    threads = sorted({r["threads"] for r in st})
    if st:
        p = Panel(len(panels) * width, 0, width, 330,
                  "TLS 1.3 resumed handshake: ns in the store",
                  [f"{t} thread{'s' if t > 1 else ''}" for t in threads], False,
                  "ns per handshake in the store")
        for d in designs_in(st):
            p.add(d, [next((r["ns_per_op"] for r in st
                            if r["design"] == d and r["threads"] == t), None) for t in threads])
        panels.append(p)
    w = max(1, len(panels)) * width
    body = "\n".join(p.svg() for p in panels)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="340" '
            f'font-family="sans-serif" font-size="12">\n'
            f'<rect width="{w}" height="340" fill="white"/>\n{body}\n</svg>\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="JSON lines from shootout --json, or - for stdin")
    ap.add_argument("--md", help="write the Markdown here (default: stdout)")
    ap.add_argument("--svg", help="write the SVG plot here")
    args = ap.parse_args()
    rows, ratios = load(args.input)
    if not rows:
        sys.exit("no shootout rows found")
    md = markdown(rows, ratios)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(rows))


if __name__ == "__main__":
    main()
