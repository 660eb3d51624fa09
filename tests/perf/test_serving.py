"""Start-up before serving (issue 12): the deployed models are parsed and the long-lived objects leave the collector."""

from __future__ import annotations

import gc

from engine.platform import definitions


def test_ready_to_serve_parses_the_latest_models_and_freezes_what_start_up_built(app):
    from web import ready_to_serve

    definitions._BUNDLE_CACHE.clear()
    try:
        ready_to_serve(app)
        assert gc.get_freeze_count() > 0
        assert definitions._BUNDLE_CACHE, "the latest versions are parsed before the first request"
    finally:
        gc.unfreeze()
