"""Which implementation of the verifier's hot loop runs: the optional C accelerator or the pure-Python reference.

``ledger._speedups`` (built from ``ledger/log/_speedups.c`` at install time where a C compiler and OpenSSL's headers
are found; the install succeeds without them) recomputes leaf hashes, the chain and Merkle levels with OpenSSL's
SHA-256 without ``hashlib``'s microsecond of overhead per call: a row of the verifier's COPY is checked in about a
third of the pure-Python time (measured on rows held in memory). The pure-Python code in :mod:`ledger.log.rows` and
:mod:`ledger.log.merkle` stays the reference: both give the same results on every input
(``tests/ledger/log/test_speedups.py``), and either can be asked for:

- ``accelerator=None`` (the default of ``verify_log`` and ``merkle.perfect_levels``): the C accelerator when it
  is built, unless the environment sets ``JIXIAO_PURE_PYTHON=1``;
- ``accelerator=False``: the pure-Python reference;
- ``accelerator=True``: the C accelerator, or :class:`AcceleratorUnavailable`.

Either way every hash is computed in the verifying process(es), from the bytes the database sent.
"""

from __future__ import annotations

import os

__all__ = ["AVAILABLE", "PURE_PYTHON", "AcceleratorUnavailable", "describe", "use_native"]

PURE_PYTHON = "JIXIAO_PURE_PYTHON"  # set to 1 (or anything but 0 and empty) to run the pure-Python reference

try:
    from ledger.log import _speedups
except ImportError:  # not built here: no C compiler or no OpenSSL headers when the package was installed
    AVAILABLE = False
else:
    AVAILABLE = True


class AcceleratorUnavailable(RuntimeError):
    """The C accelerator was required but is not built in this installation."""


def use_native(accelerator: bool | None = None) -> bool:
    """Whether the C accelerator runs, given the caller's choice (None: the default, see the module's docstring)."""
    if accelerator is None:
        return AVAILABLE and os.environ.get(PURE_PYTHON, "") in ("", "0")
    if accelerator and not AVAILABLE:
        raise AcceleratorUnavailable(
            "the C accelerator ledger._speedups is not built in this installation (reinstall with a C compiler "
            "and OpenSSL's headers, e.g. Debian's gcc and libssl-dev)"
        )
    return accelerator


def describe(native: bool) -> str:
    """The implementation, as a report names it."""
    if native:
        return f"C accelerator, {_speedups.OPENSSL_VERSION}"
    return "pure-Python reference"
