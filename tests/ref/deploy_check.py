#!/usr/bin/env python3
"""Checks deploy/ (Kubernetes kustomize folder, Cloud Run Knative service) against the binary.

usage: deploy_check.py DEPLOY_DIR QW_BIN DASHBOARD_MD OUT_JSON [PENDING_ENV...]

* every quotewatch argument in a container is a flag that `help-flags` says the subcommand takes;
* every environment name set (env, envFrom ConfigMap keys) is one the binary reads: the help-flags
  env column plus the names `quotewatch --help` lists; PENDING_ENV names are accepted with a note
  (flags still being merged);
* the container port equals PORT (image default 8050), probes use documented endpoints
  (docs/DASHBOARD.md table) on that port, liveness /healthz, readiness /readyz;
* kustomization.yaml lists every file of its folder; ConfigMap/Secret/Service references resolve;
  StatefulSet/PDB/Service invariants of a sharded streaming ingester; pod security settings;
* the Knative service has min/max scale 1, CPU always allocated, a Cloud SQL instance;
* the binary accepts each container's args and env (a 1 s run against a closed loopback port;
  each StatefulSet ordinal: its shard of the products, none empty).
Every manifest is written to OUT_JSON ([{"file":..., "doc":...}]) for schema validation.
Prints one line per check group; exit 1 with "FAIL: ..." lines on any failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

deploy, qw_bin, dash_md, out_json = sys.argv[1:5]
qw_bin = os.path.abspath(qw_bin)
pending = set(sys.argv[5:])
errors = []


def fail(msg):
    errors.append(msg)
    print("FAIL: " + msg)


# ---- what the binary knows
tsv = subprocess.run([qw_bin, "help-flags"], check=True, capture_output=True, text=True).stdout
flags = {}  # --name -> (set of subcommands, takes a value)
env_names = set()
for line in tsv.splitlines():
    name, env, subs, metavar = line.split("\t")[:4]
    if name != "-":
        flags[name] = (set(subs.split(",")), metavar != "-")
    if env != "-":
        env_names.add(env)
top_help = subprocess.run([qw_bin, "--help"], capture_output=True, text=True).stdout
m = re.search(r"^environment:(.*?)^docs:", top_help, re.S | re.M)
documented_env = set(re.findall(r"[A-Z][A-Z0-9_]+", m.group(1))) if m else set()
if not documented_env:
    fail("`quotewatch --help` has no environment list")
env_names |= documented_env
for p in sorted(pending):
    if p in env_names:
        print(f"note: pending name {p} is now known to the binary: drop it from the allow-list")
known_env = env_names | pending
endpoints = set(re.findall(r"^\| `(/[a-z/]*)` \|", open(dash_md).read(), re.M))
if not {"/healthz", "/readyz", "/metrics"} <= endpoints:
    fail(f"docs/DASHBOARD.md endpoint table not found (got {sorted(endpoints)})")
IMAGE_PORT = 8050  # Dockerfile: ENV PORT=8050, EXPOSE 8050

# ---- load every manifest
docs = []  # (relative file, doc)
for sub in ("k8s", "cloudrun"):
    d = os.path.join(deploy, sub)
    for f in sorted(os.listdir(d)):
        if f.endswith((".yaml", ".yml")):
            with open(os.path.join(d, f)) as fh:
                for doc in yaml.safe_load_all(fh):
                    if doc is not None:
                        docs.append((f"{sub}/{f}", doc))
json.dump([{"file": f, "doc": d} for f, d in docs], open(out_json, "w"))
for f, d in docs:
    if d.get("kind") == "Kustomization":
        continue
    if not (d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name")):
        fail(f"{f}: apiVersion, kind and metadata.name are required")
print(f"parsed {len(docs)} documents")


def of_kind(sub, kind):
    return [(f, d) for f, d in docs if f.startswith(sub + "/") and d.get("kind") == kind]


# ---- kustomization: lists every file, every listed file exists
kdir = os.path.join(deploy, "k8s")
kust = of_kind("k8s", "Kustomization")
if len(kust) != 1:
    fail("deploy/k8s needs exactly one kustomization.yaml")
else:
    listed = list(kust[0][1].get("resources") or [])
    files = {f for f in os.listdir(kdir) if f.endswith((".yaml", ".yml"))} - {"kustomization.yaml"}
    for f in sorted(files - set(listed)):
        fail(f"k8s/{f} is not listed in kustomization.yaml resources")
    for f in listed:
        if not os.path.isfile(os.path.join(kdir, f)):
            fail(f"kustomization.yaml lists k8s/{f}, which does not exist")
    print(f"kustomization: {len(listed)} resources, {len(files)} files")

configmaps = {d["metadata"]["name"]: d for _, d in of_kind("k8s", "ConfigMap")}
secrets = {d["metadata"]["name"]: d for _, d in of_kind("k8s", "Secret")}
services = {d["metadata"]["name"]: d for _, d in of_kind("k8s", "Service")}


def check_container(f, c, pod_labels, k8s, runs, extra_env=None, job=False):
    """One container: args, env, ports, probes. Appends binary runs to `runs`."""
    name = c.get("name", "?")
    where = f"{f}: container {name}"
    if not c.get("image"):
        fail(f"{where}: no image")
    if c.get("command") not in (None, ["quotewatch"]):
        fail(f"{where}: command must be the image's entrypoint (quotewatch), got {c.get('command')}")
    args = [str(a) for a in c.get("args") or []]
    sub = "live"
    rest = args
    if args and not args[0].startswith("-"):
        sub, rest = args[0], args[1:]
        if sub == "lake" and rest and not rest[0].startswith("-"):
            sub, rest = f"lake {rest[0]}", rest[1:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if not a.startswith("--"):
            fail(f"{where}: positional argument {a!r} ({sub} takes flags here)")
            i += 1
            continue
        flag, eq, _ = a.partition("=")
        if flag not in flags:
            fail(f"{where}: {flag} is not a quotewatch flag (help-flags)")
        elif sub not in flags[flag][0]:
            fail(f"{where}: {flag} is not accepted by 'quotewatch {sub}'")
        elif flags[flag][1] and not eq:
            i += 1  # its value
        i += 1
    env = {}
    for e in c.get("env") or []:
        n = e["name"]
        if n not in known_env:
            fail(f"{where}: env {n} is not a variable quotewatch reads")
        if "value" in e:
            env[n] = str(e["value"])
        ref = (e.get("valueFrom") or {})
        if k8s and "secretKeyRef" in ref and ref["secretKeyRef"]["name"] not in secrets:
            fail(f"{where}: env {n} refers to Secret {ref['secretKeyRef']['name']}, not in deploy/k8s")
        if k8s and "configMapKeyRef" in ref:
            cm = configmaps.get(ref["configMapKeyRef"]["name"])
            if cm is None or ref["configMapKeyRef"]["key"] not in (cm.get("data") or {}):
                fail(f"{where}: env {n} refers to a missing ConfigMap key")
        if not k8s and "secretKeyRef" in ref:
            key = str(ref["secretKeyRef"].get("key"))
            if not (key == "latest" or key.isdigit()):
                fail(f"{where}: Secret Manager version of {n} must be 'latest' or a number")
        if k8s and "secretKeyRef" not in ref and re.search(r"PASS|SECRET|KEY|CATALOG_URI", n):
            fail(f"{where}: {n} must come from a Secret")
    for ef in c.get("envFrom") or []:
        if "configMapRef" in ef:
            cm = configmaps.get(ef["configMapRef"]["name"])
            if cm is None:
                fail(f"{where}: envFrom ConfigMap {ef['configMapRef']['name']} not in deploy/k8s")
                continue
            for k, v in (cm.get("data") or {}).items():
                if k not in known_env:
                    fail(f"{where}: ConfigMap key {k} is not a variable quotewatch reads")
                if re.search(r"postgres(ql)?://[^/@]*:[^/@]*@", str(v)) or "PASS" in k:
                    fail(f"{where}: ConfigMap key {k} holds a password: use the Secret")
                env.setdefault(k, str(v))
        if "secretRef" in ef:
            sname = ef["secretRef"]["name"]
            if sname not in secrets:
                fail(f"{where}: envFrom Secret {sname} not in deploy/k8s")
            for k in list((secrets.get(sname) or {}).get("data") or {}) + list(
                    (secrets.get(sname) or {}).get("stringData") or {}):
                if k not in known_env:
                    fail(f"{where}: Secret key {k} is not a variable quotewatch reads")
    if job:  # a run-to-completion lake command: no dashboard, no probes
        if not sub.startswith("lake "):
            fail(f"{where}: a Job or CronJob runs a lake command, not {sub!r}")
        if c.get("ports") or any(c.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")):
            fail(f"{where}: a lake job serves nothing: no ports, no probes")
    port = int(env.get("PORT", IMAGE_PORT))
    ports = c.get("ports") or []
    if job:
        ports = [{"containerPort": port}]
    named = {p.get("name"): p["containerPort"] for p in ports}
    if [p["containerPort"] for p in ports] != [port]:
        fail(f"{where}: containerPort {[p['containerPort'] for p in ports]} != PORT {port}")
    probes = {"livenessProbe": "/healthz", "startupProbe": "/healthz",
              "readinessProbe": "/readyz"} if job else {}
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        pr = c.get(kind)
        if not pr:
            continue
        hg = pr.get("httpGet")
        if not hg:
            fail(f"{where}: {kind} is not an HTTP probe")
            continue
        probes[kind] = hg.get("path")
        pp = hg.get("port")
        if (named.get(pp) if isinstance(pp, str) else pp) != port:
            fail(f"{where}: {kind} port {pp} is not the dashboard port {port}")
        if hg.get("path") not in endpoints:
            fail(f"{where}: {kind} path {hg.get('path')} is not a documented endpoint")
    if probes.get("livenessProbe") != "/healthz":
        fail(f"{where}: livenessProbe must be /healthz")
    if probes.get("startupProbe") != "/healthz":
        fail(f"{where}: startupProbe must be /healthz")
    if k8s and probes.get("readinessProbe") != "/readyz":
        fail(f"{where}: readinessProbe must be /readyz")
    if "memory" not in ((c.get("resources") or {}).get("limits") or {}):
        fail(f"{where}: no memory limit")
    if k8s:
        sc = c.get("securityContext") or {}
        want = {"runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False}
        for k, v in want.items():
            if sc.get(k) != v:
                fail(f"{where}: securityContext.{k} must be {v}")
        if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
            fail(f"{where}: securityContext.capabilities.drop must be [ALL]")
        if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            fail(f"{where}: seccompProfile RuntimeDefault")
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
        if "/data" not in mounts:
            fail(f"{where}: /data (the image's working directory) must be a mounted volume")
    runs.append((where, sub, args, dict(env, **(extra_env or {}))))


runs = []
# ---- Kubernetes workloads
sts_list = of_kind("k8s", "StatefulSet")
if len(sts_list) != 1:
    fail("deploy/k8s needs one StatefulSet (the feed shards)")
for f, s in sts_list:
    spec = s["spec"]
    tpl = spec["template"]
    labels = tpl["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in spec["selector"]["matchLabels"].items()):
        fail(f"{f}: selector does not match the pod labels")
    if spec.get("podManagementPolicy") != "Parallel":
        fail(f"{f}: podManagementPolicy must be Parallel")
    if tpl["spec"].get("terminationGracePeriodSeconds", 30) < 15:
        fail(f"{f}: terminationGracePeriodSeconds < 15 (the lake flush on SIGTERM takes ~10 s)")
    gov = services.get(spec.get("serviceName"))
    if gov is None or gov["spec"].get("clusterIP") != "None":
        fail(f"{f}: serviceName {spec.get('serviceName')} is not a headless Service in deploy/k8s")
    psc = tpl["spec"].get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True or psc.get("runAsUser") != 10001:
        fail(f"{f}: pod securityContext must run as non-root user 10001")
    vols = {v["name"]: v for v in tpl["spec"].get("volumes") or []}
    replicas = spec.get("replicas", 1)
    for c in tpl["spec"]["containers"]:
        shard = {e["name"]: e.get("value") for e in c.get("env") or []}.get("QW_SHARD")
        if shard != f"auto/{replicas}":
            fail(f"{f}: QW_SHARD must be auto/{replicas} (replicas), got {shard}")
        for m in c.get("volumeMounts") or []:
            if m["name"] not in vols:
                fail(f"{f}: volumeMount {m['name']} has no volume")
            elif m["mountPath"] == "/data" and "emptyDir" not in vols[m["name"]]:
                print(f"note: {f}: /data is not an emptyDir")
        for i in range(replicas):
            check_container(f, c, labels, True, runs, {"HOSTNAME": f"{s['metadata']['name']}-{i}"})
    for sf, svc in services.items():
        sel = svc["spec"].get("selector") or {}
        if any(labels.get(k) != v for k, v in sel.items()):
            fail(f"Service {sf}: selector does not match the StatefulSet's pods")
        cports = {p.get("name") for c in tpl["spec"]["containers"] for p in c.get("ports") or []}
        for p in svc["spec"]["ports"]:
            if isinstance(p.get("targetPort"), str) and p["targetPort"] not in cports:
                fail(f"Service {sf}: targetPort {p['targetPort']} is no container port name")
    pdbs = of_kind("k8s", "PodDisruptionBudget")
    if not pdbs or pdbs[0][1]["spec"].get("maxUnavailable") != 1:
        fail("deploy/k8s needs a PodDisruptionBudget with maxUnavailable 1")
    elif any(labels.get(k) != v for k, v in pdbs[0][1]["spec"]["selector"]["matchLabels"].items()):
        fail("PodDisruptionBudget selector does not match the StatefulSet's pods")
cron_subs = set()
for f, d in docs:
    if f.startswith("k8s/") and d.get("kind") in ("CronJob", "Job", "Deployment", "DaemonSet"):
        pod = d["spec"]["jobTemplate"]["spec"]["template"] if d["kind"] == "CronJob" \
            else d["spec"]["template"]
        job = d["kind"] in ("CronJob", "Job")
        where = f"{f}: {d['kind']} {d['metadata']['name']}"
        if d["kind"] == "CronJob":
            # lake maintenance: one run at a time, retried, bounded, every field a cron field
            if d["spec"].get("concurrencyPolicy") != "Forbid":
                fail(f"{where}: concurrencyPolicy must be Forbid (runs would race each other)")
            if len(str(d["spec"].get("schedule", "")).split()) != 5:
                fail(f"{where}: schedule {d['spec'].get('schedule')!r} is not a 5-field cron line")
            if not d["spec"]["jobTemplate"]["spec"].get("activeDeadlineSeconds"):
                fail(f"{where}: jobTemplate needs activeDeadlineSeconds (a stuck run must end)")
        if job and pod["spec"].get("restartPolicy") not in ("OnFailure", "Never"):
            fail(f"{where}: restartPolicy must be OnFailure or Never")
        for c in pod["spec"]["containers"]:
            check_container(f, c, {}, True, runs, job=job)
            a = [str(x) for x in c.get("args") or []]
            if d["kind"] == "CronJob" and a[:1] == ["lake"] and len(a) > 1:
                cron_subs.add(a[1])
if {"expire", "compact", "clean-orphans"} - cron_subs:
    fail(f"deploy/k8s needs CronJobs running lake expire, lake compact and lake clean-orphans "
         f"(has {sorted(cron_subs)})")

# ---- Cloud Run
kn = of_kind("cloudrun", "Service")
if len(kn) != 1 or kn[0][1].get("apiVersion") != "serving.knative.dev/v1":
    fail("deploy/cloudrun needs one serving.knative.dev/v1 Service")
for f, s in kn:
    ann = s["spec"]["template"]["metadata"].get("annotations") or {}
    want = {"autoscaling.knative.dev/minScale": "1", "autoscaling.knative.dev/maxScale": "1",
            "run.googleapis.com/cpu-throttling": "false"}
    for k, v in want.items():
        if ann.get(k) != v:
            fail(f"{f}: template annotation {k} must be \"{v}\" (got {ann.get(k)!r})")
    if not re.fullmatch(r"[^:]+:[^:]+:[^:]+", ann.get("run.googleapis.com/cloudsql-instances", "")):
        fail(f"{f}: run.googleapis.com/cloudsql-instances PROJECT:REGION:INSTANCE missing")
    for c in s["spec"]["template"]["spec"]["containers"]:
        if any(e["name"] == "PORT" for e in c.get("env") or []):
            fail(f"{f}: PORT is reserved on Cloud Run (it comes from containerPort)")
        check_container(f, c, {}, False, runs)

# ---- the binary accepts every container's args and env
with tempfile.TemporaryDirectory() as tmp:
    for where, sub, args, env in runs:
        if sub.startswith("lake "):  # maintenance jobs: run them on an empty lake, exit 0
            full = {k: v.replace("file:///data/", f"file://{tmp}/data/") for k, v in env.items()}
            full["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
            r = subprocess.run([qw_bin] + args, env=full, cwd=tmp, capture_output=True, text=True,
                               timeout=60)
            # expire/compact end with a "total:" line, clean-orphans with "N orphan file(s)"
            if r.returncode != 0 or not re.search(r"^(total:|\d+ orphan file)", r.stdout, re.M):
                fail(f"{where}: quotewatch {sub} failed (exit {r.returncode}): "
                     f"{(r.stderr or r.stdout).strip()[-400:]}")
            else:
                print(f"binary runs {where}: {r.stdout.strip().splitlines()[-1]}")
            continue
        if sub != "live":
            continue
        full = {k: v.replace("file:///data/", f"file://{tmp}/data/") for k, v in env.items()}
        full["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        cmd = [qw_bin] + args + ["--url", "ws://127.0.0.1:9", "--duration", "1", "--port", "0",
                                 "--bind", "127.0.0.1", "--log-level", "info"]
        r = subprocess.run(cmd, env=full, cwd=tmp, capture_output=True, text=True, timeout=30)
        m = re.search(r"cmd=live [^\"]*", r.stderr)
        if r.returncode != 0 or not m:
            fail(f"{where}: quotewatch refused it (exit {r.returncode}): {r.stderr.strip()[-400:]}")
            continue
        shard = env.get("QW_SHARD", "")
        if shard.startswith("auto/"):
            i = env["HOSTNAME"].rsplit("-", 1)[1]
            if f"shard={i}/{shard[5:]}" not in m.group(0):
                fail(f"{where}: {env['HOSTNAME']} did not take shard {i}: {m.group(0)}")
        print(f"binary accepts {where}{' as ' + env['HOSTNAME'] if 'HOSTNAME' in env else ''}: "
              f"{m.group(0).split(' port=')[0]}")

print(f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
