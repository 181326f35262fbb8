#!/usr/bin/env python3
"""gen_json_corpus.py - write the seed corpus of fuzz/fuzz_json.c: what
Flask's session serializer writes for many values (including what crumb
refuses: NaN, Infinity, integers past int64, lone surrogates, NUL in a key)
and hand-made texts at the edges of the JSON grammar.
Usage: python3 tests/vectors/gen_json_corpus.py"""
import datetime
import os
import uuid

from flask.json.tag import TaggedJSONSerializer
from markupsafe import Markup

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "fuzz", "corpus", "fuzz_json")


def nested(depth):
    v = 1
    for _ in range(depth):
        v = [v]
    return {"a": v}


FLASK = {
    "empty": {},
    "typical": {"_csrf": "q2mN8x1vR0aLk3JtYp7WcZ", "cart": {"1": 2},
                "user_id": "42"},
    "scalars": {"t": True, "f": False, "n": None, "i": -7, "s": "x"},
    "tags": {"t": (1, "two", 3.0), "b": b"\x00\xffbytes",
             "m": Markup("<b>x</b>"), "u": uuid.UUID(int=7),
             "d": datetime.datetime(2015, 10, 21, 7, 28)},
    "tag_keys": {" t": [1], " di": {" t__": 1}},
    "floats": {"f": [0.1, 1e-05, 1e16, -0.0, 5e-324, 1.7976931348623157e308,
                     2.2250738585072014e-308, 9007199254740993.0, 1e22,
                     1e23, 0.30000000000000004]},
    "ints": {"i": [0, -1, 2 ** 53 + 1, 2 ** 63 - 1, -2 ** 63]},
    "big_ints": {"i": [2 ** 63, -2 ** 63 - 1, 2 ** 70]},
    "nan_inf": {"f": [float("nan"), float("inf"), float("-inf")]},
    "unicode": {"s": "\u00e9\u2603\U0001f600\x00\x7f\x1f\"\\/",
                "\u00e9": "k\U0010ffff"},
    "lone_surrogates": {"s": "\ud800", "t": "\udc00x\ud83d"},
    "nul_key": {"\x00": 1},
    "nested_100": nested(100),
    "nested_300": nested(300),
    "long_string": {"s": "ab\u00e9" * 400},
    "many_keys": {"k%d" % i: i for i in range(200)},
}

HAND = {
    "ws": b" \t\n\r{ \"a\" : [ 1 , 2 ] }\r\n",
    "dup_keys": b'{"a":1,"b":[2],"a":{"c":3}}',
    "escapes": b'["\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00E9\\ud83d\\ude00"]',
    "nul_value": b'{"a":"x\\u0000y"}',
    "nul_after_number": b"[1\x00,true\x00,-0.5e3\x00]",
    "raw_nul": b'["\x00"]',
    "bad_surrogate": b'["\\ud83d\\u0041"]',
    "bad_utf8": b'["\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80"]',
    "numbers": b"[0,-0,-0.0,1E+2,1e-2,9223372036854775807,"
               b"-9223372036854775808,123456789012345678901234.5e-3]",
    "overflow": b"[9223372036854775808,1e309]",
    "bad_numbers": b"[01,1.,.5,+1,1e,-]",
    "literals": b"[true,false,null,NaN,Infinity]",
    "trailing": b"{}x",
    "bom": b"\xef\xbb\xbf{}",
    "root_scalar": b"1",
    "unclosed": b'{"a":[1,{"b":"',
    "deep_2048": b"[" * 2048 + b"]" * 2048,
    "deep_2049": b"[" * 2049 + b"]" * 2049,
}


def main():
    os.makedirs(OUT, exist_ok=True)
    s = TaggedJSONSerializer()
    for name, v in FLASK.items():
        with open(os.path.join(OUT, "flask_" + name), "wb") as f:
            f.write(s.dumps(v).encode("utf-8", "surrogatepass"))
    for name, data in HAND.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
