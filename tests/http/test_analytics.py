#!/usr/bin/python3
"""test_analytics.py - session analytics over real HTTP (issue 5, item 7).

Runs crumb-shop (test_shop.py's Server and Client) once per store
(CRUMB_TEST_STORES, default "cookie,memory,sqlite,redis"), drives a known
sequence of requests by three visitors with the clock moved by the test
clock file, and checks the figures of /admin/analytics.json against the
numbers that sequence must give; checks the page's inline SVG, the admin
guard (anonymous: redirect to login, a plain user: 403), that the store
holds no query string, form value or cookie (the SQLite file's rows, the
Redis keys), and that with cookie sessions the page says analytics is off.
Prints "ok http <name>" / "FAIL http <name>: why"; exits non-zero on a
failure. Only 127.0.0.1; processes are killed by PID.
"""
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shop as ts  # noqa: E402  (Server, Client, Redis, helpers)

CLI = os.path.join(ts.ROOT, os.environ.get("CRUMB_BIN", "build/crumb"))
PW = "correct horse"
QSECRET = "QSECRETq1w2e3"
FSECRET = "FSECRETz9x8c7"
LATER = 5400  # seconds the clock moves forward mid-sequence
STORE = "?"


def check(name, cond, why=""):
    """test_shop's check (it counts the failures), named for this suite."""
    return ts.check("analytics %s: %s" % (STORE, name), cond, why)


def set_clock(path, offset):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % offset)
    os.replace(path + ".tmp", path)


def add_user(users, name, admin):
    args = [CLI, "users", "add", name, "--password-stdin", "--users", users]
    if admin:
        args.insert(4, "--admin")
    p = subprocess.run(args, input=(PW + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace")


def token(resp):
    m = re.search(r'name="csrf_token" value="([^"]+)"', resp.body)
    return m.group(1) if m else None


def login(c, name, pw=PW):
    tok = token(c.get("/login"))
    return c.post("/login", {"username": name, "password": pw,
                             "csrf_token": tok})


def figures(c, since="24h"):
    r = c.get("/admin/analytics.json?since=" + since)
    try:
        return r, json.loads(r.body)
    except ValueError:
        return r, None


def redis_cmd(hostport, *args):
    """One command over RESP; returns the decoded reply."""
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), 5)
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    f = s.makefile("rb")

    def read():
        line = f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data
        if t == b"*":
            return [read() for _ in range(int(rest))]
        raise ValueError(line)
    try:
        return read()
    finally:
        s.close()


def stored_items(store_uri, prefix):
    """Every analytics item the store holds, as bytes; None if unreadable
    from outside (memory)."""
    if store_uri.startswith("sqlite:"):
        db = sqlite3.connect(store_uri[len("sqlite:"):])
        try:
            return [bytes(r[0]) for r in db.execute(
                "SELECT item FROM log_items WHERE name LIKE 'analytics:%'")]
        finally:
            db.close()
    if store_uri.startswith("redis://"):
        hp = store_uri[len("redis://"):].split("/", 1)[0]
        items = []
        for k in redis_cmd(hp, "KEYS", prefix + ":l:analytics:*"):
            items += redis_cmd(hp, "LRANGE", k, "1", "-1")
        return items
    return None


def expected_24h():
    """What the sequence in t_sequence must give over 24 hours."""
    active = [0] * 24
    active[22] = 5
    active[23] = 1
    logins = [0] * 24
    logins[22] = 2
    fails = [0] * 24
    fails[22] = 1
    return {
        "sessions": 5, "page_views": 11, "logins": 2, "login_failures": 1,
        "paths": [{"path": "/login", "count": 5},
                  {"path": "/products", "count": 3},
                  {"path": "/add_to_cart/<int:id>", "count": 1},
                  {"path": "/cart", "count": 1},
                  {"path": "/dashboard", "count": 1}],
        "flows": [
            {"from": "/add_to_cart/<int:id>", "to": "/cart", "count": 1},
            {"from": "/cart", "to": "/products", "count": 1},
            {"from": "/dashboard", "to": "/products", "count": 1},
            {"from": "/login", "to": "/dashboard", "count": 1},
            {"from": "/login", "to": "/login", "count": 1},
            {"from": "/products", "to": "/add_to_cart/<int:id>",
             "count": 1}],
        "next": [
            {"from": "/add_to_cart/<int:id>", "to": "/cart", "count": 1},
            {"from": "/cart", "to": "/products", "count": 1},
            {"from": "/dashboard", "to": "/products", "count": 1},
            {"from": "/login", "to": "/dashboard", "count": 1},
            {"from": "/products", "to": "/add_to_cart/<int:id>",
             "count": 1}],
        "active": active, "logins_by_hour": logins,
        "failures_by_hour": fails,
        "lengths": [4, 0, 0, 0, 0, 1],
    }


