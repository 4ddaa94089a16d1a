"""PDF envelopes and address labels with Chinese text.

Text is set in ReportLab's built-in CJK CID font STSong-Light (Adobe-GB1, UniGB-UCS2-H): the
PDF names the font and the viewer supplies it, so no font file is needed on the server and
none is embedded. It covers simplified Chinese, ASCII and full-width punctuation.

- :func:`envelopes_pdf`: one envelope per page, laid out like a Chinese domestic envelope
  (GB/T 1416): the recipient's postcode in six boxes at the top left, the recipient's address
  and company below it, the recipient's name and title large in the middle with 收, and the
  sender's address, name and postcode at the bottom right.
- :func:`labels_pdf`: address labels on an A4 sheet; layouts in :data:`LABEL_SHEETS`.

Long lines wrap at the available width (between Chinese characters, or at spaces in other
scripts); text that still does not fit a label is set smaller and, at the smallest size, cut
with an ellipsis.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, pgettext
from reportlab.lib.colors import Color, black
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT_NAME = "STSong-Light"
_font_lock = threading.Lock()
_font_registered = False

# Envelope sizes in millimetres, landscape (width, height).
ENVELOPE_SIZES: dict[str, tuple[float, float]] = {
    "DL": (220, 110),  # 5号 / DL
    "ZL": (230, 120),  # 6号 / ZL
    "B6": (176, 125),  # 3号 / B6
    "C5": (229, 162),  # 7号 / C5
    "C4": (324, 229),  # 9号 / C4
}
POSTCODE_BOX_RED = Color(0.8, 0.1, 0.1)
_CLOSING_PUNCTUATION = set("，。、；：？！）》」』】〉,.;:?!)]}%")
_TOKEN_RE = re.compile(r"[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+|\s+|.")


def register_fonts() -> str:
    """Register STSong-Light with ReportLab once; answer its name."""
    global _font_registered
    if not _font_registered:
        with _font_lock:
            if not _font_registered:
                pdfmetrics.registerFont(UnicodeCIDFont(FONT_NAME))
                _font_registered = True
    return FONT_NAME


@dataclass
class Address:
    """A postal address. ``lines`` are the street lines (中关村大街 1 号, 理想国际大厦 8 层);
    province, city and district are written before them unless the first line already
    starts with them."""

    name: str = ""
    title: str = ""  # 先生, 女士, 经理 ...
    company: str = ""
    lines: Sequence[str] = field(default_factory=tuple)
    postcode: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    country: str = ""

    @property
    def region(self) -> str:
        """省市区 without repeats: 北京市 北京市 海淀区 -> 北京市海淀区."""
        parts: list[str] = []
        for part in (self.province, self.city, self.district):
            part = (part or "").strip()
            if part and part not in parts and not any(p.endswith(part) for p in parts):
                parts.append(part)
        return "".join(parts)

    def address_lines(self) -> list[str]:
        """The lines to print: the region before the first street line (if not already
        there), then the country when it is given."""
        street = [line.strip() for line in self.lines if line and line.strip()]
        region = self.region
        if region:
            first = street[0] if street else ""
            already = first.startswith(region) or bool(
                self.province and first.startswith(self.province.strip())
            )
            if not already:
                street = [region + first, *street[1:]] if street else [region]
        if self.country:
            street.append(self.country.strip())
        return street

    def recipient_line(self) -> str:
        """张伟 先生 收 (the suffix comes from the translation catalogue)."""
        name = " ".join(part for part in (self.name.strip(), self.title.strip()) if part)
        if not name:
            return ""
        # Translators: the recipient's name and title on an envelope or label. Chinese
        # envelopes end the line with 收: "%(name)s 收".
        return pgettext("envelope recipient", "%(name)s") % {"name": name}


# --- text layout -----------------------------------------------------------------------------
def text_width(text: str, size: float) -> float:
    # Layout may be asked for before any canvas exists (e.g. to size a label preview).
    return pdfmetrics.stringWidth(text, register_fonts(), size)


def wrap_text(text: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than width (points) at size; Chinese text breaks
    between any two characters, other text at spaces (or inside a word too long for a line);
    closing punctuation never starts a line."""
    lines: list[str] = []
    for paragraph in str(text or "").splitlines() or [""]:
        current = ""
        for token in _TOKEN_RE.findall(paragraph):
            if token.isspace():
                if current:
                    current += " "
                continue
            candidate = current + token
            if text_width(candidate, size) <= width or (token in _CLOSING_PUNCTUATION and current):
                current = candidate
                continue
            if current.strip():
                lines.append(current.rstrip())
            current = ""
            while text_width(token, size) > width and len(token) > 1:
                cut = len(token) - 1
                while cut > 1 and text_width(token[:cut], size) > width:
                    cut -= 1
                lines.append(token[:cut])
                token = token[cut:]
            current = token
        if current.strip():
            lines.append(current.rstrip())
    return lines


