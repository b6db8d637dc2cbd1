"""The optional C accelerator of the verifier (ledger/log/_speedups.c); everything else is in pyproject.toml.

``optional=True``: where it cannot be built (no C compiler, no OpenSSL headers) the install still succeeds with a
warning, and the pure-Python verifier runs (``jixiao verify`` says which one ran).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "ledger.log._speedups",
            ["ledger/log/_speedups.c"],
            libraries=["crypto"],
            optional=True,
            extra_compile_args=["-std=c11", "-Wextra"],
        ),
    ]
)
