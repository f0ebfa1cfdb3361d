// The book's figures for screen readers. Each figure comes named by its title (role "figure",
// aria-label, written by the book's plotly renderer); this script links the takeaway that follows it
// in the chapter (the first paragraph opening in bold after the figure's cell, before the next
// heading) as its description (aria-describedby), and keeps the name in step with the title when an
// explorer's slider shows another frame.
(function () {
  "use strict";

  var count = 0;

  function plainTitle(gd) {
    var title = gd.layout && gd.layout.title;
    var text = (title && (typeof title === "string" ? title : title.text)) || "";
    text = text.replace(/<br\s*\/?>/gi, " — ").replace(/<\/?[a-zA-Z][^<>]*>/g, "");
    var doc = new DOMParser().parseFromString(text, "text/html");  // entities, never markup
    return doc.documentElement.textContent.replace(/\s+/g, " ").trim();
  }

  function takeaway(gd) {
    var node = gd.closest(".cell") || gd.closest(".output") || gd;
    while ((node = node.nextElementSibling)) {
      if (/^(H[1-6]|SECTION)$/.test(node.tagName)) return null;
      var first = node.firstElementChild;
      if (node.tagName === "P" && first && first.tagName === "STRONG" &&
          node.textContent.trim().indexOf(first.textContent.trim()) === 0) return first;
    }
    return null;
  }

  function label(gd) {
    var name = plainTitle(gd);
    if (name && gd.getAttribute("aria-label") !== name) gd.setAttribute("aria-label", name);
  }

  function attach(gd) {
    if (gd.dataset.stablernnLabels === "1" || !gd.on) return;
    gd.dataset.stablernnLabels = "1";
    if (!gd.hasAttribute("role")) gd.setAttribute("role", "figure");
    label(gd);
    var strong = takeaway(gd);
    if (strong) {
      if (!strong.id) strong.id = "figure-takeaway-" + ++count;
      gd.setAttribute("aria-describedby", strong.id);
    }
    gd.on("plotly_animated", function () { label(gd); });
  }

  function scan() {
    document.querySelectorAll(".js-plotly-plot").forEach(attach);
  }

  window.addEventListener("load", function () {
    scan();
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  });
})();
