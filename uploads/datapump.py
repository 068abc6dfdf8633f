"""What the portal knows about Oracle Data Pump file sets: DUMPFILE templates and expdp logs.

Pure functions, no Django. The rules, from Oracle's Database Utilities guide:

- `DUMPFILE=[directory_object:]file_name [, ...]`: the directory object names a database
  directory, not part of the file name, so it is dropped; a name without an extension gets
  `.dmp`, as expdp gives it.
- `%U` becomes a two-digit number, 01 to 99. `%L` (12.2 and later) counts 01 to 99 the
  same way, then goes on without padding, 100 up to 2147483646 (3 to 10 digits, the
  width the number needs). Every substitution variable in one template takes the same
  number at the same time (`exp%Uaa%U.dmp` is exp01aa01.dmp, exp02aa02.dmp ...).
- The log's "Dump file set for <job> is:" line is followed by one indented path a line for
  every file the job wrote, and the job's end is a `Job "<owner>"."<job>" ... at ...` line.
  The log gives no sizes: sizes can only be checked against an expected size range.

Names are compared case-insensitively. Oracle keeps the case it was given, but customers'
copies pass through Windows (whose expdp writes and logs upper-case paths) and zip tools, so
`EXP_01.DMP` arriving for `exp_01.dmp` is the same file; a set whose names differ only in
case would be a set nobody could restore on Windows anyway."""

import re
from dataclasses import dataclass

# The highest number %L reaches (Oracle's documented upper bound).
LONG_MAX = 2_147_483_646
SHORT_MAX = 99
DEFAULT_EXTENSION = ".dmp"

_SUBSTITUTION = re.compile(r"%([UL])", re.IGNORECASE)
_SET_HEADER = re.compile(r"^\s*Dump file set for\s+(?P<job>\S+(?:\s+\S+)*?)\s+is:\s*$", re.IGNORECASE)
_JOB_END = re.compile(
    r'^\s*Job\s+(?P<job>"[^"]+"\."[^"]+")\s+(?P<outcome>.+?)\s+at\s+(?P<when>.+)$', re.IGNORECASE
)


@dataclass(frozen=True)
class Template:
    """One file name of a DUMPFILE list, with its substitution variables (if any)."""

    name: str

    @property
    def is_set(self) -> bool:
        return bool(_SUBSTITUTION.search(self.name))

    @property
    def _long(self) -> bool:
        return "%l" in self.name.lower()

    @property
    def highest(self) -> int:
        """The highest number the template can take (1 for a plain name)."""
        if not self.is_set:
            return 1
        return LONG_MAX if self._long else SHORT_MAX

    def nth(self, number: int) -> str:
        """The file name the template has for `number` (1 is the first file)."""
        if not 1 <= number <= self.highest:
            raise ValueError(f"{self.name} has no file number {number}")
        digits = f"{number:02d}"
        return _SUBSTITUTION.sub(digits, self.name)

    def number_of(self, file_name: str) -> int | None:
        """The number `file_name` has in this template, or None when it is not one of its files."""
        pieces = _SUBSTITUTION.split(self.name)
        # split() alternates literal text and the captured variable letter.
        literals, count = pieces[0::2], len(pieces) // 2
        if count == 0:
            return 1 if file_name.casefold() == self.name.casefold() else None
        number = r"(0[1-9]|[1-9][0-9]|[1-9][0-9]{2,9})" if self._long else r"(0[1-9]|[1-9][0-9])"
        regex = re.escape(literals[0]) + "".join(
            (number if i == 0 else r"\1") + re.escape(lit) for i, lit in enumerate(literals[1:])
        )
        m = re.fullmatch(regex, file_name, re.IGNORECASE)
        if m is None or int(m.group(1)) > self.highest:
            return None
        return int(m.group(1))

    def matches(self, file_name: str) -> bool:
        return self.number_of(file_name) is not None


def parse_dumpfile(spec: str) -> list[Template]:
    """The templates of a DUMPFILE value: `exp_%U.dmp`, `DUMPFILE=dir1:a_%U.dmp,dir2:b_%U`
    or several `DUMPFILE=` parameters on one line. Raises ValueError for an empty or
    unusable one."""
    templates = []
    value = re.sub(r"\bdumpfile\s*=\s*", ",", spec.strip(), flags=re.IGNORECASE)
    for raw in value.split(","):
        item = raw.strip().strip("'\"").strip()
        if not item:
            continue
        # dir:name; a Windows drive letter is not valid in DUMPFILE either way.
        item = item.rsplit(":", 1)[-1].strip()
        if not item or "/" in item or "\\" in item:
            raise ValueError(f"{raw.strip()!r} is not a file name (DUMPFILE takes names, not paths).")
        if "." not in item:
            item += DEFAULT_EXTENSION
        templates.append(Template(item))
    if not templates:
        raise ValueError("The DUMPFILE list names no file.")
    return templates


def matches(spec: str, file_name: str) -> bool:
    """Whether `file_name` is one of the files a DUMPFILE value can produce."""
    return any(t.matches(file_name) for t in parse_dumpfile(spec))


@dataclass(frozen=True)
class ExportLog:
    """What an expdp log says about its dump file set. `files` are base names in the log's
    order; empty when the log has no "Dump file set" lines (the job failed, was stopped, or
    the log was cut short), which means the set is not known."""

    files: tuple[str, ...]
    job: str = ""
    # The words between the job name and "at" on the last line: "successfully completed",
    # "completed with 2 error(s)", "stopped due to fatal error"; "" when the log has none.
    outcome: str = ""

    @property
    def set_known(self) -> bool:
        return bool(self.files)

    @property
    def succeeded(self) -> bool:
        return self.outcome.lower() == "successfully completed"


def base_name(path: str) -> str:
    """The file name of a path as the log prints it: Unix, Windows or ASM (+DATA/dir/f.dmp)."""
    return re.split(r"[/\\]", path.strip())[-1]


def parse_log(text: str) -> ExportLog:
    """Read an expdp log. Only the last "Dump file set" block counts (a restarted job logs
    again into the same file)."""
    files: list[str] = []
    job = outcome = ""
    in_set = False
    for line in text.splitlines():
        header = _SET_HEADER.match(line)
        if header:
            files, job, in_set = [], header.group("job").replace('"', ""), True
            continue
        if in_set:
            # The set's lines are indented paths; anything else ends it.
            if line[:1].isspace() and line.strip():
                files.append(base_name(line))
                continue
            in_set = False
        end = _JOB_END.match(line)
        if end:
            outcome = end.group("outcome").strip()
            job = job or end.group("job").replace('"', "")
    return ExportLog(tuple(files), job, outcome)
