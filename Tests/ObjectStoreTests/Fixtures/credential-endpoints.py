#!/usr/bin/env python3
"""Fake AWS credential endpoints on loopback for chiptrail's tests: EC2 instance metadata (IMDSv2: a PUT
for a session token first, every later GET must carry it) and an ECS container credentials endpoint
(which must get its authorization token). Prints {"port": PORT}, serves until standard input closes.
GET /__requests answers the requests seen, as JSON lines of "METHOD PATH TOKEN?" strings."""
import http.server, json, sys, threading

TOKEN = "imds-session-token"
seen = []

CREDENTIALS = {
    "imds": {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDSEXAMPLE",
             "SecretAccessKey": "imds-secret", "Token": "imds-token", "Expiration": "2099-01-01T00:00:00Z"},
    "ecs": {"AccessKeyId": "ASIAECSEXAMPLE", "SecretAccessKey": "ecs-secret", "Token": "ecs-token",
            "Expiration": "2099-01-01T00:00:00.123456Z"},
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        seen.append("PUT " + self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(200, TOKEN)
        self.answer(400, "")

    def do_GET(self):
        seen.append("GET " + self.path)
        if self.path == "/__requests":
            return self.answer(200, json.dumps(seen))
        if self.path.startswith("/latest/meta-data/"):
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self.answer(401, "")
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.answer(200, "reader-role")
            if self.path == "/latest/meta-data/iam/security-credentials/reader-role":
                return self.answer(200, json.dumps(CREDENTIALS["imds"]))
            return self.answer(404, "")
        if self.path == "/ecs/credentials":
            if self.headers.get("Authorization") != "ecs-authorization":
                return self.answer(403, "")
            return self.answer(200, json.dumps(CREDENTIALS["ecs"]))
        self.answer(404, "")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"port": server.server_address[1]}), flush=True)
sys.stdin.read()
server.shutdown()
