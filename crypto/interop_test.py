#!/usr/bin/python3
"""Interop check of ccburst's JOSE code against an independent implementation (jwcrypto).

usage: interop_test.py CRYPTO_INTEROP_TOOL WORK_DIR

1. The tool writes keys, JWEs (RSA1_5, RSA-OAEP-256, ECDH-ES+A256KW on P-256/P-521) and JWTs
   (ES256, EdDSA, ES384, RS256); jwcrypto must decrypt/verify all of them, and its RFC 7638
   thumbprints must equal ours.
2. jwcrypto encrypts to our tee-pubkey JWKs (flattened, with `epk` in the per-recipient header as
   jwcrypto writes it, and compact converted to flattened, as Rust clients see it); the tool must
   decrypt every one.
"""
import base64
import json
import os
import shutil
import subprocess
import sys

from jwcrypto import jwe, jwk, jws, jwt

failures = []


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    tool, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    subprocess.run([tool, "write", work], check=True)
    with open(os.path.join(work, "manifest.json")) as f:
        manifest = json.load(f)

    def load_key(name):
        with open(os.path.join(work, name), "rb") as f:
            return jwk.JWK.from_pem(f.read())

    jwe_algs = jwe.default_allowed_algs + ["RSA1_5"]

    # 1a. Our JWEs decrypt with jwcrypto.
    for entry in manifest["jwes"]:
        with open(os.path.join(work, entry["file"])) as f:
            text = f.read()
        obj = json.loads(text)
        check(list(obj) == ["protected", "encrypted_key", "iv", "ciphertext", "tag"],
              f"{entry['file']}: members")
        header = b64url_decode(obj["protected"]).decode()
        check(header == json.dumps(json.loads(header), separators=(",", ":")),
              f"{entry['file']}: protected header is compact")
        token = jwe.JWE()
        token.allowed_algs = jwe_algs
        try:
            token.deserialize(text, key=load_key(entry["key"]))
            check(token.payload == b64url_decode(entry["plaintext_b64"]),
                  f"{entry['file']}: jwcrypto decrypts to the expected plaintext")
        except Exception as e:  # noqa: BLE001 - report any library error as a failure
            check(False, f"{entry['file']}: jwcrypto decrypt raised {e!r}")

    # 1b. Our JWTs verify with jwcrypto; thumbprints agree.
    for entry in manifest["jwts"]:
        alg = entry["alg"]
        with open(os.path.join(work, entry["public_pem"]), "rb") as f:
            pem_key = jwk.JWK.from_pem(f.read())
        jwk_key = jwk.JWK(**entry["public_jwk"])
        check(pem_key.thumbprint() == entry["thumbprint"], f"{alg}: thumbprint of PEM key")
        check(jwk_key.thumbprint() == entry["thumbprint"], f"{alg}: thumbprint of JWK")
        try:
            sig = jws.JWS()
            sig.deserialize(entry["token"], key=pem_key)
            check(json.loads(sig.payload) == entry["claims"], f"{alg}: JWS verifies, claims match")
            check(sig.jose_header["alg"] == alg and sig.jose_header["typ"] == "JWT",
                  f"{alg}: header alg/typ")
            parsed = jwt.JWT(jwt=entry["token"], key=jwk_key, algs=[alg])
            check(json.loads(parsed.claims)["alg_under_test"] == alg, f"{alg}: JWT verifies")
        except Exception as e:  # noqa: BLE001
            check(False, f"{alg}: jwcrypto verify raised {e!r}")
        # A tampered token must not verify.
        head, payload, signature = entry["token"].split(".")
        bad = head + "." + payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
        try:
            jws.JWS().deserialize(bad, key=pem_key)
            check(False, f"{alg}: tampered token rejected")
        except Exception:  # noqa: BLE001
            check(True, f"{alg}: tampered token rejected")

    # 2. jwcrypto encrypts to our keys; the tool decrypts.
    py_manifest = []
    for i, entry in enumerate(manifest["keys"]):
        tee_pubkey = entry["tee_pubkey"]
        recipient = jwk.JWK(**tee_pubkey)
        alg = tee_pubkey["alg"]
        for style in ("flattened", "compact"):
            plaintext = f"from jwcrypto to {entry['name']} / {alg} ({style})".encode() + bytes(range(256))
            token = jwe.JWE(plaintext, protected=json.dumps({"alg": alg, "enc": "A256GCM"}),
                            algs=jwe_algs)
            token.add_recipient(recipient)
            if style == "flattened":
                out = json.loads(token.serialize(compact=False))
            else:
                parts = token.serialize(compact=True).split(".")
                out = dict(zip(["protected", "encrypted_key", "iv", "ciphertext", "tag"], parts))
            name = f"py-jwe-{i}-{style}.json"
            with open(os.path.join(work, name), "w") as f:
                json.dump(out, f)
            py_manifest.append({"file": name, "key": entry["key"],
                                "plaintext_b64": base64.urlsafe_b64encode(plaintext).decode().rstrip("=")})
    with open(os.path.join(work, "py-manifest.json"), "w") as f:
        json.dump(py_manifest, f)
    result = subprocess.run([tool, "decrypt", work])
    check(result.returncode == 0, f"crypto_interop_tool decrypts all {len(py_manifest)} jwcrypto JWEs")

    if failures:
        print(f"{len(failures)} interop check(s) failed", file=sys.stderr)
        return 1
    print("all interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
