#!/usr/bin/env python3
"""Test double for the integration test: serves, on one loopback port,
  /metrics            kube-state-metrics-style series from <dir>/ksm.prom (re-read per scrape)
  /kbs/healthz        HTTP status from <dir>/kbs_healthz (default 200)
  /kbs/metrics        KBS counters from <dir>/kbs.prom
  /gpukbs/healthz, /gpukbs/metrics   a second KBS (GPU profiles): <dir>/gpukbs_healthz, gpukbs.prom
  /slow/api/v1/query  a Prometheus that answers after 3 s
  /garbage/api/v1/query  a Prometheus that answers HTML
Usage: fake_cluster.py <dir>; prints "port=<n>" once listening."""
import http.server
import os
import sys
import time

DIR = sys.argv[1]


def read(name, default=""):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read()
    except FileNotFoundError:
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, ctype="text/plain; version=0.0.4"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self.reply(200, read("ksm.prom"))
        elif path in ("/kbs/healthz", "/gpukbs/healthz"):
            name = path.split("/")[1]
            status = int(read(name + "_healthz", "200").strip() or "200")
            self.reply(status, '{"status":"ok"}' if status == 200 else "down", "application/json")
        elif path in ("/kbs/metrics", "/gpukbs/metrics"):
            self.reply(200, read(path.split("/")[1] + ".prom"))
        elif path == "/slow/api/v1/query":
            time.sleep(3)
            self.reply(200, '{"status":"success","data":{"resultType":"vector","result":'
                       '[{"metric":{},"value":[0,"9"]}]}}', "application/json")
        elif path == "/garbage/api/v1/query":
            self.reply(200, "<html>gateway says hello</html>", "text/html")
        else:
            self.reply(404, "not found")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"port={server.server_address[1]}", flush=True)
server.serve_forever()
