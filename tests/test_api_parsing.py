"""Query strings are read as webargs reads them: absent parameters take their defaults,
repeated ones fill a list field (the first counts for a single-valued field), unknown ones are
left out, and a value that does not fit is refused naming its parameter."""

import pytest
from flask import Flask
from marshmallow import RAISE, Schema, fields
from werkzeug.exceptions import UnprocessableEntity

from vetting.api.blueprint import QueryParser


class Query(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String()
    tag = fields.List(fields.String(), data_key="tags")
    limit = fields.Integer(load_default=20)


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"limit": 20}),
    ("name=a&limit=5", {"name": "a", "limit": 5}),
    ("tags=x&tags=y&name=a&name=b", {"tag": ["x", "y"], "name": "a", "limit": 20}),
    ("tags=x", {"tag": ["x"], "limit": 20}),
    ("colour=red&limit=3", {"limit": 3}),
])
def test_query_parameters(query, expected):
    app = Flask(__name__)
    with app.test_request_context(f"/?{query}"):
        assert QueryParser().parse(Query(), location="query") == expected


def test_a_value_that_does_not_fit_is_refused_by_name():
    app = Flask(__name__)
    with app.test_request_context("/?limit=many&name=a"), pytest.raises(UnprocessableEntity) as refused:
        QueryParser().parse(Query(), location="query")
    assert list(refused.value.data["messages"]["query"]) == ["limit"]
