"""The managers' set-up pages (issue 15): what a support manager used to be sent to the admin
for. Managers only (403 for everyone else; the allow-list guards /manager/ as a whole). Each
page lists with a fixed number of queries and answers bad input with its form and a 400."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organisation
from accounts.permissions import manager_required
from managers import setup
from managers.setup_forms import (
    ContractForm,
    HoursCardForm,
    MaintenanceWindowForm,
    ModuleForm,
    OrganisationCreateForm,
    OrganisationForm,
    ProductForm,
    RaciForm,
    SearchForm,
)
from sla.models import Contract, MaintenanceWindow
from tickets.choices import RaciRole
from tickets.models import HoursCard, Module, Product

PER_PAGE = 25


def _errors_onto(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: on its field when it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _submit(form, save) -> tuple[bool, object]:
    """Validate the form, then call the service: (True, what it returned), or (False, None) with
    the errors on the form if either refuses."""
    if not form.is_valid():
        return False, None
    try:
        return True, save(form.cleaned_data)
    except ValidationError as exc:
        _errors_onto(form, exc)
    except IntegrityError:  # a unique name or code taken at the same moment by someone else
        form.add_error(None, _("Someone saved the same at the same moment: look again and retry."))
    return False, None


def _ok(form, save) -> bool:
    return _submit(form, save)[0]


# The set-up sub-navigation's entry of each page.
SECTIONS = {
    "setup_index": "index",
    "setup_organisations": "organisations",
    "setup_organisation": "organisations",
    "setup_contract": "organisations",
    "setup_hours": "organisations",
    "setup_product": "products",
    "setup_module": "products",
    "setup_raci": "raci",
    "setup_maintenance": "maintenance",
}


def _render(request, template: str, context: dict, *, failed: bool = False):
    context["section"] = next(
        (section for prefix, section in SECTIONS.items() if template.startswith(prefix)), None
    )
    return render(request, f"managers/{template}", context, status=400 if failed else 200)


# --- the index --------------------------------------------------------------------------------


@manager_required
def index(request):
    return _render(request, "setup_index.html", {"changes": setup.audit_recent()})


# --- organisations and contracts --------------------------------------------------------------


@manager_required
def organisations(request):
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(setup.organisation_list(search=query), PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    setup.organisation_hours_left(page.object_list)
    return _render(request, "setup_organisations.html", {"search": search, "page": page, "query": query})


@manager_required
def organisation_create(request):
    form = OrganisationCreateForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST":
        ok, created = _submit(form, lambda data: setup.organisation_create(by=request.user, **data))
        if ok:
            messages.success(request, _("Organisation created."))
            return redirect("manager:setup_organisation", pk=created.pk)
    return _render(request, "setup_organisation_create.html", {"form": form}, failed=form.is_bound)


def _organisation_page(request, organisation, *, form=None, contract_form=None, failed=False):
    today = timezone.localdate()
    contracts = list(organisation.contracts.select_related("service_level").order_by("-valid_from"))
    for item in contracts:
        item.in_force = item.valid_from <= today and (item.valid_until is None or item.valid_until >= today)
    return _render(
        request,
        "setup_organisation.html",
        {
            "organisation": organisation,
            "form": form
            or OrganisationForm(
                initial={"name": organisation.name, "mfa_required": organisation.mfa_required}
            ),
            "contract_form": contract_form or ContractForm(auto_id="id_contract_%s"),
            "contracts": contracts,
            "changeable_from": setup.contract_changeable_from(organisation),
        },
        failed=failed,
    )


@manager_required
def organisation(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    if request.method != "POST":
        return _organisation_page(request, organisation)
    form = OrganisationForm(request.POST)
    if _ok(form, lambda data: setup.organisation_update(organisation=organisation, by=request.user, **data)):
        messages.success(request, _("Saved."))
        return redirect("manager:setup_organisation", pk=pk)
    return _organisation_page(request, organisation, form=form, failed=True)


@manager_required
@require_POST
def contract_add(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    form = ContractForm(request.POST, auto_id="id_contract_%s")
    if _ok(form, lambda data: setup.contract_add(organisation=organisation, by=request.user, **data)):
        messages.success(request, _("Contract added."))
        return redirect("manager:setup_organisation", pk=pk)
    return _organisation_page(request, organisation, contract_form=form, failed=True)


@manager_required
def contract(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("organisation", "service_level"), pk=pk)
    organisation = contract.organisation
    form = ContractForm(
        request.POST or None,
        initial={
            "service_level": contract.service_level,
            "valid_from": contract.valid_from,
            "valid_until": contract.valid_until,
        },
    )
    delete_error = None
    if request.method == "POST":
        if "delete" in request.POST:
            form = ContractForm(initial=form.initial)
            try:
                setup.contract_delete(contract=contract, by=request.user)
            except ValidationError as exc:
                delete_error = " ".join(exc.messages)
            else:
                messages.success(request, _("Contract deleted."))
                return redirect("manager:setup_organisation", pk=organisation.pk)
        elif _ok(form, lambda data: setup.contract_update(contract=contract, by=request.user, **data)):
            messages.success(request, _("Saved."))
            return redirect("manager:setup_organisation", pk=organisation.pk)
    return _render(
        request,
        "setup_contract.html",
        {
            "contract": contract,
            "organisation": organisation,
            "form": form,
            "delete_error": delete_error,
            "changeable_from": setup.contract_changeable_from(organisation),
        },
        failed=request.method == "POST",
    )


# --- prepaid hours cards ----------------------------------------------------------------------


@manager_required
def hours_cards(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    form = HoursCardForm(request.POST or None, initial={"purchased_on": timezone.localdate()})
    add = lambda data: setup.hours_card_add(organisation=organisation, by=request.user, **data)  # noqa: E731
    if request.method == "POST" and _ok(form, add):
        messages.success(request, _("Hours card added."))
        return redirect("manager:setup_hours_cards", pk=pk)
    cards = setup.hours_cards_for(organisation=organisation)
    return _render(
        request,
        "setup_hours_cards.html",
        {
            "organisation": organisation,
            "cards": cards,
            "form": form,
            "left": sum((card.left for card in cards if not card.expired), start=0),
        },
        failed=form.is_bound,
    )


@manager_required
def hours_card(request, pk: int):
    card = get_object_or_404(HoursCard.objects.select_related("organisation"), pk=pk)
    form = HoursCardForm(
        request.POST or None,
        initial={
            "hours": card.hours,
            "purchased_on": card.purchased_on,
            "valid_until": card.valid_until,
            "reference": card.reference,
        },
    )
    if request.method == "POST" and _ok(
        form, lambda data: setup.hours_card_update(card=card, by=request.user, **data)
    ):
        messages.success(request, _("Saved."))
        return redirect("manager:setup_hours_cards", pk=card.organisation_id)
    return _render(request, "setup_hours_card.html", {"card": card, "form": form}, failed=form.is_bound)


# --- products and modules ---------------------------------------------------------------------


@manager_required
def products(request):
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        ok, saved = _submit(form, lambda data: setup.product_save(product=None, by=request.user, **data))
        if ok:
            messages.success(request, _("Product created."))
            return redirect("manager:setup_product", pk=saved.pk)
    rows = Product.objects.annotate(module_count=Count("modules")).order_by("position", "name")
    return _render(request, "setup_products.html", {"products": rows, "form": form}, failed=form.is_bound)


def _product_page(request, product, *, form=None, module_form=None, failed=False):
    if form is None:
        form = ProductForm(
            initial={name: getattr(product, name) for name in ProductForm.base_fields},
        )
    form.fields["code"].disabled = True
    return _render(
        request,
        "setup_product.html",
        {
            "product": product,
            "form": form,
            "module_form": module_form or ModuleForm(auto_id="id_module_%s"),
            "modules": product.modules.order_by("position", "name"),
        },
        failed=failed,
    )


@manager_required
def product(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    if request.method != "POST":
        return _product_page(request, product)
    form = ProductForm(request.POST, initial={"code": product.code})
    form.fields["code"].disabled = True
    if _ok(form, lambda data: setup.product_save(product=product, by=request.user, **data)):
        messages.success(request, _("Saved."))
        return redirect("manager:setup_product", pk=pk)
    return _product_page(request, product, form=form, failed=True)


@manager_required
@require_POST
def module_add(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    form = ModuleForm(request.POST, auto_id="id_module_%s")
    if _ok(form, lambda data: setup.module_save(module=None, product=product, by=request.user, **data)):
        messages.success(request, _("Module added."))
        return redirect("manager:setup_product", pk=pk)
    return _product_page(request, product, module_form=form, failed=True)


@manager_required
def module(request, pk: int):
    module = get_object_or_404(Module.objects.select_related("product"), pk=pk)
    form = ModuleForm(
        request.POST or None, initial={name: getattr(module, name) for name in ModuleForm.base_fields}
    )
    form.fields["code"].disabled = True
    delete_error = None
    if request.method == "POST":
        if "delete" in request.POST:
            form = ModuleForm(initial=form.initial)
            form.fields["code"].disabled = True
            try:
                setup.module_delete(module=module, by=request.user)
            except ValidationError as exc:
                delete_error = " ".join(exc.messages)
            else:
                messages.success(request, _("Module deleted."))
                return redirect("manager:setup_product", pk=module.product_id)
        elif _ok(
            form,
            lambda data: setup.module_save(module=module, product=module.product, by=request.user, **data),
        ):
            messages.success(request, _("Saved."))
            return redirect("manager:setup_product", pk=module.product_id)
    return _render(
        request,
        "setup_module.html",
        {"module": module, "form": form, "delete_error": delete_error},
        failed=request.method == "POST",
    )


# --- the RACI table ---------------------------------------------------------------------------


@manager_required
def raci(request):
    cells = setup.raci_cells()
    digest = setup.raci_digest(cells)
    form = RaciForm(request.POST or None, cells=cells, initial={"digest": digest})
    errors = []
    if request.method == "POST":
        ok, changed = _submit(
            form,
            lambda data: setup.raci_table_set(by=request.user, cells=form.cells(), digest=data["digest"]),
        )
        if ok:
            messages.success(request, _("RACI table saved: %(count)s cell(s) changed.") % {"count": changed})
            return redirect("manager:setup_raci")
        errors = form.non_field_errors()
        if request.POST.get("digest") != digest:
            # someone else saved meanwhile: show the table as it is now, with the reason
            form = RaciForm(cells=cells, initial={"digest": digest})
    return _render(
        request,
        "setup_raci.html",
        {"form": form, "errors": errors, "roles": RaciRole.choices},
        failed=request.method == "POST",
    )


# --- maintenance windows ----------------------------------------------------------------------


def _window_data(data: dict) -> dict:
    return {
        "weekday": data["weekday"],
        "starts": data["starts"],
        "ends": data["ends"],
        "timezone_name": data["timezone"],
    }


@manager_required
def maintenance(request):
    form = MaintenanceWindowForm(request.POST or None)
    if request.method == "POST" and _ok(
        form, lambda data: setup.maintenance_window_save(window=None, by=request.user, **_window_data(data))
    ):
        messages.success(request, _("Maintenance window added."))
        return redirect("manager:setup_maintenance")
    windows = list(MaintenanceWindow.objects.order_by("timezone", "weekday", "starts"))
    return _render(
        request,
        "setup_maintenance.html",
        {"windows": windows, "stretches": setup.window_stretches(windows), "form": form},
        failed=form.is_bound,
    )


@manager_required
def maintenance_window(request, pk: int):
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    form = MaintenanceWindowForm(
        request.POST or None,
        initial={
            "weekday": window.weekday,
            "starts": window.starts,
            "ends": window.ends,
            "timezone": window.timezone,
        },
    )
    if request.method == "POST":
        if "delete" in request.POST:
            setup.maintenance_window_delete(window=window, by=request.user)
            messages.success(request, _("Maintenance window deleted."))
            return redirect("manager:setup_maintenance")
        if _ok(
            form,
            lambda data: setup.maintenance_window_save(window=window, by=request.user, **_window_data(data)),
        ):
            messages.success(request, _("Saved."))
            return redirect("manager:setup_maintenance")
    return _render(
        request, "setup_maintenance_window.html", {"window": window, "form": form}, failed=form.is_bound
    )
