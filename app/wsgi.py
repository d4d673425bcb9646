"""The WSGI entry point Zappa (Lambda) and any WSGI server load: `app.wsgi.app`."""

from app import create_app

app = create_app()
