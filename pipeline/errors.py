"""Errors the command line turns into a one-line message and a non-zero exit code.

Every message names the thing that is wrong and the fix, so an analyst never needs a traceback.
"""


class PipelineError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code = 2


class ConfigError(PipelineError):
    """The study configuration is invalid."""


class SnapshotError(PipelineError):
    """A raw snapshot is missing, incomplete or corrupt."""


class MissingColumnError(SnapshotError):
    """A measure or dimension the config needs is not in the CBS table."""


class UnknownMunicipalityError(PipelineError):
    """A municipality code or name that the snapshot does not know."""


class FetchError(PipelineError):
    """Downloading a table from CBS failed."""


class ExecutionError(PipelineError):
    """One or more notebooks failed."""
