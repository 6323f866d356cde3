/* The top bar folds into a menu on narrow screens, and wide tables scroll inside the page.
   Progressive: without this script the bar wraps and tables keep their own width. */
(function () {
  "use strict";

  function setUpMenu() {
    var bar = document.querySelector(".topbar");
    var toggle = bar && bar.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!toggle || !menu) return;
    bar.classList.add("js-menu");
    toggle.hidden = false;
    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      bar.classList.toggle("open", open);
    }
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("open")) {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  /* Every table of the page sits in a container that scrolls sideways when the table is wider
     than the screen; a container without a link or field inside is made focusable so that the
     keyboard can scroll it too (WCAG 2.1.1). */
  var SCROLLERS = ".table-wrap, .table-scroll, .scroll";
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function wrapTables() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.parentElement.closest(SCROLLERS)) continue;
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    }
    markScrollers();
  }

  function markScrollers() {
    var scrollers = document.querySelectorAll(SCROLLERS);
    for (var i = 0; i < scrollers.length; i++) {
      var box = scrollers[i];
      var overflows = box.scrollWidth > box.clientWidth + 1;
      if (overflows && !box.querySelector(FOCUSABLE) && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var caption = box.querySelector("caption");
        var label = caption && caption.textContent.trim();
        if (!label) label = document.documentElement.lang === "nl" ? "Tabel" : "Table";
        box.setAttribute("aria-label", label);
      }
    }
  }

  function start() {
    setUpMenu();
    wrapTables();
    var timer;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(markScrollers, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
