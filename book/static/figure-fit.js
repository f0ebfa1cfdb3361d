// The book's figures at any width, on the site and in the Voilà dashboards (their template loads this
// file): plotly does not wrap titles or move legends, so on a narrow screen a long title runs off the
// figure, subplot titles run into each other, and a legend that wraps onto more rows covers the plots.
// After every draw (first plot, slider frames, resizes) this script measures the figure and, only
// where something does not fit:
//   - shrinks the title, and the subplot titles of a row, until they fit side by side, and breaks a
//     text into one more line where it would have to become smaller than MIN_FONT;
//   - moves a legend pinned below the title (layout.legend.yref "container") down past the title,
//     and the plot area down past the legend (margin.t), keeping the figure's height;
//   - puts side-by-side panels one above the other where a panel would be narrower than PANEL_MIN
//     (a phone), keeping each panel's height and the title's and legend's place in pixels, and puts
//     them back side by side when the figure is wide again;
//   - keeps an explorer's sliders at their distance in pixels below the plot area
//     (layout.meta.stablernn_slider_px), since a slider's position is a fraction of the plot's height.
// What it sets stays in the figure's layout, so a frame that changes a title's text keeps the fitted size.
(function () {
  "use strict";

  var GAP = 4;         // pixels between a title, a legend and the plots
  var MODEBAR = 36;    // the vertical modebar's column at the right edge (shown on hover)
  var MIN_FONT = 9;    // never shrink text below this size (px)
  var PANEL_MIN = 160; // a panel narrower than this (px) goes below its neighbour instead
  var PANEL_GAP = 100; // px between stacked panels: x tick labels, axis title, the next subplot title

  function box(el, origin) {
    var r = el.getBoundingClientRect();
    return { left: r.left - origin.left, right: r.right - origin.left, top: r.top - origin.top,
             bottom: r.bottom - origin.top, width: r.width, height: r.height };
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // A text broken into one more line: its longest line split at the space nearest its middle
  // (never inside a tag such as <sub>).
  function wrap(text) {
    var lines = String(text).split("<br>");
    var plain = function (l) { return l.replace(/<[^>]*>/g, ""); };
    var i = lines.reduce(function (best, l, j) { return plain(l).length > plain(lines[best]).length ? j : best; }, 0);
    var line = lines[i], depth = 0, spaces = [];
    for (var k = 0; k < line.length; k++) {
      if (line[k] === "<") depth++;
      else if (line[k] === ">") depth--;
      else if (line[k] === " " && depth === 0) spaces.push(k);
    }
    if (!spaces.length) return text;
    var middle = line.length / 2;
    var at = spaces.reduce(function (best, k) { return Math.abs(k - middle) < Math.abs(best - middle) ? k : best; });
    lines[i] = line.slice(0, at) + "<br>" + line.slice(at + 1);
    return lines.join("<br>");
  }

  function subplotTitles(gd) {
    // subplot titles are the annotations placed above a subplot's domain (make_subplots' layout)
    var anns = (gd._fullLayout.annotations || []);
    var nodes = gd.querySelectorAll(".annotation");
    var out = [];
    nodes.forEach(function (node, i) {
      var a = anns[i];
      if (a && a.yref === "paper" && a.yanchor === "bottom" && !a.showarrow) out.push({ node: node, index: i });
    });
    return out;
  }

  // The figure's cartesian panels, each with the axes that place it ("xy" -> xaxis, yaxis).
  function panels(full) {
    return ((full._subplots && full._subplots.cartesian) || []).map(function (id) {
      var m = /^(x\d*)(y\d*)$/.exec(id);
      if (!m) return null;
      var xname = m[1].replace("x", "xaxis"), yname = m[2].replace("y", "yaxis");
      return { xname: xname, yname: yname, x: full[xname], y: full[yname] };
    }).filter(function (p) { return p && p.x && p.y && !p.y.overlaying; });
  }

  // The relayout that stacks the panels (narrow) or puts them back (wide again), or null. What it
  // changes is kept in gd._stablernnStack, to be put back.
  function stacking(gd, full, subs) {
    var saved = gd._stablernnStack, ps = panels(full);
    var columns = saved ? saved.columns : ps.map(function (p) { return p.x.domain[0].toFixed(3); })
      .filter(function (v, i, all) { return all.indexOf(v) === i; }).length;
    if (columns < 2) return null;
    var narrow = full._size.w / columns < PANEL_MIN;
    if (!narrow && saved) {
      gd._stablernnStack = null;
      if (gd.style.height) gd.style.height = saved.orig.height + "px";
      return saved.orig;
    }
    if (!narrow || saved) return null;
    // top row first, left to right; each panel keeps its height in pixels
    ps.sort(function (a, b) {
      return Math.round(1000 * (b.y.domain[1] - a.y.domain[1])) || a.x.domain[0] - b.x.domain[0];
    });
    var plotH = full._size.h, oldH = full.height;
    var heights = ps.map(function (p) { return Math.max(170, (p.y.domain[1] - p.y.domain[0]) * plotH); });
    var paper = heights.reduce(function (a, b) { return a + b; }, 0) + PANEL_GAP * (ps.length - 1);
    var newH = Math.round(oldH - plotH + paper);
    // plotly fixes a figure's width when its height is set: autosize keeps it following the page
    var update = { height: newH, width: null, autosize: true }, orig = { height: oldH, width: null, autosize: true };
    var set = function (key, value, now) { update[key] = value; orig[key] = now; };
    var top = 0;
    ps.forEach(function (p, i) {
      var d1 = 1 - top / paper, d0 = 1 - (top + heights[i]) / paper;
      // the subplot title make_subplots put at the middle of this panel's top edge goes with it
      subs.forEach(function (s) {
        var a = full.annotations[s.index];
        if (Math.abs(a.x - (p.x.domain[0] + p.x.domain[1]) / 2) < 0.02 && Math.abs(a.y - p.y.domain[1]) < 0.02) {
          set("annotations[" + s.index + "].x", 0.5, a.x);
          set("annotations[" + s.index + "].y", d1, a.y);
        }
      });
      set(p.xname + ".domain", [0, 1], p.x.domain.slice());
      set(p.yname + ".domain", [d0, d1], p.y.domain.slice());
      top += heights[i] + PANEL_GAP;
    });
    // a title or legend placed in the figure's own coordinates keeps its distance from the top edge
    if (full.title && full.title.yref === "container") set("title.y", 1 - (1 - full.title.y) * oldH / newH, full.title.y);
    if (full.legend && full.legend.yref === "container") set("legend.y", 1 - (1 - full.legend.y) * oldH / newH, full.legend.y);
    // a legend below the plots, placed in fractions of the plot area, keeps its distance below them
    if (full.legend && full.legend.yref === "paper" && full.legend.y < 0) set("legend.y", full.legend.y * plotH / paper, full.legend.y);
    gd._stablernnStack = { columns: columns, orig: orig };
    // a figure embedded in the page has its height in its style (plotly's HTML): it grows with it
    if (gd.style.height) gd.style.height = newH + "px";
    return update;
  }

  function relayout(gd, update, pass) {
    gd.dataset.stablernnFitting = "1";
    // a relayout that plotly refuses (the figure redrawn or resized meanwhile) must not leave the
    // figure marked as fitting, or it would never be fitted again
    window.Plotly.relayout(gd, update).then(function () {
      gd.dataset.stablernnFitting = "0";
      fit(gd, pass + 1);  // measure again: text shrinks about its anchor, not always its centre
    }, function () {
      gd.dataset.stablernnFitting = "0";
      window.requestAnimationFrame(function () { fit(gd); });
    });
  }

  function fit(gd, pass) {
    var full = gd._fullLayout;
    pass = pass || 0;
    if (!full || gd.dataset.stablernnFitting === "1" || pass > 3) return;
    var origin = gd.getBoundingClientRect();
    var width = origin.width;
    var update = {};

    // 0. narrow: panels one above the other (measured again once they are)
    var restack = stacking(gd, full, subplotTitles(gd));
    if (restack) {
      relayout(gd, restack, pass);
      return;
    }

    // 1. the title fits the figure's width
    var title = gd.querySelector(".g-gtitle .gtitle");
    if (title && full.title && full.title.text) {
      var t = box(title, origin);
      var size = full.title.font.size;
      if (t.right > width - MODEBAR || t.left < 0) {
        var scale = (width - MODEBAR - Math.max(t.left, 0)) / t.width;
        var wanted = Math.floor(size * scale);
        if (wanted < MIN_FONT && wrap(full.title.text) !== full.title.text) {
          update["title.text"] = wrap(full.title.text);  // too long even when small: two lines
          update["title.font.size"] = Math.max(MIN_FONT, Math.min(size, Math.floor(1.8 * size * scale)));
          // plotly lifts a title by about a line per <br>: keep its top where it was
          if (full.title.yref === "container") {
            update["title.y"] = full.title.y - (1.3 * update["title.font.size"]) / full.height;
          }
        } else {
          update["title.font.size"] = Math.max(MIN_FONT, wanted);
        }
      }
    }

    // 2. subplot titles fit and do not run into each other
    var subs = subplotTitles(gd);
    if (subs.length) {
      var boxes = subs.map(function (s) { return box(s.node, origin); });
      var worst = 1;
      boxes.forEach(function (b, i) {
        if (b.right > width) worst = Math.min(worst, (width - b.left) / b.width);
        if (b.left < 0) worst = Math.min(worst, b.right / b.width);
        boxes.forEach(function (c, j) {
          if (j > i && overlaps(b, c)) {
            // both shrink about their centres: the gap between centres must hold half of each
            var room = Math.abs((b.left + b.right) / 2 - (c.left + c.right) / 2) - GAP;
            worst = Math.min(worst, (2 * room) / (b.width + c.width));
          }
        });
      });
      if (worst < 1) {
        subs.forEach(function (s) {
          var ann = full.annotations[s.index], font = ann.font.size;
          var wanted = Math.floor(font * worst * 0.97);
          if (wanted < MIN_FONT && wrap(ann.text) !== ann.text) {
            update["annotations[" + s.index + "].text"] = wrap(ann.text);
            update["annotations[" + s.index + "].font.size"] = Math.max(MIN_FONT, Math.min(font, Math.floor(1.8 * font * worst)));
          } else {
            update["annotations[" + s.index + "].font.size"] = Math.max(MIN_FONT, wanted);
          }
        });
      }
    }

    // 3. legend below the title, plots below the legend
    var legend = gd.querySelector(".legend");
    var plots = Array.prototype.slice.call(gd.querySelectorAll(".cartesianlayer .subplot .bg, .nsewdrag"));
    if (legend && full.showlegend !== false && plots.length) {
      var l = box(legend, origin);
      var height = full.height;
      // a vertical legend beside or inside the plot that takes much of a narrow figure squeezes the
      // plot: it goes above the plot area instead, in rows
      if (full.legend.orientation === "v" && l.width > 0.4 * width) {
        update["legend.orientation"] = "h";
        update["legend.x"] = 0;
        update["legend.xanchor"] = "left";
        update["legend.yref"] = "paper";
        update["legend.y"] = 1.02;
        update["legend.yanchor"] = "bottom";
        update["margin.t"] = full.margin.t + Math.ceil(Math.min(l.height, 0.4 * height));
        legend = null;  // measured again on the next pass
      }
    }
    if (legend && full.showlegend !== false && plots.length && !("legend.orientation" in update)) {
      var l = box(legend, origin);
      var height = full.height;
      if (title && full.legend.yref === "paper") {  // a legend riding on the plot area: move both down
        var tp = box(title, origin);
        if (overlaps(l, tp)) update["margin.t"] = full.margin.t + Math.ceil(tp.bottom + GAP - l.top);
      }
      if (title && full.legend.yref === "container") {
        var tb = box(title, origin);
        if (overlaps(l, tb) || (l.top < tb.bottom && l.bottom > tb.top)) {
          var down = tb.bottom + GAP - l.top;
          update["legend.y"] = full.legend.y - down / height;
          l = { left: l.left, right: l.right, top: l.top + down, bottom: l.bottom + down };
        }
      }
      var top = Math.min.apply(null, plots.map(function (p) { return box(p, origin).top; }));
      subs.forEach(function (s) { top = Math.min(top, box(s.node, origin).top); });
      if (l.bottom + GAP > top && l.top < top) {
        update["margin.t"] = full.margin.t + Math.ceil(l.bottom + GAP - top);
      }
    }

    // 4. sliders keep their distance below the plot area, whatever height the plot area now has
    var meta = full.meta || {};
    var offsets = meta.stablernn_slider_px;
    if (offsets && full.sliders && full._size) {
      var plotHeight = full._size.h - ((update["margin.t"] || full.margin.t) - full.margin.t);
      offsets.forEach(function (px, i) {
        var y = -px / plotHeight;
        if (full.sliders[i] && Math.abs(full.sliders[i].y - y) > 1e-3) update["sliders[" + i + "].y"] = y;
      });
    }

    // only what changes, and a bounded number of rounds per figure (a frame or a resize starts anew):
    // a title already at its smallest size must not be set again and again
    Object.keys(update).forEach(function (key) {
      var now = key.split(/[.\[\]]+/).filter(Boolean).reduce(function (o, k) { return o == null ? o : o[k]; }, full);
      if (now === update[key]) delete update[key];
    });
    gd._stablernnRounds = (gd._stablernnRounds || 0) + 1;
    if (Object.keys(update).length && gd._stablernnRounds <= 12) relayout(gd, update, pass);
  }

  function attach(gd) {
    // window.Plotly: the site's and the dashboards' plotly.js (a FigureWidget's plotly is not global)
    if (gd.dataset.stablernnFit === "1" || !gd.on || !window.Plotly) return;
    gd.dataset.stablernnFit = "1";
    gd.on("plotly_afterplot", function () { window.requestAnimationFrame(function () { fit(gd); }); });
    gd.on("plotly_animated", function () { gd._stablernnRounds = 0; });  // a slider frame: fit it too
    // a new figure or new values from a live widget (the dashboards' PlotView): fit it anew
    ["plotly_react", "plotly_update"].forEach(function (event) {
      gd.on(event, function () {
        gd._stablernnRounds = 0;
        if (event === "plotly_react") gd._stablernnStack = null;  // a new layout: stacked anew if narrow
        window.requestAnimationFrame(function () { fit(gd); });
      });
    });
    window.addEventListener("resize", function () { gd._stablernnRounds = 0; });
    fit(gd);
  }

  function scan() {
    document.querySelectorAll(".js-plotly-plot").forEach(attach);
  }

  window.addEventListener("load", function () {
    scan();
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  });
})();
