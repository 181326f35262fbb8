#!/usr/bin/env python3
"""gen_fuzz_corpus.py - write the seed corpus of fuzz/fuzz_cookie_decode.c
(signed with its key and clock) using the installed Flask and itsdangerous.
Usage: python3 tests/vectors/gen_fuzz_corpus.py"""
import datetime
import os
import uuid

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner
from markupsafe import Markup

KEY = "fuzz-secret-key"
NOW = 1700000000
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "fuzz", "corpus", "fuzz_cookie_decode")


class Fixed(TimestampSigner):
    def get_timestamp(self):
        return NOW - 60


def main():
    os.makedirs(OUT, exist_ok=True)
    app = Flask(__name__)
    app.secret_key = KEY
    with app.app_context():
        s = SecureCookieSessionInterface().get_signing_serializer(app)
        s.signer = Fixed
        values = {
            "empty": {},
            "typical": {
                "_permanent": True, "user_id": "42",
                "csrf_token": "5f2b6c8e0f4d4e1b9a3c7d2e1f0a9b8c7d6e5f4a",
                "cart": {"1": 2}},
            "tags": {"t": (1, 2), "b": b"\x00\x01", "m": Markup("<i>"),
                     "u": uuid.UUID(int=7),
                     "d": datetime.datetime(2015, 10, 21, 7, 28)},
            "di": {"x": {" t": [1]}},
            "floats": {"f": [0.1, 1e-05, 1e16, -0.0, 5e-324]},
            "unicode": {"s": "\u00e9\u2603\U0001f600\x00\x7f"},
            "compressed": {"big": "abc" * 200},
            "nested": {"a": [[[[{"b": [{"c": None}]}]]]]},
        }
        cookies = {}
        for name, v in values.items():
            cookies[name] = s.dumps(v)
    cookies["tampered"] = cookies["typical"][:-1] + "A"
    cookies["truncated"] = cookies["typical"][:40]
    cookies["no_dots"] = "eyJhIjoxfQ"
    cookies["bare_payload"] = "eyJhIjp7IiB0IjpbMSwyXX19"
    cookies["bad_b64"] = "ey$hIjoxfQ.ZVPxAA.abc"
    cookies["long_ts"] = "e30.AAAAAAAAAAAA.abc"
    cookies["dots"] = "..."
    cookies["bad_zlib"] = ".eJzLSM3JyQcABiwCFQ.ZVPxAA.x"
    cookies["bad_tag"] = "eyJhIjp7IiB1IjoiMTIzIn19"
    cookies["expired"] = "e30.AQ.x"
    for name, c in cookies.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(c)


if __name__ == "__main__":
    main()
