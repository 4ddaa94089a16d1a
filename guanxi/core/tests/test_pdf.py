import base64
import contextlib
import re
import zlib

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.pdf import (
    ENVELOPE_SIZES,
    FONT_NAME,
    LABEL_SHEETS,
    Address,
    envelopes_pdf,
    labels_pdf,
    text_width,
    wrap_text,
)

MM = 72 / 25.4


# --- a minimal PDF reader: enough to check pages and the text the content streams draw -------
def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(width), float(height)) for width, height in boxes]


def content_streams(pdf: bytes) -> list[bytes]:
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = match.group(1).strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2].replace(b"\n", b""), adobe=False)
        with contextlib.suppress(zlib.error):
            data = zlib.decompress(data)
        streams.append(data)
    return streams


def _literal_strings(stream: bytes) -> list[bytes]:
    """The (...) strings of a content stream, PDF escapes undone."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    strings, i = [], 0
    while i < len(stream):
        if stream[i : i + 1] != b"(":
            i += 1
            continue
        depth, i, out = 1, i + 1, bytearray()
        while i < len(stream) and depth:
            char = stream[i : i + 1]
            if char == b"\\":
                following = stream[i + 1 : i + 2]
                octal = re.match(rb"[0-7]{1,3}", stream[i + 1 : i + 4])
                if octal:
                    out.append(int(octal.group(0), 8))
                    i += 1 + len(octal.group(0))
                    continue
                if following in (b"\n", b"\r"):
                    i += 2
                    continue
                out += escapes.get(following, following)
                i += 2
                continue
            if char == b"(":
                depth += 1
            elif char == b")":
                depth -= 1
                if not depth:
                    break
            out += char
            i += 1
        strings.append(bytes(out))
        i += 1
    return strings


def drawn_text(pdf: bytes) -> list[str]:
    """Every string drawn with the CID font (UTF-16-BE), in drawing order."""
    texts = []
    for stream in content_streams(pdf):
        for raw in _literal_strings(stream):
            texts.append(raw.decode("utf-16-be", errors="replace"))
        for hex_string in re.findall(rb"<([0-9A-Fa-f\s]+)>", stream):
            texts.append(bytes.fromhex(hex_string.decode()).decode("utf-16-be", "replace"))
    return texts


def contains_utf16(pdf: bytes, text: str) -> bool:
    needle = text.encode("utf-16-be")
    return any(needle in raw for stream in content_streams(pdf) for raw in _literal_strings(stream))


# --- fixtures --------------------------------------------------------------------------------
def beijing(**overrides) -> Address:
    values = {
        "name": "张伟",
        "title": "先生",
        "company": "北京华为技术有限公司",
        "lines": ["中关村大街1号", "理想国际大厦8层"],
        "postcode": "100080",
        "province": "北京市",
        "city": "北京市",
        "district": "海淀区",
    }
    values.update(overrides)
    return Address(**values)


SENDER = Address(
    name="李娜",
    company="上海明达贸易有限公司",
    lines=["张江路88号"],
    postcode="201203",
    province="上海市",
    district="浦东新区",
)


# --- tests -----------------------------------------------------------------------------------
def test_address_lines_put_the_region_first_once():
    address = beijing()
    assert address.region == "北京市海淀区"
    assert address.address_lines() == ["北京市海淀区中关村大街1号", "理想国际大厦8层"]
    already = beijing(lines=["北京市海淀区中关村大街1号"])
    assert already.address_lines() == ["北京市海淀区中关村大街1号"]
    assert Address(name="x", province="广东省", city="深圳市").address_lines() == ["广东省深圳市"]
    assert Address(lines=["1 Main St"], country="USA").address_lines() == ["1 Main St", "USA"]
    assert beijing().recipient_line() == "张伟 先生"
    assert beijing(title="").recipient_line() == "张伟"


def test_envelopes_one_page_each_with_the_chinese_text():
    pdf = envelopes_pdf([beijing(), beijing(name="王芳", title="女士"), beijing()], sender=SENDER)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) == 3
    assert contains_utf16(pdf, "北京市海淀区")
    texts = drawn_text(pdf)
    assert "北京市海淀区中关村大街1号" in texts
    assert "北京华为技术有限公司" in texts
    assert "张伟 先生" in texts
    assert "王芳 女士" in texts
    # The sender block, and each postcode digit in its box.
    assert "上海市浦东新区张江路88号" in texts
    assert "Postcode: 201203" in texts
    assert [t for t in texts if len(t) == 1 and t.isdigit()][:6] == list("100080")


def test_envelope_uses_the_builtin_cid_font_and_embeds_none():
    pdf = envelopes_pdf([beijing()])
    assert f"/BaseFont /{FONT_NAME}".encode() in pdf
    assert b"/UniGB-UCS2-H" in pdf
    assert b"/FontFile" not in pdf


@pytest.mark.parametrize("size", ["DL", "C5", "ZL"])
def test_envelope_sizes(size):
    width, height = ENVELOPE_SIZES[size]
    (box,) = set(media_boxes(envelopes_pdf([beijing(), beijing()], size=size)))
    assert box == pytest.approx((width * MM, height * MM), abs=0.01)
    assert box[0] > box[1]  # landscape


def test_envelope_without_sender_and_without_boxes():
    pdf = envelopes_pdf([beijing()], postcode_boxes=False)
    texts = drawn_text(pdf)
    assert "上海明达贸易有限公司" not in texts
    assert "北京华为技术有限公司" in texts
    assert page_count(pdf) == 1


def test_long_address_wraps_on_the_envelope():
    street = (
        "中关村大街1号理想国际大厦8层801室，靠近地铁四号线中关村站A口，请送到前台交给张先生" * 2
    )
    pdf = envelopes_pdf([beijing(lines=[street])])
    texts = drawn_text(pdf)
    full = "北京市海淀区" + street
    assert full not in texts
    start = next(i for i, text in enumerate(texts) if text.startswith("北京市海淀区中关村"))
    joined = ""
    for text in texts[start:]:
        joined += text
        if len(joined) >= len(full):
            break
    assert joined == full
    assert all(text_width(text, 12) <= 220 * MM for text in texts)


def test_output_is_deterministic():
    assert envelopes_pdf([beijing()]) == envelopes_pdf([beijing()])


def test_nothing_to_print_and_unknown_formats():
    with pytest.raises(ValidationError):
        envelopes_pdf([])
    with pytest.raises(ValidationError):
        labels_pdf(iter(()))
    with pytest.raises(ValueError):
        envelopes_pdf([beijing()], size="A0")
    with pytest.raises(ValueError):
        labels_pdf([beijing()], sheet="nope")


@pytest.mark.parametrize("name", sorted(LABEL_SHEETS))
def test_label_sheets_fit_on_a4(name):
    sheet = LABEL_SHEETS[name]
    used_width = sheet.margin_left + sheet.columns * sheet.label_width
    used_width += (sheet.columns - 1) * sheet.gap_x
    used_height = sheet.margin_top + sheet.rows * sheet.label_height
    used_height += (sheet.rows - 1) * sheet.gap_y
    assert used_width <= 210.01
    assert used_height <= 297.01
    assert sheet.per_sheet == sheet.columns * sheet.rows


@pytest.mark.parametrize(
    ("sheet", "count", "skip", "pages"),
    [
        ("A4-3x8", 1, 0, 1),
        ("A4-3x8", 24, 0, 1),
        ("A4-3x8", 25, 0, 2),
        ("A4-3x8", 30, 0, 2),
        ("A4-2x7", 14, 0, 1),
        ("A4-2x7", 15, 0, 2),
        ("A4-2x7", 11, 3, 1),
        ("A4-2x7", 12, 3, 2),
        ("A4-3x7", 21, 0, 1),
    ],
)
def test_labels_fill_sheets(sheet, count, skip, pages):
    addresses = [beijing(name=f"客户{i}") for i in range(count)]
    pdf = labels_pdf(addresses, sheet=sheet, skip=skip)
    assert page_count(pdf) == pages
    assert all(box == pytest.approx((210 * MM, 297 * MM), abs=0.01) for box in media_boxes(pdf))
    texts = drawn_text(pdf)
    for i in range(count):
        assert f"客户{i} 先生" in texts


def test_labels_carry_postcode_address_company_and_name():
    pdf = labels_pdf([beijing()], sheet="A4-2x7")
    texts = drawn_text(pdf)
    assert contains_utf16(pdf, "北京市海淀区")
    assert texts[:5] == [
        "100080",
        "北京市海淀区中关村大街1号",
        "理想国际大厦8层",
        "北京华为技术有限公司",
        "张伟 先生",
    ]


def positioned_text(pdf: bytes) -> list[tuple[float, float, str]]:
    """(x, y, text) of every string drawn at its own text position."""
    found = []
    pattern = rb"1 0 0 1 ([\d.]+) ([\d.]+) Tm /F\d+ [\d.]+ Tf [\d.]+ TL (\((?:\\.|[^\\)])*\)) Tj"
    for stream in content_streams(pdf):
        for x, y, literal in re.findall(pattern, stream):
            (raw,) = _literal_strings(literal)
            found.append((float(x), float(y), raw.decode("utf-16-be")))
    return found


def test_labels_are_placed_in_grid_order():
    pdf = labels_pdf([beijing(name=f"客户{i}") for i in range(4)], sheet="A4-2x7", skip=1)
    sheet = LABEL_SHEETS["A4-2x7"]
    names = {text: (x, y) for x, y, text in positioned_text(pdf) if text.startswith("客户")}
    assert set(names) == {f"客户{i} 先生" for i in range(4)}
    left = (sheet.margin_left + sheet.padding) * MM
    right = left + (sheet.label_width + sheet.gap_x) * MM
    pitch = sheet.label_height * MM
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = (names[f"客户{i} 先生"] for i in range(4))
    # Position 0 is skipped: 客户0 is top right, then the next row left and right, ...
    assert (x0, x1, x2, x3) == pytest.approx((right, left, right, left), abs=0.01)
    assert (y0 - y1, y1 - y2, y2 - y3) == pytest.approx((pitch, 0, pitch), abs=0.01)
    assert y0 > 297 * MM - (sheet.margin_top + sheet.label_height) * MM


def test_too_much_text_for_a_label_is_shrunk_then_cut_with_an_ellipsis():
    huge = beijing(lines=["很长的地址" * 80], company="公司" * 40)
    pdf = labels_pdf([huge], sheet="A4-3x8")
    assert contains_utf16(pdf, "…")
    sizes = [float(size) for size in re.findall(rb"/F\d+ ([\d.]+) Tf", content_streams(pdf)[0])]
    assert min(sizes) == 6


def test_wrap_text():
    text = "北京市海淀区中关村大街1号理想国际大厦8层801室，请送到前台"
    width = text_width("北京市海淀区中关", 10)
    lines = wrap_text(text, 10, width)
    assert len(lines) > 2
    assert "".join(lines) == text
    assert all(text_width(line, 10) <= width + text_width("，", 10) for line in lines)
    assert not any(line.startswith("，") for line in lines)
    english = wrap_text(
        "Room 801, Ideal International Plaza", 10, text_width("Room 801, Ideal", 10)
    )
    assert english == ["Room 801, Ideal", "International", "Plaza"]
    assert wrap_text("第一行\n第二行", 10, 500) == ["第一行", "第二行"]
    assert wrap_text("", 10, 100) == []
