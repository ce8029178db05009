#!/usr/bin/env python3
"""OAuth 2.0 authorization server of the loopback test stack (Python standard library only).

It plays the part Google's or Microsoft's token service plays for a hosted mailbox:
  POST /token       RFC 6749 section 6: the refresh-token grant. Client authentication by HTTP Basic
                    or by client_id/client_secret in the form (section 2.3.1). Issues random bearer
                    tokens that expire after the current lifetime (default 3600 s).
                    Section 4.1.3: the authorization-code grant, with PKCE (RFC 7636, S256 only):
                    a code from /authorize, once, for the same redirect_uri, with the verifier whose
                    challenge it was issued for; answers an access token and a new refresh token.
  GET  /authorize   Section 4.1.1: the user's consent, given at once for the stack user named by
                    login_hint (the stand-in for a person signing in); redirects to the loopback
                    redirect_uri (RFC 8252 section 7.3) with code and state, or with
                    error=access_denied for a user it does not know. Refuses (400, no redirect) an
                    unknown client, a redirect_uri that is not http://127.0.0.1 or http://[::1],
                    and a request without an S256 code_challenge.
  POST /introspect  RFC 7662: what Dovecot's oauth2 passdb asks (introspection_mode = post) for every
                    XOAUTH2/OAUTHBEARER login, IMAP and (through Dovecot's SASL socket) Postfix
                    submission alike. Answers {"active": true, "username": ...} for a live token.
  Test controls (loopback only, like the rest of the stack):
  POST /admin/expire  every access token issued so far stops being valid (a provider revoking them,
                      or an hour passing) - refresh tokens stay valid
  POST /admin/ttl     seconds=N: lifetime of the tokens issued from now on
  GET  /admin/stats   how many grants, introspections and refusals so far
  GET  /admin/issued  the last 100 access tokens issued (a test scans its logs for them)
  POST /admin/rotation  user=ADDRESS&on=1: every grant for that user issues a new refresh token and
                      revokes the one used (as providers with rotation and reuse detection do);
                      on=0 ends it and restores the user's configured refresh token

Usage: server.py CONFIG.json   (host, port, client_id, client_secret, refresh_tokens: {token: user})
"""
import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

with open(sys.argv[1], encoding="utf-8") as f:
    CONFIG = json.load(f)

LOCK = threading.Lock()
ACCESS = {}  # access token -> (user, expires at)
ISSUED = []  # the last access tokens issued, newest last
STATS = {"grants": 0, "introspections": 0, "active": 0, "refused": 0}
TTL = [3600]
CONFIGURED = dict(CONFIG["refresh_tokens"])  # refresh token -> user, as configured
ROTATING = set()  # users whose refresh tokens rotate
CODES = {}  # authorization code -> (user, client_id, redirect_uri, code_challenge, expires at)
USERS = set(CONFIGURED.values())


def client_of(handler, form):
    """RFC 6749 section 2.3.1: Basic (form-urlencoded id and secret) or the form's own fields."""
    header = handler.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            pair = base64.b64decode(header[6:]).decode("utf-8")
            cid, _, secret = pair.partition(":")
            return unquote(cid), unquote(secret)
        except ValueError:
            return None, None
    return form.get("client_id"), form.get("client_secret")


