// The book's static explorers: a plotly figure with one frame per point of a parameter grid and one
// slider per parameter. Plotly's sliders are independent, so when a figure asks for it
// (layout.meta.stablernn_joint_sliders) this script listens for any slider change and shows the
// frame named by the values of all sliders together ("v1|v2|...").
(function () {
  "use strict";

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

  function scan() {
    document.querySelectorAll(".js-plotly-plot").forEach(attach);
  }

  // Plots are drawn by inline scripts as the page loads; attach once they exist, and again for
  // any plot drawn later (for example inside a tab or a dropdown opened by the reader).
  window.addEventListener("load", function () {
    scan();
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  });
})();
