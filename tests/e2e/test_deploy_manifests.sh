#!/usr/bin/env bash
# deploy/ checked against the binary: tests/ref/deploy_check.py parses every manifest
# (python3-yaml) and checks args against `help-flags` per subcommand, env names against the
# binary's, ports, probe paths (docs/DASHBOARD.md), kustomization completeness and references,
# shard/PDB/security invariants, the Cloud Run annotations, and runs the binary with each
# container's args and env (StatefulSet: every ordinal). tests/js/k8s_validate.mjs validates
# every manifest against the Kubernetes and Knative schemas of npm kubernetes-models.
# Negative controls: each planted mistake must make a check fail (no vacuous pass).
. "$(dirname "$0")/lib.sh"
# Environment names still being merged into the binary: accepted here with a note. The lead
# removes a name once `help-flags` lists it. (QW_SHARD was here; it is now in help-flags.)
PENDING_ENV=()
JS="$QW_ROOT/tests/js"
"$PY" -c 'import yaml' 2>/dev/null || die "python3-yaml missing (scripts/install-deps.sh installs it)"
[ -d "$JS/node_modules/kubernetes-models" ] && [ -d "$JS/node_modules/@kubernetes-models/knative" ] \
  || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
[ -d "$JS/node_modules/kubernetes-models" ] || die "npm kubernetes-models missing (scripts/install-npm.sh tests/js)"

check() { # DEPLOY_DIR: structural + binary checks, then schema validation
  "$PY" "$QW_ROOT/tests/ref/deploy_check.py" "$1" "$QW_BIN" "$QW_ROOT/docs/DASHBOARD.md" \
    "$T/docs.json" "${PENDING_ENV[@]}" || return 1
  (cd "$JS" && node k8s_validate.mjs "$T/docs.json") || return 1
}
check "$QW_ROOT/deploy" || die "deploy manifests"

# kustomize build, when a kubectl is on PATH (not installed by the project: optional)
if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize "$QW_ROOT/deploy/k8s" > "$T/rendered.yaml" 2> "$T/kustomize.err" \
    || { cat "$T/kustomize.err"; die "kubectl kustomize deploy/k8s failed"; }
  "$PY" - "$T/rendered.yaml" <<'PY' || die "rendered kustomization"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
assert all(d["metadata"].get("namespace") == "quotewatch" for d in docs if d["kind"] != "Namespace"), kinds
assert "StatefulSet/quotewatch" in kinds, kinds
print("kustomize render:", " ".join(kinds))
PY
else
  echo "kustomize render: skipped (no kubectl on PATH; the checks above read the files directly)"
fi

# negative controls: one planted mistake per copy, each must fail
mutate() { # NAME PYTHON-EXPR-ON(d: {file: text}) ; the copy is in $T/neg-NAME/deploy
  local dir="$T/neg-$1"; rm -rf "$dir"; mkdir -p "$dir"; cp -r "$QW_ROOT/deploy" "$dir/"
  "$PY" - "$dir/deploy" "$2" <<'PY'
import os, sys
root, code = sys.argv[1], sys.argv[2]
files = {}
for sub in ("k8s", "cloudrun"):
    for f in os.listdir(os.path.join(root, sub)):
        files[f"{sub}/{f}"] = open(os.path.join(root, sub, f)).read()
before = dict(files)
exec(code, {"d": files})
assert files != before, "mutation changed nothing"
for k, v in files.items():
    open(os.path.join(root, k), "w").write(v)
PY
  if check "$dir/deploy" > "$dir/log" 2>&1; then cat "$dir/log"; die "negative control $1 passed"; fi
  echo "negative control $1: caught: $(grep -m1 '^FAIL' "$dir/log" || tail -1 "$dir/log")"
}
S=k8s/statefulset.yaml
mutate bogus-flag   "d['$S'] = d['$S'].replace('- --products', '- --no-such-flag\n            - --products')"
mutate replay-flag  "d['$S'] = d['$S'].replace('- --products', '- --speed=1x\n            - --products')"
mutate unknown-env  "d['k8s/configmap.yaml'] = d['k8s/configmap.yaml'].replace('QW_LOG_LEVEL:', 'QW_LOGLEVEL:')"
mutate probe-path   "d['$S'] = d['$S'].replace('path: /readyz', 'path: /ready')"
mutate port         "d['$S'] = d['$S'].replace('containerPort: 8050', 'containerPort: 8080')"
mutate shard-count  "d['$S'] = d['$S'].replace('replicas: 2', 'replicas: 3')"
mutate empty-shard  "d['$S'] = d['$S'].replace('BTC-USD,ETH-USD,SOL-USD,AVAX-USD', 'BTC-USD,ETH-USD')"
mutate unlisted     "d['k8s/extra.yaml'] = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n'"
mutate secret-ref   "d['$S'] = d['$S'].replace('name: quotewatch-secrets', 'name: qw-secrets', 1)"
mutate root-fs      "d['$S'] = d['$S'].replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false')"
mutate schema-type  "d['k8s/pdb.yaml'] = d['k8s/pdb.yaml'].replace('kind: PodDisruptionBudget', 'kind: PodDisruptionBudget\nfoo: 1').replace('  selector:', '  minAvailable: [1]\n  selector:')"
mutate cpu-throttle "d['cloudrun/service.yaml'] = d['cloudrun/service.yaml'].replace('cpu-throttling: \"false\"', 'cpu-throttling: \"true\"')"
C=k8s/lake-maintenance.yaml
mutate cron-flag    "d['$C'] = d['$C'].replace('- --target-size', '- --target-bytes')"
mutate cron-sub     "d['$C'] = d['$C'].replace('- compact', '- compactt')"
mutate cron-overlap "d['$C'] = d['$C'].replace('concurrencyPolicy: Forbid', 'concurrencyPolicy: Allow', 1)"
mutate cron-deadline "d['$C'] = d['$C'].replace('activeDeadlineSeconds: 3000', 'parallelism: 1', 1)"
mutate cron-missing "d['$C'] = d['$C'].split('---')[0]"
mutate orphans-missing "d['$C'] = '---'.join(d['$C'].split('---')[:2])"
mutate orphans-age  "d['$C'] = d['$C'].replace('- 1d', '- 1 day')"
mutate max-scale    "d['cloudrun/service.yaml'] = d['cloudrun/service.yaml'].replace('maxScale: \"1\"', 'maxScale: \"3\"')"
echo "ok"
