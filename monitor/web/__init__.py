"""The service's web side: the operator console and the owner's app, on
Starlette under uvicorn in a thread (and event loop) of its own, so it never
shares a pool with the MQTT intake.

    from monitor.web import WebConfig, WebServer
    web = WebServer(rx, WebConfig(port=8080)).start()     # rx: a started Receiver
    print(web.url)
    web.stop()

app.py builds the application (one file per feature beside it: auth, guard,
routes, actions, owner, live, views, words); server.py runs it."""
from monitor.web.config import WebConfig  # noqa: F401
from monitor.web.server import WebServer  # noqa: F401
