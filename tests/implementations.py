"""Both implementations of the verifier's hot loop, for tests to run against each: the pure-Python reference
(``accelerator=False``) and the C accelerator (``accelerator=True``, see ``ledger.speedups``).

Where the accelerator is not built the C cases are skipped with the reason — unless ``JIXIAO_REQUIRE_SPEEDUPS=1``
(as ``.ci/run`` sets), when they run and fail, so a build that silently fell back cannot pass for a tested one.
"""

from __future__ import annotations

import os

import pytest

from ledger.log import speedups

REQUIRED = os.environ.get("JIXIAO_REQUIRE_SPEEDUPS") == "1"
_C_MARKS = (
    ()
    if speedups.AVAILABLE or REQUIRED
    else (pytest.mark.skip(reason="the C accelerator ledger._speedups is not built in this installation"),)
)

ACCELERATORS = [pytest.param(False, id="python"), pytest.param(True, id="c", marks=_C_MARKS)]
"""``@pytest.mark.parametrize("accelerator", ACCELERATORS)``: a test's body runs once per implementation."""

IMPLEMENTED = [False, True] if speedups.AVAILABLE or REQUIRED else [False]
"""The implementations to loop over inside one test (on one tampered database, say): both where C is built."""
