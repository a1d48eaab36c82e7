# SPDX-License-Identifier: MIT
"""A small client for wgdp's REST API, for the integration tests (stdlib only).

    api = Api("http://127.0.0.1:8080", token)
    status, body, headers = api.call("GET", "/api/v1/peers")

body is the parsed JSON (or the text for text/plain answers, or None).
"""
import base64
import http.client
import json
import os
import ssl
import urllib.parse


def url_key(key):
    """A base64 key in the URL-safe form used in paths."""
    return key.replace("+", "-").replace("/", "_")


def genkey():
    """A random X25519-shaped private key in base64 (clamped like wg genkey)."""
    k = bytearray(os.urandom(32))
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return base64.b64encode(bytes(k)).decode()


class Api:
    def __init__(self, base, token, cafile=None):
        u = urllib.parse.urlsplit(base)
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port
        self.token = token
        self.ctx = None
        if self.https:
            self.ctx = ssl.create_default_context(cafile=cafile)
            self.ctx.check_hostname = False

    def conn(self):
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=60, context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def raw(self, method, path, body=None, headers=None, token=True):
        """(status, bytes, headers) for a request with body as raw bytes."""
        h = dict(headers or {})
        if token is True and self.token:
            h["Authorization"] = "Bearer " + self.token
        elif isinstance(token, str):
            h["Authorization"] = token
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, data, {k.lower(): v for k, v in r.getheaders()}
        finally:
            c.close()

    def call(self, method, path, obj=None, token=True, headers=None):
        body = None
        h = dict(headers or {})
        if obj is not None:
            body = json.dumps(obj).encode()
            h.setdefault("Content-Type", "application/json")
        status, data, rh = self.raw(method, path, body, h, token)
        ct = rh.get("content-type", "")
        if ct.startswith("application/json") and data:
            return status, json.loads(data), rh
        return status, data.decode("utf-8", "replace") if data else None, rh
