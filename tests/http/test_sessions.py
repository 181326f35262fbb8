#!/usr/bin/python3
"""test_sessions.py - crumb-shop's server-side sessions over real HTTP.

For each store (CRUMB_TEST_STORES, default "memory,sqlite,redis"; cookie
gets its own short run): login regenerates the id, logout destroys the
record, /account/sessions lists and revokes, a password change ends the
other sessions, idle and absolute timeouts (time moved with
CRUMB_TEST_CLOCK_FILE), ids the server never issued are not adopted, a
corrupted SQLite record is anonymous, and no lost updates: 200 concurrent
POSTs to /add_to_cart/1 over 8 keep-alive connections on one session give
quantity 200. Then Redis stopped and started again under a running server.
One line per check, "ok http <name>" / "FAIL http <name>: why"; non-zero
exit on failure. Every process started here is killed by its PID.
"""
import http.client
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shop as ts  # noqa: E402  (Server, Client, Redis, helpers)

IDLE = 600
ABSOLUTE = 3600
STORE = "?"


def check(name, cond, why=""):
    """test_shop's check (it counts the failures), named for this suite."""
    return ts.check("sessions %s: %s" % (STORE, name), cond, why)


class Client(ts.Client):
    """A client with its own User-Agent, as two browsers would be."""

    def __init__(self, port, agent="crumb-test"):
        ts.Client.__init__(self, port)
        self.agent = agent

    def request(self, method, path, form=None, body=None, headers=None,
                cookies=True):
        h = dict(headers or {})
        h.setdefault("User-Agent", self.agent)
        return ts.Client.request(self, method, path, form=form, body=body,
                                 headers=h, cookies=cookies)

    def token(self, path="/products"):
        return self.csrf(path)


