#!/usr/bin/env python3
"""Validates every Kubernetes manifest under deploy/ against the published schemas.

  tests/manifests_test.py [REPO_ROOT [BUILD_DIR]]

What is checked (tests/schemas/README.md names the schemas' sources and versions):
1. every YAML document under deploy/ (kustomization files aside) against the strict JSON Schema of
   its apiVersion/kind: Kubernetes v1.30 (yannh/kubernetes-json-schema, standalone-strict) and the
   KEDA v2.20.2 CRDs (converted with tests/schemas/crd_to_jsonschema.py, which must still give the
   checked-in JSON); a kind without a schema is a failure, never skipped;
2. every kustomization (deploy/kbs/base, its overlays, deploy/scaler) rendered here in Python
   (resources, namespace, labels, images and strategic-merge patches: exactly the features the
   kustomizations use; any other field fails) and each rendered object validated again; when
   `kubectl` is installed, its `kubectl kustomize` output must equal ours;
3. what the schemas cannot say: the KBS pods' restricted security context (OpenShift
   restricted-v2: no fixed UID), its probes, kbs.toml and scaler.toml parse as TOML (and, given a
   BUILD_DIR with ccburst-scaler, scaler.toml passes `ccburst-scaler --check`), the init-data
   annotation is base64(gzip(initdata.toml)) and the agent's copy is the same bytes, and no private
   key is committed under deploy/;
4. negative tests: a typo'd field, a wrong type, an unknown ScaledObject/TriggerAuthentication
   field and an unknown kustomization field are each caught.
Exit status 0 when everything holds; each failure is printed as `FAIL <where>: <why>`.
"""
import base64
import copy
import gzip
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import tomllib

import jsonschema
import yaml

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
BUILD = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
DEPLOY = ROOT / "deploy"
SCHEMAS = ROOT / "tests" / "schemas"
K8S = SCHEMAS / "kubernetes" / "v1.30.0-standalone-strict"
KEDA = SCHEMAS / "keda" / "v2.20.2"

# (apiVersion, kind) -> schema file. Only the kinds deploy/ uses; a new kind needs its schema here.
SCHEMA_FILES = {
    ("v1", "Namespace"): K8S / "namespace-v1.json",
    ("v1", "ServiceAccount"): K8S / "serviceaccount-v1.json",
    ("v1", "ConfigMap"): K8S / "configmap-v1.json",
    ("v1", "Secret"): K8S / "secret-v1.json",
    ("v1", "Service"): K8S / "service-v1.json",
    ("apps/v1", "Deployment"): K8S / "deployment-apps-v1.json",
    ("policy/v1", "PodDisruptionBudget"): K8S / "poddisruptionbudget-policy-v1.json",
    ("networking.k8s.io/v1", "NetworkPolicy"): K8S / "networkpolicy-networking-v1.json",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): K8S / "clusterrolebinding-rbac-v1.json",
    ("rbac.authorization.k8s.io/v1", "Role"): K8S / "role-rbac-v1.json",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): K8S / "rolebinding-rbac-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): KEDA / "scaledobject-keda-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): KEDA / "triggerauthentication-keda-v1alpha1.json",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRoleBinding", "ClusterRole"}
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources", "images", "patches"}
INIT_DATA_ANNOTATION = "io.katacontainers.config.hypervisor.cc_init_data"

failures = []
_validators = {}


def fail(where, why):
    failures.append(f"{where}: {why}")
    print(f"FAIL {where}: {why}")


def validator(api_version, kind):
    key = (api_version, kind)
    if key not in SCHEMA_FILES:
        return None
    if key not in _validators:
        with open(SCHEMA_FILES[key]) as f:
            _validators[key] = jsonschema.Draft7Validator(json.load(f))
    return _validators[key]