def t_sequence(s, clock, store_uri, prefix):
    # The administrator logs in first: a view of /login in the session
    # before the login, a login event there, and the POST's view in the
    # new (regenerated) session.
    z = ts.Client(s.port)
    r = login(z, "boss")
    check("admin logs in", r.status == 303, "status %d" % r.status)

    # X: an anonymous shopper; the query string and the form field
    # carry secrets that must never be stored.
    x = ts.Client(s.port)
    r = x.get("/products?q=" + QSECRET)
    tok = token(r)
    r = x.post("/add_to_cart/3", {"csrf_token": tok, "note": FSECRET})
    check("add to cart", r.status in (302, 303), "status %d" % r.status)
    x.get("/cart")
    x.get("/products")

    # Y: a failed login, a login, the dashboard; then, 90 minutes later,
    # the products page.
    y = ts.Client(s.port)
    tok = token(y.get("/login"))
    r = y.post("/login", {"username": "alice", "password": "wrong pass",
                          "csrf_token": tok})
    check("failed login is 401", r.status == 401, "status %d" % r.status)
    r = y.post("/login", {"username": "alice", "password": PW,
                          "csrf_token": tok})
    check("alice logs in", r.status == 303, "status %d" % r.status)
    y.get("/dashboard")
    clock(LATER)
    y.get("/products")

    # 90 minutes on, the admin's login is no longer fresh: admin pages ask
    # for the password again (not recorded as navigation).
    r, _ = figures(z)
    check("stale admin login is asked to confirm", r.status == 303 and
          "/login/confirm" in (r.header("Location") or ""),
          "status %d %s" % (r.status, r.header("Location")))
    tok = token(z.get("/login/confirm?next=/admin/analytics.json"))
    r = z.post("/login/confirm", {"password": PW, "csrf_token": tok,
                                  "next": "/admin/analytics.json"})
    check("admin confirms the password", r.status == 303,
          "status %d" % r.status)

    r, got = figures(z)
    check("json is 200 for the admin", r.status == 200 and got is not None,
          "status %d %s" % (r.status, r.body[:200]))
    if not got:
        return
    check("json says enabled", got.get("enabled") is True)
    want = expected_24h()
    for k in ("sessions", "page_views", "logins", "login_failures", "paths",
              "flows", "next", "active", "logins_by_hour",
              "failures_by_hour"):
        check("24h %s" % k, got.get(k) == want[k],
              "got %r want %r" % (got.get(k), want[k]))
    lengths = [b["count"] for b in got.get("lengths", [])]
    check("24h lengths", lengths == want["lengths"],
          "got %r want %r" % (lengths, want["lengths"]))
    check("range is the 24 h before now",
          got.get("until", 0) - got.get("since", 0) == 86400)

    if store_uri.startswith(("sqlite:", "redis://")):
        t_cli(store_uri, got)

    r, got = figures(z, "1h")
    check("1h figures: only the later page view",
          got and got["sessions"] == 1 and got["page_views"] == 1 and
          got["paths"] == [{"path": "/products", "count": 1}] and
          got["flows"] == [] and got["logins"] == 0,
          repr(got)[:400])

    # The page: charts as inline SVG, labels escaped, no script.
    r = z.get("/admin/analytics")
    body = r.body
    check("page is 200", r.status == 200, "status %d" % r.status)
    check("page has four inline SVG charts", body.count("<svg") == 4,
          "%d" % body.count("<svg"))
    check("labels escaped in the SVG and tables",
          "/add_to_cart/&lt;int:id&gt;" in body and
          "<int:id>" not in body)
    check("no script on the page", "<script" not in body.lower())
    check("page figures", re.search(r'id="page_views">11<', body) and
          re.search(r'id="sessions">5<', body), body[:300])
    csp = r.header("Content-Security-Policy") or ""
    check("page under a CSP without unsafe-inline scripts",
          "script-src" not in csp or "unsafe-inline" not in csp, csp)
    r = z.get("/admin/analytics?since=forever")
    check("bad range is 400", r.status == 400, "status %d" % r.status)

    # Nothing from the request but the route's template is stored.
    items = stored_items(store_uri, prefix)
    if items is not None:
        check("events stored", len(items) == 14, "%d items" % len(items))
        bad = [i for i in items if not re.match(
            rb"^\d+ (v /[!-~]*|l|f)$", i) or b"?" in i]
        check("stored events are time, kind and template only", not bad,
              repr(bad[:3]))
        secrets = [QSECRET, FSECRET, "wrong pass", PW] + \
            list(x.jar.values()) + list(y.jar.values()) + \
            list(z.jar.values())
        leaked = [sec for sec in secrets
                  if any(sec.encode() in i for i in items)]
        check("no query, form value or cookie stored", not leaked,
              repr(leaked))

    # The guard: anonymous visitors go to the login form, users get 403.
    a = ts.Client(s.port)
    r = a.get("/admin/analytics")
    check("anonymous page: redirect to login",
          r.status in (302, 303) and
          (r.header("Location") or "").startswith("/login"),
          "%d %s" % (r.status, r.header("Location")))
    r = a.get("/admin/analytics.json")
    check("anonymous json: redirect to login", r.status in (302, 303),
          "status %d" % r.status)
    check("alice's session still logged in",
          y.get("/dashboard").status == 200)
    r = y.get("/admin/analytics")
    check("plain user page: 403", r.status == 403, "status %d" % r.status)
    r = y.get("/admin/analytics.json")
    check("plain user json: 403", r.status == 403, "status %d" % r.status)


