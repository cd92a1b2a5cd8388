"""Build numkeras's one compiled piece: the optional fused optimizer kernels (plain C).

Everything else is in pyproject.toml. ``optional=True``: without a C compiler the install
still succeeds and the optimizers use their NumPy path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "numkeras._fused",
            sources=["numkeras/_fused.c"],
            # No fused multiply-add contraction: results must round exactly as NumPy's do.
            # -fno-trapping-math lets comparisons (relu) vectorize; it changes no result.
            extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math",
                                "-ffp-contract=off", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        )
    ]
)
