/* Polls a service report's status while it is produced, then reloads to show it. */
(function () {
  "use strict";
  var box = document.getElementById("report-progress");
  if (!box || !box.dataset.statusUrl) { return; }
  var bar = box.querySelector("progress"), state = document.getElementById("report-state");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.progress; state.textContent = s.label + " (" + s.progress + "%)";
        if (s.done) { window.location.reload(); } else if (s.status !== "failed") { setTimeout(poll, 1000); }
      }).catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
