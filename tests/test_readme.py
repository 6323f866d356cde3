"""The README's API example, run as it stands: a newcomer pastes it into a shell beside
`./bin/run` (the demo data seeded) and every call must answer 2xx."""

import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import Resolver404, resolve

README = Path(settings.BASE_DIR) / "README.md"
README_ADDRESS = "http://127.0.0.1:8000"


def api_example() -> str:
    """The first shell block of the README's "## API" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## API\n") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the README's API section has no ```sh block"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is missing")
def test_the_readme_api_example_runs_as_it_stands(live_server, transactional_db):
    call_command("seed_demo", stdout=StringIO())
    script = api_example()
    assert script.count("curl ") >= 4 and README_ADDRESS in script
    # Only the address changes; each real curl also writes its status code to stderr.
    wrapped = (
        "set -euo pipefail\n"
        "curl() { command curl --write-out '%{stderr}HTTP %{http_code}\\n' \"$@\"; }\n"
        + script.replace(README_ADDRESS, live_server.url)
        + '\necho; echo "ID=$ID"\n'
    )
    run = subprocess.run(
        ["/bin/bash", "-c", wrapped],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    codes = re.findall(r"^HTTP (\d{3})$", run.stderr, re.MULTILINE)
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert len(codes) == script.count("curl "), (codes, run.stdout, run.stderr)
    assert all(code.startswith("2") for code in codes), (codes, run.stdout, run.stderr)
    assert re.search(r"^ID=\d+$", run.stdout, re.MULTILINE), run.stdout
    assert '"qixium-saas"' in run.stdout  # the products' list shows the code the ticket uses
    assert '"clocks"' in run.stdout  # the last call shows the ticket's SLA state


def test_every_page_the_readme_names_exists():
    """The "Where people work" table names pages; each must be a route (`/portal/service/`
    was a 404)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Where people work") : text.index("## Demo logins")]
    paths = set(re.findall(r"`(/[a-z0-9/._-]*)`", table))
    assert "/portal/service/" in paths and len(paths) >= 8
    missing = []
    for path in sorted(paths):
        try:
            resolve(path)
        except Resolver404:
            missing.append(path)
    assert not missing, f"the README names pages that do not exist: {missing}"
