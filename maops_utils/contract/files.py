"""Reading the input files: where each table of the dataset folder is, how a file's bytes are
decoded (UTF-8 with or without BOM, CP932), CSV read whole or streamed a chunk at a time, and
Parquet scanned where it lies. What the contract's rules check is what these return."""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io as _io
import json
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.errors import ConfigError, DataContractError, Finding, TimezoneMismatch
from ..core.io import Checksums, file_stamp, sha256_bytes, sha256_file
from ..core.schema import TABLES

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp932", "shift_jis")


@dataclass
class RawTable:
    """A table as read from its file, before validation (CSV: every cell a string)."""

    name: str
    path: Path
    frame: pd.DataFrame
    encoding: str
    sha256: str
    size: int
    # fatal problems of the file found while reading it, reported with the structure's
    problems: list[Finding] = field(default_factory=list)

    @property
    def is_csv(self) -> bool:
        return self.path.suffix.lower() == ".csv"

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def rows(self) -> int:
        return len(self.frame)

    def where(self, index: int) -> str:
        """Human position of the row at positional `index` (CSV line numbers count the header)."""
        return f"line {index + 2}" if self.is_csv else f"row {index + 1}"


class KeptTable(RawTable):
    """A table whose typed rows were found in the validated-data cache: what validation
    needs of the file (its columns, row count, checksum) without reading it. The rows as
    written are read only if a finding quotes one (`frame`, on first use)."""

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        encoding: str,
        sha256: str,
        size: int,
        rows: int,
        columns: list[str],
        read_encoding: str,
    ):
        self.name, self.path, self.encoding = name, path, encoding
        self.sha256, self.size = sha256, size
        self._rows, self._columns, self._read_encoding = rows, list(columns), read_encoding

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def rows(self) -> int:
        return self._rows

    @functools.cached_property
    def frame(self) -> pd.DataFrame:  # type: ignore[override]
        return read_raw_table(self.name, self.path, encoding=self._read_encoding).frame


def locate_tables(data_dir: Path) -> dict[str, Path]:
    """Map each contract table found in `data_dir` to its file: `<table>.csv`, `<table>.parquet`
    or a folder `<table>/` of Parquet files (for example Hive-partitioned `month=YYYY-MM/`)."""
    if not data_dir.is_dir():
        raise ConfigError(
            f"data folder '{data_dir}' does not exist or is not a folder; "
            "point data_dir (--data on the command line, -p data_dir for papermill, data_dir in "
            "params/run.yaml) at a dataset in data contract v1 (see data/sample/)."
        )
    found: dict[str, Path] = {}
    for name in TABLES:
        candidates = [
            p for p in (data_dir / f"{name}.csv", data_dir / f"{name}.parquet") if p.is_file()
        ]
        if (data_dir / name).is_dir():
            candidates.append(data_dir / name)
        if len(candidates) > 1:
            raise DataContractError(
                [
                    Finding(
                        "error",
                        name,
                        ("both " if len(candidates) == 2 else "all of ")
                        + " and ".join(p.name for p in candidates)
                        + f" exist in {data_dir}",
                        file=str(data_dir / name),
                        action=f"keep exactly one of {name}.csv, {name}.parquet or {name}/",
                    )
                ]
            )
        if candidates:
            found[name] = candidates[0]
    return found


IMPORT_RECORD = "import.json"  # what `maops import` writes beside the tables it wrote


@dataclass(frozen=True)
class ImportZone:
    """What a dataset's `import.json` records of time: the zone its timestamps are written
    in, and the zone the import's mapping declared for the exports' own timestamps (None:
    the mapping declared none, so they were read in the import's zone)."""

    path: Path
    timezone: str
    source_timezone: str | None = None


def _known_zone(zone: object) -> bool:
    if not isinstance(zone, str) or not zone:
        return False
    try:
        pd.Timestamp("2020-01-01").tz_localize(zone)
    except Exception:
        return False
    return True


