"""The one response helper both local web servers (the operator console and
the simulated house) share: a complete JSON (or given-type) reply, never cached."""
import json


def send(handler, code, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    handler.wfile.write(data)
