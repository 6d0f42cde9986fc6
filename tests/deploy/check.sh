#!/usr/bin/env bash
# Static checks of the deployment files under deploy/ (docs/DEPLOY.md).
# Run from anywhere: bash tests/deploy/check.sh
#
# Needs yamllint, promtool (Debian package prometheus), haproxy, apt-cache
# and Debian's /usr/bin/python3 with python3-yaml; a missing one is a
# failure, not a skip. Nothing is started and nothing is reached over the
# network: the Helm chart is rendered by tests/deploy/render_helm.py
# (where helm is installed, also run `helm lint deploy/helm/nqba` and
# `helm template`).
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=/usr/bin/python3
fail() {
    echo "check.sh: FAILED: $*" >&2
    exit 1
}
step() { echo "== $*"; }

need() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 || fail "$1 not found: install the Debian package $2 (apt-get install $2)"
}
[ -x "$PY" ] || fail "$PY not found: install the Debian package python3"
"$PY" -c 'import yaml' 2>/dev/null || fail "python3 cannot import yaml: install the Debian package python3-yaml"
need yamllint yamllint
need promtool prometheus
need haproxy haproxy
need apt-cache apt

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "renderer and extractor self-tests"
"$PY" tests/deploy/render_helm.py --self-test || fail "render_helm.py --self-test"
"$PY" tests/deploy/metric_names.py --self-test || fail "metric_names.py --self-test"

step "render the Helm chart (default values; tests/deploy/helm-overrides.yaml)"
"$PY" tests/deploy/render_helm.py deploy/helm/nqba --release nqba --namespace nqba \
    -o "$tmp/helm-default.yaml" || fail "rendering deploy/helm/nqba with its default values"
"$PY" tests/deploy/render_helm.py deploy/helm/nqba --release nqba --namespace nqba \
    -f tests/deploy/helm-overrides.yaml -o "$tmp/helm-overrides.yaml" ||
    fail "rendering deploy/helm/nqba with tests/deploy/helm-overrides.yaml"

step "yamllint (deploy/.yamllint)"
mapfile -t yaml_files < <(find deploy tests/deploy \( -name '*.yaml' -o -name '*.yml' \) \
    -not -path 'deploy/helm/nqba/templates/*' | sort)
[ "${#yaml_files[@]}" -ge 15 ] || fail "only ${#yaml_files[@]} YAML files found under deploy/ and tests/deploy/"
yamllint -s -c deploy/.yamllint "${yaml_files[@]}" || fail "yamllint on deploy/"
# Rendered templates, under names that say where they came from.
cp "$tmp/helm-default.yaml" "$tmp/rendered-chart-default-values.yaml"
cp "$tmp/helm-overrides.yaml" "$tmp/rendered-chart-overrides.yaml"
yamllint -s -c deploy/.yamllint "$tmp/rendered-chart-default-values.yaml" \
    "$tmp/rendered-chart-overrides.yaml" || fail "yamllint on the rendered Helm chart"

step "promtool: alert rules, their unit tests, the scrape configuration"
promtool check rules deploy/prometheus/alerts.yml || fail "promtool check rules"
promtool test rules deploy/prometheus/alerts_test.yml || fail "promtool test rules"
# Debian's Prometheus is built without Kubernetes service discovery, and
# promtool checks that credentials files exist: check a copy in which each
# kubernetes_sd_configs is a static target and the key file is a temporary
# one. Everything else (relabelling, authorization, rule files) is checked
# as written.
mkdir -p "$tmp/prom"
cp deploy/prometheus/alerts.yml "$tmp/prom/alerts.yml"
: >"$tmp/prom/metrics-api-key"
"$PY" - deploy/prometheus/prometheus.yml "$tmp/prom" <<'EOF' || fail "preparing prometheus.yml for promtool"
import sys, yaml
src, out = sys.argv[1], sys.argv[2]
with open(src) as f:
    c = yaml.safe_load(f)
jobs = c.get("scrape_configs") or []
assert {j["job_name"] for j in jobs} == {"nqba-api", "nqba-worker"}, "jobs must be nqba-api and nqba-worker"
for j in jobs:
    if "kubernetes_sd_configs" in j:
        j.pop("kubernetes_sd_configs")
        j["static_configs"] = [{"targets": ["placeholder.invalid:80"]}]
    if "credentials_file" in (j.get("authorization") or {}):
        j["authorization"]["credentials_file"] = out + "/metrics-api-key"
with open(out + "/prometheus.yml", "w") as f:
    yaml.safe_dump(c, f)
EOF
promtool check config "$tmp/prom/prometheus.yml" || fail "promtool check config (deploy/prometheus/prometheus.yml)"

step "HAProxy configuration"
haproxy -c -q -f deploy/haproxy/haproxy.cfg || fail "haproxy -c -f deploy/haproxy/haproxy.cfg"

step "manifests, chart, compose, Dockerfile, alerts, dashboard"
"$PY" tests/deploy/check_manifests.py --default "$tmp/helm-default.yaml" \
    --overrides "$tmp/helm-overrides.yaml" --promql-rules "$tmp/dashboard-queries.yml" ||
    fail "structural checks (tests/deploy/check_manifests.py)"
promtool check rules "$tmp/dashboard-queries.yml" >/dev/null ||
    fail "a Grafana dashboard query is not valid PromQL (promtool check rules on the queries)"
"$PY" tests/deploy/metric_names.py --list >/dev/null ||
    fail "metric_names.py finds too few metric names in the rules and the dashboard"

echo "check.sh: all deployment checks passed"