def import_zone(data_dir: Path) -> ImportZone | None:
    """The zone `data_dir/import.json` records; None without that file, or for one written
    before imports recorded their zone: such a dataset is read as any other, in the run's."""
    path = Path(data_dir) / IMPORT_RECORD
    redo = (
        "it is written by maops import: import the exports again, or remove the file to read "
        "the tables in the run's time zone"
    )
    if not path.is_file():
        return None  # only looked at: a warm load opens no file of the input
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); {redo}") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{path} does not hold the record of an import; {redo}")
    zone, source = record.get("timezone"), record.get("source_timezone")
    if zone is None:
        return None
    for key, value in (("timezone", zone), ("source_timezone", source)):
        if not (value is None and key == "source_timezone") and not _known_zone(value):
            raise ConfigError(
                f"{path}: {key} {value!r} is not a known time zone (e.g. Asia/Tokyo); {redo}"
            )
    return ImportZone(path, zone, source)


def check_import_zone(data_dir: Path, timezone: str) -> ImportZone | None:
    """`import_zone(data_dir)`, refused when it is not `timezone`, the zone the run reads in.

    The import wrote local times in its zone and nothing in the tables says which: read in
    another zone, every row would fall into the day and the month of that one. Converting
    them silently would make a report whose months differ from the user's setting; the user
    chooses instead, and the message says how."""
    recorded = import_zone(data_dir)
    if recorded is None or recorded.timezone == timezone:
        return recorded
    zone = recorded.timezone
    raise TimezoneMismatch(
        f"{recorded.path} records that the dataset's timestamps are local time in {zone} "
        f"(the zone maops import wrote them in), but this run reads them in {timezone}: rows "
        f"would fall into other days and months, so the dataset was not read. Read it in "
        f"{zone}: pass --timezone {zone} (in a notebook: the parameter timezone='{zone}'), "
        f"or set `timezone: {zone}` in params/run.yaml; or import the exports again with "
        f"--timezone {timezone} to have them in {timezone}."
    )


def parquet_files(folder: Path, table: str) -> list[Path]:
    """The Parquet files of a table folder, in path order (the order rows are numbered in)."""
    files = sorted(p for p in folder.rglob("*.parquet") if p.is_file())
    if not files:
        raise DataContractError(
            [
                Finding(
                    "error",
                    table,
                    f"folder '{folder}' holds no .parquet file",
                    file=str(folder),
                    action=f"put the {table} Parquet files there (any depth, e.g. month=YYYY-MM/)",
                )
            ]
        )
    return files


