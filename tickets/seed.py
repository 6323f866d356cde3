"""The support process as data: SPEC §5 (RACI) and §6 (products), for the data migration and
for tests to compare with."""

# (code, name, functional problems are consultancy, offered, [(module code, module name)])
PRODUCTS = [
    (
        "qixium-saas",
        "Qixium SaaS Platform",
        False,
        True,
        [("idu", "IDU"), ("orb", "ORB 5.x+"), ("datalink", "DataLink"), ("other", "Other")],
    ),
    (
        "data-manager",
        "Data Manager Platform",
        True,
        True,
        [
            ("dm-portal", "DM Portal"),
            ("esb", "ESB Workflow Engine"),
            ("genws", "Generic Webservice Configurator (GenWS)"),
            ("etl", "ETL+"),
            ("connectors", "Connectors"),
        ],
    ),
    # Document 000 only: kept for old tickets and installations, not offered in the portal.
    ("room-booker", "Outlook Room Booker 3.2 for TOPdesk", True, False, []),
]

# SPEC §5: step -> (R, C, I); the support manager is A for every step.
RACI = {
    "register_ticket": ("customer", "support", "consultant"),
    "register_customer": ("customer", "support", "consultant"),
    "classify": ("support", "customer", "consultant"),
    "determine_problem": ("support", "customer", "consultant"),
    "agree_consultancy": ("support", "customer", "consultant"),
    "register_bug": ("support", "customer", "consultant"),
    "test_bug": ("support", "customer", "consultant"),
    "plan_with_customer": ("support", "customer", "consultant"),
    "plan_consultancy": ("consultant", "customer", "support"),
    "inform_customer": ("support", "consultant", "customer"),
    "determine_todo": ("support", "customer", "consultant"),
    "customer_informs": ("customer", "support", "consultant"),
    "update_ticket": ("support", "customer", "consultant"),
}


def raci_rows() -> list[tuple[str, str, str]]:
    rows = []
    for step, (responsible, consulted, informed) in RACI.items():
        rows += [
            (step, responsible, "R"),
            (step, consulted, "C"),
            (step, informed, "I"),
            (step, "manager", "A"),
        ]
    return rows