def _ellipsise(line: str, size: float, width: float) -> str:
    while line and text_width(line + "…", size) > width:
        line = line[:-1]
    return line + "…"


@dataclass(frozen=True)
class _Block:
    text: str
    scale: float = 1.0  # relative to the block's base size


def _fit(
    blocks: Sequence[_Block], width: float, height: float, size: float, min_size: float
) -> tuple[float, list[tuple[str, float]]]:
    """The largest size (down to min_size) at which the blocks fit; lines with their sizes.
    At min_size, lines that do not fit are dropped and the last one ends with an ellipsis."""
    while True:
        lines = [
            (line, size * block.scale)
            for block in blocks
            for line in wrap_text(block.text, size * block.scale, width)
        ]
        total = sum(line_size * 1.25 for _, line_size in lines)
        if total <= height or size <= min_size:
            break
        size = max(min_size, size - 0.5)
    if total > height:
        kept: list[tuple[str, float]] = []
        used = 0.0
        for line, line_size in lines:
            if used + line_size * 1.25 > height:
                break
            kept.append((line, line_size))
            used += line_size * 1.25
        if kept:
            last, last_size = kept[-1]
            kept[-1] = (_ellipsise(last, last_size, width), last_size)
        lines = kept
    return size, lines


def _draw_lines(
    canvas: Canvas, lines: Iterable[tuple[str, float]], x: float, top: float, align: str = "left"
) -> float:
    """Draw lines downwards from top; answer the y below the last line."""
    y = top
    for line, size in lines:
        y -= size * 1.05
        canvas.setFont(FONT_NAME, size)
        if align == "right":
            canvas.drawRightString(x, y, line)
        elif align == "centre":
            canvas.drawCentredString(x, y, line)
        else:
            canvas.drawString(x, y, line)
        y -= size * 0.2
    return y


