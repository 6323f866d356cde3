// Progressive enhancement of the registration form: show the change type only for changes,
// and say at once what support does not cover. The server checks all of it again.
(function () {
  const form = document.getElementById("register-form");
  if (!form) return;
  const data = JSON.parse(document.getElementById("coverage-data").textContent);
  const kind = form.querySelector("[name=kind]");
  const product = form.querySelector("[name=product]");
  const changeType = document.getElementById("change-type");
  const warning = document.getElementById("coverage-warning");
  const module = form.querySelector("[name=module]");
  function update() {
    changeType.hidden = kind.value !== "change";
    for (const option of module.options) {
      if (!option.value) continue;
      option.hidden = String(data.modules[option.value]) !== product.value;
      if (option.hidden && option.selected) module.value = "";
    }
    const nature = (form.querySelector("[name=nature]:checked") || {}).value;
    let text = "";
    if (nature === "data") text = data.data;
    else if (nature === "functional" && data.consultancy_products.includes(Number(product.value))) text = data.functional;
    warning.textContent = text;
    warning.hidden = !text;
  }
  form.addEventListener("change", update);
  update();
})();
