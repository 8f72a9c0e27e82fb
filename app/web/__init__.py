"""The read-only web view: server-rendered pages (:mod:`app.web.pages`, Jinja2 templates) behind
the API's tokens (:mod:`app.web.session`), charts drawn on the server as SVG
(:mod:`app.web.charts`), and the static files it serves itself: its stylesheet and the script
that verifies an inclusion proof in the browser (``static/``), and the Swagger UI and ReDoc
assets of the ``fastapi-offline`` package for ``/docs`` and ``/redoc``. Nothing is fetched from
another site at run time.
"""
