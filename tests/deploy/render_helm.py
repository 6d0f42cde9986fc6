#!/usr/bin/python3
"""Render the nqba Helm chart without helm, for tests.

usage: render_helm.py CHART_DIR [-f VALUES.yaml ...] [--release NAME]
                      [--namespace NS] [-o OUT]
       render_helm.py --self-test

Helm is not packaged in Debian, so the tests render deploy/helm/nqba with
this script. It understands a small subset of Go templates, and every
template of the chart must stay inside it; anything else (include, define,
range, with, default, printf, variables, other functions or pipes, a
missing value) stops the rendering with FILE:LINE and the reason, rather
than being rendered differently from helm. The subset:

  {{ FIELD }}                        the value, printed as Go prints it
  {{ FIELD | quote }}                the value as a Go double-quoted string
  {{ FIELD | toYaml | nindent N }}   the value as YAML, on new lines,
  {{ toYaml FIELD | nindent N }}       indented by N spaces
  {{ if FIELD }} ... {{ else }} ... {{ end }}
                                     Go truth: false, 0, "", empty map or
                                     list, null are false
  {{/* comment */}}
  {{- and -}}                        trim the white space before / after

FIELD is .Values.KEY[.KEY...] (keys [A-Za-z_][A-Za-z0-9_]*), .Release.Name,
.Release.Namespace, .Chart.Name, .Chart.Version or .Chart.AppVersion.

Values: the chart's values.yaml, then each -f file merged over it as helm
does (maps merged key by key, anything else replaced, null deletes the key).
Numbers are printed as helm prints them (helm reads values as float64:
1000000 prints as 1e+06). The output is `helm template`'s: each template
that renders to more than white space, after "---" and "# Source: ...".
Templates are rendered in file name order (helm sorts by kind).

toYaml writes the same data as helm's toYaml, keys sorted, but its quoting
may differ in style (PyYAML single quotes where Go's YAML library uses
double quotes); the tests compare parsed documents, not text. Where helm
is installed, `helm lint` and `helm template` are the checks to run.
"""
import argparse
import decimal
import math
import os
import re
import sys

import yaml


class RenderError(Exception):
    pass


# ---- values ----------------------------------------------------------------


def merge_values(base, over, path="values"):
    """helm's coalescing of an override file over the defaults."""
    if not isinstance(over, dict):
        raise RenderError("%s: a values file must be a mapping" % path)
    out = dict(base)
    for k, v in over.items():
        if not isinstance(k, str):
            raise RenderError("%s: key %r is not a string" % (path, k))
        where = "%s.%s" % (path, k)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_values(out[k], v, where)
        elif isinstance(v, dict) != isinstance(out.get(k, v), dict):
            raise RenderError("%s: a map cannot replace a value or the reverse" % where)
        else:
            out[k] = v
    return out


def load_yaml_file(path):
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return {} if data is None else data


# ---- printing as Go does -----------------------------------------------------


def go_float(f):
    """fmt's %v of a float64: strconv's 'g' format with the shortest digits
    that read back, in exponent form when the decimal exponent is below -4
    or 6 and above (1e+06, 1.5e-05), else plain (100000, 0.0001)."""
    if math.isnan(f) or math.isinf(f):
        raise RenderError("cannot print %r" % f)
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign = "-" if f < 0 else ""
    t = decimal.Decimal(repr(abs(f))).as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0")
    exponent = t.exponent + (len(t.digits) - len(digits))
    nd = len(digits)
    dp = nd + exponent  # digits before the decimal point
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if nd > 1 else "")
        return "%s%se%s%02d" % (sign, mant, "-" if exp < 0 else "+", abs(exp))
    if dp <= 0:
        return sign + "0." + "0" * (-dp) + digits
    if dp >= nd:
        return sign + digits + "0" * (dp - nd)
    return sign + digits[:dp] + "." + digits[dp:]


