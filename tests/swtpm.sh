# A software TPM (swtpm) shaped like the vTPM of an Azure confidential VM, for the vTPM attester
# tests (sourced, not run). Each test sets WORK (its scratch directory) and TESTGEN
# (ccburst-testgen) before calling these, and calls swtpm_stop from its exit trap.
#
#   swtpm_start                 swtpm on two free loopback ports (server P, control P+1); sets
#                               SWTPM_PID, SWTPM_TCTI and TPM2TOOLS_TCTI
#   swtpm_provision_ak          RSA-2048 restricted signing key (RSASSA/SHA-256, as Azure's AK)
#                               persisted at 0x81000003 (a new key each call); its public key
#                               in $WORK/ak.pem
#   swtpm_provision_hcl TEE DIR the HCL report for TEE (az-tdx-vtpm | az-snp-vtpm) around the AK,
#                               with a hardware report from the test hierarchy DIR, in NV
#                               0x01400001 (replacing what was there)
#   swtpm_stop                  stops the swtpm this shell started

SWTPM_PID=""
SWTPM_TCTI=""
AZ_AK_HANDLE=0x81000003
AZ_HCL_NV_INDEX=0x01400001

# A port P such that P and P+1 are free on 127.0.0.1 (racy by nature: swtpm_start retries).
_swtpm_free_port_pair() {
  python3 - <<'PY'
import random, socket
for _ in range(100):
    p = random.randint(20000, 60000)
    socks = []
    try:
        for port in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", port)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(p); break
PY
}

swtpm_start() {
  mkdir -p "$WORK/tpm"
  local port attempt
  for attempt in 1 2 3 4 5; do
    port="$(_swtpm_free_port_pair)"
    swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
      --server type=tcp,port="$port",bindaddr=127.0.0.1 \
      --ctrl type=tcp,port="$((port + 1))",bindaddr=127.0.0.1 \
      --flags not-need-init,startup-clear >"$WORK/swtpm.log" 2>&1 &
    SWTPM_PID=$!
    SWTPM_TCTI="swtpm:host=127.0.0.1,port=$port"
    export TPM2TOOLS_TCTI="$SWTPM_TCTI"
    for _ in $(seq 1 100); do
      kill -0 "$SWTPM_PID" 2>/dev/null || break
      if tpm2_getcap properties-fixed >/dev/null 2>&1; then
        echo "swtpm: listening on $SWTPM_TCTI (pid $SWTPM_PID)"
        return 0
      fi
      sleep 0.05
    done
    swtpm_stop
  done
  echo "swtpm: could not start: $(cat "$WORK/swtpm.log")" >&2
  return 1
}

swtpm_stop() {
  if [ -n "$SWTPM_PID" ]; then
    kill "$SWTPM_PID" 2>/dev/null || true
    wait "$SWTPM_PID" 2>/dev/null || true
    SWTPM_PID=""
  fi
}

swtpm_provision_ak() {
  # An ordinary (not primary) key, so that every provisioning makes a new AK as a new VM would.
  # No resource manager in front of swtpm: flush the transient objects each tool leaves behind.
  tpm2_createprimary -Q -C o -c "$WORK/srk.ctx"
  tpm2_flushcontext -t
  tpm2_create -Q -C "$WORK/srk.ctx" -G rsa2048:rsassa-sha256:null \
    -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' \
    -u "$WORK/ak.pub" -r "$WORK/ak.priv"
  tpm2_flushcontext -t
  tpm2_load -Q -C "$WORK/srk.ctx" -u "$WORK/ak.pub" -r "$WORK/ak.priv" -c "$WORK/ak.ctx"
  tpm2_evictcontrol -Q -C o -c "$WORK/ak.ctx" "$AZ_AK_HANDLE"
  tpm2_flushcontext -t
  tpm2_readpublic -Q -c "$AZ_AK_HANDLE" -f pem -o "$WORK/ak.pem"
  rm -f "$WORK/srk.ctx" "$WORK/ak.ctx" "$WORK/ak.pub" "$WORK/ak.priv"
}

swtpm_provision_hcl() {
  local tee="$1" dir="$2"
  "$TESTGEN" hcl-report --tee "$tee" --hierarchy "$dir" --ak-pub "$WORK/ak.pem" \
    --out "$WORK/hcl.bin"
  if tpm2_getcap handles-nv-index | grep -qi "^- ${AZ_HCL_NV_INDEX/0x0/0x}\$"; then
    tpm2_nvundefine -Q -C o "$AZ_HCL_NV_INDEX"
  fi
  tpm2_nvdefine -Q -C o -s "$(stat -c %s "$WORK/hcl.bin")" \
    -a 'ownerread|ownerwrite|authread|authwrite' "$AZ_HCL_NV_INDEX"
  tpm2_nvwrite -Q -C o -i "$WORK/hcl.bin" "$AZ_HCL_NV_INDEX"
}
