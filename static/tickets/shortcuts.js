// Desk keyboard shortcuts: "/" search, j/k through the queue, Enter opens, x selects,
// r replies, ? lists them. Ignored while typing in a field. Loaded for support staff only.
(function () {
  "use strict";
  var current = -1;

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.queue-row"));
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    if (current >= 0 && all[current]) all[current].classList.remove("kb-current");
    current = Math.max(0, Math.min(all.length - 1, current + step));
    var row = all[current];
    row.classList.add("kb-current");
    var link = row.querySelector("a.open-ticket");
    if (link) link.focus();
  }

  function searchBox() {
    // the page's own search (the queue's filter) first, else the one of the top bar
    return document.querySelector("main input[name=q]") || document.querySelector("input[name=q]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = document.getElementById("shortcuts-dialog");
    if (typing(event.target) || (dialog && dialog.open)) return;
    var key = event.key;
    if (key === "/") {
      var box = searchBox();
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else if (key === "j" || key === "k") {
      if (rows().length) { event.preventDefault(); move(key === "j" ? 1 : -1); }
    } else if (key === "Enter") {
      var row = rows()[current];
      if (row && document.activeElement === document.body) { event.preventDefault(); window.location = row.dataset.href; }
    } else if (key === "x") {
      var selected = rows()[current];
      var box2 = selected && selected.querySelector("input[type=checkbox]");
      if (box2) { event.preventDefault(); box2.checked = !box2.checked; }
    } else if (key === "r") {
      var reply = document.querySelector("#form-reply textarea");
      if (reply) { event.preventDefault(); reply.focus(); }
    } else if (key === "?") {
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
    }
  });
})();
