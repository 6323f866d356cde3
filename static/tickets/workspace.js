// The desk ticket page: a macro chosen by the reply box goes into the reply (editable before
// sending; without JavaScript the "Insert" button reloads with ?macro=ID), and a ping every
// ~20 s tells who else has the ticket open.
(function () {
  "use strict";
  var picker = document.getElementById("macro-pick");
  var select = document.getElementById("macro-select");
  var reply = document.querySelector("#form-reply textarea");
  function insert() {
    var option = select.options[select.selectedIndex];
    if (!option || !option.value || !reply) return;
    var text = option.getAttribute("data-text") || "";
    var start = reply.selectionStart || 0;
    var end = reply.selectionEnd || 0;
    reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
    reply.focus();
    reply.setSelectionRange(start + text.length, start + text.length);
    select.value = "";
  }
  if (picker && select && reply) {
    picker.addEventListener("submit", function (event) { event.preventDefault(); insert(); });
    select.addEventListener("change", insert);
  }

  var workspace = document.getElementById("workspace");
  var notice = document.getElementById("also-open");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (!workspace || !notice || !csrf || !window.fetch) return;
  var url = workspace.getAttribute("data-presence-url");
  var seconds = parseInt(workspace.getAttribute("data-presence-seconds"), 10) || 20;
  function ping() {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf.value, "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.ok ? response.json() : { others: [] };
    }).then(function (data) {
      var others = (data && data.others) || [];
      if (others.length) {
        notice.textContent = notice.getAttribute("data-text").replace("__NAMES__", others.join(", "));
        notice.hidden = false;
      } else {
        notice.hidden = true;
      }
    }).catch(function () { /* offline or Redis down: no notice */ });
  }
  window.setInterval(ping, seconds * 1000);
})();
