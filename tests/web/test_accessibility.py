"""Pages keep to WCAG AA where the stylesheet decides it: muted text contrast and a skip link on every page."""

from __future__ import annotations

import re

from engine.config import PROJECT_ROOT

CSS = (PROJECT_ROOT / "web" / "static" / "css" / "app.css").read_text(encoding="utf-8")


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variable(name: str) -> str:
    found = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert found, name
    return found.group(1)


def test_muted_text_reads_at_aa_contrast_on_white_and_on_the_page() -> None:
    muted = variable("muted")
    assert contrast(muted, "#ffffff") >= 4.5 and contrast(muted, variable("bg")) >= 4.5


def test_every_page_starts_with_a_skip_link_to_the_main_content(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<a class="skip-link" href="#main">', html) and 'id="main"' in html
