"""sourcing: supplier diversification optimizer for critical materials.

Data flows one way: scenario file -> `io` -> `model` -> `solve` -> `results`
-> `analysis` and `reports` -> `app` -> `cli` (DESIGN §2; the subpackages'
docstrings say what each holds).

Importing the package imports nothing else (`optimizer.entry` must be able to
install its signal handlers at once); `__version__` is looked up when asked for.
"""


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("sourcing")
        except PackageNotFoundError:  # running from a checkout without installing
            return "0.0.0+checkout"
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
