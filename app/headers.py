"""Security headers on every answer: pages may run only the app's own scripts and styles and may
not be framed (a clickjacked "Stop job" needs a frame); no answer is content-sniffed."""

from __future__ import annotations

from flask import Flask

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = PAGE_POLICY
            response.headers["X-Frame-Options"] = "DENY"
        return response
