#!/usr/bin/env python3
"""tests/docs-check.py: what tests/8900-docs.t asks of the docs.

  docs-check.py kinds FILE...       one line per YAML document: FILE KIND NAME
                                    (exit 1 naming the file when one does
                                    not parse)
  docs-check.py deploy DIR          the commands that the compose file and the
                                    Kubernetes manifests under DIR run, and
                                    the cross references between them
  docs-check.py dockerfile FILE     the commands of its CMD and HEALTHCHECK
  docs-check.py walkthrough FILE    the commands of the sh blocks of the
                                    emulator walkthrough of getting-started.md
  docs-check.py examples FILE...    command lines in the code of Markdown
                                    guides

Commands are printed one per line as a JSON array (argv), with the source
before a tab: "SOURCE\t[...]".  Problems go to stderr as "SOURCE: what",
and the exit status is 1 when there were any.
"""
import json
import re
import shlex
import sys

import yaml

problems = []


def problem(src, msg):
    problems.append("%s: %s" % (src, msg))


def emit(src, argv):
    print("%s\t%s" % (src, json.dumps(argv, ensure_ascii=False)))


SHELL_WORDS = {"while", "do", "done", "if", "then", "else", "fi", "for",
               ":", "until", "{", "}", "!"}
ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
REDIR = re.compile(r"^[0-9]*[<>]")


def simple_commands(script):
    """The simple commands of a shell text: argv lists, with assignments,
    redirections and shell keywords left out, $(...) taken as commands of
    their own."""
    out = []
    text = re.sub(r"\\\n", " ", script)
    subst = re.findall(r"\$\(([^()]*)\)", text)
    text = re.sub(r"\$\([^()]*\)", "SUBST", text)
    for s in subst:
        out.extend(simple_commands(s))
    for line in text.split("\n"):
        try:
            lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lex.whitespace_split = True
            lex.commenters = "#"
            words = list(lex)
        except ValueError as e:
            problem("shell", "cannot split %r: %s" % (line, e))
            continue
        cur = []
        for w in words + [";"]:
            if w and set(w) <= set(";&|"):
                cmd = [x for x in cur if not REDIR.match(x)]
                while cmd and (ASSIGN.match(cmd[0]) or cmd[0] in SHELL_WORDS):
                    cmd.pop(0)
                if cmd:
                    out.append(cmd)
                cur = []
            else:
                cur.append(w)
    return out


def argv_commands(argv):
    """An exec-form argv, or the commands of sh -c SCRIPT."""
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash") and argv[1] == "-c":
        return [["sh", "-c"]] + simple_commands(argv[2])
    return [argv]


