"""test_password_interop.py - crumb's password hashes verify in werkzeug.

Runs $CRUMB_BUILD/tests/test_password (build/ by default) with
CRUMB_HASH_OUT set (or reads the file CRUMB_HASH_OUT already names), then
checks each HASH<TAB>PASSWORD line with werkzeug's check_password_hash.
werkzeug reads scrypt from 2.3 on; when the interpreter running this lacks
such a werkzeug (Debian's python3-werkzeug is 2.2), the script re-runs
itself under the first python3 on PATH that has one. Prints
"ok <suite> <name>" / "FAIL <suite> <name>: why".
"""
import os
import shutil
import subprocess
import sys
import tempfile

SUITE = "test_password_interop"
ROOT = os.environ.get("CRUMB_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def werkzeug_reads_scrypt():
    try:
        from werkzeug.security import check_password_hash, \
            generate_password_hash
        h = generate_password_hash("x", "scrypt:1024:8:1")
        return check_password_hash(h, "x")
    except Exception:
        return False


def reexec_elsewhere():
    """Re-runs this script under another python3 with a usable werkzeug."""
    if os.environ.get("CRUMB_INTEROP_REEXEC"):
        return None
    seen = {os.path.realpath(sys.executable)}
    import glob
    cands = ["python3", "/usr/local/bin/python3", "/usr/bin/python3",
             os.path.expanduser("~/.pyenv/shims/python3")]
    cands += sorted(glob.glob(os.path.expanduser(
        "~/.pyenv/versions/*/bin/python3")), reverse=True)
    for cand in cands:
        path = shutil.which(cand)
        if not path or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        env = dict(os.environ, CRUMB_INTEROP_REEXEC="1")
        probe = subprocess.run(
            [path, "-c", "from werkzeug.security import generate_password_hash"
             " as g, check_password_hash as c;"
             " assert c(g('x', 'scrypt:1024:8:1'), 'x')"],
            capture_output=True, env=env)
        if probe.returncode == 0:
            return subprocess.run([path, os.path.abspath(__file__)],
                                  env=env).returncode
    return None


def crumb_hashes(failures):
    """The HASH<TAB>PASSWORD lines crumb wrote."""
    given = os.environ.get("CRUMB_HASH_OUT")
    if given and os.path.exists(given):
        path = given
    else:
        build = os.environ.get("CRUMB_BUILD", "build")
        prog = os.path.join(ROOT, build, "tests", "test_password")
        if not os.access(prog, os.X_OK):
            failures.append(("generate", "%s not built" % prog))
            return []
        fd, path = tempfile.mkstemp(prefix="crumb-hashes.")
        os.close(fd)
        env = dict(os.environ, CRUMB_HASH_OUT=path, CRUMB_ROOT=ROOT)
        res = subprocess.run([prog], env=env, capture_output=True, text=True)
        if "ok tests/unit/test_password.c interop_out" not in res.stdout:
            failures.append(("generate", "test_password failed:\n" +
                             res.stdout + res.stderr))
            return []
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    if not given:
        os.unlink(path)
    return [l.split("\t", 1) for l in lines]


def stdlib_check(pwhash, password):
    """werkzeug.security.check_password_hash for scrypt hashes, as
    werkzeug 3 computes them: scrypt(password, salt=SALT, n, r, p,
    maxmem=132*n*r*p, dklen=64).hex(), compared in constant time."""
    import hashlib
    import hmac
    method, salt, hexhash = pwhash.split("$", 2)
    name, n, r, p = method.split(":")
    if name != "scrypt":
        return False
    n, r, p = int(n), int(r), int(p)
    key = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r,
                         p=p, maxmem=132 * n * r * p, dklen=64)
    return hmac.compare_digest(key.hex(), hexhash)


def main():
    if werkzeug_reads_scrypt():
        from werkzeug.security import check_password_hash
        import werkzeug
        where = os.path.dirname(werkzeug.__file__)
    else:
        rc = reexec_elsewhere()
        if rc is not None:
            return rc
        # No werkzeug that reads scrypt here (Debian 12 ships 2.2): check
        # with werkzeug's own formula on the standard library instead, and
        # say so.
        check_password_hash = stdlib_check
        where = "hashlib (werkzeug's scrypt formula; no werkzeug >= 2.3)"
    failures = []
    pairs = crumb_hashes(failures)
    if not failures and len(pairs) < 5:
        failures.append(("generate", "only %d hashes" % len(pairs)))
    for i, (h, pw) in enumerate(pairs):
        name = "crumb_hash_%d" % i
        if not h.startswith("scrypt:32768:8:1$"):
            failures.append((name, "unexpected method: %s" % h[:40]))
        elif not check_password_hash(h, pw):
            failures.append((name, "werkzeug rejects %s" % h))
        elif check_password_hash(h, pw + "x"):
            failures.append((name, "werkzeug accepts a wrong password"))
        else:
            print("ok %s %s (%d-byte password)"
                  % (SUITE, name, len(pw.encode())))
    for name, why in failures:
        print("FAIL %s %s: %s" % (SUITE, name, why))
    print("# %s: checked with %s, %d failed" % (SUITE, where, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
