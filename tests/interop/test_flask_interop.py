"""Interop with real Flask: Flask signs, crumb decodes; crumb signs, Flask
loads; and crumb refuses what Flask would refuse.

Runs with Debian's /usr/bin/python3 and python3-flask. Prints one line per
check: "ok interop <name>" or "FAIL interop <name>: why".
"""
import datetime
import hashlib
import json
import os
import subprocess
import sys
import uuid

from flask import Flask, session
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer, TimestampSigner
from markupsafe import Markup

ROOT = os.environ.get("CRUMB_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
CRUMB = os.environ.get("CRUMB_BIN", os.path.join(ROOT, "build", "crumb"))
T0 = 1_700_000_000  # a fixed signing time

failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print(f"ok interop {name}")
    else:
        failures += 1
        print(f"FAIL interop {name}: {why}")
    sys.stdout.flush()


def crumb(*args):
    p = subprocess.run([CRUMB, *args], capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def key_args(key, opt="--secret-key"):
    if isinstance(key, bytes):
        return [opt + "-hex", key.hex()]
    return [opt, key]


KEYS = [
    "a-long-enough-secret-key-for-testing-123456",
    "clé secrète très longue — ünïcødé ✓ 🔑 pour le test",
    b"\x00\x01\x02binary\xff\xfe key bytes that are not text\x80\x81",
    "x" * 200,
    "short",
]

NOW = datetime.datetime(2024, 2, 29, 13, 37, 42, tzinfo=datetime.timezone.utc)


def sessions():
    """At least 50 varied sessions, as Python values."""
    big = {"items": [f"item-{i}" for i in range(150)], "note": "ab" * 200}
    base = [
        {},
        {"user_id": 42},
        {"name": "john_doe", "n": 123, "ok": True, "none": None},
        {"f": 1.5, "g": 0.1, "h": 1e-7, "i": 1e16, "j": -0.0, "k": 123456789.125},
        {"big": 2**62, "neg": -(2**62)},
        {"text": "héllo wörld — ✓ 🍪 中文"},
        {"esc": "quote\" backslash\\ nl\n tab\t ctrl\x01 del\x7f"},
        {"t": (1, 2, 3)},
        {"t": ()},
        {"nested_t": ((1, "a"), [2, (3,)])},
        {"b": b"\x00\x01\xff bytes"},
        {"b": b""},
        {"d": NOW},
        {"d": datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)},
        {"u": uuid.UUID("12345678-1234-5678-1234-567812345678")},
        {"u": uuid.UUID(int=0)},
        {"m": Markup("<b>bold</b> &amp;")},
        {"di": {" t": 1}},
        {"di": {" di": {" b": 2}}},
        {" t": "root key that is a tag"},
        {" u": {"x": 1}},
        {"list": ["item1", "item2"], "dict": {"theme": "dark", "notifications": True}},
        {"cart": {"1": 2, "3": 1}, "_permanent": True},
        {"_permanent": True, "user_id": "7", "csrf": "abc"},
        {"deep": {"a": {"b": {"c": {"d": [1, [2, [3, {"e": None}]]]}}}}},
        big,
        {"compressible": "A" * 1000},
        {"mixed": [1, "two", 3.0, None, True, {"six": (7,)}]},
        {"keys": {"z": 1, "a": 2, "é": 3, "🍪": 4, "A": 5, "_": 6}},
        {"": "empty key"},
        {"unicode_key_é": "v"},
    ]
    out = []
    for i, s in enumerate(base):
        out.append((KEYS[i % len(KEYS)], s))
    # Every session again under another key, for 62 in all.
    for i, s in enumerate(base):
        out.append((KEYS[(i + 2) % len(KEYS)], s))
    return out


def make_app(key):
    app = Flask(__name__)
    app.secret_key = key
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Cookies here are signed at a fixed past time (T0): let Flask accept
    # them; crumb's own expiry checks run with --now and --max-age.
    app.config["PERMANENT_SESSION_LIFETIME"] = datetime.timedelta(days=36500)
    return app


def flask_cookie(key, data, ts):
    """The cookie value a real Flask request writes for `data` at time ts."""
    app = make_app(key)
    orig = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: ts

    @app.route("/set")
    def set_view():
        session.clear()
        session.update(data)
        return "ok"

    try:
        client = app.test_client()
        resp = client.get("/set")
    finally:
        TimestampSigner.get_timestamp = orig
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return header.split(";", 1)[0][len("session="):]
    return None


def flask_tagged_json(app, data):
    with app.app_context():
        return TaggedJSONSerializer().dumps(data)


def flask_loads(app, cookie):
    """What Flask's session interface reads from the cookie (or None)."""
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        s = app.session_interface.open_session(app, __import__("flask").request)
        return None if s is None else dict(s)


def main():
    cases = sessions()
    report("at least 50 sessions", len(cases) >= 50, str(len(cases)))
    fast_compressed = 0
    for i, (key, data) in enumerate(cases):
        app = make_app(key)
        name = f"session{i:02d}"
        expected_json = flask_tagged_json(app, data)
        cookie = flask_cookie(key, data, T0)
        if not data:
            # session.clear() on a new session: Flask sends a deletion
            # cookie, as crumb_iface_save does (tests/unit/test_iface.c).
            report(f"{name} emptied session gets a deletion cookie",
                   cookie == "", repr(cookie))
            continue
        if cookie is None:
            report(f"{name} flask cookie", False, "Flask set no cookie")
            continue
        # Flask signs, crumb decodes to the same value.
        rc, out, err = crumb("decode", *key_args(key), "--now", str(T0 + 10), cookie)
        ok = rc == 0
        if ok:
            with app.app_context():
                back = TaggedJSONSerializer().loads(out)
            ok = back == data
            why = f"decoded {out!r} != {expected_json!r}"
        else:
            why = f"rc={rc} err={err}"
        report(f"{name} flask->crumb decode", ok, why)
        report(f"{name} crumb prints Flask's exact JSON", out == expected_json,
               f"{out!r} vs {expected_json!r}")

        # crumb signs, Flask loads the same value; byte-identical cookie.
        rc, signed, err = crumb("sign", *key_args(key), "--timestamp", str(T0),
                                expected_json)
        if rc != 0:
            report(f"{name} crumb sign", False, f"rc={rc} err={err}")
            continue
        loaded = flask_loads(app, signed)
        report(f"{name} crumb->flask load", loaded == data,
               f"flask read {loaded!r}")
        report(f"{name} crumb cookie identical to Flask's", signed == cookie,
               f"{signed} vs {cookie}")

        # libcrumb's default compression: maybe other bytes, same session.
        rc, fast, err = crumb("sign", *key_args(key), "--timestamp", str(T0),
                              "--compression", "fast", expected_json)
        if rc != 0:
            report(f"{name} crumb sign --compression fast", False,
                   f"rc={rc} err={err}")
            continue
        loaded = flask_loads(app, fast)
        report(f"{name} crumb fast cookie -> flask load", loaded == data,
               f"flask read {loaded!r}")
        if fast.startswith("."):
            fast_compressed += 1

    report("some fast-mode cookies are compressed", fast_compressed >= 3,
           str(fast_compressed))
    refusals()
    rotation()
    print(f"# interop: {failures} failures")
    return 1 if failures else 0


def refusals():
    key = KEYS[0]
    app = make_app(key)
    data = {"user_id": 42, "cart": {"1": 2}, "name": "john"}
    cookie = flask_cookie(key, data, T0)
    big = flask_cookie(key, {"compressible": "A" * 2000, "n": 1}, T0)
    now = ["--now", str(T0 + 5)]
    rc, _, _ = crumb("decode", *key_args(key), *now, cookie)
    report("refusals: baseline cookie valid", rc == 0, str(rc))

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for label, c in (("plain", cookie), ("compressed", big)):
        if label == "compressed":
            report("refusals: large payload is compressed", c.startswith("."), c[:10])
        bad = []
        for pos in range(len(c)):
            ch = c[pos]
            repl = alphabet[(alphabet.index(ch) + 7) % len(alphabet)] if ch in alphabet else "A"
            t = c[:pos] + repl + c[pos + 1:]
            rc, out, err = crumb("decode", *key_args(key), *now, t)
            if rc != 1 or not any(w in err for w in ("bad signature", "malformed")):
                bad.append((pos, rc, err))
        report(f"refusals: {label} tampered at every one of {len(c)} positions",
               not bad, f"accepted or wrong error at {bad[:3]}")

    bad = []
    for n in list(range(0, len(cookie), 3)) + [len(cookie) - 1]:
        rc, _, err = crumb("decode", *key_args(key), *now, cookie[:n])
        if rc != 1 or not any(w in err for w in ("bad signature", "malformed")):
            bad.append((n, rc, err))
    report("refusals: truncated", not bad, str(bad[:3]))

    rc, _, err = crumb("decode", *key_args(KEYS[1]), *now, cookie)
    report("refusals: wrong key", rc == 1 and "bad signature" in err, err)

    salted = URLSafeTimedSerializer(key, salt="other-salt",
                                    serializer=TaggedJSONSerializer(),
                                    signer_kwargs={"key_derivation": "hmac",
                                                   "digest_method": hashlib.sha1})
    other = salted.dumps(data)
    rc, _, err = crumb("decode", *key_args(key), *now, other)
    report("refusals: other salt", rc == 1 and "bad signature" in err, err)
    rc, _, err = crumb("decode", *key_args(key), "--salt", "other-salt", other)
    report("accepts: other salt when told", rc == 0, err)

    rc, _, err = crumb("decode", *key_args(key), "--max-age", "60",
                       "--now", str(T0 + 61), cookie)
    report("refusals: expired", rc == 1 and "expired" in err, err)
    rc, _, err = crumb("decode", *key_args(key), "--max-age", "60",
                       "--now", str(T0 + 60), cookie)
    report("accepts: exactly max-age old", rc == 0, err)
    rc, _, err = crumb("decode", *key_args(key), "--max-age", "60",
                       "--now", str(T0 - 10), cookie)
    report("refusals: signed in the future", rc == 1 and "expired" in err, err)

    # Flask refuses crumb's tampered cookie too (same rules on both sides).
    rc, signed, _ = crumb("sign", *key_args(key), "--timestamp", str(T0),
                          json.dumps({"user_id": 1}))
    t = signed[:-2] + ("A" if signed[-2] != "A" else "B") + signed[-1]
    report("flask refuses a tampered crumb cookie", flask_loads(app, t) == {},
           "accepted")

    rc, out, err = crumb("decode", cookie)
    report("decode without key prints payload, warns, exits 1",
           rc == 1 and "warning" in err and '"user_id":42' in out, f"{rc} {out} {err}")
    for junk in ("", "x", "...", "a.b.c", ".!!!.x.y", "é.é.é"):
        rc, _, err = crumb("decode", *key_args(key), junk)
        report(f"refusals: junk {junk!r}", rc == 1 and err != "", f"{rc} {err}")


def rotation():
    old, new = KEYS[0], KEYS[3]
    data = {"user_id": 9}
    cookie = flask_cookie(old, data, T0)
    rc, out, err = crumb("decode", *key_args(new), *key_args(old, "--fallback-key"),
                         "--now", str(T0), cookie)
    report("rotation: old key accepted as fallback", rc == 0 and '"user_id":9' in out, err)
    rc, _, err = crumb("decode", *key_args(new), cookie)
    report("rotation: old key refused without fallback", rc == 1 and "bad signature" in err, err)
    # crumb signs with the new key; itsdangerous with [old, new] accepts.
    rc, signed, err = crumb("sign", *key_args(new), json.dumps(data))
    s = URLSafeTimedSerializer([old, new], salt="cookie-session",
                               serializer=TaggedJSONSerializer(),
                               signer_kwargs={"key_derivation": "hmac",
                                              "digest_method": hashlib.sha1})
    try:
        with make_app(new).app_context():
            ok = s.loads(signed) == data
    except Exception as e:  # noqa: BLE001
        ok = False
        err = repr(e)
    report("rotation: crumb signs with the current key", ok, err)


if __name__ == "__main__":
    sys.exit(main())
