"""Build numkeras's one compiled piece: the optional fused optimizer kernels (plain C).

Everything else is in pyproject.toml. ``optional=True``: without a C compiler the install
still succeeds and the optimizers use their NumPy path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "numkeras.optimizers._fused",
            sources=["numkeras/optimizers/_fused.c"],
            # No fused multiply-add contraction: results must round exactly as NumPy's do.
            extra_compile_args=["-O3", "-fno-math-errno", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
