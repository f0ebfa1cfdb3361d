// A display equation wider than the text column scrolls sideways (the theme gives it overflow:
// auto). A reader on a keyboard can scroll it only if it can take focus, and MathJax's right-click
// menu, which made every equation a tab stop, is not loaded: so each equation that does not fit
// becomes focusable (tabindex 0, then the arrow keys scroll it), and only those, checked again when
// the window's width changes.
(function () {
  "use strict";

  function mark() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (eq) {
      if (eq.scrollWidth > eq.clientWidth + 1) {
        eq.setAttribute("tabindex", "0");
      } else if (eq.getAttribute("tabindex") === "0") {
        eq.removeAttribute("tabindex");
      }
    });
  }

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(mark, 200);
  });
  window.addEventListener("load", function () {
    var mathjax = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (mathjax) mathjax.then(mark); else mark();
  });
})();