def load_all(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        problem(path, "does not parse: %s" % e)
        return []


def cmd_kinds(paths):
    for p in paths:
        for d in load_all(p):
            if not isinstance(d, dict):
                problem(p, "a document that is not a mapping")
                continue
            kind = d.get("kind") or ("compose" if "services" in d else "?")
            name = (d.get("metadata") or {}).get("name", "-")
            print("%s %s %s" % (p, kind, name))


def compose(path):
    for d in load_all(path):
        services = d.get("services") or {}
        for name, s in services.items():
            src = "%s:%s" % (path, name)
            if "command" in s:
                c = s["command"]
                argv = c if isinstance(c, list) else shlex.split(c)
                for a in argv_commands(argv):
                    emit(src, a)
            hc = (s.get("healthcheck") or {})
            t = hc.get("test")
            if isinstance(t, list) and t and t[0] in ("CMD", "CMD-SHELL"):
                argv = t[1:] if t[0] == "CMD" else ["sh", "-c", t[1]]
                for a in argv_commands(argv):
                    emit(src + ":healthcheck", a)
            for sec in s.get("secrets") or []:
                sname = sec if isinstance(sec, str) else sec.get("source")
                if sname not in (d.get("secrets") or {}):
                    problem(src, "secret '%s' is not defined" % sname)
            for v in s.get("volumes") or []:
                vol = v.split(":")[0] if isinstance(v, str) else v.get("source")
                if not vol.startswith((".", "/")) and vol not in (d.get("volumes") or {}):
                    problem(src, "volume '%s' is not defined" % vol)
            for dep in s.get("depends_on") or {}:
                if dep not in services:
                    problem(src, "depends on '%s', which is not a service" % dep)


def pod_specs(d):
    kind = d.get("kind")
    spec = d.get("spec") or {}
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return [spec.get("template", {}).get("spec", {})]
    if kind == "CronJob":
        return [spec.get("jobTemplate", {}).get("spec", {})
                .get("template", {}).get("spec", {})]
    return []


def k8s(paths):
    docs = []
    for p in paths:
        docs.extend((p, d) for d in load_all(p))
    secrets = {}
    configmaps = set()
    for p, d in docs:
        if d.get("kind") == "Secret":
            keys = set((d.get("stringData") or {}).keys()) | set((d.get("data") or {}).keys())
            secrets[d["metadata"]["name"]] = keys
        if d.get("kind") == "ConfigMap":
            configmaps.add(d["metadata"]["name"])
    for p, d in docs:
        kind = d.get("kind")
        if kind == "Kustomization":
            continue
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d:
                problem(p, "a document without %s" % key)
        for ps in pod_specs(d):
            src = "%s:%s/%s" % (p, kind, d["metadata"]["name"])
            sc = ps.get("securityContext") or {}
            if not sc.get("runAsNonRoot") or sc.get("runAsUser") in (None, 0):
                problem(src, "the pod does not run as a non-root user")
            vols = {v["name"]: v for v in ps.get("volumes") or []}
            for v in vols.values():
                sn = (v.get("secret") or {}).get("secretName")
                if sn and sn not in secrets:
                    problem(src, "volume '%s' names Secret '%s', not defined" % (v["name"], sn))
            for c in ps.get("containers") or []:
                argv = list(c.get("command") or []) + list(c.get("args") or [])
                if not argv:
                    problem(src, "container '%s' names no command" % c.get("name"))
                for a in argv_commands(argv):
                    emit(src, a)
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    ex = ((c.get(probe) or {}).get("exec") or {}).get("command")
                    if ex:
                        for a in argv_commands(ex):
                            emit(src + ":" + probe, a)
                for e in c.get("env") or []:
                    ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                    if ref and ref.get("key") not in secrets.get(ref.get("name"), ()):
                        problem(src, "env %s: Secret %s has no key %s"
                                % (e["name"], ref.get("name"), ref.get("key")))
                for e in c.get("envFrom") or []:
                    cm = (e.get("configMapRef") or {}).get("name")
                    if cm and cm not in configmaps:
                        problem(src, "envFrom names ConfigMap '%s', not defined" % cm)
                for m in c.get("volumeMounts") or []:
                    if m["name"] not in vols:
                        problem(src, "volumeMount '%s' has no volume" % m["name"])
                    if m["name"] in vols and "secret" in vols[m["name"]]:
                        keys = secrets.get(vols[m["name"]]["secret"]["secretName"], ())
                        for e in c.get("env") or []:
                            v = e.get("value") or ""
                            if v.startswith(m["mountPath"] + "/"):
                                k = v[len(m["mountPath"]) + 1:]
                                if k not in keys:
                                    problem(src, "env %s: file '%s' is not a key of the Secret"
                                            % (e["name"], k))


def cmd_deploy(d):
    import glob
    compose(d + "/compose.yaml")
    k8s(sorted(glob.glob(d + "/k8s/*.yaml")))


def cmd_dockerfile(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"\\\n", " ", text)
    for line in text.split("\n"):
        m = re.match(r"^\s*(CMD|ENTRYPOINT)\s+(.*)$", line)
        h = re.match(r"^\s*HEALTHCHECK\s.*?\bCMD\s+(.*)$", line)
        body = m.group(2) if m else h.group(1) if h else None
        if body is None:
            continue
        body = body.strip()
        try:
            argv = json.loads(body) if body.startswith("[") else ["sh", "-c", body]
        except ValueError:
            problem(path, "not a JSON array: %s" % body)
            continue
        for a in argv_commands(argv):
            emit(path + ":" + (m.group(1) if m else "HEALTHCHECK"), a)


def md_blocks(path, section=None, end=None):
    """The code of a Markdown file: fenced sh blocks (only those, when
    section is given, between the headings section and end), else also
    indented ones."""
    lines = open(path, encoding="utf-8").read().split("\n")
    inside = section is None
    fence = None
    block = []
    indented = []
    for ln in lines + [""]:
        if section is None and fence is None:
            if re.match(r"^ {4,}\S", ln):
                indented.append(ln.strip())
                continue
            if indented:
                yield "\n".join(indented)
                indented = []
        if section and ln.startswith("#") and not fence:
            if ln.startswith(section):
                inside = True
            elif end and ln.startswith(end):
                inside = False
        if fence is not None:
            if ln.startswith("```"):
                if inside and fence in ("sh", ""):
                    yield "\n".join(block)
                fence = None
                block = []
            else:
                block.append(ln)
            continue
        if ln.startswith("```"):
            fence = ln[3:].strip()


def cmd_walkthrough(path):
    n = 0
    for b in md_blocks(path, "## With the emulator", "## "):
        for a in simple_commands(b):
            emit(path, a)
            n += 1
    if n == 0:
        problem(path, "no sh blocks in '## With the emulator'")


def cmd_examples(paths):
    for p in paths:
        for b in md_blocks(p):
            b = re.sub(r"(?m)^\$ ", "", b)
            for a in simple_commands(b):
                emit(p, a)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    what, args = sys.argv[1], sys.argv[2:]
    {"kinds": lambda: cmd_kinds(args),
     "deploy": lambda: cmd_deploy(args[0]),
     "dockerfile": lambda: cmd_dockerfile(args[0]),
     "walkthrough": lambda: cmd_walkthrough(args[0]),
     "examples": lambda: cmd_examples(args)}[what]()
    for p in problems:
        sys.stderr.write(p + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
