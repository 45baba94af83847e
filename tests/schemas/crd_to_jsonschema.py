#!/usr/bin/env python3
"""Converts a CustomResourceDefinition's openAPIV3Schema into a strict JSON Schema.

  tests/schemas/crd_to_jsonschema.py CRD.yaml VERSION OBJECTMETA.json > OUT.json

Rules (the same as yannh/kubernetes-json-schema's "strict" flavour, applied to a CRD):
- an object with `properties` and neither `additionalProperties` nor
  `x-kubernetes-preserve-unknown-fields: true` gets `additionalProperties: false` (a structural
  CRD prunes unknown fields, so a typo is silently dropped by the API server: we fail instead);
- `x-kubernetes-int-or-string: true` becomes integer-or-string, `nullable: true` adds "null";
- `apiVersion` and `kind` are pinned to the CRD's group/version and kind;
- `metadata` (only `type: object` in a CRD) is the Kubernetes ObjectMeta schema taken from
  OBJECTMETA.json (any standalone-strict Kubernetes schema's `properties.metadata`).
"""
import json
import sys

import yaml


def strict(node):
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def convert(crd, version, object_meta):
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            schema = strict(v["schema"]["openAPIV3Schema"])
            break
    else:
        raise SystemExit(f"crd_to_jsonschema: {crd['metadata']['name']} has no version {version}")
    props = schema["properties"]
    props["apiVersion"] = {"type": "string", "enum": [f"{crd['spec']['group']}/{version}"]}
    props["kind"] = {"type": "string", "enum": [crd["spec"]["names"]["kind"]]}
    props["metadata"] = object_meta
    schema["$schema"] = "http://json-schema.org/schema#"
    return schema


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
        crd = yaml.safe_load(f)
    with open(sys.argv[3]) as f:
        object_meta = json.load(f)["properties"]["metadata"]
    json.dump(convert(crd, sys.argv[2], object_meta), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
