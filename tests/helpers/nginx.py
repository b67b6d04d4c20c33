"""deploy/nginx.conf rendered for local ports, and a main nginx.conf around it (the proxy
tests and bench.scale run Debian's nginx with these); :func:`nginx_in_front` runs it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import ROOT

__all__ = ["NGINX", "main_conf", "nginx_in_front", "rendered_site"]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def rendered_site(port: int, upstreams: list[int], *, host: str = "127.0.0.1", listen_options: str = "") -> str:
    """deploy/nginx.conf with these ports on ``host`` (the address nginx listens on and the
    processes' too): only the lines marked CHANGE differ (and the listen line's
    ``listen_options``, e.g. ``reuseport``, when asked)."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server {host}:{p} max_fails=0;\n" for p in upstreams)
    site, count = re.subn(r"(upstream otodesk \{\n.*?\n)(    server 127\.0\.0\.1:8001 max_fails=0;\n"
                          r"    server 127\.0\.0\.1:8002 max_fails=0;\n)",
                          lambda m: m.group(1) + servers, site, flags=re.S)
    assert count == 1, "deploy/nginx.conf's upstream block changed"
    listen = f"listen {host}:{port}{' ' + listen_options if listen_options else ''};"
    site, count = re.subn(r"listen 127\.0\.0\.1:8000;", listen, site)
    assert count == 1, "deploy/nginx.conf's listen line changed"
    return site


def main_conf(tmp: Path, *, workers: int = 1, connections: int = 256, open_files: int | None = None,
              access_log: bool = True) -> str:
    """nginx.conf for a prefix of its own in ``tmp``, including ``tmp/site.conf``."""
    rlimit = f"worker_rlimit_nofile {open_files};\n" if open_files else ""
    log = f"access_log {tmp}/access.log upstream;" if access_log else "access_log off;"
    return f"""
daemon off;
user root;
worker_processes {workers};
{rlimit}pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections {connections}; }}
http {{
    log_format upstream '$request_uri $status $upstream_addr';
    {log}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    include {tmp}/site.conf;
}}
"""


@contextlib.contextmanager
def nginx_in_front(tmp: Path, port: int, upstreams: list[int], *, host: str = "127.0.0.1") -> Iterator[str]:
    """Debian's nginx with deploy/nginx.conf on ``host:port`` in front of these processes
    (on ``host`` too), its prefix, logs and access log (``tmp/access.log``) in ``tmp``;
    yields its URL once it answers ``/healthz``, and stops it afterwards, even on failure.
    Skips when nginx is missing (fails under ``CI=true``)."""
    if not Path(NGINX).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing: `make test` installs Debian's nginx")
        pytest.skip("nginx is missing (apt-get install -y nginx)")
    (tmp / "site.conf").write_text(rendered_site(port, upstreams, host=host))
    (tmp / "nginx.conf").write_text(main_conf(tmp))
    process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, (tmp / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
