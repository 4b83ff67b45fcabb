"""The bulk table of a dataset (activities) validated and kept in DuckDB, never whole in pandas.

A dataset's `Store` is one in-process DuckDB database. The activities are a chain of views:

    src_activities        the rows as read: a Parquet scan of the file or folder where it lies
                          (or, for CSV, the frame read by io.py), with `_row`, the row's
                          position across the files (findings name rows by it)
    activities_typed      every value typed by the contract's rules (text trimmed, timestamps
                          naive local time in the run's zone), missing optional columns added
    activities_valid      the rows validation keeps (no future rows, orphans or unknown types)

Only the columns a query reads are scanned, and Parquet row-group statistics skip months a
query does not ask for. Each rule gives exactly the values and findings the pandas rules of
`contract/rules.py` give (docs/scale.md): timestamps DuckDB cannot read strictly as ISO 8601 are
handed, row by row, to `contract.values.parse_timestamps`, the one definition of the time rule.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa

from ..core.schema import TABLES
from .files import RawTable, ScanTable

# What Python's str.strip() removes, so trimming in SQL equals trimming in pandas.
WHITESPACE = (
    " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?)"
STRICT_NAIVE = f"^{_DATE}{_TIME}?$"
STRICT_OFFSET = f"^{_DATE}{_TIME}(?:Z|[+-]\\d{{2}}(?::?\\d{{2}})?)$"
_NATIVE_TIME = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE")
_names = itertools.count()


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(values: Sequence[str]) -> str:
    return ", ".join(literal(v) for v in values)


@functools.cache
def spill_folder() -> str:
    """The private folder (mode 0700) where this process's DuckDB databases write what does
    not fit in memory: under the system's temporary folder (`TMPDIR`), removed at exit. An
    in-memory DuckDB would otherwise spill into `.tmp` of the current folder: lead data in
    the project, readable by others, left there if the run is killed."""
    folder = tempfile.mkdtemp(prefix="maops-duckdb-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


# The memory each DuckDB database of this process may take before it spills (DuckDB's own
# default, 80% of the machine's, when None): a process that runs beside others sets it.
MEMORY_LIMIT: str | None = None


def database() -> duckdb.DuckDBPyConnection:
    """A new in-process DuckDB database that spills only into `spill_folder()`."""
    config = {"temp_directory": spill_folder()}
    if MEMORY_LIMIT is not None:
        config["memory_limit"] = MEMORY_LIMIT
    return duckdb.connect(":memory:", config=config)


class Store:
    """One in-process DuckDB database holding a dataset's bulk table."""

    def __init__(self) -> None:
        self.db = database()
        self._lock = threading.Lock()
        self.held: list[object] = []  # what its views read and must outlive them (staged CSV)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to the store's database (temporary objects stay private)."""
        with self._lock:
            return self.db.cursor()

    def frame(self, sql: str, **frames: pd.DataFrame | pa.Table) -> pd.DataFrame:
        """Rows of `sql` as pandas; `frames` are registered under their keyword names."""
        cur = self.cursor()
        try:
            for name, frame in frames.items():
                cur.register(name, frame)
            return cur.execute(sql).df()
        finally:
            cur.close()

    def fresh_name(self, prefix: str) -> str:
        return f"{prefix}_{next(_names)}"

    def clear(self) -> None:
        """Drop every view and table, so that the database can serve another table."""
        with self._lock:
            db = self.db
            for (name,) in db.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall():
                db.execute(f"DROP VIEW IF EXISTS {ident(name)}")
            for (name,) in db.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                db.execute(f"DROP TABLE IF EXISTS {ident(name)}")
        self.held.clear()


def id_table(lead_ids: pd.Series) -> pa.Table | pd.DataFrame:
    """`lead_ids` as a one-column table `lead_id` for DuckDB to scan: Arrow text when they
    are text (DuckDB reads it in place; a column of Python strings costs it about 0.3 s per
    million), else the values as they are."""
    try:
        return pa.table({"lead_id": pa.array(lead_ids, type=pa.string(), from_pandas=True)})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.DataFrame({"lead_id": lead_ids.astype(object)})


@dataclass
class Problem:
    """A count of rows and the first few of them (position, raw value) for a finding."""

    count: int
    examples: list[tuple[int, object]]
    values: list[object] = field(default_factory=list)  # a code rule's distinct codes met


