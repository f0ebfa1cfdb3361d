// The book's static explorers: a plotly figure with one frame per point of a parameter grid and one
// slider per parameter. Plotly's sliders are independent, so when a figure asks for it
// (layout.meta.stablernn_joint_sliders) this script listens for any slider change and shows the
// frame named by the values of all sliders together ("v1|v2|...").
// Plotly's sliders are SVG with no keyboard support, so this script also makes every static slider a
// control of its own (role "slider"): Tab reaches it, the arrow keys, Home and End step it the way a
// drag does (the slider moves, "plotly_sliderchange" fires, the step's animation runs), and its value
// is announced (aria-valuetext).
(function () {
  "use strict";

  var STEP = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 };

  function frameName(gd) {
    return gd.layout.sliders
      .map(function (s) { return s.steps[s.active || 0].value; })
      .join("|");
  }

  function attach(gd) {
    if (gd.dataset.stablernnJoint === "1") return;
    var meta = gd.layout && gd.layout.meta;
    if (!meta || !meta.stablernn_joint_sliders || !gd.on) return;
    gd.dataset.stablernnJoint = "1";
    gd.on("plotly_sliderchange", function () {
      window.Plotly.animate(gd, [frameName(gd)], {
        mode: "immediate",
        frame: { duration: 0, redraw: true },
        transition: { duration: 0 },
      });
    });
  }

  function stepText(step) {
    return String(step.label != null ? step.label : step.value);
  }

  // Each drawn slider (g.slider-group, bound by plotly to its options) as an ARIA slider whose value
  // is the index of its step; aria-valuetext says the step's label.
  function describeSliders(gd) {
    var sliders = (gd.layout && gd.layout.sliders) || [];
    gd.querySelectorAll("g.slider-group").forEach(function (g) {
      var i = g.__data__ ? g.__data__._index : -1;
      var s = sliders[i];
      if (!s || !s.steps || !s.steps.length) return;
      if (!g.hasAttribute("tabindex")) {
        var prefix = (s.currentvalue && s.currentvalue.prefix) || "";
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "slider");
        g.setAttribute("aria-label", prefix.replace(/[\s:]+$/, "") || s.name || "slider");
        g.setAttribute("aria-valuemin", "0");
        g.setAttribute("aria-valuemax", String(s.steps.length - 1));
        g.addEventListener("keydown", function (event) { onKey(gd, g, event); });
      }
      var k = s.active || 0;
      g.setAttribute("aria-valuenow", String(k));
      g.setAttribute("aria-valuetext", stepText(s.steps[k]));
    });
  }

  function onKey(gd, g, event) {
    var i = g.__data__._index;
    var s = gd.layout.sliders[i];
    var last = s.steps.length - 1;
    var k = s.active || 0;
    var to;
    if (event.key in STEP) to = k + STEP[event.key];
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = last;
    else return;
    event.preventDefault();  // no page scroll
    to = Math.max(0, Math.min(last, to));
    if (to !== k) setStep(gd, i, to, k);
  }

  // What plotly does when a slider is dragged to step `k`: move it, tell listeners (the joint frame
  // above), then run the step's own method (one slider: animate to the step's frame).
  function setStep(gd, i, k, previous) {
    var update = {};
    update["sliders[" + i + "].active"] = k;
    window.Plotly.relayout(gd, update).then(function () {
      var step = gd.layout.sliders[i].steps[k];
      var opts = gd._fullLayout.sliders[i];
      gd.emit("plotly_sliderchange", { slider: opts, step: opts.steps[k], interaction: true,
                                       previousActive: previous });
      if (step.method && step.method !== "skip" && step.execute !== false) {
        window.Plotly[step.method].apply(null, [gd].concat(step.args || []));
      }
      describeSliders(gd);
    });
  }

  function keys(gd) {
    if (!gd.layout || !gd.layout.sliders || !gd.on) return;
    describeSliders(gd);
    if (gd.dataset.stablernnKeys === "1") return;
    gd.dataset.stablernnKeys = "1";
    // plotly redraws its sliders on a drag, a resize or a relayout: describe them again each time
    gd.on("plotly_sliderchange", function () { describeSliders(gd); });
    gd.on("plotly_afterplot", function () { describeSliders(gd); });
    gd.on("plotly_relayout", function () { describeSliders(gd); });
  }

  function scan() {
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      attach(gd);
      keys(gd);
    });
  }

  // Plots are drawn by inline scripts as the page loads; attach once they exist, and again for
  // any plot drawn later (for example inside a tab or a dropdown opened by the reader).
  window.addEventListener("load", function () {
    scan();
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  });
})();
