"""A refused JSON record is kept as the bytes it came as: JsonArrayItems cuts them out of the body."""

from __future__ import annotations

import pytest

from campaigns.accounting.parser import JsonArrayItems, parse_json_array

BODIES = [
    # (body, every item as sent)
    (b'[{"a":"1"},{"b":"2"}]', [b'{"a":"1"}', b'{"b":"2"}']),
    (b'[\n {"a": "1"} ,\n {"b": 2}\n]\n', [b'{"a": "1"}', b'{"b": 2}']),
    (b' {"a":"1"} ', [b'{"a":"1"}']),  # a lone object is an array of one
    # "}, {" inside a string, a nested value and an item that is no object: the cut at the gaps
    # disagrees with the parsed items there, and the exact walk answers instead
    (
        b'[{"a":"1"},{"b":"x}, {y"}, {"c":[{"d":1},{"e":2}]}, 5, {"f":"\xff"}]',
        [b'{"a":"1"}', b'{"b":"x}, {y"}', b'{"c":[{"d":1},{"e":2}]}', b"5", b'{"f":"\xff"}'],
    ),
]


@pytest.mark.parametrize(("body", "expected"), BODIES)
def test_it_cuts_each_item_out_byte_for_byte(body, expected):
    items = JsonArrayItems(body, parse_json_array(body))

    assert [items.item(n) for n in range(1, len(expected) + 1)] == expected


@pytest.mark.parametrize(("body", "expected"), BODIES)
def test_it_cuts_a_later_item_first(body, expected):
    items = JsonArrayItems(body, parse_json_array(body))

    assert [items.item(n) for n in range(len(expected), 0, -1)] == expected[::-1]


def test_it_has_nothing_past_the_last_item():
    body = b'[{"a":"1"}]'
    items = JsonArrayItems(body, parse_json_array(body))

    assert items.item(0) == items.item(2) == b""


# Gaps that are not all alike (the cut then finds them one by one), a byte-order mark, a body that is
# text, and several items asked for from one cutter: each still comes out as sent.
MORE_BODIES = [
    (
        b'[{"a":"1"}, {"b":"2"},{"c":"3"},\n\t{"d":"4"}]',
        [b'{"a":"1"}', b'{"b":"2"}', b'{"c":"3"}', b'{"d":"4"}'],
    ),
    (b'\xef\xbb\xbf [{"a":"\xff"}, {"b":"2"}]', [b'{"a":"\xff"}', b'{"b":"2"}']),
    ('[{"a":"é"}, {"b":"2"}]', ['{"a":"é"}'.encode(), b'{"b":"2"}']),
]


@pytest.mark.parametrize(("body", "expected"), MORE_BODIES)
def test_it_cuts_items_whatever_the_gaps_between_them(body, expected):
    items = JsonArrayItems(body, parse_json_array(body))

    assert [items.item(n) for n in range(len(expected), 0, -1)] == expected[::-1]