class BulkTable:
    """Validation of one bulk table in SQL, step by step in the order `contract/rules.py` checks."""

    def __init__(self, store: Store, raw: RawTable | ScanTable, timezone: str):
        self.store = store
        self.raw = raw
        self.name = raw.name
        self.timezone = timezone
        self.spec = TABLES[raw.name]
        self.src = f"src_{self.name}"
        self.typed_view = f"{self.name}_typed"
        self.valid_view = f"{self.name}_valid"
        self._load_source()
        cur = self.store.cursor()
        try:
            self.types = {
                r[0]: r[1] for r in cur.execute(f"DESCRIBE SELECT * FROM {self.src}").fetchall()
            }
        finally:
            cur.close()
        self._untrimmed: set[str] = set()
        # cached: typed and checked as a whole (a cache entry); pretyped: typed at least
        # (the per-file entries of a folder, to be checked as a whole here)
        self.cached = isinstance(raw, ScanTable) and raw.typed_from is not None
        self.pretyped = self.cached or (isinstance(raw, ScanTable) and bool(raw.typed_parts))
        self.found: dict[str, Problem] = {}  # what each rule of `create_valid` left out
        self.lead_ids = ""  # a table of the distinct lead ids of the typed rows, once made
        self.typed_sql: dict[str, str] = {}  # column -> its typed SQL over `src AS s`
        self.typed_columns: list[str] = []  # the typed view's select list, over `typed_source`
        self.typed_source = ""
        if not self.pretyped:
            self._untrimmed = self._find_untrimmed()

    # ------------------------------------------------------------------ reading

    def _load_source(self) -> None:
        raw, cur = self.raw, self.store.cursor()
        if isinstance(raw, ScanTable) and raw.staging is not None:
            self.store.held.append(raw.staging)
        try:
            if isinstance(raw, ScanTable) and raw.typed_parts:
                # each file's typed rows number their rows from 0: shifted to the folder's
                # (one scan of every data file, as for an entry of its own: a union of one
                # scan per file made the scoring's counting hold 0.3 GB more at 1 M leads)
                parts = [
                    (f.as_posix(), first)
                    for data, first in raw.typed_parts
                    if data.is_dir()  # a file without rows has no data folder
                    for f in sorted(data.rglob("*.parquet"))
                ]
                cur.execute(
                    f"CREATE TABLE {self.src}_parts AS SELECT * FROM (VALUES "
                    + ", ".join(f"({literal(f)}, {int(n)})" for f, n in parts)
                    + ") AS t(filename, first_row)"
                )
                files = "[" + ", ".join(literal(f) for f, _ in parts) + "]"
                cur.execute(
                    f"CREATE VIEW {self.src} AS SELECT s.* EXCLUDE (filename) "
                    "REPLACE (s._row + p.first_row AS _row) "
                    f"FROM read_parquet({files}, hive_partitioning = false, "
                    f"union_by_name = true, filename = true) AS s "
                    f"JOIN {self.src}_parts AS p ON s.filename = p.filename"
                )
            elif isinstance(raw, ScanTable) and raw.typed_from is not None:
                glob = literal((raw.typed_from / "**" / "*.parquet").as_posix())
                cur.execute(
                    f"CREATE VIEW {self.src} AS SELECT * FROM read_parquet({glob}, "
                    "hive_partitioning = false, union_by_name = true)"
                )
            elif isinstance(raw, ScanTable):
                files = "[" + ", ".join(literal(f.as_posix()) for f, _ in raw.files) + "]"
                cols = ", ".join(ident(c) for c in raw.columns)
                if len(raw.files) == 1:
                    sql = (
                        f"SELECT file_row_number AS _row, {cols} FROM read_parquet({files}, "
                        "file_row_number = true, hive_partitioning = false)"
                    )
                else:
                    offsets, start = [], 0
                    for f, n in raw.files:
                        offsets.append(f"({literal(f.as_posix())}, {start})")
                        start += n
                    cur.execute(
                        f"CREATE TABLE {self.src}_files AS SELECT * FROM (VALUES "
                        f"{', '.join(offsets)}) AS t(filename, first_row)"
                    )
                    sql = (
                        "SELECT f.first_row + s.file_row_number AS _row, "
                        + ", ".join(f"s.{ident(c)}" for c in raw.columns)
                        + f" FROM read_parquet({files}, filename = true, file_row_number = true,"
                        " hive_partitioning = false, union_by_name = true) AS s"
                        f" JOIN {self.src}_files AS f ON s.filename = f.filename"
                    )
                cur.execute(f"CREATE VIEW {self.src} AS {sql}")
            else:
                frame = raw.frame.copy()
                frame.insert(0, "_row", range(len(frame)))
                cur.register("frame_in", frame)
                cur.execute(f"CREATE TABLE {self.src} AS SELECT * FROM frame_in")
                cur.unregister("frame_in")
        except duckdb.Error as exc:
            from ..core.errors import DataContractError, Finding

            raise DataContractError(
                [Finding("error", self.name, f"cannot be read ({exc})", file=str(raw.path))]
            ) from None
        finally:
            cur.close()

    @property
    def columns(self) -> list[str]:
        """The columns of the table as the file has them."""
        raw = self.raw
        return list(raw.columns) if isinstance(raw, ScanTable) else list(raw.frame.columns)

    def _query(self, sql: str) -> list[tuple]:
        cur = self.store.cursor()
        try:
            return cur.execute(sql).fetchall()
        finally:
            cur.close()

    def problem(self, condition: str, column: str | None) -> Problem:
        """How many typed rows meet `condition`, and the first five (position, raw value)."""
        (count,) = self._query(f"SELECT COUNT(*) FROM {self.typed_view} WHERE {condition}")[0]
        if not count:
            return Problem(0, [])
        value = "NULL"
        if column and f"_raw_{column}" in self.types:  # a cached table: see write_cache
            value = f"COALESCE(s.{ident('_raw_' + column)}, CAST(s.{ident(column)} AS VARCHAR))"
        elif column and column in self.types:
            value = f"s.{ident(column)}"
        rows = self._query(
            f"SELECT v._row, {value} FROM (SELECT _row FROM {self.typed_view} WHERE {condition} "
            f"ORDER BY _row LIMIT 5) AS v JOIN {self.src} AS s ON v._row = s._row ORDER BY v._row"
        )
        return Problem(int(count), [(int(r[0]), r[1]) for r in rows])

    # ------------------------------------------------------------------ typing

    def _text(self, col: str, prefix: str = "") -> str:
        c = prefix + ident(col)
        value = c if self.types[col] == "VARCHAR" else f"CAST({c} AS VARCHAR)"
        if col in self._untrimmed:
            return f"NULLIF(trim({value}, {literal(WHITESPACE)}), '')"
        return f"NULLIF({value}, '')"

    def _find_untrimmed(self) -> set[str]:
        """Text columns holding a value that starts or ends with white space, or an empty
        value (its first character is '', which every text contains). Only those are
        trimmed value by value (trimming every value costs several times the scan); in the
        others no value differs from its typed form (see `write_cache`)."""
        text = [
            c
            for c in self.columns
            if (spec := self.spec.column(c)) is not None
            and (spec.kind == "string" or self.types[c] == "VARCHAR")
        ]
        if not text:
            return set()
        ws = literal(WHITESPACE)

        def edge(c: str) -> str:
            v = f"CAST({ident(c)} AS VARCHAR)"
            return f"bool_or(contains({ws}, {v}[1]) OR contains({ws}, {v}[-1]))"

        row = self._query(f"SELECT {', '.join(edge(c) for c in text)} FROM {self.src}")[0]
        return {c for c, hit in zip(text, row, strict=True) if hit}

    def _blank(self, col: str) -> str:
        if self.types[col] == "TIMESTAMP WITH TIME ZONE" or self.types[col] in _NATIVE_TIME:
            return f"(s.{ident(col)} IS NULL)"
        return f"({self._text(col, 's.')} IS NULL)"

    def _timestamp(self, col: str, fallback: Callable[[pd.Series], pd.Series]) -> tuple[str, str]:
        """SQL for a timestamp column in naive local time, and a join it needs. Values DuckDB
        cannot read strictly as ISO 8601 are parsed by `fallback` (contract.values.parse_timestamps)
        and joined back by row."""
        kind, c = self.types[col], f"s.{ident(col)}"
        if kind == "TIMESTAMP WITH TIME ZONE":
            return f"CAST(timezone({literal(self.timezone)}, {c}) AS TIMESTAMP)", ""
        if kind in _NATIVE_TIME:
            return f"CAST({c} AS TIMESTAMP)", ""
        text = self._text(col, "s.")
        strict = (
            f"CASE WHEN regexp_full_match({text}, {literal(STRICT_NAIVE)}) "
            f"THEN TRY_CAST({text} AS TIMESTAMP) "
            f"WHEN regexp_full_match({text}, {literal(STRICT_OFFSET)}) "
            f"THEN CAST(timezone({literal(self.timezone)}, TRY_CAST({text} AS TIMESTAMPTZ)) "
            "AS TIMESTAMP) END"
        )
        hard = self._query(
            f"SELECT s._row, {text} FROM {self.src} AS s "
            f"WHERE {text} IS NOT NULL AND ({strict}) IS NULL"
        )
        if not hard:
            return strict, ""
        fixes = pd.DataFrame(
            {
                "_row": [r[0] for r in hard],
                "value": fallback(pd.Series([r[1] for r in hard], dtype=object)).to_numpy(),
            }
        )
        table = self.store.fresh_name(f"fix_{self.name}")
        alias = self.store.fresh_name("f")
        cur = self.store.cursor()
        try:
            cur.register("fixes_in", fixes)
            cur.execute(
                f"CREATE TABLE {table} AS SELECT _row, CAST(value AS TIMESTAMP) AS value "
                "FROM fixes_in"
            )
        finally:
            cur.close()
        return (
            f"COALESCE({strict}, {alias}.value)",
            f" LEFT JOIN {table} AS {alias} ON {alias}._row = s._row",
        )

    def create_typed(self, fallback: Callable[[pd.Series], pd.Series]) -> dict[str, str]:
        """Create the typed view. Returns, per timestamp column, the SQL condition of values
        present in the file that are not readable timestamps (for the caller's findings)."""
        if self.pretyped:  # typed when the cache was written
            cur = self.store.cursor()
            try:
                cur.execute(f"CREATE VIEW {self.typed_view} AS SELECT * FROM {self.src}")
            finally:
                cur.close()
            if self.cached:  # checked as a whole too: its findings come from the cache
                return {}
            return {  # as below: `_blank_<column>` says whether the file held a value
                c: f"{ident(c)} IS NULL AND NOT {ident('_blank_' + c)}"
                for c in self.columns
                if (spec := self.spec.column(c)) is not None
                and spec.kind in ("timestamp", "date")
                and f"_blank_{c}" in self.types
            }
        exprs, joins, unreadable = ["s._row"], [], {}
        for col in self.columns:
            spec = self.spec.column(col)
            if spec is None:
                exprs.append(f"s.{ident(col)}")  # unknown extra columns are kept and ignored
            elif spec.kind in ("timestamp", "date"):
                expr, join = self._timestamp(col, fallback)
                self.typed_sql[col] = expr
                exprs.append(f"{expr} AS {ident(col)}")
                exprs.append(f"{self._blank(col)} AS {ident('_blank_' + col)}")
                joins.append(join)
                unreadable[col] = f"{ident(col)} IS NULL AND NOT {ident('_blank_' + col)}"
            elif spec.kind == "string":
                self.typed_sql[col] = self._text(col, "s.")
                exprs.append(f"{self.typed_sql[col]} AS {ident(col)}")
            else:
                raise NotImplementedError(
                    f"{self.name}.{col}: {spec.kind} columns are not validated in SQL"
                )
        for spec in self.spec.columns:
            if spec.name not in self.types:
                sql_type = "TIMESTAMP" if spec.kind in ("timestamp", "date") else "VARCHAR"
                exprs.append(f"CAST(NULL AS {sql_type}) AS {ident(spec.name)}")
        self.typed_columns, self.typed_source = exprs, f"{self.src} AS s{''.join(joins)}"
        cur = self.store.cursor()
        try:
            cur.execute(
                f"CREATE VIEW {self.typed_view} AS SELECT {', '.join(exprs)} "
                f"FROM {self.typed_source}"
            )
        finally:
            cur.close()
        return unreadable

    def blank(self, col: str) -> Problem:
        return self.problem(ident("_blank_" + col), col)

    def duplicates(self, key: str) -> tuple[int, Problem]:
        """Distinct duplicated values of `key`, and the rows holding them."""
        if self.cached:
            return 0, Problem(0, [])  # only a table that passed every check is cached
        if self._parts_apart(key):
            return 0, Problem(0, [])
        k = ident(key)
        # Equal values have equal hashes: when no 8-byte hash repeats, no value does (the
        # usual clean export). Counting distinct hashes costs 2.7 s at 18 M rows, grouping
        # the text 4 s; only a repeated hash (a duplicate, or very rarely two values with one
        # hash) leads to the exact count below.
        ((repeats,),) = self._query(
            f"SELECT COUNT(*) - COUNT(DISTINCT hash({k})) FROM {self.typed_view} "
            f"WHERE {k} IS NOT NULL"  # hash(NULL) is a value: missing keys stay out
        )
        if not repeats:
            return 0, Problem(0, [])
        dup = (
            f"(SELECT {k} FROM {self.typed_view} WHERE {k} IS NOT NULL "
            f"GROUP BY {k} HAVING COUNT(*) > 1)"
        )
        ((n,),) = self._query(f"SELECT COUNT(*) FROM {dup}")
        if not n:
            return 0, Problem(0, [])
        return int(n), self.problem(f"{k} IN {dup}", key)

    def _parts_apart(self, key: str) -> bool:
        """Whether the typed files of a folder (`ScanTable.typed_parts`) can hold no value of
        `key` twice: no file repeats one (their cache entries say, `key_range`) and their
        ranges of values do not meet (files of ids given in order, month by month). A load
        of the next export then checks the keys of the new file alone, not the 18 M rows."""
        raw = self.raw
        if not (isinstance(raw, ScanTable) and raw.typed_parts):
            return False
        if len(raw.part_keys) != len(raw.typed_parts):
            return False
        ranges = []
        for keys in raw.part_keys:
            stats = keys.get(key)
            if not isinstance(stats, list) or len(stats) != 3 or stats[0] != 0:
                return False  # written before, or a repeat: the scan decides
            if stats[1] is not None:
                ranges.append((str(stats[1]), str(stats[2])))
        ranges.sort()
        return all(a[1] < b[0] for a, b in itertools.pairwise(ranges))

    # ------------------------------------------------------------------ keeping rows

    def create_valid(
        self,
        known_leads: pd.Series | None,
        as_of: pd.Timestamp | None,
        time_col: str,
        allowed: dict[str, Sequence[str]],
    ) -> dict[str, Problem]:
        """Leave out future rows, then orphans, then rows with a code outside `allowed`, in
        that order (each later rule sees only the rows kept so far, as in contract/rules.py).
        `known_leads` None: the rows are known to reference only leads (no orphan rule).

        Returns the problem found by each rule: "future", "orphans", and one per column of
        `allowed`, whose `values` are the distinct codes it met."""
        t = ident(time_col)
        rules: list[tuple[str, str, str]] = []
        if as_of is not None:
            stamp = f"TIMESTAMP {literal(as_of.strftime('%Y-%m-%d %H:%M:%S.%f'))}"
            rules.append(("future", f"COALESCE({t} > {stamp}, false)", time_col))
        if known_leads is not None:
            cur = self.store.cursor()
            try:
                cur.register("known_in", id_table(known_leads))
                cur.execute(
                    f"CREATE OR REPLACE TABLE known_{self.name} AS "
                    "SELECT DISTINCT CAST(lead_id AS VARCHAR) AS lead_id FROM known_in"
                )
            finally:
                cur.close()
            orphan = f"NOT COALESCE(lead_id IN (SELECT lead_id FROM known_{self.name}), false)"
            if not self._no_orphan_id(orphan):
                rules.append(("orphans", orphan, "lead_id"))
        for col, values in allowed.items():
            rules.append((col, f"NOT COALESCE({ident(col)} IN ({_in_list(values)}), false)", col))
        # One scan counts every rule; examples are fetched only for rules that found rows.
        wheres, kept = [], []
        for _, cond, _ in rules:
            wheres.append(" AND ".join([*(f"NOT ({k})" for k in kept), cond]))
            kept.append(cond)
        if self._none_match(rules, time_col):
            counts = tuple(0 for _ in rules)
        else:
            counts = self._query(
                "SELECT "
                + ", ".join(f"COUNT(*) FILTER (WHERE {w})" for w in wheres)
                + f" FROM {self.typed_view}"
            )[0]
        found: dict[str, Problem] = {"orphans": Problem(0, [])}
        for (key, _, col), where, count in zip(rules, wheres, counts, strict=True):
            found[key] = self.problem(where, col) if count else Problem(0, [])
            if key not in ("future", "orphans") and count:
                found[key].values = [
                    r[0]
                    for r in self._query(
                        f"SELECT DISTINCT {ident(col)} FROM {self.typed_view} "
                        f"WHERE {where} AND {ident(col)} IS NOT NULL"
                    )
                ]
        # A rule that left out no row is dropped from the view's filter: no row it could
        # leave out passes the earlier rules, so the rows kept are the same, and the view
        # (read by every query) then skips the look-up in the leads.
        keep = " AND ".join(
            [f"NOT ({k})" for k, n in zip(kept, counts, strict=True) if n] or ["true"]
        )
        visible = [c for c in self._typed_columns() if not c.startswith(("_blank_", "_raw_"))]
        cur = self.store.cursor()
        try:
            cur.execute(
                f"CREATE VIEW {self.valid_view} AS SELECT "
                f"{', '.join(ident(c) for c in visible)} FROM {self.typed_view} WHERE {keep}"
            )
        finally:
            cur.close()
        self.found = found
        return found

    def _no_orphan_id(self, orphan: str) -> bool:
        """Whether no distinct lead id of the rows is an orphan, so that no row is (a missing
        id counts as one, as in the row rule). Looking up the ~1 M distinct ids costs a tenth
        of looking up the 18 M rows' (3 s); their table is kept for `write_cache`. A cached
        table is known from its entry (`_none_match`)."""
        if self.cached or "lead_id" not in self.types:
            return False
        if not self.lead_ids:
            self.lead_ids = self.store.fresh_name(f"lead_ids_{self.name}")
            cur = self.store.cursor()
            try:
                cur.execute(
                    f"CREATE TABLE {self.lead_ids} AS SELECT DISTINCT lead_id FROM "
                    f"{self.typed_view}"
                )
            finally:
                cur.close()
        return not self._query(f"SELECT COUNT(*) FROM {self.lead_ids} WHERE {orphan}")[0][0]

    def forget_lead_ids(self) -> None:
        """Drop the table of distinct lead ids (kept for `write_cache` only)."""
        if self.lead_ids:
            cur = self.store.cursor()
            try:
                cur.execute(f"DROP TABLE IF EXISTS {self.lead_ids}")
            finally:
                cur.close()
            self.lead_ids = ""

    def _none_match(self, rules: list[tuple[str, str, str]], time_col: str) -> bool:
        """True when, from a cached entry's lead ids, the latest time and the distinct codes,
        no row can meet any of `rules` (the usual clean export): the rows are then not
        scanned. False means they must be."""
        raw = self.raw
        if not isinstance(raw, ScanTable) or raw.typed_from is None:
            return False
        entry = raw.typed_from.parent
        ids = entry / LEAD_IDS
        if not ids.is_file():
            return False

        def kept(name: str, scan: str) -> str:  # a summary of the entry, else the scan
            path = entry / name
            return f"read_parquet({literal(path.as_posix())})" if path.is_file() else scan

        for key, cond, col in rules:
            if key == "orphans":
                source = f"read_parquet({literal(ids.as_posix())})"
            elif key == "future":
                t = ident(time_col)
                source = kept(LATEST, f"(SELECT MAX({t}) AS {t} FROM {self.typed_view})")
            else:
                c = ident(col)
                source = kept(CODES.format(col), f"(SELECT DISTINCT {c} FROM {self.typed_view})")
            if self._query(f"SELECT COUNT(*) FROM {source} WHERE {cond}")[0][0]:
                return False
        return True

    def _typed_columns(self) -> list[str]:
        return [r[0] for r in self._query(f"DESCRIBE SELECT * FROM {self.typed_view}")]


def materialize(store: Store, view: str, lead_ids: pd.Series | None = None) -> pd.DataFrame:
    """The rows of `view` as pandas, in file order, without `_row`; only rows of `lead_ids`
    when given. Text columns hold str or pd.NA, as the contract's frames do."""
    if lead_ids is None:
        frame = store.frame(f"SELECT * FROM {view} ORDER BY _row")
    else:
        frame = store.frame(
            f"SELECT v.* FROM {view} AS v WHERE v.lead_id IN (SELECT lead_id FROM ids_in) "
            "ORDER BY v._row",
            ids_in=id_table(lead_ids),
        )
    frame = frame.drop(columns="_row")
    for col in frame.columns:
        if not pd.api.types.is_datetime64_any_dtype(frame[col]) and (
            frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])
        ):
            values = frame[col].astype(object)
            frame[col] = values.where(values.notna(), pd.NA)
    return frame


# What a validated-data cache entry holds besides its typed rows (written by entries.py,
# read by `BulkTable._none_match`).
LEAD_IDS = "lead_ids.parquet"  # the distinct lead ids of its rows
LATEST = "latest.parquet"  # the latest time of its rows (one row)
CODES = "codes-{}.parquet"  # the distinct values of a code column