def input_stamps(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Every file of the contract's tables in `data_dir` (a folder's files one by one) with
    its size and modification time: taken before a run reads its input and again before it
    publishes, so that an input rewritten meanwhile is never published as one report."""
    stamps: dict[str, tuple[int, int]] = {}
    try:
        tables = locate_tables(data_dir)
    except (ConfigError, DataContractError):
        return stamps  # the load says what is wrong
    for path in tables.values():
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        stamps.update((str(f), file_stamp(f)) for f in files)
    return stamps


def changed_inputs(before: dict[str, tuple[int, int]], data_dir: Path) -> list[str]:
    """The files of `before` (`input_stamps`) that changed, went or came since."""
    after = input_stamps(data_dir)
    return sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))


def _encoding_tries(encoding: str) -> tuple[str, ...]:
    """The encodings to try, in order, for an `encoding` setting."""
    if encoding not in ENCODINGS:
        raise ConfigError(
            f"encoding '{encoding}' is not supported; use one of {', '.join(ENCODINGS)}"
        )
    return ("utf-8-sig", "cp932") if encoding == "auto" else (encoding,)


def _codec(enc: str) -> str:
    """The Python codec for an encoding tried: UTF-8 with or without a BOM."""
    return "utf-8-sig" if enc == "utf-8" else enc


def _label(enc: str, head: bytes) -> str:
    """The encoding a file was read in, as run.json records it."""
    if enc.startswith("utf-8"):
        return "utf-8-sig" if head[:3] == b"\xef\xbb\xbf" else "utf-8"
    return enc


def _undecodable(table: str, file: str, tries: tuple[str, ...], line: int) -> DataContractError:
    return DataContractError(
        [
            Finding(
                "error",
                table,
                f"cannot be decoded as {' or '.join(tries)} (bad byte at line {line})",
                file=file,
                action="save the file as UTF-8 or CP932, or set `encoding` in params/run.yaml",
            )
        ]
    )


def decode_text(data: bytes, *, file: str, table: str, encoding: str = "auto") -> tuple[str, str]:
    """Decode CSV bytes; with "auto", UTF-8 (BOM or not) first, then CP932 (Japanese Excel)."""
    tries = _encoding_tries(encoding)
    first_error: UnicodeDecodeError | None = None
    first_enc = tries[0]
    for enc in tries:
        try:
            return data.decode(_codec(enc)), _label(enc, data)
        except UnicodeDecodeError as exc:
            if first_error is None:
                first_error, first_enc = exc, enc
    assert first_error is not None
    # positions from the utf-8-sig codec do not count the BOM it skipped
    skipped = 3 if first_enc.startswith("utf-8") and data[:3] == b"\xef\xbb\xbf" else 0
    line = data[: first_error.start + skipped].count(b"\n") + 1
    raise _undecodable(table, file, tries, line)


def read_raw_table(
    name: str, path: Path, *, encoding: str = "auto", delimiter: str | None = ","
) -> RawTable:
    """Read one table file. CSV cells stay strings (validation parses them); Parquet keeps types.

    `delimiter`: the CSV field separator; None: the one the header line uses (`sniff_delimiter`),
    for exports that write `;` or tabs."""
    if path.is_dir():
        return _read_parquet_folder(name, path)
    data = path.read_bytes()
    digest = sha256_bytes(data)
    problems: list[Finding] = []
    if path.suffix.lower() == ".parquet":
        try:
            # positions, not a stored index: findings name rows by position
            frame = pd.read_parquet(_io.BytesIO(data)).reset_index(drop=True)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DataContractError(
                [Finding("error", name, f"is not a readable Parquet file ({exc})", file=str(path))]
            ) from None
        used = "parquet"
    else:
        text, used = decode_text(data, file=str(path), table=name, encoding=encoding)
        frame = pd.DataFrame()
        if text.strip():
            header = text.lstrip("\ufeff").split("\n", 1)[0]
            sep = delimiter or sniff_delimiter(header)
            frame, problems = _read_csv_text(name, path, text, header, sep)
            frame.columns = _header_as_written(header, list(frame.columns), sep)
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(name, path, frame, used, digest, len(data), problems)


def _read_csv_text(
    name: str, path: Path, text: str, header: str, sep: str
) -> tuple[pd.DataFrame, list[Finding]]:
    """The cells of a CSV text. Lines with more fields than the header are a fatal problem
    (returned, for the structure check to report beside the header's own), and every field
    stays in its header's column: the extra ones go to columns of their own."""
    with _csv_errors(name, path, sep):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                return pd.read_csv(_io.StringIO(text), sep=sep, **_CSV_OPTIONS), []
        except pd.errors.ParserWarning:
            pass
        names = next(csv.reader([header.lstrip("\ufeff")], delimiter=sep), [])
        width = max(len(row) for row in csv.reader(_io.StringIO(text), delimiter=sep))
        names += [f"(field {i + 1})" for i in range(len(names), width)]
        frame = pd.read_csv(
            _io.StringIO(text), sep=sep, header=None, skiprows=1, names=names, **_CSV_OPTIONS
        )
    return frame, [_longer_lines(name, path, sep)]


# How a CSV file is parsed: every cell a string as written, an empty cell "".
_CSV_OPTIONS = {"dtype": str, "keep_default_na": False, "na_filter": False, "index_col": False}


# The field separators exports use: Excel and most tools ",", Excel in a locale whose decimal
# sign is a comma ";", database and some vendor exports a tab or "|".
DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(header: str) -> str:
    """The separator the header line `header` uses: of `DELIMITERS`, the one that splits it
    into the most fields (quotes respected); "," when none splits it."""
    best, most = ",", 1
    for sep in DELIMITERS:
        fields = len(next(csv.reader([header], delimiter=sep), []))
        if fields > most:
            best, most = sep, fields
    return best


def _shown_delimiter(sep: str) -> str:
    return "a tab" if sep == "\t" else f"'{sep}'"


_CSV_ACTION = (
    "check quoting and the number of fields on that line; if the file separates its fields "
    "with another character, say which (`delimiter` in the import mapping)"
)


def _longer_lines(name: str, path: Path, sep: str) -> Finding:
    """The fatal finding of a file with a line of more fields than its header."""
    return Finding(
        "error",
        name,
        f"is not a well-formed CSV file (read with {_shown_delimiter(sep)} between fields): "
        f"a line has more fields than the header ({_longer_line(path, sep)})",
        file=str(path),
        action=_CSV_ACTION,
    )


def _longer_line(path: Path, sep: str) -> str:
    """Where the first line with more fields than the header is (`line N: K fields, the header
    H`), read again only to say so."""
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    reader = csv.reader(_io.StringIO(text), delimiter=sep)
    header = len(next(reader, []))
    for row in reader:
        if len(row) > header:
            return f"line {reader.line_num}: {len(row)} fields, the header {header}"
    return f"the header has {header} fields"


@contextmanager
def _csv_errors(name: str, path: Path, sep: str = ",") -> Iterator[None]:
    # pandas reads a line with more fields than the header by taking the first fields as
    # the row's index and shifting every column; with `index_col=False` it warns instead,
    # and that warning is an error here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.ParserWarning:
        raise DataContractError([_longer_lines(name, path, sep)]) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataContractError(
            [
                Finding(
                    "error",
                    name,
                    f"is not a well-formed CSV file (read with {_shown_delimiter(sep)} between "
                    f"fields): {exc}",
                    file=str(path),
                    action=_CSV_ACTION,
                )
            ]
        ) from None


def _header_as_written(first_line: str, parsed: list[str], sep: str = ",") -> list[str]:
    """pandas renames a repeated header to `x.1`; keep the names as written so that
    validation can say the column is there twice."""
    header = next(csv.reader(_io.StringIO(first_line.lstrip("\ufeff")), delimiter=sep), [])
    return header if len(header) == len(parsed) else parsed


# A bulk CSV file is parsed this many rows at a time (`stream_csv`), and read in pieces of
# this many bytes to check its encoding.
CSV_CHUNK_ROWS = 250_000


CSV_PIECE_BYTES = 1 << 23


def _decode_pieces(path: Path, codec: str, hasher=None) -> tuple[int | None, str, bool]:
    """Decode a file piece by piece with `codec` (never all of it in memory): the line of the
    first byte that cannot be decoded (None when every byte can), the first line of text and
    whether any text is not blank. `hasher` is fed every byte."""
    decoder = codecs.getincrementaldecoder(codec)()
    first, has_text, fed = "", False, 0
    with path.open("rb") as fh:
        while True:
            piece = fh.read(CSV_PIECE_BYTES)
            if hasher is not None:
                hasher.update(piece)
            fed += len(piece)
            try:
                text = decoder.decode(piece, final=not piece)
            except UnicodeDecodeError as exc:
                # the decoder's buffer (bytes held over, then this piece) ends where `fed` does
                return _line_at(path, fed - len(exc.object) + exc.start), first, has_text
            if "\n" not in first:
                first += text
            has_text = has_text or bool(text.strip())
            if not piece:
                return None, first.split("\n", 1)[0], has_text


def _line_at(path: Path, offset: int) -> int:
    """The line number (from 1) of the byte at `offset`."""
    lines, left = 1, offset
    with path.open("rb") as fh:
        while left > 0:
            piece = fh.read(min(CSV_PIECE_BYTES, left))
            if not piece:
                break
            lines += piece.count(b"\n")
            left -= len(piece)
    return lines


def stream_csv(name: str, path: Path, *, encoding: str = "auto") -> ScanTable:
    """A bulk CSV file (the activities) read without holding it in memory: decoded and
    parsed exactly as `read_raw_table` does (the same pandas parser, `CSV_CHUNK_ROWS` rows
    at a time), every cell a string, written as one Parquet file in a temporary folder that
    DuckDB then validates and queries like any Parquet input. Lines are still named as in
    the CSV file. The folder is removed when the dataset's store is."""
    tries = _encoding_tries(encoding)
    hasher = hashlib.sha256()
    first_bad: int | None = None
    for enc in tries:
        bad, header, has_text = _decode_pieces(path, _codec(enc), hasher)
        if bad is None:
            break
        first_bad = bad if first_bad is None else first_bad
        hasher = hashlib.sha256()  # stopped early: hash the whole file with the next try
    else:
        raise _undecodable(name, str(path), tries, first_bad or 1)
    sha = hasher.hexdigest()
    with path.open("rb") as fh:
        used = _label(enc, fh.read(3))
    size = path.stat().st_size
    if not has_text:
        return ScanTable(name, path, (), [], sha, size, used, csv=True)
    staging = tempfile.TemporaryDirectory(prefix="maops-csv-")
    target = Path(staging.name) / f"{name}.parquet"
    rows, writer, columns = 0, None, []

    def open_writer(parsed: list[str]) -> pq.ParquetWriter:
        nonlocal columns
        columns = [str(c).strip() for c in _header_as_written(header, parsed)]
        stored = columns if len(set(columns)) == len(columns) else parsed
        return pq.ParquetWriter(target, pa.schema([(str(c), pa.string()) for c in stored]))

    try:
        with _csv_errors(name, path):
            reader = pd.read_csv(
                path, encoding=_codec(enc), chunksize=CSV_CHUNK_ROWS, **_CSV_OPTIONS
            )
            with reader:
                for chunk in reader:
                    writer = writer or open_writer(list(chunk.columns))
                    arrays = [pa.array(chunk.iloc[:, j], pa.string()) for j in range(len(columns))]
                    writer.write_table(pa.Table.from_arrays(arrays, schema=writer.schema))
                    rows += len(chunk)
            if writer is None:  # a header and no rows: pandas yields no chunk
                parsed = pd.read_csv(path, encoding=_codec(enc), nrows=0, **_CSV_OPTIONS)
                writer = open_writer(list(parsed.columns))
    except BaseException:
        if writer is not None:
            writer.close()
        staging.cleanup()
        raise
    writer.close()
    return ScanTable(
        name,
        path,
        ((target, rows),),
        columns,
        sha,
        size,
        used,
        csv=True,
        staging=staging,
    )


def _read_parquet_folder(name: str, folder: Path) -> RawTable:
    scan = scan_parquet(name, folder)
    try:
        frame = pa.concat_tables(
            [pq.read_table(f) for f, _ in scan.files], promote_options="default"
        ).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataContractError(
            [Finding("error", name, f"is not a readable Parquet folder ({exc})", file=str(folder))]
        ) from None
    return RawTable(name, folder, frame.reset_index(drop=True), "parquet", scan.sha256, scan.size)


@dataclass
class ScanTable:
    """A Parquet table (one file, or a folder of files such as Hive partitions by month) that
    DuckDB validates and queries where it lies: it is never loaded whole into pandas.

    Rows are numbered across the files in path order, so findings can name a file and row."""

    name: str
    path: Path
    files: tuple[tuple[Path, int], ...]  # (file, rows) in path order
    columns: list[str]
    sha256: str
    size: int
    encoding: str = "parquet"
    csv: bool = False  # the source is a CSV file (its typed rows come from `typed_from`)
    typed_from: Path | None = None  # a cache folder of the rows already typed and checked
    # A folder's rows typed file by file (per-file cache entries, not yet checked as a whole):
    # each file's typed rows (a cache `data` folder) and the position of its first row. When
    # set, the rows are read from these; `typed_from` then only names the checked entry.
    typed_parts: tuple[tuple[Path, int], ...] = ()
    # For each typed part, what typing it found of each key column: {column: [repeats, lowest,
    # highest]} (`entries.key_range`), so that the check of the whole may skip a scan.
    part_keys: tuple[dict, ...] = ()
    staging: object = field(default=None, repr=False, compare=False)  # see `stream_csv`

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.files)

    @property
    def is_csv(self) -> bool:
        return self.csv

    def where(self, index: int) -> str:
        """Human position of the row at positional `index`: CSV `line N` (the header is line
        1), Parquet `row N`, or `<file> row N` in a folder."""
        if self.csv:
            return f"line {index + 2}"
        if self.path.is_file():
            return f"row {index + 1}"
        for f, n in self.files:
            if index < n:
                return f"{f.relative_to(self.path).as_posix()} row {index + 1}"
            index -= n
        return f"row {index + 1}"


