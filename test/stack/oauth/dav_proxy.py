#!/usr/bin/env python3
"""CalDAV/CardDAV with OAuth 2.0 bearer tokens for the loopback test stack (Python standard library).

Google's CalDAV and CardDAV endpoints take only `Authorization: Bearer <access token>` (RFC 6750
section 2.1), no password. This is the stack's stand-in for them: a reverse proxy in front of a
Radicale instance, the way Radicale's documentation puts an authenticating proxy in front of it.
  - A request without a bearer token (no Authorization, or HTTP Basic) gets 401 with
    `WWW-Authenticate: Bearer realm="..."` (RFC 6750 section 3).
  - A bearer token is checked at the stack's authorization server (RFC 7662 introspection, the same
    call Dovecot's oauth2 passdb makes for IMAP and SMTP logins); a token it does not know as live
    gets 401 with `error="invalid_token"`.
  - A live token's request goes on to Radicale (auth type http_x_remote_user, listening on loopback
    for this proxy) with `X-Remote-User` set to the token's user; whatever X-Remote-User the client
    sent is dropped. The answer comes back as Radicale gave it.
  GET /admin/stats (on this proxy): requests forwarded, refused without a token, refused as invalid.

Usage: dav_proxy.py CONFIG.json   (host, port, upstream_host, upstream_port, introspect_url)
"""
import json
import sys
import threading
import time
import urllib.request
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

with open(sys.argv[1], encoding="utf-8") as f:
    CONFIG = json.load(f)

REALM = "email-channel test stack (OAuth 2.0)"
# RFC 7230 section 6.1 hop-by-hop fields, plus the ones this proxy sets itself.
HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "authorization",
    "x-remote-user",
}
LOCK = threading.Lock()
STATS = {"forwarded": 0, "no_token": 0, "invalid_token": 0}


def introspect(token):
    """The token's user when the authorization server knows it as live, else None."""
    body = urlencode({"token": token}).encode("ascii")
    request = urllib.request.Request(CONFIG["introspect_url"], data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        data = json.load(answer)
    return data.get("username") if data.get("active") is True else None


class Handler(BaseHTTPRequestHandler):
    server_version = "email-channel-stack-dav-oauth/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), fmt % args))

    def __getattr__(self, name):
        # Every method (PROPFIND, REPORT, PUT, MKCALENDAR, ...) goes the same way.
        if name.startswith("do_"):
            return self.forward
        raise AttributeError(name)

    def answer(self, status, headers, body=b""):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def refuse(self, stat, challenge):
        with LOCK:
            STATS[stat] += 1
        self.answer(401, [("WWW-Authenticate", challenge), ("Content-Type", "text/plain")], b"401 Unauthorized\n")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def forward(self):
        body = self.read_body()
        if self.path == "/admin/stats" and self.command == "GET":
            with LOCK:
                data = json.dumps(STATS).encode("utf-8")
            return self.answer(200, [("Content-Type", "application/json")], data)
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self.refuse("no_token", 'Bearer realm="%s"' % REALM)
        user = introspect(token.strip())
        if not user:
            return self.refuse(
                "invalid_token",
                'Bearer realm="%s", error="invalid_token", error_description="the access token is not active"'
                % REALM,
            )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["X-Remote-User"] = user
        headers["Content-Length"] = str(len(body))
        upstream = HTTPConnection(CONFIG["upstream_host"], CONFIG["upstream_port"], timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            # Date and Server: this proxy sends its own.
            passed = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP | {"date", "server"}]
        finally:
            upstream.close()
        with LOCK:
            STATS["forwarded"] += 1
        self.answer(response.status, passed, data)


ThreadingHTTPServer((CONFIG["host"], CONFIG["port"]), Handler).serve_forever()
