"""The visual form editor in real Chromium (issue 11 item 8): a process designer adds a choice field with Chinese and
English labels and options, makes it required, moves it and sets its help, without touching JSON; the JSON Schema and
UI schema are written for them, the live preview shows the field, the bundle validates, and a wrong key is refused
in place."""

from __future__ import annotations

import json

from tests.browser.test_designer_browser import shot

FORM = "analyse_root_cause.schema.json"


def test_a_designer_adds_a_bilingual_choice_field_visually_and_the_schema_follows(page, sign_in):
    sign_in("modeler")
    page.goto(f"/designer/forms/{FORM}")
    page.wait_for_selector(f'#designer[data-form-open="{FORM}"]')
    before = json.loads(page.input_value("[data-form-schema]"))
    cards = page.locator("[data-fb-fields] > li")
    assert cards.count() == len(before["properties"])

    page.fill("[data-fb-new-key]", "Bad Key")
    page.click("[data-fb-add]")
    assert page.locator("[data-fb-key-error]").is_visible()  # refused in place, nothing added
    assert cards.count() == len(before["properties"])

    page.fill("[data-fb-new-key]", "supplier_batch")
    page.click("[data-fb-add]")
    card = page.locator('[data-fb-key="supplier_batch"]')
    card.locator('[data-fb="label"]').fill("供方批次")
    card.locator('[data-fb="label-en"]').fill("Supplier batch")
    card.locator('[data-fb="type"]').select_option("choice")
    card = page.locator('[data-fb-key="supplier_batch"]')  # the card is drawn again for the new type
    card.locator('[data-fb="options"]').fill("early | 早批次 | Early batch\nlate | 晚批次 | Late batch")
    card.locator('[data-fb="required"]').check()
    card.locator('[data-fb="widget"]').select_option("select")
    card.locator('[data-fb="help"]').fill("见零件标签")
    card.locator("button[aria-label^='上移'], button[aria-label^='Move up']").click()

    schema = json.loads(page.input_value("[data-form-schema]"))
    ui = json.loads(page.input_value("[data-form-ui]"))
    field = schema["properties"]["supplier_batch"]
    assert field["title"] == "供方批次" and field["x-i18n"]["en"]["title"] == "Supplier batch"
    assert field["enum"] == ["early", "late"] and field["x-enumNames"] == ["早批次", "晚批次"]
    assert field["x-i18n"]["en"]["enumNames"] == ["Early batch", "Late batch"]
    assert "supplier_batch" in schema["required"]
    assert ui["supplier_batch"] == {"ui:widget": "select", "ui:help": "见零件标签"}
    assert ui["ui:order"][-1] != "supplier_batch" and ui["ui:order"].index("supplier_batch") == len(ui["ui:order"]) - 2
    for name, node in before["properties"].items():  # keys the editor does not show are kept
        assert schema["properties"][name] == node

    page.wait_for_function(
        "() => (document.getElementById('designer').dataset.previewFields || '').includes('supplier_batch')"
    )
    assert page.locator("[data-form-preview] label:has-text('供方批次')").is_visible()
    assert page.locator("[data-form-preview] option:has-text('晚批次')").count() == 1
    shot(page, "designer-form-builder")
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validated="ok"]')
