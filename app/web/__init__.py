"""The web app: server-rendered pages (Jinja) with a little vanilla JavaScript, on the API's own Flask app.

No server-side session: the user's API key stays in the browser (localStorage or sessionStorage)
and the pages call the JSON API with it, so the app runs unchanged behind Lambda/API Gateway.
"""
