#!/usr/bin/env python3
"""gen_vectors.py - regenerate the known-answer files in tests/vectors/ with
the installed itsdangerous and Flask (not run by make; the output is
committed). Usage: python3 tests/vectors/gen_vectors.py"""
import datetime
import hashlib
import json
import os
import uuid

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup

HERE = os.path.dirname(os.path.abspath(__file__))
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256,
           "sha512": hashlib.sha512}


class FixedSigner(TimestampSigner):
    now = 0

    def get_timestamp(self):
        return self.now


def itsdangerous_vectors():
    # key-hex salt digest derivation timestamp payload expected
    keys = [b"secret", b"\x00\x01\xfe\xff", b"k" * 100, b"x"]
    salts = ["cookie-session", "itsdangerous.Signer", "s"]
    payloads = ["eyJhIjoxfQ", ".eJyrVkpUsjKs5QIADsgCJg", "hello", "a.b"]
    stamps = [0, 1, 255, 256, 1445412480, 2**32, 2**63 - 1]
    lines = []
    n = 0
    for derivation in ("hmac", "concat", "django-concat", "none"):
        for digest in DIGESTS:
            for key in keys:
                salt = salts[n % len(salts)]
                payload = payloads[n % len(payloads)]
                ts = stamps[n % len(stamps)]
                n += 1
                s = FixedSigner(key, salt=salt, key_derivation=derivation,
                                digest_method=DIGESTS[digest])
                s.now = ts
                out = s.sign(payload).decode()
                lines.append("\t".join([key.hex(), salt, digest, derivation,
                                        str(ts), payload, out]))
    with open(os.path.join(HERE, "itsdangerous.txt"), "w") as f:
        f.write("# key-hex\tsalt\tdigest\tderivation\ttimestamp\tpayload"
                "\texpected\n")
        f.write("\n".join(lines) + "\n")


def session_values():
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    dt = datetime.datetime(2015, 10, 21, 7, 28, 0)
    return [
        {},
        {"_permanent": True, "user_id": "42",
         "csrf_token": "5f2b6c8e0f4d4e1b9a3c7d2e1f0a9b8c7d6e5f4a",
         "cart": {"1": 2}},
        {"a": 1, "b": [1, 2, 3], "c": None, "d": False, "e": 1.5},
        {"t": (1, "two", 3.0), "b": b"\x00\xffbytes", "m": Markup("<b>x</b>"),
         "u": u, "d": dt},
        {"nested": {" t": [1, 2]}, "list": [(1,), {" b": "x"}]},
        {"text": "h\u00e9llo \u2603 \U0001f600 \"q\" \\ \n\t\r\b\f\x01\x7f"},
        {"big": "x" * 400},
        {"floats": [0.1, 1e-05, 0.0001, 1e16, 1234567890123456.0,
                    1.5e300, -0.0, 5e-324, 1.7976931348623157e308,
                    123.456, 100.0, 3.141592653589793]},
        {"ints": [0, -1, 2**63 - 1, -2**63]},
        {"zz": 1, "aa": 2, "\u00e9": 3, "Z": 4, "_": 5, "\U0001f600": 6},
        {"list": list(range(60))},
    ]


def tagjson_vectors():
    ser = TaggedJSONSerializer()
    vals = session_values() + [
        {"x": (1, (2, 3))},
        {"d": datetime.datetime(1, 1, 1)},
        {"d": datetime.datetime(9999, 12, 31, 23, 59, 59)},
        {"d": datetime.datetime(2000, 2, 29, 12, 0, 0)},
        {"b": b""},
        {"empty_tuple": ()},
        {"f": [1e22, 1e-7, 2.5e-5, 0.5, 9007199254740993.0, 1e15, 1e+100]},
    ]
    with open(os.path.join(HERE, "tagjson.txt"), "w") as f:
        f.write("# one line per value: Flask's TaggedJSONSerializer.dumps\n")
        for v in vals:
            f.write(ser.dumps(v) + "\n")
    floats = [0.0, -0.0, 1.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e-05, 0.0001,
              0.001, 1e16, 1e15, 9999999999999998.0, 1234567890123456.0,
              1.5e300, 5e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, 123456789.123, -1.25e-10, 1e100,
              4.35, 0.1 + 0.2, 100.0, 1e21, 1e22, 1e23, 123e45]
    with open(os.path.join(HERE, "floats.txt"), "w") as f:
        f.write("# %a hex float\tPython repr\n")
        for x in floats:
            f.write("%s\t%r\n" % (x.hex(), x))


def flask_cookies():
    # key timestamp json cookie  (Flask's session interface, fixed clock)
    app = Flask(__name__)
    lines = []
    iface = SecureCookieSessionInterface()
    for i, v in enumerate(session_values()):
        app.secret_key = ["dev", "s3cr3t-key", b"\x01\x02\x03"][i % 3]
        key = app.secret_key
        key = key if isinstance(key, bytes) else key.encode()
        s = iface.get_signing_serializer(app)
        ts = 1700000000 + i * 1000
        s.signer = type("S", (FixedSigner,), {"now": ts})
        s.signer_kwargs = dict(s.signer_kwargs)
        cookie = s.dumps(v)
        text = iface.serializer.dumps(v)
        lines.append("\t".join([key.hex(), str(ts), text, cookie]))
    with open(os.path.join(HERE, "flask_sessions.txt"), "w") as f:
        f.write("# key-hex\ttimestamp\tjson\tcookie\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    # Inside an app context Flask's json uses the app's provider, which
    # sorts keys, as it does when it saves a session during a request.
    with Flask(__name__).app_context():
        itsdangerous_vectors()
        tagjson_vectors()
        flask_cookies()