def scan_parquet(name: str, path: Path, checksums: Checksums | None = None) -> ScanTable:
    """Describe a Parquet file or folder for DuckDB: files, row counts, columns, checksum.

    Reads only the files' footers and bytes (for the checksum), not their rows."""
    files = parquet_files(path, name) if path.is_dir() else [path]
    parts, columns, size = [], [], 0
    for f in files:
        try:
            meta = pq.ParquetFile(f)
            rows = meta.metadata.num_rows
            names = list(meta.schema_arrow.names)
        except (pa.ArrowException, OSError) as exc:
            raise DataContractError(
                [Finding("error", name, f"is not a readable Parquet file ({exc})", file=str(f))]
            ) from None
        columns += [c for c in names if c not in columns]
        parts.append((f, rows))
        size += f.stat().st_size
    sha = source_digest(path, checksums)
    return ScanTable(name, path, tuple(parts), [str(c).strip() for c in columns], sha, size)


def source_digest(path: Path, checksums: Checksums | None = None) -> str:
    """sha256 of a table's source: the file's bytes, or for a folder its files' paths and
    checksums (the `sha256` run.json records); `checksums` remembers them between runs."""
    of = checksums.of if checksums is not None else sha256_file
    if path.is_file():
        return of(path)
    digest = hashlib.sha256()
    for f in parquet_files(path, path.name):
        digest.update(f"{f.relative_to(path).as_posix()}\0{of(f)}\n".encode())
    return digest.hexdigest()


