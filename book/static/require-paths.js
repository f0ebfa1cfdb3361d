// Widgets saved on a static page are drawn by the ipywidgets HTML manager, which finds its fonts
// relative to its AMD module path; require.js would resolve that path against the page. Point it at
// the site's own copy (the page's content root + _static/).
(function () {
  "use strict";
  var root = document.documentElement.dataset.content_root || "./";
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": root + "_static/html-manager/dist" },
  });
})();