def schema_errors(obj, partial=False):
    """The schema violations of one object, as short strings ("spec.replica: ..."). A partial
    object (a strategic-merge patch) may leave out required fields; anything it has must fit."""
    if not isinstance(obj, dict):
        return ["document is not a mapping"]
    v = validator(obj.get("apiVersion"), obj.get("kind"))
    if v is None:
        return [f"no schema for apiVersion {obj.get('apiVersion')!r} kind {obj.get('kind')!r}"]
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in sorted(v.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
            if not (partial and e.validator == "required")]


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def name_of(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('namespace', '')}/{obj.get('metadata', {}).get('name')}"


# ---- a kustomize subset ------------------------------------------------------------------------


class KustomizeError(Exception):
    pass


def merge(base, patch):
    """Strategic merge as kustomize applies it to the fields our patches touch: maps merge
    recursively, lists of named maps (containers, volumes, env) merge by name, other lists and
    scalars replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            if k.startswith("$patch") or k.startswith("$setElementOrder"):
                raise KustomizeError(f"patch directive {k} is not supported by this renderer")
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if (isinstance(base, list) and isinstance(patch, list) and patch
            and all(isinstance(x, dict) and "name" in x for x in base + patch)):
        out = [copy.deepcopy(x) for x in base]
        index = {x["name"]: i for i, x in enumerate(out)}
        for item in patch:
            if item["name"] in index:
                out[index[item["name"]]] = merge(out[index[item["name"]]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def pod_templates(obj):
    spec = obj.get("spec", {}).get("template", {}).get("spec")
    return [spec] if spec else []


def render(directory):
    """Renders the kustomization in `directory` into a list of objects."""
    kfile = directory / "kustomization.yaml"
    if not kfile.exists():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    (k,) = load_docs(kfile)
    unknown = set(k) - KUSTOMIZATION_FIELDS
    if unknown:
        raise KustomizeError(f"{kfile}: unsupported kustomization field(s) {sorted(unknown)}")
    if k.get("apiVersion") != "kustomize.config.k8s.io/v1beta1" or k.get("kind") != "Kustomization":
        raise KustomizeError(f"{kfile}: not a kustomize.config.k8s.io/v1beta1 Kustomization")
    objects = []
    for res in k.get("resources", []):
        path = (directory / res).resolve()
        objects += render(path) if path.is_dir() else load_docs(path)
    for p in k.get("patches", []):
        if set(p) != {"path"}:
            raise KustomizeError(f"{kfile}: only `patches: - path:` (strategic merge) is supported")
        for patch in load_docs(directory / p["path"]):
            targets = [o for o in objects if o["kind"] == patch["kind"]
                       and o["metadata"]["name"] == patch["metadata"]["name"]]
            if len(targets) != 1:
                raise KustomizeError(f"{kfile}: patch {p['path']} matches {len(targets)} objects, want 1")
            i = objects.index(targets[0])
            objects[i] = merge(targets[0], patch)
    for image in k.get("images", []):
        if set(image) - {"name", "newName", "newTag"}:
            raise KustomizeError(f"{kfile}: unsupported image field(s) in {image}")
        for o in objects:
            for spec in pod_templates(o):
                for c in spec.get("containers", []) + spec.get("initContainers", []):
                    repo = c["image"].rsplit(":", 1)[0] if "@" not in c["image"] else c["image"].split("@")[0]
                    if repo == image["name"]:
                        tag = image.get("newTag", c["image"][len(repo) + 1:])
                        c["image"] = f"{image.get('newName', repo)}:{tag}"
    for lab in k.get("labels", []):
        if set(lab) - {"pairs", "includeSelectors"} or lab.get("includeSelectors", False):
            raise KustomizeError(f"{kfile}: only labels with includeSelectors false are supported")
        for o in objects:
            o.setdefault("metadata", {}).setdefault("labels", {}).update(lab["pairs"])
    if "namespace" in k:
        for o in objects:
            if o["kind"] == "Namespace":
                o["metadata"]["name"] = k["namespace"]
            elif o["kind"] not in CLUSTER_SCOPED:
                o["metadata"]["namespace"] = k["namespace"]
    return objects


def kustomizations():
    return sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))


def compare_with_kubectl(directory, ours):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        print(f"note {directory.relative_to(ROOT)}: kubectl not installed, rendering not cross-checked")
        return
    run = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        fail(directory.relative_to(ROOT), f"kubectl kustomize failed: {run.stderr.strip()}")
        return
    theirs = {name_of(o): o for o in yaml.safe_load_all(run.stdout) if o}
    mine = {name_of(o): o for o in ours}
    if theirs.keys() != mine.keys():
        fail(directory.relative_to(ROOT), f"objects differ from kubectl kustomize: {sorted(theirs.keys() ^ mine.keys())}")
        return
    differ = [key for key in mine if json.dumps(mine[key], sort_keys=True) != json.dumps(theirs[key], sort_keys=True)]
    for key in differ:
        fail(directory.relative_to(ROOT), f"{key} differs from kubectl kustomize's rendering")
    if not differ:
        print(f"ok   {directory.relative_to(ROOT)}: same {len(mine)} objects as kubectl kustomize")


# ---- checks beyond the schemas -----------------------------------------------------------------


def check_restricted(where, obj):
    """OpenShift restricted-v2 / Pod Security `restricted`, without a fixed UID."""
    for spec in pod_templates(obj):
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            fail(where, "pod securityContext.runAsNonRoot is not true")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            fail(where, "pod seccompProfile is not RuntimeDefault")
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            sc = c.get("securityContext", {})
            for key in ("runAsUser", "runAsGroup"):
                if key in sc or key in psc:
                    fail(where, f"{c['name']}: fixed {key} (restricted-v2 assigns the UID)")
            if sc.get("allowPrivilegeEscalation") is not False:
                fail(where, f"{c['name']}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                fail(where, f"{c['name']}: readOnlyRootFilesystem is not true")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
                fail(where, f"{c['name']}: capabilities are not drop [ALL]")


def check_kbs(where, objects):
    deployments = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "ccburst-kbs"]
    if len(deployments) != 1:
        fail(where, "no ccburst-kbs Deployment")
        return
    dep = deployments[0]
    check_restricted(where, dep)
    (kbs,) = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "kbs"]
    if kbs.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
        fail(where, "kbs liveness probe is not /healthz")
    if kbs.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
        fail(where, "kbs readiness probe is not /readyz")
    if dep["spec"]["replicas"] < 2:
        fail(where, f"ccburst-kbs runs {dep['spec']['replicas']} replica(s), want at least 2")
    if not dep["spec"]["template"]["spec"].get("affinity", {}).get("podAntiAffinity"):
        fail(where, "ccburst-kbs has no pod anti-affinity")
    kinds = {o["kind"] for o in objects}
    for kind in ("PodDisruptionBudget", "Service", "NetworkPolicy", "ConfigMap"):
        if kind not in kinds:
            fail(where, f"no {kind}")
    for cm in (o for o in objects if o["kind"] == "ConfigMap" and "kbs.toml" in o.get("data", {})):
        try:
            conf = tomllib.loads(cm["data"]["kbs.toml"])
        except tomllib.TOMLDecodeError as e:
            fail(where, f"kbs.toml: {e}")
            continue
        if conf.get("storage_backend", {}).get("storage_type") != "Postgres":
            fail(where, "kbs.toml: storage_backend.storage_type is not Postgres")
        if "postgres" not in conf.get("storage_backend", {}).get("backends", {}):
            fail(where, "kbs.toml: no [storage_backend.backends.postgres]")
        if conf.get("http_server", {}).get("insecure_http"):
            fail(where, "kbs.toml: insecure_http")


def check_scaler_dir():
    where = "deploy/scaler"
    for cm in load_docs(DEPLOY / "scaler" / "scaler-config.yaml"):
        try:
            tomllib.loads(cm["data"]["scaler.toml"])
        except tomllib.TOMLDecodeError as e:
            fail(where, f"scaler.toml: {e}")
        scaler = BUILD / "apps" / "ccburst-scaler" if BUILD else None
        if scaler and scaler.exists():
            with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
                f.write(cm["data"]["scaler.toml"])
                f.flush()
                run = subprocess.run([str(scaler), "--config", f.name, "--check"], capture_output=True, text=True)
            if run.returncode != 0:
                fail(where, f"scaler.toml refused by ccburst-scaler --check: {(run.stdout + run.stderr).strip()}")
            else:
                print(f"ok   {where}: scaler.toml passes ccburst-scaler --check")
    for dep in load_docs(DEPLOY / "scaler" / "scaler.yaml"):
        if dep["kind"] == "Deployment":
            check_restricted(f"{where}/scaler.yaml", dep)
    initdata = (DEPLOY / "scaler" / "initdata.toml").read_text()
    parsed = tomllib.loads(initdata)
    for key in ("aa.toml", "cdh.toml"):
        tomllib.loads(parsed["data"][key])
    cdh = tomllib.loads(parsed["data"]["cdh.toml"])
    if not cdh["kbc"].get("url", "").startswith("https://") or "kbs_cert" not in cdh["kbc"]:
        fail(where, "initdata.toml: cdh.toml [kbc] lacks an https url or kbs_cert")
    if "package agent_policy" not in parsed["data"].get("policy.rego", ""):
        fail(where, "initdata.toml: no agent policy")
    (dep,) = [d for d in load_docs(DEPLOY / "scaler" / "cloud-deployment.yaml") if d["kind"] == "Deployment"]
    pod = dep["spec"]["template"]
    if pod["spec"].get("runtimeClassName") != "kata-remote":
        fail(where, "cloud-deployment: runtimeClassName is not kata-remote")
    try:
        annotated = gzip.decompress(base64.b64decode(pod["metadata"]["annotations"][INIT_DATA_ANNOTATION], validate=True))
    except Exception as e:  # noqa: BLE001 - any decoding failure is the finding
        fail(where, f"cloud-deployment: {INIT_DATA_ANNOTATION} is not base64(gzip): {e}")
    else:
        if annotated.decode() != initdata:
            fail(where, f"cloud-deployment: {INIT_DATA_ANNOTATION} is not initdata.toml (run make-initdata.py)")
    (cm,) = load_docs(DEPLOY / "scaler" / "initdata-configmap.yaml")
    if cm["data"]["initdata.toml"] != initdata:
        fail(where, "initdata-configmap.yaml is not initdata.toml (run make-initdata.py)")
    agents = [c for c in pod["spec"].get("initContainers", []) if c["name"] == "ccburst-agent"]
    if not agents or agents[0].get("restartPolicy") != "Always" or "--listen=127.0.0.1:8006" not in agents[0]["args"]:
        fail(where, "cloud-deployment: no ccburst-agent sidecar serving 127.0.0.1:8006")


def check_no_private_keys():
    for path in DEPLOY.rglob("*"):
        if path.is_file() and "PRIVATE KEY-----" in path.read_text(errors="replace"):
            fail(path.relative_to(ROOT), "contains a PEM private key: deploy/ holds placeholders only")


def check_crd_conversion():
    meta = K8S / "deployment-apps-v1.json"
    for crd, out in (("keda.sh_scaledobjects.yaml", "scaledobject-keda-v1alpha1.json"),
                     ("keda.sh_triggerauthentications.yaml", "triggerauthentication-keda-v1alpha1.json")):
        run = subprocess.run([sys.executable, str(SCHEMAS / "crd_to_jsonschema.py"), str(KEDA / crd), "v1alpha1", str(meta)],
                             capture_output=True, text=True)
        if run.returncode != 0 or json.loads(run.stdout) != json.loads((KEDA / out).read_text()):
            fail(f"tests/schemas/keda/{out}", f"is not crd_to_jsonschema.py of {crd}")


# ---- negative tests ----------------------------------------------------------------------------


def expect_caught(label, obj, want_fragment):
    errors = schema_errors(obj)
    if not any(want_fragment in e for e in errors):
        fail("negative", f"{label}: not caught (errors: {errors or 'none'})")
    else:
        print(f"ok   negative: {label} caught: {next(e for e in errors if want_fragment in e)}")


def negative_tests():
    (kbs,) = [o for o in render(DEPLOY / "kbs" / "overlays" / "prod") if o["kind"] == "Deployment"]
    typo = copy.deepcopy(kbs)
    typo["spec"]["replica"] = typo["spec"].pop("replicas")
    expect_caught("Deployment spec.replica (typo of replicas)", typo, "'replica'")
    typo = copy.deepcopy(kbs)
    c = typo["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")
    expect_caught("container readinesProbe (typo)", typo, "'readinesProbe'")
    typo = copy.deepcopy(kbs)
    typo["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True
    expect_caught("securityContext runAsNonroot (wrong case)", typo, "'runAsNonroot'")
    wrong = copy.deepcopy(kbs)
    wrong["spec"]["replicas"] = "two"
    expect_caught("Deployment replicas of the wrong type", wrong, "'two' is not of type")

    (so,) = load_docs(DEPLOY / "scaler" / "scaledobject-ccburst.yaml")
    typo = copy.deepcopy(so)
    typo["spec"]["pollingIntervall"] = typo["spec"].pop("pollingInterval")
    expect_caught("ScaledObject spec.pollingIntervall (typo)", typo, "'pollingIntervall'")
    typo = copy.deepcopy(so)
    typo["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behaviour"] = (
        typo["spec"]["advanced"]["horizontalPodAutoscalerConfig"].pop("behavior"))
    expect_caught("ScaledObject advanced...behaviour (British spelling)", typo, "'behaviour'")
    (ta,) = load_docs(DEPLOY / "scaler" / "triggerauthentication-ccburst.yaml")
    typo = copy.deepcopy(ta)
    typo["spec"]["secretTargetRef"][0]["paramter"] = typo["spec"]["secretTargetRef"][0].pop("parameter")
    expect_caught("TriggerAuthentication secretTargetRef[0].paramter (typo)", typo, "'paramter'")

    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        shutil.copy(DEPLOY / "kbs" / "base" / "service.yaml", d / "service.yaml")
        (d / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource:\n  - service.yaml\n")
        try:
            render(d)
        except KustomizeError as e:
            print(f"ok   negative: kustomization field `resource` (typo) caught: {e}")
        else:
            fail("negative", "kustomization field `resource` (typo of resources) not caught")


def patch_files():
    out = set()
    for directory in kustomizations():
        (k,) = load_docs(directory / "kustomization.yaml")
        out |= {(directory / p["path"]).resolve() for p in k.get("patches", []) if "path" in p}
    return out


def main():
    files = sorted(p for p in DEPLOY.rglob("*.yaml") if p.name != "kustomization.yaml")
    patches = patch_files()
    count = 0
    for path in files:
        for i, doc in enumerate(load_docs(path)):
            count += 1
            for e in schema_errors(doc, partial=path.resolve() in patches):
                fail(f"{path.relative_to(ROOT)}[{i}] {name_of(doc)}", e)
    print(f"ok   {count} documents in {len(files)} files under deploy/ checked against their schemas")

    for directory in kustomizations():
        where = directory.relative_to(ROOT)
        try:
            objects = render(directory)
        except (KustomizeError, OSError, KeyError) as e:
            fail(where, f"rendering: {e}")
            continue
        for o in objects:
            for e in schema_errors(o):
                fail(f"{where} (rendered) {name_of(o)}", e)
        print(f"ok   {where}: {len(objects)} rendered objects checked against their schemas")
        compare_with_kubectl(directory, objects)
        if directory.is_relative_to(DEPLOY / "kbs"):
            check_kbs(where, objects)

    check_scaler_dir()
    check_no_private_keys()
    check_crd_conversion()
    negative_tests()
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all manifests valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
