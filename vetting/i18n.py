"""English and Chinese for the pages (Flask-Babel).

The language is, in order: ``?lang=en|zh`` on the request (remembered in a ``lang`` cookie for a
year), the cookie, then the browser's Accept-Language. Catalogs live in ``vetting/translations``
(the ``.po`` source and the compiled ``.mo``, both shipped in the package); ``babel.cfg`` at the
top of the repository says where messages are extracted from. Stored records (names, grounds of
a decision, reasons a registrar wrote) are shown in the language they were written in.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, request

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
COOKIE = "lang"
TRANSLATIONS = Path(__file__).parent / "translations"


def _chosen() -> str | None:
    asked = request.args.get("lang")
    return asked if asked in LANGUAGES else None


def select_locale() -> str:
    """The language of this request's page."""
    chosen = _chosen() or request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT) or DEFAULT


def switch_url(language: str) -> str:
    """This page in ``language``: the same path and query, with ``lang`` set."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", language)]
    return f"{request.path}?{urlencode(args)}"


def init_i18n(app: Flask) -> None:
    from flask_babel import Babel, get_locale

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    from vetting.pages.labels import init_labels

    init_labels(app)

    @app.context_processor
    def _language() -> dict:
        return {"current_language": str(get_locale() or DEFAULT), "languages": LANGUAGES, "switch_url": switch_url}

    @app.after_request
    def _remember(response: Response) -> Response:
        chosen = _chosen()
        if chosen and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=bool(app.config.get("VETTING_SECURE_COOKIES")), httponly=True)
        response.vary.add("Accept-Language")
        return response
