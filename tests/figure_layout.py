"""What the browser tests measure of a drawn plotly figure, and what they count as a problem: titles,
legends and subplot titles inside the figure and clear of each other, a panel's axis labels clear of
the other panels, sliders clear of each other,
circles round, log axes labelled by round numbers. Used for the site's chapters
(``test_site_figures.py``) and the Voilà dashboards (``test_dashboards.py``)."""

from __future__ import annotations

import math
import re

# In the page: the boxes of each figure's parts, relative to the figure, and its log axes' tick values.
MEASURE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd, index) => {
  const o = gd.getBoundingClientRect();
  const rel = el => { const r = el.getBoundingClientRect();
    return {left: r.left - o.left, right: r.right - o.left, top: r.top - o.top, bottom: r.bottom - o.top,
            width: r.width, height: r.height}; };
  const full = gd._fullLayout;
  const anns = full.annotations || [];
  const subtitles = Array.from(gd.querySelectorAll('.annotation')).filter((n, i) =>
      anns[i] && anns[i].yref === 'paper' && anns[i].yanchor === 'bottom' && !anns[i].showarrow).map(rel);
  const title = gd.querySelector('.g-gtitle .gtitle');
  const legend = gd.querySelector('.legend');
  const logTicks = Object.keys(full).filter(k => /^[xy]axis\\d*$/.test(k) && full[k].type === 'log')
      .map(k => ({axis: k, ticks: (full[k]._vals || []).filter(t => t.text && !/^\\s*$/.test(t.text))
                                                       .map(t => [Math.pow(10, t.x), t.text])}));
  const aspect = Object.keys(full).filter(k => /^yaxis\\d*$/.test(k) && full[k].scaleanchor).map(k => {
      const y = full[k], x = full[y.scaleanchor.replace('x', 'xaxis')];
      return {x: x._length / Math.abs(x.range[1] - x.range[0]), y: y._length / Math.abs(y.range[1] - y.range[0])}; });
  // each panel's plot area and the boxes of its axes' tick labels and titles
  const panels = ((full._subplots && full._subplots.cartesian) || []).map(id => {
    const m = /^(x\\d*)(y\\d*)$/.exec(id), sub = gd.querySelector(`.cartesianlayer .subplot.${id}`);
    const area = gd.querySelector(`.draglayer .${id} .nsewdrag`);
    if (!m || !sub || !area) return null;
    const labels = [...sub.querySelectorAll('.xaxislayer-above .xtick text, .yaxislayer-above .ytick text'),
                    ...gd.querySelectorAll(`.infolayer .g-${m[1]}title text, .infolayer .g-${m[2]}title text`)]
      .filter(el => el.textContent.trim() && el.getBoundingClientRect().width > 0).map(el => rel(el));
    return {id, area: rel(area), labels};
  }).filter(p => p);
  return {index, width: o.width, height: o.height, panels,
          title: title && full.title.text ? rel(title) : null,
          legend: legend && full.showlegend !== false ? rel(legend) : null,
          legendInside: !!(full.legend && full.legend.yref === 'paper' && full.legend.y > 0 && full.legend.y < 1),
          subtitles, sliders: Array.from(gd.querySelectorAll('.slider-container')).map(rel), logTicks, aspect};
})"""


MODEBAR_OVER_TITLE = """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const bar = gd.querySelector('.modebar'), title = gd.querySelector('.g-gtitle .gtitle');
  if (!bar || !title || !bar.offsetParent) return false;
  const a = bar.getBoundingClientRect(), b = title.getBoundingClientRect();
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }"""


def _overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (a["left"] + slack < b["right"] and b["left"] + slack < a["right"]
            and a["top"] + slack < b["bottom"] and b["top"] + slack < a["bottom"])


def _inside(a: dict, fig: dict, slack: float = 2.0) -> bool:
    return a["left"] >= -slack and a["top"] >= -slack and a["right"] <= fig["width"] + slack \
        and a["bottom"] <= fig["height"] + slack


def _says_its_value(value: float, text: str) -> bool:
    """A log-axis label states the number at its tick ("0.7", "1.05", "10<sup>−3</sup>", "2×10<sup>4</sup>"),
    not a bare digit standing for it (plotly's "7 8 9 1 2" on a short log axis)."""
    text = str(text).replace("−", "-").replace("\u2009", "").strip()
    power = re.fullmatch(r"(?:([\d.]+)\s*[×x]\s*)?10<sup>([-\d.]+)</sup>", text)
    if power:
        shown = float(power.group(1) or 1) * 10 ** float(power.group(2))
    else:
        try:
            shown = float(re.sub(r"<[^>]+>", "", text).replace(",", ""))
        except ValueError:
            return False
    return math.isclose(shown, value, rel_tol=0.02)


def layout_problems(figures: list[dict]) -> list[str]:
    out = []
    for f in figures:
        name = f"figure {f['index']}"
        if f["title"] and not _inside(f["title"], f):
            out.append(f"{name}: title outside the figure {f['title']}")
        if f["legend"]:
            if not _inside(f["legend"], f):
                out.append(f"{name}: legend outside the figure")
            if f["title"] and _overlap(f["legend"], f["title"]):
                out.append(f"{name}: legend over the title")
            if any(_overlap(f["legend"], s) for s in f["subtitles"]):
                out.append(f"{name}: legend over a subplot title")
        for i, a in enumerate(f["subtitles"]):
            if not _inside(a, f):
                out.append(f"{name}: subplot title {i} outside the figure")
            if f["title"] and _overlap(a, f["title"]):
                out.append(f"{name}: subplot title {i} over the title")
            out += [f"{name}: subplot titles {i} and {j} overlap" for j, b in enumerate(f["subtitles"])
                    if j > i and _overlap(a, b)]
        for p in f.get("panels", []):
            for q in f["panels"]:
                if q is not p and any(_overlap(label, q["area"], slack=2.0) for label in p["labels"]):
                    out.append(f"{name}: axis labels of panel {p['id']} run into panel {q['id']}")
        for i, a in enumerate(f["sliders"]):
            out += [f"{name}: sliders {i} and {j} overlap" for j, b in enumerate(f["sliders"]) if j > i and _overlap(a, b)]
        for axis in f["logTicks"]:
            odd = [f"{text!r} at {value:.3g}" for value, text in axis["ticks"] if not _says_its_value(value, text)]
            if odd:
                out.append(f"{name}: log axis {axis['axis']} has labels that do not state their value: {odd[:4]}")
        for a in f["aspect"]:
            if abs(a["x"] / a["y"] - 1) > 0.02:
                out.append(f"{name}: a circle is drawn as an ellipse (x/y scale {a['x'] / a['y']:.3f})")
    return out
