"""What the end-to-end benchmarks share: free loopback ports, waiting for a process to listen,
HTTP GET/POST, a counter summed from Prometheus text, a Tansu broker, simulated alerts."""
import json, os, socket, subprocess, sys, time, urllib.request


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_port(port, proc, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not start on {port}")


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def post(url, doc):
    req = urllib.request.Request(url, json.dumps(doc).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def metric(text, name):
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith(name + " ") or l.startswith(name + "{"))


def start_tansu(tansu, procs, topic="alerts", partitions=4, storage="memory", work=None):
    """A Tansu broker on a free loopback port with `topic` created; returns its port.

    storage "memory": Tansu's in-memory store (every message in the broker's RAM). "s3-disk": Tansu's
    S3 store on a local moto server keeping its objects in files under `work` (s3_on_disk.py), for runs
    whose messages outgrow RAM (100,000 LSSTCam-sized alerts are 32 GB)."""
    env = dict(os.environ)
    args = [tansu, "broker"]
    if storage == "s3-disk":
        folder = os.path.join(work, "s3")
        os.makedirs(folder, exist_ok=True)
        s3_port = free_port()
        moto = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "s3_on_disk.py"), folder, str(s3_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(moto)
        wait_port(s3_port, moto, "moto (pip install 'moto[server]')")
        endpoint = f"http://127.0.0.1:{s3_port}"
        import boto3
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x",
                     region_name="us-east-1").create_bucket(Bucket="tansu")
        env.update(AWS_ENDPOINT=endpoint, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
                   AWS_DEFAULT_REGION="us-east-1", AWS_ALLOW_HTTP="true")
        args += ["--storage-engine", "s3://tansu/"]
    elif storage != "memory":
        sys.exit(f"unknown broker storage {storage!r}: memory or s3-disk")
    port = free_port()
    broker = subprocess.Popen(args + ["--listener-url", f"tcp://127.0.0.1:{port}", "--advertised-listener-url", f"tcp://127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(broker)
    wait_port(port, broker, "tansu")
    subprocess.run([tansu, "topic", "create", topic, "--partitions", str(partitions), "--broker", f"tcp://127.0.0.1:{port}"],
                   check=True, stdout=subprocess.DEVNULL)
    return port


def simulated_records(citsci, work, count, profile):
    """`count` alerts from `citsci simulate` read back with fastavro, their writer schema written to
    `work`/schemas/1.avsc (schema id 1 of the Confluent framing); returns (records, parsed schema)."""
    import fastavro
    subprocess.run([citsci, "simulate", "--out", f"{work}/base", "--count", str(count), "--seed", "7", "--profile", profile],
                   check=True, stdout=subprocess.DEVNULL)
    records, schema = [], None
    for name in sorted(os.listdir(f"{work}/base")):
        with open(f"{work}/base/{name}", "rb") as f:
            reader = fastavro.reader(f)
            schema = reader.writer_schema
            records.extend(reader)
    os.makedirs(f"{work}/schemas")
    with open(f"{work}/schemas/1.avsc", "w") as f:
        json.dump(schema, f)
    return records, fastavro.parse_schema(schema)


REAL_LSSTCAM = "fink-client-datatest/lsst_part-2-918301.avro"


def real_lsstcam_records(work, count, seed=7):
    """`count` real Rubin LSSTCam alerts (schema 10.0 as Fink re-serialised it: the 7 packets of
    `../shared/data/` REAL_LSSTCAM, 120-310 kB, 0-390 previous sources), each a copy of one of them
    with its diaSource's reliability drawn anew so that filters on it pass a chosen share of the
    stream; everything else is the real packet. Their writer schema is written to
    `work`/schemas/1.avsc. Returns (records, parsed schema); exits with a clear message when the
    shared data is absent."""
    import copy, random
    import fastavro
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared", "data", REAL_LSSTCAM)
    if not os.path.exists(path):
        sys.exit(f"real LSSTCam alerts not found at {path} (../shared/data beside the repository)")
    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        schema = reader.writer_schema
        originals = list(reader)
    rng = random.Random(seed)
    records = []
    for i in range(count):
        record = copy.deepcopy(originals[i % len(originals)])
        # Skewed towards 1 as real scores are: P(reliability >= 0.98) ~ 5%, the share the 25 slice
        # filters of run_end_to_end.py pass between them.
        record["diaSource"]["reliability"] = rng.random() ** 0.4
        records.append(record)
    os.makedirs(f"{work}/schemas")
    with open(f"{work}/schemas/1.avsc", "w") as f:
        json.dump(schema, f)
    return records, fastavro.parse_schema(schema)

