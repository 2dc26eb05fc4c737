"""sourcing: supplier diversification optimizer for critical materials.

Data flows one way: scenario file -> `loading` -> `model` -> `solving` ->
`plan` -> `check` -> `report`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sourcing")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+checkout"
