"""deploy/nginx.conf rendered for local ports, and a main nginx.conf around it (the proxy
test and bench.scale run Debian's nginx with these)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.helpers.server import ROOT

__all__ = ["NGINX", "main_conf", "rendered_site"]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def rendered_site(port: int, upstreams: list[int], *, listen_options: str = "") -> str:
    """deploy/nginx.conf with these ports: only the lines marked CHANGE differ (and the listen
    line's ``listen_options``, e.g. ``reuseport``, when asked)."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p} fail_timeout=2s;\n" for p in upstreams)
    site, count = re.subn(r"(upstream otodesk \{\n.*?\n)(    server 127\.0\.0\.1:8001 fail_timeout=2s;\n"
                          r"    server 127\.0\.0\.1:8002 fail_timeout=2s;\n)",
                          lambda m: m.group(1) + servers, site, flags=re.S)
    assert count == 1, "deploy/nginx.conf's upstream block changed"
    listen = f"listen 127.0.0.1:{port}{' ' + listen_options if listen_options else ''};"
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
