// The registration form's side panel: as the coordinator types a title (and description),
// ask the knowledge base for the articles that may answer it. Debounced; the newest answer
// wins. The server renders the fragment (escaped, with its own CSRF-protected forms).
(function () {
  const panel = document.getElementById("kb-suggestions");
  const form = document.getElementById("register-form");
  if (!panel || !form) return;
  const list = document.getElementById("kb-suggestion-list");
  const title = form.querySelector("[name=title]");
  const description = form.querySelector("[name=description]");
  const url = panel.dataset.url;
  const WAIT_MS = 300; // after the last key: fewer requests while typing, still feels at once
  let timer = null;
  let asked = 0;
  let lastQuery = "";
  function ask() {
    const text = (title.value + " " + (description ? description.value.slice(0, 300) : "")).trim();
    if (text === lastQuery) return;
    lastQuery = text;
    const mine = ++asked;
    const params = new URLSearchParams({ q: text, title: title.value });
    fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html === null || mine !== asked) return;
        list.innerHTML = html;
      })
      .catch(() => {});
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, WAIT_MS);
  }
  title.addEventListener("input", later);
  if (description) description.addEventListener("input", later);
  if (title.value) ask();
})();
