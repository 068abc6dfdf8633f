"""Sizes and times read the same in pages, emails, admin and the browser uploader."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from django.template import Context, Template

from portal.format import human_datetime, human_size, parse_size

CASES = json.loads((Path(__file__).parent / "format_cases.json").read_text())


@pytest.mark.parametrize(("size", "text"), CASES["sizes"])
def test_it_writes_binary_sizes_with_their_unit(size, text):
    assert human_size(size) == text


@pytest.mark.parametrize(("iso", "text"), CASES["datetimes"])
def test_it_writes_times_in_utc(iso, text):
    assert human_datetime(datetime.fromisoformat(iso)) == text


def test_templates_have_the_filters_without_loading_them():
    out = Template("{{ n|size }} at {{ t|when }}").render(
        Context({"n": 314572800, "t": datetime.fromisoformat("2026-12-01T21:43:09Z")})
    )
    assert out == "300.0 MiB at 1 Dec 2026 21:43 UTC"


def test_it_never_shows_a_raw_float():
    assert human_size(0.3886929228736103) == "0 B"
    assert human_size(1536.7) == "1.5 KiB"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2048", 2048),
        ("500 GB", 500 * 10**9),
        ("1 TiB", 1024**4),
        ("1.5 TB", 1_500_000_000_000),
        ("10 MiB", 10 * 1024**2),
        ("300.0 MiB", 314572800),
        ("7 bytes", 7),
    ],
)
def test_it_reads_sizes_as_people_type_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "5 XB", "-1 GB", "1e9"])
def test_it_refuses_what_is_not_a_size(text):
    with pytest.raises(ValueError):
        parse_size(text)
