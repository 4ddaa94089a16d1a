"""Reading uploaded tables: CSV (encoding detection, delimiter sniffing) and Excel (.xlsx).

Rows are numbered as the user sees them in the file: the header is line 1, the first data
row line 2 (for CSV: the record number, so a quoted value spanning lines still counts once).
Empty rows are skipped but keep their numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = ",;\t"


def max_bytes() -> int:
    return int(getattr(settings, "GUANXI_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "GUANXI_IMPORT_MAX_ROWS", 100_000))


@dataclass
class Table:
    """What the upload step learns about a file."""

    file_format: str
    encoding: str
    delimiter: str
    headers: list[str]
    total: int
    sample: list[list[str]]


def detect_format(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    raise ValidationError(_("Upload a CSV file or an Excel (.xlsx) workbook."))


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without BOM), else GB18030
    (a superset of GBK and GB2312)."""
    for encoding in CSV_ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig":
            encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        return text, encoding
    raise ValidationError(_("The file is neither UTF-8 nor GBK text."))


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:20000].splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        return best if counts[best] else ","


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(raw: bytes, encoding: str, delimiter: str) -> Iterator[list[str]]:
    text = raw.decode("utf-8-sig" if encoding.startswith("utf-8") else encoding)
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [cell.strip() for cell in row]


def _xlsx_rows(raw: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ValidationError(_("The Excel file could not be read.")) from error
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    finally:
        workbook.close()


def raw_rows(raw: bytes, *, file_format: str, encoding: str = "", delimiter: str = ","):
    """Every row of the file, header first, as lists of stripped strings."""
    if file_format == "xlsx":
        return _xlsx_rows(raw)
    return _csv_rows(raw, encoding or "utf-8", delimiter or ",")


def data_rows(
    raw: bytes, *, file_format: str, encoding: str, delimiter: str, width: int, after_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line, values) for every non-empty data row after `after_line`, padded to `width`."""
    rows = raw_rows(raw, file_format=file_format, encoding=encoding, delimiter=delimiter)
    for index, values in enumerate(rows):
        line = index + 1
        if line <= max(after_line, 1):
            continue
        if not any(values):
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        yield line, values[:width] if width else values


def read_table(raw: bytes, filename: str) -> Table:
    """Inspect an upload: format, encoding, delimiter, headers, row count, a few sample rows.
    Refuses files over the size or row limit with a message saying what the limit is."""
    limit = max_bytes()
    if len(raw) > limit:
        raise ValidationError(
            _("The file is larger than %(size)d MB. Split it into smaller files.")
            % {"size": limit // (1024 * 1024)}
        )
    file_format = detect_format(filename)
    encoding = delimiter = ""
    if file_format == "csv":
        text, encoding = decode(raw)
        delimiter = sniff_delimiter(text)
    rows = raw_rows(raw, file_format=file_format, encoding=encoding, delimiter=delimiter)
    headers: list[str] = []
    for values in rows:
        if any(values):
            headers = values
            break
        raise ValidationError(_("The first row must hold the column names."))
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise ValidationError(_("The file is empty."))
    total = 0
    sample: list[list[str]] = []
    row_limit = max_rows()
    for values in rows:
        if not any(values):
            continue
        total += 1
        if total > row_limit:
            raise ValidationError(
                _("The file has more than %(rows)d rows. Split it into smaller files.")
                % {"rows": row_limit}
            )
        if len(sample) < 3:
            sample.append((values + [""] * len(headers))[: len(headers)])
    if total == 0:
        raise ValidationError(_("The file has column names but no rows."))
    return Table(
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        headers=headers,
        total=total,
        sample=sample,
    )
