#!/usr/bin/env python3
"""S3 on loopback for chiptrail's tests and Scripts/bench-s3: moto in server mode, and in front of it a
small proxy that injects faults between the client and the server.

    s3-fixture.py [--upload DIR BUCKET PREFIX]... [--slowdown-every N] [--reset-every N]
                  [--truncate-every N] [--deny TEXT] [--always-truncate TEXT] [--slow-body TEXT]
                  [--slow-seconds S]

Prints one JSON line, {"moto": PORT, "proxy": PORT}, once both listen, then serves until its standard
input closes (the test that started it ended). Faults are counted by kind: GET /__faults on the proxy
answers them as JSON (with "ranged", the GetObject requests that carried a Range header, and "lists",
the ListObjectsV2 requests), so a test can
check that the faults it asked for happened; GET /__configure?slowdown-every=7&deny=TEXT&… sets new
faults and zeroes the counts.

SQS and SNS (for `tail --sqs`): moto serves them on the same port, and the proxy forwards them with the
same faults (slowdown and reset count every request). Their calls are counted by X-Amz-Target
("sqs:ReceiveMessage", "sqs:DeleteMessageBatch", …). POST /__admin with a JSON object runs one boto3 call
against moto, for the tests to set the scene: {"op": "create_bucket"|"create_queue"|"notify"|"put"|
"publish"|"send"|"queue_counts"|"age", …} (see admin() below); the answer is a JSON object. moto (5.2.1)
has no way to set its clock in server mode; it runs in this process, so "age" (and "put" with "age")
sets objects' LastModified in its backend (what ListObjectsV2 and HeadObject answer), as if they had been
written that many seconds ago. Admin calls and the ListObjectsV2 requests the proxy forwards take turns
(one lock), so a listing sees an object put with "age" only with its LastModified already set.

Faults, each on every Nth request of its kind (deterministic, counted separately):
  --slowdown-every N    answer 503 SlowDown (S3's throttling) instead of forwarding
  --reset-every N       close the connection (TCP RST) without an answer
  --truncate-every N    GetObject: send the headers and half the body, then close the connection
  --deny TEXT           403 AccessDenied for GetObject of keys containing TEXT
  --always-truncate TEXT  GetObject of keys containing TEXT breaks off half-way, and every resumed
                        (Range) request for it breaks off before its first byte
  --slow-body TEXT      GetObject of keys containing TEXT sends its body in 20 pieces spread over
                        --slow-seconds (default 6): a reader is inside that object's body for seconds.
                        Counted: "slow-body" (such GETs), "slow-pieces" (pieces sent), "slow-done" (bodies
                        sent whole), "slow-broken" (the client went away mid-body)
"""
import argparse
import http.client
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_moto():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("moto did not start")


def upload(moto_port, directory, bucket, prefix):
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            path = os.path.join(root, name)
            key = prefix + os.path.relpath(path, directory)
            s3.upload_file(path, bucket, key)


