#!/usr/bin/python3
"""test_cluster.py - many servers: Redis, two crumb-shop processes and nginx
balancing round-robin between them. Through nginx a user registers, logs
in and fills a cart; every later request, whichever process serves it,
sees the same login and cart; logout through one is logout on both.
Prints "ok http <name>" / "FAIL http <name>: why" lines."""
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shop as ts  # noqa: E402
from cluster import Nginx, Redis  # noqa: E402

KEY = "cluster-test-key-0123456789abcdef0123456789"


def served(server, path):
    """How many requests for @path this server logged (the request log is
    written every 100 ms by its own thread: give it time)."""
    time.sleep(0.3)
    return len(re.findall(r"GET %s" % re.escape(path), server.stderr()))


def main():
    tmp = tempfile.mkdtemp(prefix="crumb-cluster-")
    redis = nginx = None
    shops = []
    check = ts.check
    try:
        redis = Redis(_sub(tmp, "redis"))
        env = {"CRUMB_STORE": redis.uri(), "CRUMB_SECRET_KEY": KEY,
               "CRUMB_ENV": "production"}
        for i in range(2):
            s = ts.Server(_sub(tmp, "shop%d" % i), env)
            check("shop %d starts on the redis store" % i, s.port,
                  s.banner + s.stderr()[-500:])
            if not s.port:
                return 1
            shops.append(s)
        nginx = Nginx(_sub(tmp, "nginx"), [s.port for s in shops])
        c = ts.Client(nginx.port)

        r = ts.register(c, "carol")
        check("register through nginx", r.status in (302, 303),
              "%s %s" % (r.status, r.body[:200]))
        c.post("/logout", {"csrf_token": c.csrf("/logout")})
        r = ts.login(c, "carol")
        check("login through nginx", r.status == 303, str(r.status))
        for pid in ("1", "1", "2"):
            r = c.post("/add_to_cart/" + pid, {"csrf_token": c.csrf("/products")})
            check("add to cart %s through nginx" % pid, r.status in (302, 303),
                  str(r.status))

        welcome = carts = 0
        for _ in range(10):
            r = c.get("/")
            welcome += "Welcome back, carol!" in r.body
            r = c.get("/cart")
            carts += bool(re.search(r"× 2<", r.body)) and \
                bool(re.search(r"× 1<", r.body))
        check("every request sees the login", welcome == 10, "%d/10" % welcome)
        check("every request sees the cart", carts == 10, "%d/10" % carts)
        # Round robin over "/" then "/cart" pairs may send every /cart to
        # one process: count every GET each one served.
        a, b = served(shops[0], "/"), served(shops[1], "/")
        check("both processes served requests", a > 0 and b > 0,
              "shop0 %d, shop1 %d" % (a, b))

        # Straight to each process with the same cookie: same login.
        for i, s in enumerate(shops):
            d = ts.Client(s.port)
            d.jar = dict(c.jar)
            check("process %d alone sees the login" % i,
                  "Welcome back, carol!" in d.get("/").body)

        old = dict(c.jar)
        r = c.post("/logout", {"csrf_token": c.csrf("/logout")})
        check("logout through nginx", r.status in (302, 303), str(r.status))
        anon = 0
        for i, s in enumerate(shops):
            d = ts.Client(s.port)
            d.jar = dict(old)  # the cookie from before logout, replayed
            r = d.get("/")
            anon += r.status in (302, 303) and "/login" in (r.header("Location") or "")
        check("logout through one is logout on both", anon == 2, "%d/2" % anon)
        for _ in range(4):
            r = c.get("/")
            check("after logout, anonymous through nginx",
                  r.status in (302, 303), str(r.status))
    finally:
        if nginx:
            nginx.stop()
        for s in shops:
            s.stop()
        for s in ts.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        if redis:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# test_cluster.py: %d failed" % ts.failures)
    return 1 if ts.failures else 0


def _sub(tmp, name):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    return d


if __name__ == "__main__":
    sys.exit(main())
