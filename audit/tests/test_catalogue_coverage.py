"""Generated coverage: every action in the catalogue is emitted where the catalogue says
and is written when its behaviour happens. A new action without a scenario, or a
catalogued action whose emitting code is missing, fails here (never skips)."""

import importlib
import inspect
from pathlib import Path

import pytest

from audit import catalogue
from audit.catalogue import ACTIONS
from audit.tests.helpers import events_since, last_id
from audit.tests.scenarios import Ctx, discover

DOCS = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_each_action_is_written(name, client, tenants, make_user, request):
    action = ACTIONS[name]
    for module_name in action.emitted_by:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            pytest.fail(f"{name}: emitting module {module_name} does not exist")
        needle = action.emitted_as or f'"{name}"'
        if needle not in inspect.getsource(module):
            pytest.fail(f"{name}: {module_name} never records {needle}")

    scenario = discover().get(name)
    if scenario is None:
        pytest.fail(
            f"{name}: no scenario triggers it. Register one with "
            f"@scenario({name!r}) in <app>/tests/audit_scenarios.py."
        )
    before = last_id()
    scenario(Ctx(client=client, tenants=tenants, make_user=make_user, request=request))
    written = list(events_since(before, name))
    assert written, f"{name}: the scenario ran but no {name} event was written"
    for event in written:
        assert "_dropped" not in event.data, (
            f"{name}: data keys outside the allowlist: {event.data['_dropped']}"
        )


def test_every_scenario_is_for_a_catalogued_action():
    assert sorted(set(discover()) - set(ACTIONS)) == []


def test_the_docs_list_exactly_the_catalogue():
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(catalogue.START, 1)[1].split(catalogue.END, 1)[0]
    assert section.strip() == catalogue.render_markdown().strip(), (
        "docs/audit.md is out of date: run `.venv/bin/python -m audit.catalogue docs/audit.md`"
    )