def moto_s3():
    """moto's S3 backend (the server runs in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def set_age(bucket, keys, seconds):
    """Sets the LastModified of `keys` `seconds` before now (moto keeps naive UTC datetimes)."""
    import datetime

    when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(
        seconds=float(seconds))
    for key in keys:
        moto_s3().get_object(bucket, key).last_modified = when


def admin(moto_port, request):
    """One scene-setting call against moto (not through the proxy, no faults)."""
    import boto3

    kw = dict(endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test")
    op = request["op"]
    if op == "create_bucket":
        boto3.client("s3", **kw).create_bucket(Bucket=request["bucket"])
        return {}
    if op == "create_queue":
        sqs = boto3.client("sqs", **kw)
        url = sqs.create_queue(QueueName=request["queue"])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"url": url, "arn": arn}
    if op == "notify":
        # S3 -> SQS directly, or (with "topic") S3 -> SNS -> SQS; S3 sends s3:TestEvent when it is saved.
        s3 = boto3.client("s3", **kw)
        # With "suffix", only keys ending so are notified.
        rule = {}
        if request.get("suffix"):
            rule = {"Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": request["suffix"]}]}}}
        if request.get("topic"):
            sns = boto3.client("sns", **kw)
            topic = sns.create_topic(Name=request["topic"])["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=request["queue_arn"])
            config = {"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"], **rule}]}
        else:
            config = {"QueueConfigurations": [{"QueueArn": request["queue_arn"], "Events": ["s3:ObjectCreated:*"],
                                               **rule}]}
        s3.put_bucket_notification_configuration(Bucket=request["bucket"], NotificationConfiguration=config)
        return {}
    if op == "subscribe":
        sns = boto3.client("sns", **kw)
        topic = sns.create_topic(Name=request["topic"])["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=request["queue_arn"])
        return {"topic": topic}
    if op == "put":
        s3 = boto3.client("s3", **kw)
        with open(request["file"], "rb") as f:
            answer = s3.put_object(Bucket=request["bucket"], Key=request["key"], Body=f.read())
        if "age" in request:
            set_age(request["bucket"], [request["key"]], request["age"])
        return {"etag": answer["ETag"]}
    if op == "publish":
        boto3.client("sns", **kw).publish(TopicArn=request["topic"], Message=request["message"])
        return {}
    if op == "send":
        boto3.client("sqs", **kw).send_message(QueueUrl=request["url"], MessageBody=request["body"])
        return {}
    if op == "age":
        # LastModified of `key` (or of every object under `prefix`) set `seconds` before now.
        if "key" in request:
            keys = [request["key"]]
        else:
            keys = [k for k in list(moto_s3().get_bucket(request["bucket"]).keys.keys())
                    if k.startswith(request.get("prefix", ""))]
        set_age(request["bucket"], keys, request["seconds"])
        return {"aged": len(keys)}
    if op == "queue_counts":
        attributes = boto3.client("sqs", **kw).get_queue_attributes(
            QueueUrl=request["url"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return {"visible": int(attributes["ApproximateNumberOfMessages"]),
                "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}
    raise ValueError("unknown op " + op)


class Faults:
    def __init__(self, options):
        self.options = options
        self.lock = threading.Lock()
        # Held by admin calls and around forwarded listings: a listing never sees half a scene.
        self.scene = threading.Lock()
        self.requests = 0
        self.gets = 0
        self.counts = {"slowdown": 0, "reset": 0, "truncate": 0, "deny": 0, "always-truncate": 0, "ranged": 0,
                       "lists": 0, "slow-body": 0, "slow-pieces": 0, "slow-done": 0, "slow-broken": 0}

    def configure(self, query):
        values = urllib.parse.parse_qs(query)
        with self.lock:
            for name in ("slowdown_every", "reset_every", "truncate_every"):
                setattr(self.options, name, int(values.get(name.replace("_", "-"), ["0"])[0]))
            for name in ("deny", "always_truncate", "slow_body"):
                setattr(self.options, name, values.get(name.replace("_", "-"), [""])[0])
            self.options.slow_seconds = float(values.get("slow-seconds", ["6"])[0])
            self.requests = 0
            self.gets = 0
            for k in list(self.counts):
                if k.startswith("sqs:"):
                    del self.counts[k]
                else:
                    self.counts[k] = 0

    def choose(self, method, path, ranged, target=None):
        """The fault for this request, or None."""
        o = self.options
        if target:
            with self.lock:
                name = "sqs:" + target.split(".")[-1]
                self.counts[name] = self.counts.get(name, 0) + 1
        is_object_get = method == "GET" and "list-type" not in path and path.count("/") >= 2
        with self.lock:
            if is_object_get and ranged:
                self.counts["ranged"] += 1
            if method == "GET" and "list-type" in path:
                self.counts["lists"] += 1
            self.requests += 1
            n = self.requests
            if is_object_get:
                self.gets += 1
            g = self.gets
            fault = None
            if is_object_get and o.deny and o.deny in urllib.parse.unquote(path):
                fault = "deny"
            elif is_object_get and o.always_truncate and o.always_truncate in urllib.parse.unquote(path):
                fault = "always-truncate"
            elif is_object_get and o.slow_body and o.slow_body in urllib.parse.unquote(path):
                fault = "slow-body"
            elif o.slowdown_every and n % o.slowdown_every == 0:
                fault = "slowdown"
            elif o.reset_every and n % o.reset_every == 1 % o.reset_every and n > 1:
                fault = "reset"
            elif is_object_get and o.truncate_every and g % o.truncate_every == 0:
                fault = "truncate"
            if fault:
                self.counts[fault] += 1
            return fault


def make_handler(upstream_port, faults):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reset(self):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass

        def error(self, status, code, message):
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{message}</Message><RequestId>fault</RequestId></Error>").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path == "/__admin":
                try:
                    with faults.scene:
                        answer, status = admin(upstream_port, json.loads(body or b"{}")), 200
                except Exception as error:  # the test reads the message
                    answer, status = {"error": repr(error)}, 500
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if self.path.startswith("/__configure"):
                faults.configure(urllib.parse.urlsplit(self.path).query)
                self.path = "/__faults"
            if self.path == "/__faults":
                with faults.lock:
                    data = json.dumps(faults.counts).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            ranged = self.headers.get("Range") is not None
            fault = faults.choose(self.command, self.path, ranged, self.headers.get("X-Amz-Target"))
            if fault == "slowdown":
                return self.error(503, "SlowDown", "Please reduce your request rate.")
            if fault == "deny":
                return self.error(403, "AccessDenied", "Access Denied")
            if fault == "reset":
                return self.reset()
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
            listing = self.command == "GET" and "list-type" in self.path
            if listing:
                faults.scene.acquire()
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
            finally:
                if listing:
                    faults.scene.release()
            upstream.close()
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if fault in ("truncate", "always-truncate") and response.status // 100 == 2 and len(data) > 1:
                cut = 0 if fault == "always-truncate" and ranged else len(data) // 2
                self.wfile.write(data[:cut])
                self.wfile.flush()
                # A clean close (FIN), so the client has the first part before it sees the end: a reset
                # would discard what its kernel had not yet handed over.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault == "slow-body" and response.status // 100 == 2 and self.command != "HEAD":
                pieces = 20
                try:
                    for n in range(pieces):
                        self.wfile.write(data[len(data) * n // pieces:len(data) * (n + 1) // pieces])
                        self.wfile.flush()
                        with faults.lock:
                            faults.counts["slow-pieces"] += 1
                        if n + 1 < pieces:
                            time.sleep(faults.options.slow_seconds / pieces)
                except OSError:
                    with faults.lock:
                        faults.counts["slow-broken"] += 1
                    self.close_connection = True
                    return
                with faults.lock:
                    faults.counts["slow-done"] += 1
                return
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Proxy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upload", nargs=3, action="append", default=[], metavar=("DIR", "BUCKET", "PREFIX"))
    parser.add_argument("--slowdown-every", type=int, default=0)
    parser.add_argument("--reset-every", type=int, default=0)
    parser.add_argument("--truncate-every", type=int, default=0)
    parser.add_argument("--deny", default="")
    parser.add_argument("--always-truncate", default="")
    parser.add_argument("--slow-body", default="")
    parser.add_argument("--slow-seconds", type=float, default=6)
    options = parser.parse_args()
    moto, moto_port = start_moto()
    for directory, bucket, prefix in options.upload:
        upload(moto_port, directory, bucket, prefix)
    faults = Faults(options)
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(moto_port, faults))
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    print(json.dumps({"moto": moto_port, "proxy": proxy.server_address[1]}), flush=True)
    sys.stdin.read()
    proxy.shutdown()
    moto.stop()


if __name__ == "__main__":
    main()
