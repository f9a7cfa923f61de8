"""goldpath: the platform team's CLI around the golden ML project template."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("goldpath")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"