def _canvas(buffer: io.BytesIO, pagesize: tuple[float, float], title: str) -> Canvas:
    register_fonts()
    canvas = Canvas(buffer, pagesize=pagesize, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("Guanxi")
    canvas.setAuthor("Guanxi")
    return canvas


def _require(addresses: Iterable[Address]) -> list[Address]:
    result = list(addresses)
    if not result:
        raise ValidationError(gettext("Choose at least one address to print."), code="empty")
    return result


# --- envelopes -------------------------------------------------------------------------------
def _postcode_boxes(canvas: Canvas, postcode: str, x: float, top: float, boxes: bool) -> None:
    box_width, box_height, gap = 8 * mm, 10 * mm, 2 * mm
    digits = re.sub(r"\D", "", postcode or "")[:6]
    if boxes:
        canvas.setStrokeColor(POSTCODE_BOX_RED)
        canvas.setLineWidth(0.8)
        for index in range(6):
            canvas.rect(x + index * (box_width + gap), top - box_height, box_width, box_height)
        canvas.setStrokeColor(black)
    canvas.setFont(FONT_NAME, 16)
    for index, digit in enumerate(digits):
        centre = x + index * (box_width + gap) + box_width / 2
        canvas.drawCentredString(centre, top - box_height + 2.6 * mm, digit)


def _draw_envelope(
    canvas: Canvas,
    width: float,
    height: float,
    recipient: Address,
    sender: Address | None,
    postcode_boxes: bool,
) -> None:
    margin = 10 * mm
    _postcode_boxes(canvas, recipient.postcode, margin + 2 * mm, height - 8 * mm, postcode_boxes)

    # Recipient address and company under the postcode boxes, from the left.
    text_left = margin + 10 * mm
    text_width_available = width - text_left - margin - 10 * mm
    blocks = [_Block(line) for line in recipient.address_lines()]
    if recipient.company:
        blocks.append(_Block(recipient.company))
    address_top = height - 24 * mm
    address_height = height * 0.42 - 4 * mm
    _, lines = _fit(blocks, text_width_available, address_height, 12, 8)
    bottom = _draw_lines(canvas, lines, text_left, address_top)

    # Recipient's name large in the middle.
    name_line = recipient.recipient_line()
    if name_line:
        _, name_lines = _fit([_Block(name_line)], width - 2 * margin - 20 * mm, 30 * mm, 20, 12)
        name_top = min(bottom - 4 * mm, height * 0.55)
        _draw_lines(canvas, name_lines, width / 2, name_top, align="centre")

    # Sender at the bottom right.
    if sender is not None:
        sender_blocks = [_Block(line) for line in sender.address_lines()]
        if sender.company:
            sender_blocks.append(_Block(sender.company))
        if sender.name:
            sender_blocks.append(_Block(sender.name))
        if sender.postcode:
            sender_blocks.append(
                _Block(gettext("Postcode: %(postcode)s") % {"postcode": sender.postcode})
            )
        sender_width = width * 0.45
        sender_height = height * 0.28
        _, sender_lines = _fit(sender_blocks, sender_width, sender_height, 9, 7)
        used = sum(size * 1.25 for _, size in sender_lines)
        _draw_lines(canvas, sender_lines, width - margin, margin + used, align="right")


def envelopes_pdf(
    addresses: Iterable[Address],
    size: str = "DL",
    sender: Address | None = None,
    postcode_boxes: bool = True,
) -> bytes:
    """One envelope per page for each address; size is a key of :data:`ENVELOPE_SIZES`.
    Set postcode_boxes=False for envelopes with the boxes already printed."""
    if size not in ENVELOPE_SIZES:
        raise ValueError(f"Unknown envelope size {size!r}; choose from {sorted(ENVELOPE_SIZES)}")
    recipients = _require(addresses)
    width, height = (value * mm for value in ENVELOPE_SIZES[size])
    buffer = io.BytesIO()
    canvas = _canvas(buffer, (width, height), gettext("Envelopes"))
    for recipient in recipients:
        _draw_envelope(canvas, width, height, recipient, sender, postcode_boxes)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- labels ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelSheet:
    """A sheet of labels; lengths in millimetres."""

    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_left: float
    margin_top: float
    gap_x: float = 0.0
    gap_y: float = 0.0
    padding: float = 4.0
    page: tuple[float, float] = (210.0, 297.0)

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """Bottom-left corner (points) of the label at index (row by row) on its sheet."""
        row, column = divmod(index % self.per_sheet, self.columns)
        x = self.margin_left + column * (self.label_width + self.gap_x)
        top = self.margin_top + row * (self.label_height + self.gap_y)
        y = self.page[1] - top - self.label_height
        return x * mm, y * mm


LABEL_SHEETS: dict[str, LabelSheet] = {
    # 24 labels 70 x 37 mm, edge to edge (common Chinese A4 label paper, Avery 3474).
    "A4-3x8": LabelSheet(3, 8, 70.0, 37.0, margin_left=0.0, margin_top=0.5),
    # 21 labels 63.5 x 38.1 mm (Avery L7160).
    "A4-3x7": LabelSheet(3, 7, 63.5, 38.1, margin_left=7.2, margin_top=15.15, gap_x=2.5),
    # 14 labels 99.1 x 38.1 mm (Avery L7163).
    "A4-2x7": LabelSheet(2, 7, 99.1, 38.1, margin_left=4.65, margin_top=15.15, gap_x=2.5),
    # 8 labels 99.1 x 67.7 mm (Avery L7165).
    "A4-2x4": LabelSheet(2, 4, 99.1, 67.7, margin_left=4.65, margin_top=13.1, gap_x=2.5),
}


def _draw_label(canvas: Canvas, sheet: LabelSheet, index: int, address: Address) -> None:
    x, y = sheet.origin(index)
    padding = sheet.padding * mm
    inner_width = sheet.label_width * mm - 2 * padding
    inner_height = sheet.label_height * mm - 2 * padding
    blocks: list[_Block] = []
    if address.postcode:
        blocks.append(_Block(address.postcode))
    blocks.extend(_Block(line) for line in address.address_lines())
    if address.company:
        blocks.append(_Block(address.company))
    recipient = address.recipient_line()
    if recipient:
        blocks.append(_Block(recipient, scale=1.2))
    _, lines = _fit(blocks, inner_width, inner_height, 10, 6)
    _draw_lines(canvas, lines, x + padding, y + sheet.label_height * mm - padding)


def labels_pdf(
    addresses: Iterable[Address],
    sheet: str = "A4-3x8",
    skip: int = 0,
    outlines: bool = False,
) -> bytes:
    """Address labels, row by row, on as many A4 sheets as needed; sheet is a key of
    :data:`LABEL_SHEETS`. skip leaves the first labels of the first sheet empty (a sheet
    already partly used); outlines draws the label edges (for a test print on plain paper)."""
    if sheet not in LABEL_SHEETS:
        raise ValueError(f"Unknown label sheet {sheet!r}; choose from {sorted(LABEL_SHEETS)}")
    layout = LABEL_SHEETS[sheet]
    recipients = _require(addresses)
    skip = max(0, min(int(skip), layout.per_sheet - 1))
    page = (layout.page[0] * mm, layout.page[1] * mm)
    buffer = io.BytesIO()
    canvas = _canvas(buffer, page, gettext("Address labels"))
    for position, address in enumerate(recipients, start=skip):
        if position and position % layout.per_sheet == 0:
            canvas.showPage()
        if outlines:
            x, y = layout.origin(position)
            canvas.setLineWidth(0.3)
            canvas.rect(x, y, layout.label_width * mm, layout.label_height * mm)
        _draw_label(canvas, layout, position, address)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
