"""Recorded changes read as "field: before -> after", never as Python dict dumps (issue #19)."""

from django.template import Context, Template

from core.templatetags.changes import ChangeRow, change_rows, format_value


def test_it_lists_only_the_fields_that_changed():
    rows = change_rows({"status": "active", "pool": "a"}, {"status": "paused", "pool": "a"})
    assert rows == [ChangeRow("status", "active", "paused")]


def test_a_side_without_a_field_shows_only_the_other():
    assert change_rows(None, {"name": "mta-1", "api_key_set": True}) == [
        ChangeRow("name", None, "mta-1"),
        ChangeRow("api key set", None, "yes"),
    ]
    assert change_rows({"token": "abc"}, {}) == [ChangeRow("token", "abc", None)]


def test_nested_dicts_flatten_to_dotted_names():
    rows = change_rows({"limits": {"daily": 500, "hourly": 50}}, {"limits": {"daily": 1000, "hourly": 50}})
    assert rows == [ChangeRow("limits.daily", "500", "1000")]


def test_values_read_as_words_not_python():
    assert format_value(None) == "—"
    assert format_value(False) == "no"
    assert format_value("") == "(empty)"
    assert format_value(["gmail", "yahoo"]) == "gmail, yahoo"
    assert format_value({"a_b": 1}) == "a b: 1"
    assert format_value([]) == "(none)"


def test_the_tags_render_no_dict_syntax():
    html = Template("{% load changes %}{% change_diff before after %}|{% change_values counts %}").render(
        Context(
            {
                "before": {"status": "active", "extra": None},
                "after": {"status": "paused", "extra": None},
                "counts": {"checked": 12, "listed": 0},
            }
        )
    )
    assert '<span class="change-field">status:</span> <del class="change-before">active</del>' in html
    assert '<ins class="change-after">paused</ins>' in html
    assert "extra" not in html
    assert '<ul class="changes inline">' in html
    assert 'checked:</span> <span class="change-after">12</span>' in html
    assert "{" not in html and "'" not in html


def test_nothing_recorded_renders_nothing():
    assert Template("{% load changes %}{% change_diff None None %}").render(Context()).strip() == ""