class Handler(BaseHTTPRequestHandler):
    server_version = "email-channel-stack-oauth/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), fmt % args))

    def reply(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def do_GET(self):
        if self.path.startswith("/authorize?"):
            return self.authorize({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})
        if self.path == "/admin/stats":
            with LOCK:
                return self.reply(200, dict(STATS, live=len(ACCESS), ttl=TTL[0]))
        if self.path == "/admin/issued":
            with LOCK:
                return self.reply(200, {"tokens": list(ISSUED)})
        self.reply(404, {"error": "not_found"})

    def do_POST(self):
        form = self.form()
        if self.path == "/token":
            return self.token(form)
        if self.path == "/introspect":
            return self.introspect(form)
        if self.path == "/admin/expire":
            with LOCK:
                count = len(ACCESS)
                ACCESS.clear()
            return self.reply(200, {"expired": count})
        if self.path == "/admin/rotation":
            user = form.get("user", "")
            with LOCK:
                if form.get("on") == "1":
                    ROTATING.add(user)
                else:
                    ROTATING.discard(user)
                    tokens = CONFIG["refresh_tokens"]
                    for token in [t for t, u in tokens.items() if u == user]:
                        del tokens[token]
                    tokens.update({t: u for t, u in CONFIGURED.items() if u == user})
            return self.reply(200, {"rotating": sorted(ROTATING)})
        if self.path == "/admin/ttl":
            with LOCK:
                TTL[0] = int(form.get("seconds", "3600"))
            return self.reply(200, {"ttl": TTL[0]})
        self.reply(404, {"error": "not_found"})

    def authorize(self, query):
        redirect = query.get("redirect_uri", "")
        target = urlsplit(redirect)
        if (
            query.get("client_id") != CONFIG["client_id"]
            or target.scheme != "http"
            or target.hostname not in ("127.0.0.1", "::1")
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or len(query.get("code_challenge", "")) < 43
        ):
            return self.reply(400, {"error": "invalid_request"})
        user = query.get("login_hint", "")
        answer = {"state": query["state"]} if "state" in query else {}
        if user not in USERS:
            answer["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            with LOCK:
                CODES[code] = (user, query["client_id"], redirect, query["code_challenge"], time.time() + 120)
            answer["code"] = code
        self.send_response(302)
        self.send_header("Location", redirect + ("&" if target.query else "?") + urlencode(answer))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def code_grant(self, form, cid):
        """Section 4.1.3 with RFC 7636 section 4.6: one use, same client and redirect_uri, S256 verifier."""
        entry = CODES.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
        if (
            not entry
            or entry[4] < time.time()
            or entry[1] != cid
            or entry[2] != form.get("redirect_uri")
            or entry[3] != challenge
        ):
            STATS["refused"] += 1
            return None
        return entry[0]

    def token(self, form):
        cid, secret = client_of(self, form)
        with LOCK:
            if cid != CONFIG["client_id"] or secret != CONFIG["client_secret"]:
                STATS["refused"] += 1
                return self.reply(401, {"error": "invalid_client"})
            if form.get("grant_type") == "authorization_code":
                user = self.code_grant(form, cid)
                if not user:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "unknown, used or mismatched code"})
                token = secrets.token_urlsafe(32)
                ACCESS[token] = (user, time.time() + TTL[0])
                ISSUED.append(token)
                del ISSUED[:-100]
                refresh = secrets.token_urlsafe(32)
                CONFIG["refresh_tokens"][refresh] = user
                STATS["grants"] += 1
                answer = {"access_token": token, "token_type": "Bearer", "expires_in": TTL[0], "refresh_token": refresh}
                return self.reply(200, answer)
            if form.get("grant_type") != "refresh_token":
                STATS["refused"] += 1
                return self.reply(400, {"error": "unsupported_grant_type"})
            user = CONFIG["refresh_tokens"].get(form.get("refresh_token", ""))
            if not user:
                STATS["refused"] += 1
                return self.reply(
                    400, {"error": "invalid_grant", "error_description": "unknown or revoked refresh token"}
                )
            token = secrets.token_urlsafe(32)
            ACCESS[token] = (user, time.time() + TTL[0])
            ISSUED.append(token)
            del ISSUED[:-100]
            STATS["grants"] += 1
            ttl = TTL[0]
            answer = {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "mail"}
            if user in ROTATING:
                del CONFIG["refresh_tokens"][form["refresh_token"]]
                rotated = secrets.token_urlsafe(32)
                CONFIG["refresh_tokens"][rotated] = user
                answer["refresh_token"] = rotated
        self.reply(200, answer)

    def introspect(self, form):
        with LOCK:
            STATS["introspections"] += 1
            entry = ACCESS.get(form.get("token", ""))
            if entry and entry[1] > time.time():
                STATS["active"] += 1
                return self.reply(200, {"active": True, "username": entry[0], "exp": int(entry[1])})
        self.reply(200, {"active": False})


ThreadingHTTPServer((CONFIG["host"], CONFIG["port"]), Handler).serve_forever()