def go_print(v, where):
    """{{ v }}: what text/template writes for a value helm read from YAML."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return go_float(float(v))
    if isinstance(v, str):
        return v
    raise RenderError("%s: cannot print a %s (use toYaml)" % (where, type(v).__name__))


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(v, where):
    """sprig's quote: strconv.Quote of the value's text (ASCII only here)."""
    s = go_print(v, where)
    out = ['"']
    for ch in s:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        elif ord(ch) > 0x7E:
            raise RenderError("%s: quote of non-ASCII text is not supported" % where)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_like(v):
    """The data as helm's toYaml sees it after its JSON round trip: whole
    floats become integers."""
    if isinstance(v, dict):
        return {k: _json_like(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_like(x) for x in v]
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    return v


def to_yaml(v):
    """helm's toYaml: YAML with sorted keys, without the final newline."""
    text = yaml.safe_dump(_json_like(v), default_flow_style=False, sort_keys=True)
    if text.endswith("\n...\n"):  # a bare scalar
        text = text[: -len("...\n")]
    return text[:-1] if text.endswith("\n") else text


def nindent(n, s):
    pad = " " * n
    return "\n" + pad + s.replace("\n", "\n" + pad)


# ---- templates ---------------------------------------------------------------

FIELD = r"\.(?:Values(?:\.[A-Za-z_][A-Za-z0-9_]*)+|Release\.(?:Name|Namespace)|" \
        r"Chart\.(?:Name|Version|AppVersion))"
RE_FIELD = re.compile("^(%s)$" % FIELD)
RE_QUOTE = re.compile(r"^(%s)\s*\|\s*quote$" % FIELD)
RE_TOYAML_PIPE = re.compile(r"^(%s)\s*\|\s*toYaml\s*\|\s*nindent\s+([0-9]+)$" % FIELD)
RE_TOYAML_CALL = re.compile(r"^toYaml\s+(%s)\s*\|\s*nindent\s+([0-9]+)$" % FIELD)
RE_IF = re.compile(r"^if\s+(%s)$" % FIELD)
RE_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
RE_COMMENT = re.compile(r"^/\*.*\*/$", re.S)
# A comment as Go accepts it: touching the delimiters, or separated from a
# trim marker by exactly one white space character; it ends at the first */.
RE_COMMENT_ACTION = re.compile(r"(?:-[ \t\r\n])?/\*(?:(?!\*/).)*\*/(?:[ \t\r\n]-)?", re.S)


def tokenize(text, name):
    """Text and actions, with Go's trim markers applied."""
    tokens = []  # ("text", s) | ("action", body, line)
    pos = 0
    for m in RE_ACTION.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        where = "%s:%d" % (name, line)
        raw = m.group(1)
        trim_left = trim_right = False
        if raw.startswith("-"):
            if not raw[1:2].isspace():
                raise RenderError("%s: '{{-' must be followed by a space" % where)
            trim_left, raw = True, raw[1:]
        if raw.endswith("-"):
            if not raw[-2:-1].isspace():
                raise RenderError("%s: '-}}' must follow a space" % where)
            trim_right, raw = True, raw[:-1]
        body = raw.strip()
        if "/*" in m.group(1) and not RE_COMMENT_ACTION.fullmatch(m.group(1)):
            raise RenderError("%s: a comment must be {{/* ... */}} or {{- /* ... */ -}}"
                              % where)
        tokens.append(["text", text[pos:m.start()]])
        if trim_left:
            tokens[-1][1] = tokens[-1][1].rstrip(" \t\r\n")
        tokens.append(["action", body, where, trim_right])
        pos = m.end()
    tokens.append(["text", text[pos:]])
    if "{{" in tokens[-1][1]:
        raise RenderError("%s: '{{' without '}}'" % name)
    # Apply right trims to the text that follows.
    for i, t in enumerate(tokens):
        if t[0] == "action" and t[3]:
            tokens[i + 1][1] = tokens[i + 1][1].lstrip(" \t\r\n")
    return tokens