# Tables validated and queried in DuckDB when they come as Parquet: the bulk table.
SCANNED_TABLES = ("activities",)


def read_raw_dataset(
    data_dir: Path,
    *,
    encoding: str = "auto",
    scan: tuple[str, ...] = SCANNED_TABLES,
    given: Mapping[str, RawTable | ScanTable] | None = None,
    checksums: Checksums | None = None,
) -> dict[str, RawTable | ScanTable]:
    """Every table of the dataset folder: CSV and small Parquet tables as pandas frames, the
    tables in `scan` that are Parquet files or folders as `ScanTable`s left on disk. Tables
    in `given` (found in the cache) are not read again; `checksums` remembers the
    checksums of the files scanned."""
    out: dict[str, RawTable | ScanTable] = {}
    for name, path in locate_tables(data_dir).items():
        if given and name in given:
            out[name] = given[name]
            continue
        parquet = path.is_dir() or path.suffix.lower() == ".parquet"
        if name in scan and parquet:
            out[name] = scan_parquet(name, path, checksums)
        elif name in scan:
            out[name] = stream_csv(name, path, encoding=encoding)
            if checksums is not None:
                checksums.remember(path, out[name].sha256)
        else:
            out[name] = read_raw_table(name, path, encoding=encoding)
    return out