def cli(*args):
    p = subprocess.run([CLI, "analytics"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def t_cli(store_uri, page):
    """`crumb analytics` prints the page's figures, read from the store."""
    until = str(page["until"])
    rc, out, err = cli("--since", "24h", "--until", until, "--json",
                       "--store", store_uri)
    try:
        got = json.loads(out)
    except ValueError:
        got = None
    want = dict(page)
    want.pop("enabled", None)
    check("cli --json equals the page's json", rc == 0 and got == want,
          "rc %d %s %s" % (rc, err, out[:300]))
    rc, out, err = cli("--since", "24h", "--until", until, "--store",
                       store_uri)
    check("cli text figures",
          rc == 0 and re.search(r"page views +11\n", out) and
          re.search(r"failed logins +1\n", out) and
          "/add_to_cart/<int:id> -> /cart  (1)" in out and
          re.search(r"\n +5 +/login\n", out), out[:600] + err)
    rc, out, err = cli("--since", "1h", "--until", until, "--json",
                       "--store", store_uri)
    got = json.loads(out) if rc == 0 else {}
    check("cli --since 1h", got.get("page_views") == 1, out[:300] + err)
    rc, out, err = cli("--since", "yesterday", "--store", store_uri)
    check("cli bad --since exits 2", rc == 2 and "--since" in err, err)


def t_cookie(s):
    z = ts.Client(s.port)
    r = login(z, "boss")
    check("admin logs in", r.status == 303, "status %d" % r.status)
    r = z.get("/admin/analytics")
    check("page says analytics is off",
          r.status == 200 and "Analytics is off" in r.body and
          "<svg" not in r.body, r.body[:300])
    r, got = figures(z)
    check("json says disabled", r.status == 200 and got == {
        "enabled": False}, r.body[:200])


def run_store(tmp, store, n):
    global STORE
    STORE = store
    d = os.path.join(tmp, "run-%s" % store)
    os.mkdir(d)
    prefix = "an%d_%d" % (os.getpid(), n)
    uri = {"cookie": "cookie", "memory": "memory:",
           "sqlite": "sqlite:%s/sessions.db" % d}.get(store)
    if store == "redis":
        uri = "redis://%s/0?prefix=%s" % (ts.REDIS, prefix)
    users = "sqlite:%s/users.db" % d
    for name, admin in (("boss", True), ("alice", False)):
        ok, out = add_user(users, name, admin)
        if not check("crumb users add %s" % name, ok, out):
            return
    clock_path = os.path.join(d, "clock")
    set_clock(clock_path, 0)
    ts.STORE_URI = uri
    s = ts.Server(d, env={"CRUMB_SECRET_KEY": ts.KEY_A,
                          "CRUMB_USERS": users,
                          "CRUMB_IDLE_TIMEOUT": "0",
                          "CRUMB_TEST_CLOCK_FILE": clock_path})
    if not check("server starts", s.port, s.banner + s.stderr()):
        s.stop()
        return
    try:
        if store == "cookie":
            t_cookie(s)
        else:
            t_sequence(s, lambda off: set_clock(clock_path, off), uri,
                       prefix)
    except Exception as e:  # a crash of the test is a failure
        check("no exception", False, "%s: %s" % (type(e).__name__, e))
    check("server still running", s.proc.poll() is None,
          "exit %s: %s" % (s.proc.returncode, s.stderr()[-2000:]))
    rc = s.stop()
    check("clean shutdown", rc == 0, "exit %s: %s" % (rc, s.stderr()[-2000:]))


def main():
    global STORE
    if not os.path.exists(ts.BIN) or not os.path.exists(CLI):
        STORE = "-"
        check("binaries exist", False, "%s or %s not built" % (ts.BIN, CLI))
        return 1
    stores = [x for x in os.environ.get(
        "CRUMB_TEST_STORES", "cookie,memory,sqlite,redis").split(",") if x]
    tmp = tempfile.mkdtemp(prefix="crumb-analytics-test.")
    redis = None
    try:
        if "redis" in stores:
            ts.REDIS = os.environ.get("CRUMB_TEST_REDIS") or None
            if not ts.REDIS and os.access("/usr/bin/redis-server", os.X_OK):
                redis = ts.Redis(tmp)
                ts.REDIS = "127.0.0.1:%d" % redis.port
            if not ts.REDIS:
                print("# no redis-server: the redis run is skipped")
                stores.remove("redis")
        for n, store in enumerate(stores):
            run_store(tmp, store, n)
    finally:
        for s in ts.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        if redis:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# test_analytics.py: %d failed" % ts.failures)
    return 1 if ts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