def parse(tokens):
    """Nested list of nodes: ("text", s), ("expr", kind, field, arg, where),
    ("if", field, then_nodes, else_nodes, where)."""
    stack = [[]]
    ifs = []  # [field, then, else_or_None, where, in_else]
    for t in tokens:
        if t[0] == "text":
            if t[1]:
                stack[-1].append(("text", t[1]))
            continue
        body, where = t[1], t[2]
        if RE_COMMENT.match(body):
            continue
        m = RE_IF.match(body)
        if m:
            node = ["if", m.group(1), [], [], where, False]
            stack[-1].append(node)
            ifs.append(node)
            stack.append(node[2])
            continue
        if body == "else":
            if not ifs or ifs[-1][5]:
                raise RenderError("%s: 'else' without 'if'" % where)
            ifs[-1][5] = True
            stack.pop()
            stack.append(ifs[-1][3])
            continue
        if body == "end":
            if not ifs:
                raise RenderError("%s: 'end' without 'if'" % where)
            ifs.pop()
            stack.pop()
            continue
        for kind, rx in (("print", RE_FIELD), ("quote", RE_QUOTE),
                         ("toyaml", RE_TOYAML_PIPE), ("toyaml", RE_TOYAML_CALL)):
            m = rx.match(body)
            if m:
                arg = int(m.group(2)) if kind == "toyaml" else None
                stack[-1].append(("expr", kind, m.group(1), arg, where))
                break
        else:
            raise RenderError("%s: outside the supported template subset: {{ %s }}"
                              % (where, body))
    if ifs:
        raise RenderError("%s: 'if' without 'end'" % ifs[-1][4])
    return stack[0]


def lookup(ctx, field, where):
    parts = field[1:].split(".")
    v = ctx
    for i, p in enumerate(parts):
        if not isinstance(v, dict) or p not in v:
            raise RenderError("%s: no value for .%s" % (where, ".".join(parts[: i + 1])))
        v = v[p]
    if v is None:
        raise RenderError("%s: .%s is null" % (where, ".".join(parts)))
    return v


def execute(nodes, ctx, out):
    for n in nodes:
        if n[0] == "text":
            out.append(n[1])
        elif n[0] == "expr":
            _, kind, field, arg, where = n
            v = lookup(ctx, field, where)
            if kind == "print":
                out.append(go_print(v, where))
            elif kind == "quote":
                out.append(go_quote(v, where))
            else:
                out.append(nindent(arg, to_yaml(v)))
        else:
            _, field, then, other, where, _ = n
            execute(then if lookup(ctx, field, where) else other, ctx, out)


def render_text(text, ctx, name="template"):
    out = []
    execute(parse(tokenize(text, name)), ctx, out)
    return "".join(out)


def chart_context(chart_dir, value_files, release, namespace):
    chart = load_yaml_file(os.path.join(chart_dir, "Chart.yaml"))
    meta = {}
    for key, field in (("name", "Name"), ("version", "Version"), ("appVersion", "AppVersion")):
        if not isinstance(chart.get(key), str):
            raise RenderError("Chart.yaml: %s must be a string" % key)
        meta[field] = chart[key]
    if chart.get("apiVersion") != "v2":
        raise RenderError("Chart.yaml: apiVersion must be v2")
    values = load_yaml_file(os.path.join(chart_dir, "values.yaml"))
    values = merge_values({}, values, "values.yaml")
    for path in value_files:
        values = merge_values(values, load_yaml_file(path), path)
    ctx = {"Values": values, "Release": {"Name": release, "Namespace": namespace},
           "Chart": meta}
    return ctx, meta["Name"]


def render_chart(chart_dir, value_files=(), release="nqba", namespace="default"):
    ctx, chart_name = chart_context(chart_dir, value_files, release, namespace)
    tdir = os.path.join(chart_dir, "templates")
    docs = []
    for fname in sorted(os.listdir(tdir)):
        path = os.path.join(tdir, fname)
        if not fname.endswith((".yaml", ".yml")):
            raise RenderError("%s: only .yaml templates are supported" % path)
        with open(path, encoding="utf-8") as f:
            text = render_text(f.read(), ctx, "templates/" + fname)
        if text.strip():
            docs.append("---\n# Source: %s/templates/%s\n%s" % (chart_name, fname,
                                                                 text.rstrip("\n") + "\n"))
    return "".join(docs)


# ---- self-test ---------------------------------------------------------------


