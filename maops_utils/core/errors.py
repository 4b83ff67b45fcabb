"""Errors that end a run with a readable message instead of a traceback."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .personal import mask_personal

# Exit codes of the command line: 2 = the input or configuration is wrong (fix it and re-run),
# 1 = a notebook or the rendering failed.
EXIT_INPUT = 2
EXIT_FAILED = 1


class MaopsError(Exception):
    """An error a user can act on; the CLI prints its message and exits with `exit_code`."""

    exit_code = EXIT_FAILED


class ConfigError(MaopsError, ValueError):
    """A parameter, flag or YAML setting is wrong."""

    exit_code = EXIT_INPUT


class TimezoneMismatch(ConfigError):
    """The dataset's `import.json` records its timestamps in another zone than the run's:
    read in the run's zone, rows would fall into other days and months."""


class NotEnoughData(MaopsError):
    """The data cannot support this report (e.g. no outcome yet to judge a model by).

    A notebook raises it to say so; the batch then publishes the month without that report
    and shows the reason in its place, instead of failing the month.
    """


class InputChanged(MaopsError):
    """An input file changed while the run read it: its report would mix two exports."""

    exit_code = EXIT_INPUT


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM, SIGHUP): raised by a signal handler, like
    KeyboardInterrupt, so that what it was building is removed on the way out. Not an
    Exception: no `except Exception` may take it for a failure to recover from."""

    def __init__(self, signum: int, name: str):
        super().__init__(name)
        self.exit_code = 128 + signum  # as a shell reports a process a signal ended


class RunInProgress(MaopsError):
    """Another run is writing the same month; this one refuses rather than interleave."""


@dataclass
class Finding:
    """One data-quality observation about an input table.

    `severity` is "error" (fatal: the run stops) or "warning" (the rows are left out or the
    value is ignored, and the run goes on). `message` and `action` are English, for the
    terminal and `run.log`; a finding with a `code` is worded in a report's language from
    `core/text.yaml` with its `params` (`i18n.finding_words`).
    """

    severity: str
    table: str
    message: str
    file: str = ""
    column: str = ""
    count: int = 0
    examples: list[str] = field(default_factory=list)
    action: str = ""
    code: str = ""
    params: dict[str, str | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A finding quotes cell values, and is printed, logged and published: an e-mail
        # address or a telephone number in it is masked once, here.
        self.message = mask_personal(self.message)
        self.examples = [mask_personal(e) for e in self.examples]
        self.params = {k: mask_personal(v) for k, v in self.params.items()}

    def describe(self) -> str:
        where = self.file or self.table
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.examples:
            text += "\n    e.g. " + "; ".join(self.examples)
        if self.action:
            text += f"\n    -> {self.action}"
        return text

    def describe_short(self) -> str:
        """Message with the column, without the file path (for reports)."""
        return f"{self.column}: {self.message}" if self.column else self.message

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "table": self.table,
            "file": self.file,
            "column": self.column,
            "message": self.message,
            "count": self.count,
            "examples": list(self.examples),
            "action": self.action,
            "code": self.code,
            "params": dict(self.params),
        }


class DataContractError(MaopsError):
    """The dataset breaks the data contract in a way no metric can be computed from."""

    exit_code = EXIT_INPUT

    def __init__(self, problems: list[Finding]):
        self.problems = problems
        lines = [f"The dataset does not satisfy the data contract ({len(problems)} problem(s)):"]
        lines += ["  - " + p.describe().replace("\n", "\n  ") for p in problems]
        lines.append(
            "Nothing was written. Fix the input and run again (see docs/data-contract.md)."
        )
        super().__init__("\n".join(lines))


def suggest(name: str, known: list[str]) -> str:
    """ "; did you mean 'x'?" for the closest known name, or ""."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
