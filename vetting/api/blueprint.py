"""The blueprint every API module builds on: flask-smorest's, with a query-string loader that
looks absent parameters up cheaply.

webargs reads each field of a query schema through a proxy over ``request.args``; werkzeug's
``MultiDict.get`` answers a missing key by raising and catching ``BadRequestKeyError``, so a
schema of eight optional parameters built and discarded seven HTTP exceptions on a request that
gave one. Here a missing key is a dictionary membership test; present keys, repeated parameters
and unknown ones are read exactly as webargs reads them.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy


class _QueryArgs(MultiDictProxy):
    def __getitem__(self, key: str) -> Any:
        if key not in self.data:
            return ma.missing
        return super().__getitem__(key)


class QueryParser(FlaskParser):
    def load_querystring(self, req: flask.Request, schema: ma.Schema) -> Any:
        return self._makeproxy(req.args, schema, cls=_QueryArgs)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = QueryParser()