def self_test():
    ctx = {"Values": {"a": {"b": "x", "n": 2, "big": 1000000, "f": 0.5, "t": True,
                            "off": False, "empty": "", "zero": 0,
                            "m": {"cpu": "1", "mem": "1Gi", "k": [1, 2]}, "s": 'q"\\'},
                      "no": {}},
           "Release": {"Name": "r", "Namespace": "ns"},
           "Chart": {"Name": "c", "Version": "1.0.0", "AppVersion": "0.1.0"}}
    good = [
        ("{{ .Values.a.b }}", "x"),
        ("n: {{ .Values.a.n }}", "n: 2"),
        ("{{ .Values.a.big }}", "1e+06"),
        ("{{ .Values.a.f }}|{{ .Values.a.t }}", "0.5|true"),
        ("{{ .Values.a.n | quote }}", '"2"'),
        ("{{ .Values.a.s | quote }}", '"q\\"\\\\"'),
        ("{{ .Release.Name }}-{{ .Chart.Version }}/{{ .Release.Namespace }}",
         "r-1.0.0/ns"),
        ("a:\n  {{- if .Values.a.t }}\n  b: 1\n  {{- else }}\n  b: 2\n  {{- end }}\n",
         "a:\n  b: 1\n"),
        ("a:\n  {{- if .Values.a.off }}\n  b: 1\n  {{- else }}\n  b: 2\n  {{- end }}\n",
         "a:\n  b: 2\n"),
        ("{{ if .Values.a.empty }}y{{ else }}n{{ end }}", "n"),
        ("{{ if .Values.a.zero }}y{{ else }}n{{ end }}", "n"),
        ("{{ if .Values.no }}y{{ else }}n{{ end }}", "n"),
        ("x:\n  {{- toYaml .Values.a.m | nindent 2 }}\n",
         "x:\n  cpu: '1'\n  k:\n  - 1\n  - 2\n  mem: 1Gi\n"),
        ("x: {{- .Values.a.m | toYaml | nindent 4 }}",
         "x:\n    cpu: '1'\n    k:\n    - 1\n    - 2\n    mem: 1Gi"),
        ("a {{- /* note */ -}} b", "ab"),
        ("a{{/* note */}}b", "ab"),
        ("a {{- /* note */}} b", "a b"),
        ("{{- if .Values.a.t }}\nk: v\n{{- end }}\n", "\nk: v\n"),
    ]
    bad = [
        '{{ include "x" . }}', "{{ range .Values.a }}{{ end }}", "{{ .Values.a.nope }}",
        "{{ if not .Values.a.t }}{{ end }}", "{{ if .Values.a.t }}{{ else if .Values.a.t }}{{ end }}",
        "{{ if .Values.a.t }}", "{{ end }}", "{{-3}}", "{{ .Values.a.m }}",
        "{{ .Values.a.b | upper }}", "{{ $x := 1 }}", "{{ .Values.a.b | default \"y\" }}",
        "{{ .Values.a.b | nindent 2 }}", "{{ printf \"%s\" .Values.a.b }}",
        "{{ with .Values.a }}{{ end }}", "{{ .Capabilities.KubeVersion }}", "x {{ y",
        "{{ /* spaced */ }}", "{{/* a */ b */}}", "{{-  /* two spaces */ -}}",
    ]
    failures = 0
    for tpl, want in good:
        try:
            got = render_text(tpl, ctx)
        except RenderError as e:
            got = "error: %s" % e
        if got != want:
            failures += 1
            print("render_helm self-test: %r gave %r, want %r" % (tpl, got, want))
    for tpl in bad:
        try:
            got = render_text(tpl, ctx)
            failures += 1
            print("render_helm self-test: %r rendered %r; it must be refused" % (tpl, got))
        except RenderError:
            pass
    for f, want in ((1.0, "1"), (100000.0, "100000"), (1234567.0, "1.234567e+06"),
                    (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5, "-2.5"), (1e21, "1e+21")):
        if go_float(f) != want:
            failures += 1
            print("render_helm self-test: go_float(%r) = %r, want %r" % (f, go_float(f), want))
    merged = merge_values({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": 5, "c": None}})
    if merged != {"a": {"b": 5}, "d": 3}:
        failures += 1
        print("render_helm self-test: merge gave %r" % merged)
    n = len(good) + len(bad) + 8
    if failures:
        print("render_helm self-test: %d of %d checks failed" % (failures, n))
        return 1
    print("render_helm self-test: %d checks passed" % n)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("chart", nargs="?")
    ap.add_argument("-f", "--values", action="append", default=[])
    ap.add_argument("--release", default="nqba")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("-o", "--out")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.chart:
        ap.error("CHART_DIR is required")
    try:
        text = render_chart(a.chart, a.values, a.release, a.namespace)
    except (RenderError, OSError, yaml.YAMLError) as e:
        print("render_helm: %s" % e, file=sys.stderr)
        return 1
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
