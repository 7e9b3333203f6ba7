"""The Range header parser: RFC 9110 byte ranges, strictly and with bounded numbers, fuzzed."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from hypothesis import given
from hypothesis import strategies as st

from homewarden.api.media import byte_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-", (0, SIZE)),
        ("bytes=0-99", (0, 100)),
        ("bytes=900-5000", (900, SIZE)),
        ("bytes=-100", (900, SIZE)),
        ("bytes=-5000", (0, SIZE)),
        ("BYTES=10-19", (10, 20)),
        ("bytes=" + "0" * 5000 + "7-", (7, SIZE)),  # leading zeros are still the number 7
        ("bytes=10-" + "9" * 5000, (10, SIZE)),  # a last position past any size ends at the object's end
    ],
)
def test_a_valid_range_is_served(header: str, expected: tuple[int, int]) -> None:
    assert byte_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "bytes=",
        "bytes=-",
        "bytes=5-4",  # last before first: invalid, so ignored
        "bytes=0-1,5-6",  # several ranges: a server may answer with the whole object
        "items=0-1",
        "bytes = 0-1",
        "bytes=0x10-",
        "bytes=\u0663-",  # an Arabic-Indic digit: int() would read it, HTTP does not
        "bytes=-" + "1" * 5000 + "x",
    ],
)
def test_an_invalid_range_is_ignored(header: str) -> None:
    assert byte_range(header, SIZE) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=" + "9" * 5000 + "-", "bytes=-0", "bytes=5000-6000"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    """Broken 6: a 5000-digit number was turned into an int, which Python refuses past 4300 digits (a 500)."""
    with pytest.raises(HTTPException) as refused:
        byte_range(header, SIZE)
    assert refused.value.status_code == 416
    assert refused.value.headers == {"Content-Range": f"bytes */{SIZE}"}


RANGE_LIKE = st.one_of(
    st.text(max_size=60),
    st.builds(
        "{}={}-{}".format,
        st.sampled_from(["bytes", "BYTES", "byte", ""]),
        st.text("0123456789 ,-", max_size=30) | st.integers(0, 10**40).map(str),
        st.text("0123456789 ,-", max_size=30) | st.integers(0, 10**40).map(str) | st.just("9" * 5000),
    ),
)


@given(header=RANGE_LIKE, size=st.integers(0, 10**12))
def test_any_header_gives_a_range_inside_the_object_or_a_416(header: str, size: int) -> None:
    refused_with = None
    wanted = None
    try:
        wanted = byte_range(header, size)
    except HTTPException as refused:
        refused_with = refused.status_code
    assert refused_with in (None, 416)
    if wanted is not None:
        start, end = wanted
        assert 0 <= start < end <= size
