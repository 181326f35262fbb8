"""cluster.py - real peers for the multi-process HTTP tests: a private
redis-server and nginx on free loopback ports in temporary directories,
each stopped by its PID. Standard library only; only 127.0.0.1."""
import os
import signal
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Redis:
    """redis-server on 127.0.0.1:port; `persist` keeps an append-only file
    (fsync always) so a restart in the same directory finds the data."""

    def __init__(self, tmp, port=None, persist=False):
        self.dir = tmp
        self.port = port or free_port()
        self.persist = persist
        self.proc = None
        self.start()

    def start(self):
        args = ["/usr/bin/redis-server", "--port", str(self.port),
                "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                "--daemonize", "no", "--protected-mode", "yes"]
        if self.persist:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        if not wait_port(self.port):
            raise RuntimeError("redis-server did not start")
        # Wait until it answers PING (it may still be loading the AOF).
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 1)
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    s.close()
                    return
                s.close()
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server does not answer PING")

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.log.close()

    def uri(self):
        return "redis://127.0.0.1:%d/0" % self.port


class Nginx:
    """nginx (not daemonized) balancing round-robin over @upstream ports."""

    def __init__(self, tmp, upstream_ports):
        self.dir = tmp
        self.port = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        servers = "".join("        server 127.0.0.1:%d;\n" % p
                          for p in upstream_ports)
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write("""%sworker_processes 1;
daemon off;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
    upstream shops {
%s    }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass http://shops;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_next_upstream off;
        }
    }
}
""" % (user, tmp, tmp, tmp, tmp, tmp, tmp, tmp, servers, self.port))
        self.proc = subprocess.Popen(
            ["/usr/sbin/nginx", "-c", conf, "-p", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.port):
            raise RuntimeError("nginx did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