class Clock:
    """The offset file the server's clock adds to real time."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.set(0)

    def set(self, offset):
        self.offset = offset
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % offset)
        os.replace(tmp, self.path)


def logged_in(c):
    return c.get("/dashboard").status == 200


def do_login(c, name, pw="correct horse"):
    return ts.login(c, name, pw)


def handles(body):
    return re.findall(r'data-handle="([0-9a-f]{16})"', body)


def current_rows(body):
    return len(re.findall(r'<tr class="current">', body))


def revoke(c, which):
    tok = c.token("/account/sessions") or c.token("/products")
    return c.post("/account/sessions/revoke",
                  {"which": which, "csrf_token": tok})


def t_regenerate_logout(port):
    c = Client(port)
    c.get("/visits")
    pre = c.jar.get("session")
    ts.register(c, "alice")
    post = c.jar.get("session")
    check("register/login sets a new id", pre and post and pre != post)
    old = Client(port)
    old.jar = {"session": pre}
    r = old.get("/visits")
    check("pre-login id is dead after login",
          ts.visits_of(r) == 1 and old.jar.get("session") != pre,
          "%s %s" % (ts.visits_of(r), old.jar.get("session") == pre))
    check("pre-login id not logged in", not logged_in(old))

    d = Client(port)
    do_login(d, "alice")
    check("logged in", logged_in(d))
    before = d.jar.get("session")
    r = d.post("/logout", {"csrf_token": d.token("/logout")})
    check("logout redirects", r.status == 303, "%d" % r.status)
    replay = Client(port)
    replay.jar = {"session": before}
    check("replayed cookie after logout is anonymous",
          not logged_in(replay))
    r = replay.get("/visits")
    check("replayed cookie's record is gone", ts.visits_of(r) == 1 and
          replay.jar.get("session") != before, str(ts.visits_of(r)))


def t_unissued(port):
    fake = "Q" * 43
    c = Client(port)
    c.jar = {"session": fake}
    r = c.get("/visits")
    check("an id never issued is not adopted", r.status == 200 and
          ts.visits_of(r) == 1 and c.jar.get("session") not in (None, fake),
          str(c.jar.get("session")))


def t_list_and_revoke(port):
    a = Client(port, "browser-one/1.0")
    b = Client(port, "browser-two/2.0")
    ts.register(a, "carol")
    do_login(b, "carol")
    r = a.get("/account/sessions")
    hs = handles(r.body)
    check("sessions page lists both logins", r.status == 200 and
          len(hs) == 2, "%d %s" % (r.status, hs))
    check("current session marked once", current_rows(r.body) == 1,
          str(current_rows(r.body)))
    check("address and agent shown", "127.0.0.1" in r.body and
          "browser-one/1.0" in r.body and "browser-two/2.0" in r.body)
    check("page has csrf_token in its forms",
          r.body.count('name="csrf_token"') >= 3)
    m = re.search(r'<tr class="current">.*?data-handle="([0-9a-f]{16})"',
                  r.body, re.S)
    mine = m.group(1) if m else None
    other = [h for h in hs if h != mine]
    check("page without login redirects",
          Client(port).get("/account/sessions").status in (302, 303))
    r = Client(port).post("/account/sessions/revoke", {"which": "all"})
    check("revoke without CSRF 403", r.status == 403, "%d" % r.status)
    r = revoke(a, "nonsense")
    check("revoke bad which 400", r.status == 400, "%d" % r.status)
    r = revoke(a, "0123456789abcdef")
    check("revoke unknown handle 404", r.status == 404, "%d" % r.status)
    x = Client(port)
    ts.register(x, "mallory")
    r = revoke(x, other[0] if other else "0" * 16)
    check("revoke another user's session 404", r.status == 404,
          "%d" % r.status)
    check("other user's attempt changed nothing", logged_in(b))
    r = revoke(a, other[0] if other else "0" * 16)
    check("revoke one redirects", r.status == 303, "%d" % r.status)
    check("revoked session logged out", not logged_in(b))
    check("revoking one kept mine", logged_in(a))
    check("list shows one left", len(handles(
        a.get("/account/sessions").body)) == 1)

    c1, c2, c3 = Client(port), Client(port), Client(port)
    for c in (c1, c2, c3):
        do_login(c, "carol")
    r = revoke(c1, "others")
    check("revoke others redirects", r.status == 303, "%d" % r.status)
    check("revoke others: mine kept", logged_in(c1))
    check("revoke others: others out", not any(
        logged_in(c) for c in (a, c2, c3)))
    do_login(c2, "carol")
    r = revoke(c1, "all")
    check("revoke all redirects to /login", r.status == 303 and
          r.header("Location") == "/login", "%d" % r.status)
    check("revoke all: me too", not logged_in(c1))
    check("revoke all: the others", not logged_in(c2))


def t_password(port):
    a, b = Client(port), Client(port)
    ts.register(a, "dave")
    do_login(b, "dave")
    check("password page needs login",
          Client(port).get("/account/password").status in (302, 303))
    r = a.get("/account/password")
    check("password form", r.status == 200 and
          'name="current_password"' in r.body and 'csrf_token' in r.body)

    def change(cur, pw, pw2, csrf=True):
        f = {"current_password": cur, "password": pw, "password2": pw2}
        if csrf:
            f["csrf_token"] = a.token("/account/password")
        return a.post("/account/password", f)

    r = change("correct horse", "new battery", "new battery", csrf=False)
    check("password without CSRF 403", r.status == 403, "%d" % r.status)
    r = change("wrong horse", "new battery", "new battery")
    check("wrong current password 401", r.status in (401, 403),
          "%d" % r.status)
    r = change("correct horse", "new battery", "new batterx")
    check("new passwords differ 400", r.status == 400, "%d" % r.status)
    r = change("correct horse", "short", "short")
    check("new password short 400", r.status == 400, "%d" % r.status)
    check("failed changes kept the other session", logged_in(b))
    before = a.jar.get("session")
    r = change("correct horse", "new battery", "new battery")
    check("password change redirects", r.status == 303, "%d" % r.status)
    check("password change keeps me logged in", logged_in(a))
    if STORE != "cookie":
        check("password change regenerates my id",
              a.jar.get("session") != before)
    check("password change ends the other session", not logged_in(b))
    check("old password refused", ts.login(Client(port), "dave").status
          == 401)
    check("new password accepted", ts.login(Client(port), "dave",
                                            "new battery").status == 303)


def t_timeouts(port, clock, server):
    c = Client(port)
    ts.register(c, "erin")
    base = clock.offset
    clock.set(base + IDLE - 10)
    check("still logged in just before the idle timeout", logged_in(c))
    clock.set(base + 2 * IDLE - 20 + 1)
    check("still logged in: each request refreshed it", logged_in(c))
    clock.set(base + 3 * IDLE)
    check("idle timeout ends the session", not logged_in(c))

    d = Client(port)
    do_login(d, "erin")
    start = clock.offset
    t = start
    ok = True
    while t + IDLE // 2 < start + ABSOLUTE - 10:
        t += IDLE // 2
        clock.set(t)
        ok = ok and logged_in(d)
    clock.set(start + ABSOLUTE - 10)
    check("still logged in just before the absolute timeout",
          ok and logged_in(d))
    clock.set(start + ABSOLUTE + 1)
    check("absolute timeout ends the session", not logged_in(d))
    # The record's store expiry is the same deadline, so the store may
    # have dropped it first: then the reason is "unknown session id".
    time.sleep(0.2)  # the log is written by a thread of its own
    log = server.stderr()
    notes = re.findall(r"^crumb-http: GET /dashboard 302 \S+ \[([^]]+)\]$",
                       log, re.M)
    check("log gives the reason a timed-out session was not used",
          len(notes) >= 2 and all(n in ("idle timeout", "absolute timeout",
                                        "unknown session id")
                                  for n in notes), str(notes))
    ids = [v for v in (c.jar.get("session"), d.jar.get("session")) if v]
    check("log never holds an id", not any(i in log for i in ids))


def t_lost_updates(port):
    c = Client(port)
    tok = c.token("/products")
    cookie = "session=" + c.jar["session"]
    errors = []
    codes = []
    lock = threading.Lock()

    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(n):
                conn.request("POST", "/add_to_cart/1", body="csrf_token=" +
                             tok, headers={
                                 "Cookie": cookie,
                                 "Content-Type":
                                 "application/x-www-form-urlencoded"})
                r = conn.getresponse()
                r.read()
                with lock:
                    codes.append(r.status)
        except Exception as e:
            with lock:
                errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(25,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("200 concurrent adds all answered 303",
          not errors and len(codes) == 200 and set(codes) == {303},
          "%s %s" % (errors[:2], sorted(set(codes))))
    r = c.get("/cart")
    m = re.search(r"Crumb cookie × (\d+)", r.body)
    check("no lost updates: quantity 200", m and m.group(1) == "200",
          m.group(1) if m else r.body[:200])


def t_corrupt_sqlite(port, db_path):
    c = Client(port)
    ts.register(c, "frank")
    c.get("/visits")
    c.get("/visits")
    con = sqlite3.connect(db_path, timeout=10)
    con.execute("UPDATE sessions SET data = x'00ff'")
    con.commit()
    con.close()
    r = c.get("/visits")
    check("corrupted record is anonymous, no 500", r.status == 200 and
          ts.visits_of(r) == 1, "%d %s" % (r.status, ts.visits_of(r)))
    check("corrupted record not logged in", not logged_in(c))


def t_cookie_mode(port):
    a = Client(port)
    ts.register(a, "gina")
    r = a.get("/account/sessions")
    check("cookie store: sessions page explains", r.status == 200 and
          "server-side store" in r.body, "%d" % r.status)
    r = revoke(a, "others")
    check("cookie store: revoke refused with a reason",
          r.status in (400, 409) and "server-side store" in r.body,
          "%d" % r.status)


def run_store(tmp, store, n, redis_addr):
    global STORE
    STORE = store
    d = os.path.join(tmp, "s-%s" % store)
    os.mkdir(d)
    uri = {"cookie": "cookie", "memory": "memory:",
           "sqlite": "sqlite:%s/sessions.db" % d}.get(store)
    if store == "redis":
        uri = "redis://%s/0?prefix=sess%d_%d" % (redis_addr, os.getpid(), n)
    clock = Clock(os.path.join(d, "clock"))
    s = ts.Server(d, env={"CRUMB_SECRET_KEY": ts.KEY_A, "CRUMB_STORE": uri,
                          "CRUMB_ENV": "test",
                          "CRUMB_TEST_CLOCK_FILE": clock.path,
                          "CRUMB_IDLE_TIMEOUT": str(IDLE),
                          "CRUMB_ABSOLUTE_TIMEOUT": str(ABSOLUTE)})
    if not check("server starts", s.port, s.banner + s.stderr()):
        s.stop()
        return
    tests = [t_password]
    if store == "cookie":
        tests.append(t_cookie_mode)
    else:
        tests = [t_regenerate_logout, t_unissued, t_list_and_revoke,
                 t_password, t_lost_updates,
                 lambda p: t_timeouts(p, clock, s)]
        if store == "sqlite":
            tests.append(lambda p: t_corrupt_sqlite(
                p, os.path.join(d, "sessions.db")))
    for t in tests:
        try:
            t(s.port)
        except Exception as e:
            check(getattr(t, "__name__", "test"), False,
                  "%s: %s" % (type(e).__name__, e))
    check("server still running", s.proc.poll() is None,
          "exit %s" % s.proc.returncode)
    rc = s.stop()
    check("clean shutdown", rc == 0, "exit %s: %s" % (rc, s.stderr()[-1500:]))


def t_redis_down(tmp):
    """A private Redis stopped under a running server: 503 with a clear
    page and Retry-After, fast; back on the same port: service resumes."""
    global STORE
    STORE = "redis-down"
    red = ts.Redis(tmp)
    d = os.path.join(tmp, "down")
    os.mkdir(d)
    s = ts.Server(d, env={"CRUMB_SECRET_KEY": ts.KEY_A,
                          "CRUMB_STORE": "redis://127.0.0.1:%d/0" % red.port})
    try:
        c = Client(s.port)
        ts.register(c, "hank")
        check("logged in over redis", logged_in(c))
        red.stop()
        t0 = time.time()
        r = c.get("/visits")
        took = time.time() - t0
        check("store down: 503", r.status == 503, "%d" % r.status)
        check("store down: answered within 1 s", took < 1.0, "%.2fs" % took)
        check("store down: clear page", "unreachable" in r.body)
        check("store down: Retry-After", r.header("Retry-After") is not None)
        h = c.get("/healthz")
        check("healthz reports the store unreachable", h.status == 503 and
              '"store": "unreachable"' in h.body, "%d %s" % (h.status,
                                                             h.body))
        red2 = ts.subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(red.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
             red.dir], stdout=ts.subprocess.DEVNULL,
            stderr=ts.subprocess.DEVNULL)
        red.proc = red2
        ok = False
        deadline = time.time() + 10
        while time.time() < deadline and not ok:
            ok = c.get("/healthz").status == 200
            time.sleep(0.1)
        check("store back: healthz ok without a restart", ok)
        r = c.get("/visits")
        check("store back: sessions work again", r.status == 200,
              "%d" % r.status)
        check("server survived", s.proc.poll() is None)
    finally:
        s.stop()
        red.stop()


def main():
    global REDIS
    if not os.path.exists(ts.BIN):
        check("binary exists", False, "%s not built" % ts.BIN)
        return 1
    stores = [x for x in os.environ.get(
        "CRUMB_TEST_STORES", "cookie,memory,sqlite,redis").split(",") if x]
    tmp = tempfile.mkdtemp(prefix="crumb-sessions-test.")
    redis = None
    have_redis = os.access("/usr/bin/redis-server", os.X_OK)
    try:
        addr = os.environ.get("CRUMB_TEST_REDIS") or None
        if "redis" in stores and not addr and have_redis:
            redis = ts.Redis(tmp)
            addr = "127.0.0.1:%d" % redis.port
        if "redis" in stores and not addr:
            print("# no redis-server: the redis runs are skipped")
            stores.remove("redis")
        for n, store in enumerate(stores):
            run_store(tmp, store, n, addr)
        if "redis" in stores and have_redis:
            try:
                t_redis_down(tmp)
            except Exception as e:
                check("t_redis_down", False, "%s: %s" % (type(e).__name__,
                                                         e))
    finally:
        for s in ts.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        if redis:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# test_sessions.py: %d failed" % ts.failures)
    return 1 if ts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
