// The book's figures follow the page's colour mode. The theme switches data-theme="dark" on <html>;
// this script then gives every plotly figure the page's own colours, read from its CSS variables:
// background, text, grid and axis lines, the sliders' rails and the modebar. Lines and markers drawn
// in black ink (the palette's black, reference lines) turn to the text colour; every other trace keeps
// the colour-blind-safe palette. Back in light mode each figure gets its own values again.
(function () {
  "use strict";

  var INK = /^(black|#000|#000000|#222|#222222|#333|#333333|#444|#444444)$/i;
  var TRACE_INK = ["line.color", "marker.color", "marker.line.color"];

  function get(obj, path) {
    return path.replace(/\[(\d+)\]/g, ".$1").split(".").reduce(function (o, k) {
      return o == null ? undefined : o[k];
    }, obj);
  }

  function colours() {
    var style = getComputedStyle(document.documentElement);
    function v(name) { return style.getPropertyValue(name).trim(); }
    return { bg: v("--pst-color-background"), text: v("--pst-color-text-base"),
             muted: v("--pst-color-text-muted"), border: v("--pst-color-border"),
             grid: v("--pst-color-border-muted"), surface: v("--pst-color-surface") };
  }

  function isInk(value) { return typeof value === "string" && INK.test(value.replace(/\s/g, "")); }

  // The dark values of the layout: {attribute path: colour}.
  function darkLayout(gd, c) {
    var layout = gd.layout, u = {};
    u.paper_bgcolor = c.bg;
    u.plot_bgcolor = c.bg;
    u["font.color"] = c.text;
    u["legend.bgcolor"] = c.bg;
    u["modebar.bgcolor"] = "rgba(0,0,0,0)";
    u["modebar.color"] = c.muted;
    u["modebar.activecolor"] = c.text;
    Object.keys(gd._fullLayout).forEach(function (k) {
      if (!/^[xy]axis\d*$/.test(k)) return;
      u[k + ".gridcolor"] = c.grid;
      u[k + ".linecolor"] = c.muted;
      u[k + ".zerolinecolor"] = c.muted;
      u[k + ".tickcolor"] = c.muted;
    });
    (layout.sliders || []).forEach(function (s, i) {
      var p = "sliders[" + i + "].";
      u[p + "bgcolor"] = c.surface;
      u[p + "bordercolor"] = c.border;
      u[p + "activebgcolor"] = c.border;
      u[p + "tickcolor"] = c.muted;
    });
    (layout.shapes || []).forEach(function (s, i) {
      if (isInk(get(s, "line.color"))) u["shapes[" + i + "].line.color"] = c.text;
    });
    (layout.annotations || []).forEach(function (a, i) {
      if (isInk(get(a, "font.color"))) u["annotations[" + i + "].font.color"] = c.text;
    });
    return u;
  }

  // The dark values of the traces: {attribute path: [colour or undefined (unchanged), per trace]}.
  function darkTraces(gd, c) {
    var u = {};
    TRACE_INK.forEach(function (a) {
      var values = gd.data.map(function (t) { return isInk(get(t, a)) ? c.text : undefined; });
      if (values.some(function (x) { return x !== undefined; })) u[a] = values;
    });
    return u;
  }

  function apply(gd) {
    if (!gd._fullLayout || !gd.data) return;
    var saved = gd._stablernnLight;
    var layoutUpdate = {}, traceUpdate = {}, changed = false;
    if (document.documentElement.dataset.theme === "dark") {
      var c = colours();
      if (!c.bg) return;
      saved = gd._stablernnLight = saved || { layout: {}, traces: {} };
      var dl = darkLayout(gd, c), dt = darkTraces(gd, c);
      Object.keys(dl).forEach(function (k) {
        var now = get(gd.layout, k);
        if (now === dl[k]) return;
        if (!(k in saved.layout)) saved.layout[k] = now;
        layoutUpdate[k] = dl[k];
        changed = true;
      });
      Object.keys(dt).forEach(function (a) {
        saved.traces[a] = saved.traces[a] || [];
        traceUpdate[a] = dt[a].map(function (value, j) {
          if (value === undefined || get(gd.data[j], a) === value) return undefined;
          if (saved.traces[a][j] === undefined) saved.traces[a][j] = get(gd.data[j], a);
          changed = true;
          return value;
        });
      });
    } else if (saved) {
      // light again: the figure's own values (null: plotly's template value)
      Object.keys(saved.layout).forEach(function (k) {
        layoutUpdate[k] = saved.layout[k] === undefined ? null : saved.layout[k];
      });
      Object.keys(saved.traces).forEach(function (a) {
        traceUpdate[a] = gd.data.map(function (t, j) { return saved.traces[a][j]; });
      });
      delete gd._stablernnLight;
      changed = true;
    }
    if (changed) window.Plotly.update(gd, traceUpdate, layoutUpdate);
  }

  function attach(gd) {
    if (gd.dataset.stablernnTheme === "1" || !gd.on) return;
    gd.dataset.stablernnTheme = "1";
    // frames and redraws may bring a frame's own values back: check again after each
    gd.on("plotly_afterplot", function () { apply(gd); });
    gd.on("plotly_animated", function () { apply(gd); });
    apply(gd);
  }

  function applyAll() {
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      attach(gd);
      apply(gd);
    });
  }

  window.addEventListener("load", function () {
    applyAll();
    new MutationObserver(function () {
      document.querySelectorAll(".js-plotly-plot").forEach(attach);
    }).observe(document.body, { childList: true, subtree: true });
    new MutationObserver(applyAll).observe(document.documentElement,
                                           { attributes: true, attributeFilter: ["data-theme"] });
  });
})();
