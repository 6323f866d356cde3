// The desk's reply box: "Insert article" finds published articles and inserts
// [Title](address) at the cursor. Sending the reply records the citation on the server.
(function () {
  const picker = document.getElementById("kb-picker");
  if (!picker) return;
  const target = document.querySelector(picker.dataset.target);
  const input = document.getElementById("kb-pick-q");
  const results = document.getElementById("kb-pick-results");
  if (!target || !input || !results) return;
  let timer = null;
  let asked = 0;
  function escapeLabel(text) {
    return text.replace(/[\[\]]/g, "\\$&");
  }
  function insert(article) {
    const link = "[" + escapeLabel(article.title) + "](" + article.url + ")";
    const start = target.selectionStart ?? target.value.length;
    const end = target.selectionEnd ?? start;
    target.value = target.value.slice(0, start) + link + target.value.slice(end);
    target.focus();
    target.selectionStart = target.selectionEnd = start + link.length;
  }
  function show(articles) {
    results.replaceChildren();
    for (const article of articles) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = article.title + " (" + article.language.toUpperCase() + ")";
      button.addEventListener("click", () => insert(article));
      item.appendChild(button);
      results.appendChild(item);
    }
  }
  function ask() {
    const mine = ++asked;
    fetch(picker.dataset.url + "?" + new URLSearchParams({ q: input.value }).toString(), {
      credentials: "same-origin",
    })
      .then((response) => (response.ok ? response.json() : { articles: [] }))
      .then((data) => {
        if (mine === asked) show(data.articles);
      })
      .catch(() => {});
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault(); // not the reply form's submit
  });
})();
