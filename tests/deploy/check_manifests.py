#!/usr/bin/python3
"""Structural checks of the deployment files (run by tests/deploy/check.sh).

usage: check_manifests.py --default RENDERED.yaml --overrides RENDERED.yaml
                          [--promql-rules OUT.yml]

RENDERED: the Helm chart rendered with its default values (release "nqba",
namespace "nqba") and with tests/deploy/helm-overrides.yaml. Checks the
Kubernetes manifests of deploy/k8s, both renderings, deploy/compose.yaml with
deploy/nqba.env.example, deploy/haproxy/haproxy.cfg, deploy/Dockerfile, the
alert rules and their tests, and the Grafana dashboard; prints one line per
failed check and exits 1 if there was any. --promql-rules writes every
dashboard query as a recording rule, for `promtool check rules` to parse.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
SECRET_ENV = ("NQBA_JWT_KEYS", "NQBA_API_KEY_PEPPER", "NQBA_FIELD_KEYS")
URL_ENV = ("NQBA_DB", "NQBA_REDIS")

errors = []


def fail(where, msg):
    errors.append("%s: %s" % (where, msg))


def check(cond, where, msg):
    if not cond:
        fail(where, msg)
    return cond


def rel(path):
    return os.path.relpath(path, ROOT)


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def get(d, *keys, default=None):
    for k in keys:
        if isinstance(d, dict) and k in d:
            d = d[k]
        elif isinstance(d, list) and isinstance(k, int) and -len(d) <= k < len(d):
            d = d[k]
        else:
            return default
    return d


def subset(small, big):
    return isinstance(small, dict) and isinstance(big, dict) and small and \
        all(big.get(k) == v for k, v in small.items())


# ---- Kubernetes objects ----------------------------------------------------------


def check_object_basics(docs, where):
    for i, d in enumerate(docs):
        w = "%s (document %d)" % (where, i + 1)
        if not check(isinstance(d, dict), w, "not a mapping"):
            continue
        check(isinstance(d.get("apiVersion"), str) and d["apiVersion"], w, "no apiVersion")
        check(isinstance(d.get("kind"), str) and d["kind"], w, "no kind")
        check(isinstance(get(d, "metadata", "name"), str) and get(d, "metadata", "name"), w,
              "no metadata.name")
        check(d.get("kind") != "Secret", w,
              "a Secret must not be committed or rendered (it is created with kubectl)")


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def component(d):
    return get(d, "spec", "template", "metadata", "labels", "app.kubernetes.io/component") or \
        get(d, "metadata", "labels", "app.kubernetes.io/component")


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_env(container, w, secret_name, urls_in_values):
    env = {e.get("name"): e for e in container.get("env") or []}
    for name in SECRET_ENV:
        e = env.get(name)
        if check(e is not None, w, "no %s" % name):
            check(get(e, "valueFrom", "secretKeyRef", "name") == secret_name, w,
                  "%s must come from the Secret %s" % (name, secret_name))
            check("value" not in e, w, "%s must not have a literal value" % name)
    for name in URL_ENV:
        e = env.get(name)
        if not check(e is not None, w, "no %s" % name):
            continue
        if urls_in_values:
            v = e.get("value")
            if check(isinstance(v, str), w, "%s has no literal value" % name):
                authority = v.split("//", 1)[-1].split("/", 1)[0]
                check("@" not in authority or ":" not in authority.rsplit("@", 1)[0], w,
                      "%s given in values must not hold a password" % name)
        else:
            check(get(e, "valueFrom", "secretKeyRef", "name") == secret_name, w,
                  "%s must come from the Secret %s" % (name, secret_name))


def check_hardening(pod, container, w):
    psc = pod.get("securityContext") or {}
    csc = container.get("securityContext") or {}
    check(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, w, "runAsNonRoot is not true")
    check((csc.get("runAsUser") or psc.get("runAsUser")) == 10001, w, "runAsUser is not 10001")
    check(csc.get("readOnlyRootFilesystem") is True, w, "readOnlyRootFilesystem is not true")
    check(csc.get("allowPrivilegeEscalation") is False, w, "allowPrivilegeEscalation is not false")
    check("ALL" in (get(csc, "capabilities", "drop") or []), w, "capabilities do not drop ALL")
    check(get(psc, "seccompProfile", "type") == "RuntimeDefault", w, "no RuntimeDefault seccomp profile")
    check(pod.get("automountServiceAccountToken") is False, w, "service account token mounted")
    res = container.get("resources") or {}
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            check(get(res, part, r) is not None, w, "no resources.%s.%s" % (part, r))


def check_deployment(d, w, secret_name, urls_in_values, configmaps):
    comp = component(d)
    want_port = {"api": 8080, "worker": 9100}.get(comp)
    if not check(want_port is not None, w, "component label must be api or worker, not %r" % comp):
        return
    sel = get(d, "spec", "selector", "matchLabels")
    labels = get(d, "spec", "template", "metadata", "labels")
    check(subset(sel, labels), w, "selector.matchLabels %r do not match the pod labels %r" % (sel, labels))
    pod = get(d, "spec", "template", "spec") or {}
    containers = pod.get("containers") or []
    if not check(len(containers) == 1, w, "expected one container"):
        return
    c = containers[0]
    cw = "%s container %s" % (w, c.get("name"))
    check(any(p.get("containerPort") == want_port for p in c.get("ports") or []), cw,
          "no containerPort %d" % want_port)
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        pr = c.get(probe)
        if not check(isinstance(pr, dict), cw, "no %s" % probe):
            continue
        check(get(pr, "httpGet", "path") == path, cw, "%s path is not %s" % (probe, path))
        check(port_number(c, get(pr, "httpGet", "port")) == want_port, cw,
              "%s port is not %d" % (probe, want_port))
    check_hardening(pod, c, cw)
    check_env(c, cw, secret_name, urls_in_values)
    for ef in c.get("envFrom") or []:
        name = get(ef, "configMapRef", "name")
        check(name in configmaps, cw, "envFrom names ConfigMap %r, which is not there" % name)
    args = [str(a) for a in c.get("args") or []]
    if comp == "api":
        check(args[:1] == ["serve"], cw, "args must start with serve")
        check("--queue" in args and args[args.index("--queue") + 1:][:1] == ["shared"], cw,
              "the API must run with --queue shared")
        check("--listen" in args and "0.0.0.0:8080" in args, cw, "the API must listen on 0.0.0.0:8080")
    else:
        check(args[:1] == ["worker"], cw, "args must start with worker")
        check("--listen" in args and "0.0.0.0:9100" in args, cw, "workers must listen on 0.0.0.0:9100")
        check("--workers" in args, cw, "workers need --workers")


def check_set(docs, where, secret_name, namespace, urls_in_values=False, expect_hpa=True,
              expect_netpol=True, expect_job=True):
    check_object_basics(docs, where)
    for d in docs:
        if d.get("kind") != "Namespace":
            check(get(d, "metadata", "namespace") == namespace, "%s %s/%s" % (where, d.get("kind"),
                  get(d, "metadata", "name")), "namespace is not %s" % namespace)
    configmaps = {get(c, "metadata", "name"): c for c in by_kind(docs, "ConfigMap")}
    for name, cm in configmaps.items():
        data = cm.get("data") or {}
        for k, v in data.items():
            check(isinstance(v, str), "%s ConfigMap %s" % (where, name), "%s is not a string" % k)
        for k in SECRET_ENV + URL_ENV:
            check(k not in data, "%s ConfigMap %s" % (where, name),
                  "%s is a secret: it belongs in the Secret, not a ConfigMap" % k)
    deps = by_kind(docs, "Deployment")
    comps = {component(d): d for d in deps}
    check(sorted(comps) == ["api", "worker"], where, "expected an api and a worker Deployment, got %r"
          % sorted(comps))
    for d in deps:
        check_deployment(d, "%s Deployment %s" % (where, get(d, "metadata", "name")), secret_name,
                         urls_in_values, configmaps)
    api, worker = comps.get("api"), comps.get("worker")
    api_labels = get(api, "spec", "template", "metadata", "labels") or {}
    worker_labels = get(worker, "spec", "template", "metadata", "labels") or {}

    services = by_kind(docs, "Service")
    if check(len(services) == 1, where, "expected one Service (the API's)"):
        s = services[0]
        w = "%s Service %s" % (where, get(s, "metadata", "name"))
        sel = get(s, "spec", "selector")
        check(subset(sel, api_labels), w, "selector %r does not select the API pods %r" % (sel, api_labels))
        check(not subset(sel, worker_labels), w, "selector also selects the worker pods")
        c = get(api, "spec", "template", "spec", "containers", 0) or {}
        for p in get(s, "spec", "ports") or []:
            check(port_number(c, p.get("targetPort")) == 8080, w, "targetPort does not reach port 8080")

    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    if expect_hpa:
        if check(len(hpas) == 1, where, "expected one HorizontalPodAutoscaler"):
            h = hpas[0]
            w = "%s HPA %s" % (where, get(h, "metadata", "name"))
            check(h.get("apiVersion") == "autoscaling/v2", w, "apiVersion is not autoscaling/v2")
            ref = get(h, "spec", "scaleTargetRef") or {}
            check(ref.get("kind") == "Deployment" and ref.get("name") == get(api, "metadata", "name"), w,
                  "scaleTargetRef %r is not the API Deployment" % ref)
            m = get(h, "spec", "metrics", 0) or {}
            check(get(m, "resource", "name") == "cpu" and
                  get(m, "resource", "target", "averageUtilization") == 70, w, "target is not CPU 70%")
            check(0 < get(h, "spec", "minReplicas", default=0) <= get(h, "spec", "maxReplicas", default=0),
                  w, "minReplicas/maxReplicas")
    else:
        check(not hpas, where, "no HorizontalPodAutoscaler expected")

    pdbs = by_kind(docs, "PodDisruptionBudget")
    covered = set()
    for p in pdbs:
        w = "%s PDB %s" % (where, get(p, "metadata", "name"))
        sel = get(p, "spec", "selector", "matchLabels")
        hits = [c for c, d in comps.items() if subset(sel, get(d, "spec", "template", "metadata", "labels"))]
        check(len(hits) == 1, w, "selector %r matches %d Deployments' pods" % (sel, len(hits)))
        covered.update(hits)
        check(get(p, "spec", "minAvailable") == 1, w, "minAvailable is not 1")
    check(covered == {"api", "worker"}, where, "PodDisruptionBudgets cover %r, not api and worker"
          % sorted(covered))

    jobs = by_kind(docs, "Job")
    if expect_job:
        if check(len(jobs) == 1, where, "expected the migrate Job"):
            j = jobs[0]
            w = "%s Job %s" % (where, get(j, "metadata", "name"))
            pod = get(j, "spec", "template", "spec") or {}
            c = get(pod, "containers", 0) or {}
            check([str(a) for a in c.get("args") or []] == ["migrate"], w, "args are not [migrate]")
            check(pod.get("restartPolicy") in ("Never", "OnFailure"), w, "restartPolicy")
            check_hardening(pod, c, w)
            env = {e.get("name"): e for e in c.get("env") or []}
            check("NQBA_DB" in env, w, "no NQBA_DB")
    else:
        check(not jobs, where, "no Job expected")

    pols = by_kind(docs, "NetworkPolicy")
    if expect_netpol:
        pod_sets = {c: get(d, "spec", "template", "metadata", "labels") for c, d in comps.items()}
        for j in jobs:
            pod_sets["migrate"] = get(j, "spec", "template", "metadata", "labels")
        seen = set()
        for p in pols:
            w = "%s NetworkPolicy %s" % (where, get(p, "metadata", "name"))
            sel = get(p, "spec", "podSelector", "matchLabels")
            hits = [c for c, labels in pod_sets.items() if subset(sel, labels)]
            if not check(len(hits) == 1, w, "podSelector %r matches %d pod kinds" % (sel, len(hits))):
                continue
            comp = hits[0]
            seen.add(comp)
            check(set(get(p, "spec", "policyTypes") or []) == {"Ingress", "Egress"}, w,
                  "policyTypes must be Ingress and Egress")
            ingress = {q.get("port") for r in get(p, "spec", "ingress") or [] for q in r.get("ports") or []}
            want = {"api": {8080}, "worker": {9100}, "migrate": set()}[comp]
            check(ingress == want, w, "ingress ports %r, expected %r" % (sorted(ingress), sorted(want)))
            check(all(r.get("ports") for r in get(p, "spec", "ingress") or []), w,
                  "an ingress rule without ports opens every port")
            egress = {q.get("port") for r in get(p, "spec", "egress") or [] for q in r.get("ports") or []}
            want = {5432, 53} | ({6379} if comp != "migrate" else set())
            check(egress == want, w, "egress ports %r, expected %r" % (sorted(egress), sorted(want)))
            check(all(r.get("ports") for r in get(p, "spec", "egress") or []), w,
                  "an egress rule without ports allows everything")
        check({"api", "worker"} <= seen, where, "NetworkPolicies for api and worker")
    else:
        check(not pols, where, "no NetworkPolicy expected")
    return comps


def check_k8s():
    kdir = os.path.join(DEPLOY, "k8s")
    files = sorted(f for f in os.listdir(kdir) if f.endswith((".yaml", ".yml")))
    kust = load_docs(os.path.join(kdir, "kustomization.yaml"))[0]
    listed = kust.get("resources") or []
    check(sorted(listed) == sorted(f for f in files if f != "kustomization.yaml"), "deploy/k8s/kustomization.yaml",
          "resources %r are not the other files %r" % (sorted(listed), files))
    docs = []
    for f in files:
        if f == "kustomization.yaml":
            continue
        docs += load_docs(os.path.join(kdir, f))
    ns = by_kind(docs, "Namespace")
    check(len(ns) == 1 and get(ns[0], "metadata", "name") == "nqba", "deploy/k8s", "namespace nqba")
    comps = check_set(docs, "deploy/k8s", "nqba-secrets", "nqba")
    api = comps.get("api")
    check(get(api, "spec", "replicas") == 2, "deploy/k8s api", "replicas is not 2")
    check(get(comps.get("worker"), "spec", "replicas") == 2, "deploy/k8s worker", "replicas is not 2")
    return docs


def strip_meta(d):
    d = json.loads(json.dumps(d))
    d.get("metadata", {}).pop("labels", None)
    d.get("metadata", {}).pop("annotations", None)
    if isinstance(get(d, "spec", "template", "metadata"), dict):
        d["spec"]["template"]["metadata"].pop("labels", None)
    for key in ("selector", "podSelector"):
        if isinstance(get(d, "spec", key), dict):
            d["spec"].pop(key)
    d.get("spec", {}).pop("replicas", None)
    return d


def check_helm(default_path, overrides_path, k8s_docs):
    docs = load_docs(default_path)
    w = "helm (default values)"
    comps = check_set(docs, w, "nqba-secrets", "nqba")
    api = comps.get("api")
    check(get(api, "spec", "replicas") is None, w, "the API Deployment sets replicas although the HPA is on")
    jobs = by_kind(docs, "Job")
    check(get(jobs, 0, "metadata", "annotations", "helm.sh/hook") == "pre-install,pre-upgrade", w,
          "the migrate Job is not a pre-install,pre-upgrade hook")
    check(get(comps.get("worker"), "spec", "replicas") == 2, w, "worker replicas is not 2")
    # The chart with its defaults must describe the same objects as deploy/k8s
    # (labels, selectors and the replica count aside).
    mine = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    for d in k8s_docs:
        key = (d["kind"], d["metadata"]["name"])
        if d["kind"] == "Namespace":
            continue
        if not check(key in mine, w, "no %s %s as in deploy/k8s" % key):
            continue
        a, b = strip_meta(d), strip_meta(mine[key])
        check(a == b, w, "%s %s differs from deploy/k8s:\n    k8s:  %s\n    helm: %s"
              % (key + (json.dumps(a, sort_keys=True), json.dumps(b, sort_keys=True))))
    extra = set(mine) - {(d["kind"], d["metadata"]["name"]) for d in k8s_docs}
    check(not extra, w, "objects not in deploy/k8s: %r" % sorted(extra))

    docs = load_docs(overrides_path)
    w = "helm (tests/deploy/helm-overrides.yaml)"
    comps = check_set(docs, w, "my-nqba-keys", "nqba", urls_in_values=True, expect_hpa=False,
                      expect_netpol=False, expect_job=False)
    api, worker = comps.get("api"), comps.get("worker")
    check(get(api, "spec", "replicas") == 3, w, "API replicas is not 3")
    check(get(worker, "spec", "replicas") == 5, w, "worker replicas is not 5")
    c = get(worker, "spec", "template", "spec", "containers", 0) or {}
    check(c.get("image") == "my-registry.example.org/nqba:1.2.3", w, "image %r" % c.get("image"))
    check(c.get("imagePullPolicy") == "Always", w, "imagePullPolicy")
    args = c.get("args") or []
    for flag, val in (("--workers", "8"), ("--lease", "20"), ("--max-attempts", "5")):
        check(flag in args and args[args.index(flag) + 1:][:1] == [val], w, "%s is not %s" % (flag, val))
    env = {e["name"]: e for e in c.get("env") or []}
    check(get(env, "NQBA_DB", "value") == "postgresql://nqba@db.internal:5432/nqba", w, "NQBA_DB value")
    check(get(env, "NQBA_REDIS", "value") == "redis://cache.internal:6379", w, "NQBA_REDIS value")
    cm = by_kind(docs, "ConfigMap")
    check(get(cm, 0, "data", "NQBA_AUDIT_CHECK") == "600", w, "ConfigMap NQBA_AUDIT_CHECK is not 600")
    check(get(cm, 0, "data", "NQBA_PRODUCTION") == "1", w, "ConfigMap lost NQBA_PRODUCTION")


# ---- compose, HAProxy, Dockerfile ---------------------------------------------------


def check_compose():
    w = "deploy/compose.yaml"
    c = load_docs(os.path.join(DEPLOY, "compose.yaml"))[0]
    svcs = c.get("services") or {}
    for s in ("postgres", "redis", "migrate", "api", "worker", "haproxy"):
        check(s in svcs, w, "no service %s" % s)
    if all(s in svcs for s in ("postgres", "redis", "migrate", "api", "worker", "haproxy")):
        pg, api, worker, mig, hap = (svcs.get(k, {}) for k in ("postgres", "api", "worker", "migrate", "haproxy"))
        check(str(pg.get("image", "")).startswith("postgres:15"), w, "postgres image is not postgres:15")
        check("pg_isready" in json.dumps(get(pg, "healthcheck", "test")), w, "postgres healthcheck is not pg_isready")
        check(any(str(v).endswith(":/var/lib/postgresql/data") for v in pg.get("volumes") or []), w,
              "postgres data is not on a volume")
        check(str(get(svcs, "redis", "image")).startswith("redis:7"), w, "redis image is not redis:7")
        check(mig.get("command") == ["migrate"], w, "migrate command")
        check(get(mig, "depends_on", "postgres", "condition") == "service_healthy", w,
              "migrate must wait for a healthy postgres")
        for name, s in (("api", api), ("worker", worker)):
            check(get(s, "deploy", "replicas") == 2, w, "%s replicas is not 2" % name)
            check(get(s, "depends_on", "migrate", "condition") == "service_completed_successfully", w,
                  "%s must wait for migrate to complete" % name)
            check(s.get("env_file") == ["nqba.env"], w, "%s env_file is not nqba.env" % name)
            check(s.get("read_only") is True and "ALL" in (s.get("cap_drop") or []), w, "%s hardening" % name)
            env = s.get("environment") or {}
            for k in SECRET_ENV:
                check(k not in env, w, "%s: %s must come from nqba.env" % (name, k))
        cmd = api.get("command") or []
        check(cmd[:1] == ["serve"] and "--queue" in cmd and "shared" in cmd, w, "api: serve --queue shared")
        check((worker.get("command") or [])[:1] == ["worker"], w, "worker command")
        check("9100" in json.dumps(get(worker, "healthcheck", "test")), w, "worker healthcheck is not on 9100")
        vols = [str(v).split(":")[0] for v in hap.get("volumes") or []]
        check("./haproxy/haproxy.cfg" in vols, w, "haproxy does not mount ./haproxy/haproxy.cfg")
        for v in vols:
            if v.startswith("./"):
                check(os.path.exists(os.path.join(DEPLOY, v)), w, "%s does not exist" % v)
    # Every ${VAR} compose interpolates (without a default) is in nqba.env.example.
    with open(os.path.join(DEPLOY, "compose.yaml"), encoding="utf-8") as f:
        text = f.read()
    example = {}
    with open(os.path.join(DEPLOY, "nqba.env.example"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                example[k] = v
    for m in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?", text):
        if m.group(2) not in (":-", "-"):
            check(m.group(1) in example, w, "${%s} is not in nqba.env.example" % m.group(1))
    we = "deploy/nqba.env.example"
    for k in SECRET_ENV + ("POSTGRES_PASSWORD",):
        check(k in example, we, "no %s" % k)
    for k, v in example.items():
        check("CHANGE_ME" in v, we, "%s has a value that is not a CHANGE_ME placeholder" % k)


def check_haproxy():
    w = "deploy/haproxy/haproxy.cfg"
    with open(os.path.join(DEPLOY, "haproxy", "haproxy.cfg"), encoding="utf-8") as f:
        text = f.read()
    lines = [ln.split("#")[0].strip() for ln in text.splitlines()]
    for want in ("balance roundrobin", "option httpchk GET /readyz", "http-check expect status 200"):
        check(want in lines, w, "no '%s'" % want)
    check(any(re.match(r"server(-template)?\s.*\bapi:8080\b.*\bcheck\b", ln) for ln in lines), w,
          "no checked server line for api:8080")
    for t in ("server", "tunnel", "client"):
        m = [ln for ln in lines if ln.startswith("timeout %s " % t)]
        if check(m, w, "no timeout %s" % t):
            check(re.search(r"\b\d+(m|h)$", m[0]) is not None, w,
                  "timeout %s must be minutes or hours long for event streams" % t)


def apt_depends(pkg):
    out = subprocess.run(["apt-cache", "depends", pkg], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return [ln.split(":", 1)[1].strip() for ln in out.stdout.splitlines()
            if re.match(r"^\s+Depends:", ln)]


def check_dockerfile():
    w = "deploy/Dockerfile"
    with open(os.path.join(DEPLOY, "Dockerfile"), encoding="utf-8") as f:
        text = f.read()
    joined = re.sub(r"\\\n", " ", text)
    lines = [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    check(any(re.fullmatch(r"ARG DEBIAN_IMAGE=debian:bookworm-slim", ln) for ln in lines), w,
          "the base image is not debian:bookworm-slim")
    froms = [ln for ln in lines if ln.startswith("FROM ")]
    check(len(froms) == 2 and all(f.split()[1] == "${DEBIAN_IMAGE}" for f in froms), w,
          "expected two stages FROM ${DEBIAN_IMAGE}")
    stages = re.split(r"^FROM .*$", "\n".join(lines), flags=re.M)[1:]
    if not check(len(stages) == 2, w, "two stages"):
        return

    def installs(stage):
        pk = []
        for m in re.finditer(r"apt-get install ((?:[-\w.+]+\s*)+)", stage):
            pk += [p for p in m.group(1).split() if not p.startswith("-")]
        return pk

    build, runtime = installs(stages[0]), installs(stages[1])
    check(build and runtime, w, "no apt-get install in a stage")
    check(not any(p.endswith("-dev") for p in runtime), w, "the runtime stage installs -dev packages")
    check("curl" in runtime or "wget" in runtime, w, "the runtime stage has no curl or wget for the healthcheck")
    check("ca-certificates" in runtime, w, "no ca-certificates in the runtime stage")
    # Each library the build links has its runtime package in the runtime stage.
    for p in build:
        if not p.endswith("-dev"):
            continue
        deps = apt_depends(p)
        if not check(deps is not None, w, "apt-cache does not know %s (run apt-get update?)" % p):
            continue
        for d in deps:
            if not d.endswith("-dev") and not d.startswith("<"):
                check(d in runtime, w, "%s needs %s at run time; the runtime stage lacks it" % (p, d))
    for p in build + runtime:
        out = subprocess.run(["apt-cache", "show", "--no-all-versions", p], capture_output=True, text=True)
        check(out.returncode == 0 and "Package:" in out.stdout, w, "no Debian package %s" % p)
    for want, msg in ((r"USER nqba", "USER nqba"), (r"EXPOSE 8080 9100", "EXPOSE 8080 9100"),
                      (r'ENTRYPOINT \["nqba"\]', 'ENTRYPOINT ["nqba"]'),
                      (r'CMD \["serve", "--listen", "0.0.0.0:8080"\]', "CMD serve --listen 0.0.0.0:8080"),
                      (r"HEALTHCHECK .*CMD .*http://127\.0\.0\.1:8080/healthz", "HEALTHCHECK on /healthz")):
        check(any(re.fullmatch(want, ln) or re.match(want, ln) for ln in lines), w, "no %s" % msg)
    check(re.search(r"groupadd .*--gid 10001 nqba", joined) and re.search(r"useradd .*--uid 10001 .*nqba", joined),
          w, "user nqba is not uid/gid 10001")
    check("-DNQ_NATIVE=OFF" in joined, w, "the image must be built without -march=native (NQ_NATIVE=OFF)")
    for m in re.finditer(r"^COPY (?!--from)(.+) (\S+)$", "\n".join(lines), flags=re.M):
        for src in m.group(1).split():
            check(os.path.exists(os.path.join(ROOT, src)), w, "COPY source %s does not exist" % src)


# ---- alerts and dashboard ----------------------------------------------------------

REQUIRED_ALERTS = ("NqbaHighErrorRate", "NqbaHighLatencyP99", "NqbaQueueBacklog", "NqbaWorkerLeaseExpiries",
                   "NqbaPoisonJobs", "NqbaAuditChainBroken", "NqbaAuditCheckStale", "NqbaStoreWriteErrors",
                   "NqbaSharedCacheDown", "NqbaInstanceDown")
TESTED_ALERTS = ("NqbaHighErrorRate", "NqbaQueueBacklog", "NqbaWorkerLeaseExpiries", "NqbaAuditChainBroken",
                 "NqbaAuditCheckStale")


def check_alerts():
    w = "deploy/prometheus/alerts.yml"
    doc = load_docs(os.path.join(DEPLOY, "prometheus", "alerts.yml"))[0]
    rules = [r for g in doc.get("groups") or [] for r in g.get("rules") or []]
    names = {r.get("alert") for r in rules}
    for a in REQUIRED_ALERTS:
        check(a in names, w, "no alert %s" % a)
    for r in rules:
        rw = "%s %s" % (w, r.get("alert"))
        check(get(r, "labels", "severity") in ("critical", "warning", "info"), rw, "no severity label")
        check(get(r, "annotations", "summary") and get(r, "annotations", "description"), rw,
              "needs summary and description annotations")
    wt = "deploy/prometheus/alerts_test.yml"
    t = load_docs(os.path.join(DEPLOY, "prometheus", "alerts_test.yml"))[0]
    fired = {a.get("alertname") for case in t.get("tests") or [] for a in case.get("alert_rule_test") or []
             if a.get("exp_alerts")}
    for a in TESTED_ALERTS:
        check(a in fired, wt, "no test in which %s fires" % a)


def check_dashboard(promql_out):
    w = "deploy/grafana/nqba-dashboard.json"
    with open(os.path.join(DEPLOY, "grafana", "nqba-dashboard.json"), encoding="utf-8") as f:
        d = json.load(f)
    check(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36, w, "schemaVersion")
    check(d.get("uid") and d.get("title"), w, "uid and title")
    var = [v for v in get(d, "templating", "list") or [] if v.get("type") == "datasource"]
    check(var and var[0].get("query") == "prometheus", w, "no Prometheus datasource variable")
    varname = var[0].get("name") if var else None
    exprs, ids, panels = [], set(), []

    def walk(ps):
        for p in ps or []:
            panels.append(p)
            walk(p.get("panels"))

    walk(d.get("panels"))
    for p in panels:
        pw = "%s panel %r" % (w, p.get("title"))
        check(p.get("id") not in ids, pw, "duplicate id %r" % p.get("id"))
        ids.add(p.get("id"))
        g = p.get("gridPos") or {}
        check(all(isinstance(g.get(k), int) for k in "hwxy") and g["x"] + g["w"] <= 24, pw, "gridPos")
        if p.get("type") == "row":
            continue
        check(get(p, "datasource", "uid") == "${%s}" % varname, pw, "datasource is not the variable")
        ts = p.get("targets") or []
        check(ts, pw, "no targets")
        for t in ts:
            check(t.get("refId") and t.get("expr"), pw, "a target without refId or expr")
            if t.get("expr"):
                exprs.append((p.get("title"), t["refId"], t["expr"]))
    alltext = " ".join(e for _, _, e in exprs)
    for m in ("http_requests_total", "http_request_duration_seconds_bucket", "nqba_queue_jobs",
              "nqba_job_duration_seconds_bucket", "nqba_worker_busy", "nqba_worker_slots",
              "nqba_worker_lease_expiries_total", "nqba_cache_hits_total", "nqba_store_writes_total",
              "nqba_audit_chain_ok", "process_cpu_seconds_total", "process_resident_memory_bytes"):
        check(m in alltext, w, "no panel uses %s" % m)
    if promql_out:
        rules = []
        for i, (title, ref, e) in enumerate(exprs):
            e = re.sub(r"\$__(rate_)?interval|\$__range", "5m", e)
            rules.append({"record": "dashboard:query_%d_%s" % (i, ref.lower()), "expr": e})
        with open(promql_out, "w", encoding="utf-8") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--default", required=True)
    ap.add_argument("--overrides", required=True)
    ap.add_argument("--promql-rules")
    a = ap.parse_args(argv)
    steps = [("deploy/k8s", None), ("helm", None), ("compose", check_compose), ("haproxy", check_haproxy),
             ("Dockerfile", check_dockerfile), ("alerts", check_alerts),
             ("dashboard", lambda: check_dashboard(a.promql_rules))]
    k8s_docs = []
    for name, fn in steps:
        before = len(errors)
        try:
            if name == "deploy/k8s":
                k8s_docs = check_k8s()
            elif name == "helm":
                check_helm(a.default, a.overrides, k8s_docs)
            else:
                fn()
        except (OSError, yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError) as e:
            fail(name, "cannot be checked: %s: %s" % (type(e).__name__, e))
        print("  %-11s %s" % (name, "ok" if len(errors) == before else "%d problems" % (len(errors) - before)))
    if errors:
        for e in errors:
            print("FAIL %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
