"""Rate limits on public endpoints (Flask-Limiter): generous for reads, tight for sign-in and
for what the public may file (objections, repair requests). Counters live in memory by
default, per process (``lazy-memory://``, :mod:`vetting.ratelimit_storage`: no timer thread per
few requests); with several instances set VETTING_RATELIMIT_STORAGE_URL to a shared store
(``redis://host:6379``). A refused request is a 429 with Retry-After; every limited answer
carries the X-RateLimit-* headers and Retry-After."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from vetting import ratelimit_storage  # noqa: F401  (registers the lazy-memory:// scheme)
from vetting.caching import PUBLIC

SENSITIVE = ("work.sign_in_view", "objections.Objections", "repairs.Repairs", "registry.objection_form")


class RouteLimiter(Limiter):
    """A limiter whose limits are all set on routes. Flask-Limiter checks every request twice:
    before it is dispatched, for application-wide, default, blueprint and meta limits, then in
    the limited view for the route's own. With none of the former the first pass can only
    evaluate an empty list, so it is skipped; should any such limit be configured, or the
    limiter not expose what it holds, both passes run as usual."""

    def _limits_before_dispatch(self) -> bool:
        try:
            manager = self.limit_manager
            return bool(manager.application_limits or manager.default_limits or manager._blueprint_limits
                        or self._meta_limits or self._in_memory_fallback_enabled or self._request_filters)
        except AttributeError:
            return True

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self._limits_before_dispatch():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


@dataclass(frozen=True)
class _Refused:
    """What :class:`RateLimitExceeded` reads of the limit it reports."""

    limit: RateLimitItem
    error_message: None = None


class PublicReads:
    """The public-read limit (per client address and endpoint, GET only), checked before the
    view with the limiter's own strategy and storage, under the keys a route limit of
    Flask-Limiter uses. Flask-Limiter's route decorator resolves its limits anew on every
    request (parsing the limit string, walking exemptions and scopes): on a cheap public read
    that cost as much as the read. Here the limit is parsed once and a request costs a hit on
    the counter; the answer's headers are still written by Flask-Limiter, from the same record
    of the limit it would have kept."""

    def __init__(self, limiter: Limiter, limit: str, endpoints: frozenset[str]) -> None:
        self.limiter = limiter
        self.items = sorted(parse_many(limit))
        self.endpoints = endpoints

    def check(self) -> Any:
        limiter = self.limiter
        endpoint = request.endpoint
        if request.method != "GET" or endpoint not in self.endpoints or not (limiter.enabled and limiter.initialized):
            return None
        args = [get_remote_address(), endpoint]
        seen: list[RequestLimit] = []
        refused = None
        for item in self.items:
            allowed = limiter.limiter.hit(item, *args)
            seen.append(RequestLimit(limiter, item, args, not allowed, False))
            if not allowed:
                limiter.logger.info("ratelimit %s (%s) exceeded at endpoint: %s", item, args[0], endpoint)
                refused = seen[-1]
                break
        context = limiter.context
        context.view_rate_limit = refused or seen[0]
        context.view_rate_limits = seen
        if refused is not None:
            raise RateLimitExceeded(_Refused(refused.limit))  # type: ignore[arg-type]
        return None


def init_ratelimits(app: Flask) -> Limiter:
    limiter = RouteLimiter(get_remote_address, app=app, storage_uri=app.config["VETTING_RATELIMIT_STORAGE_URL"],
                           headers_enabled=True, strategy="sliding-window-counter")
    reads, sensitive = app.config["VETTING_RATELIMIT_PUBLIC"], app.config["VETTING_RATELIMIT_SENSITIVE"]
    app.before_request(PublicReads(limiter, reads, PUBLIC).check)
    for endpoint in SENSITIVE:
        app.view_functions[endpoint] = limiter.limit(sensitive, methods=["POST"])(app.view_functions[endpoint])
    return limiter
