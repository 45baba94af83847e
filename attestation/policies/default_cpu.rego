# ccburst default attestation policy for CPU TEEs (policy id `default_cpu`).
#
# It appraises the claims of one TEE (under input.<tee>) and yields an AR4SI trustworthiness
# vector in `trust_claims`. Each claim starts at a pessimistic default and is raised only when
# the evidence matches registered reference values. Numbers are AR4SI values
# (draft-ietf-rats-ar4si):
#   executables    3  approved boot-time executables      33  unrecognized executables
#   hardware       2  genuine, supported hardware/firmware 97  unrecognized hardware/firmware
#   configuration  2  known, approved configuration        36  security configuration unavailable
#   other claims   0  no assertion
#
# To support another TEE, add one block of `executables`, `hardware` and `configuration` rules
# guarded by `input.<tee>`; only one TEE's claims are present in an input, so the blocks never
# conflict.

package policy

import rego.v1

default executables := 33

default hardware := 97

default configuration := 36

default file_system := 0

default instance_identity := 0

default runtime_opaque := 0

default storage_opaque := 0

default sourced_data := 0

trust_claims := {
	"instance-identity": instance_identity,
	"configuration": configuration,
	"executables": executables,
	"file-system": file_system,
	"hardware": hardware,
	"runtime-opaque": runtime_opaque,
	"storage-opaque": storage_opaque,
	"sourced-data": sourced_data,
}

# A reference value is either a list of accepted values or a single value.
accepted(id, value) if {
	expected := query_reference_value(id)
	is_array(expected)
	value in expected
}

accepted(id, value) if {
	expected := query_reference_value(id)
	not is_array(expected)
	expected != null
	value == expected
}

##### sample (development only: nothing in its evidence is signed)

executables := 3 if {
	input.sample
	accepted("launch_digest", input.sample.launch_digest)
}

hardware := 2 if {
	input.sample
	accepted("svn", input.sample.svn)
}

configuration := 2 if {
	input.sample
	input.sample.debug == false
}

##### Intel TDX

executables := 3 if {
	input.tdx
	accepted("rtmr_1", input.tdx.quote.body.rtmr_1)
	accepted("rtmr_2", input.tdx.quote.body.rtmr_2)
}

hardware := 2 if {
	input.tdx
	accepted("mr_td", input.tdx.quote.body.mr_td)
	input.tdx.tcb_status == "UpToDate"
}

configuration := 2 if {
	input.tdx
	input.tdx.td_attributes.debug == false
	accepted("xfam", input.tdx.quote.body.xfam)
}

##### AMD SEV-SNP

executables := 3 if {
	input.snp
	accepted("snp_launch_measurement", input.snp.measurement)
}

hardware := 2 if {
	input.snp
	accepted("snp_bootloader", input.snp.reported_tcb_bootloader)
	accepted("snp_microcode", input.snp.reported_tcb_microcode)
	accepted("snp_snp_svn", input.snp.reported_tcb_snp)
	accepted("snp_tee_svn", input.snp.reported_tcb_tee)
}

configuration := 2 if {
	input.snp
	input.snp.policy_debug_allowed == false
	input.snp.policy_migrate_ma == false
}

##### Azure confidential VMs with a vTPM (SEV-SNP and TDX)
#
# Claims (evidence/azure): the `snp` claims of the SNP report inside the HCL report, or the `tdx`
# claims of the TD quote; the vTPM's PCRs as `tpm.pcr00` .. `tpm.pcr23` (PCR11: the guest's
# unified kernel image); `vm_configuration` as the HCL reports it ("secure-boot",
# "console-enabled", ...). The SNP measurement / MRTD are the paravisor's (HCL) measurement.
# Configuration needs the debug state off, secure boot on and the serial console off, or on where
# the operator registered `az_console_enabled` (e.g. [true]) as a reference value.

az_vm_configuration_approved(vm) if {
	vm["secure-boot"] == true
	vm["console-enabled"] == false
}

az_vm_configuration_approved(vm) if {
	vm["secure-boot"] == true
	accepted("az_console_enabled", vm["console-enabled"])
}

executables := 3 if {
	input["az-snp-vtpm"]
	accepted("measurement", input["az-snp-vtpm"].measurement)
	accepted("snp_pcr11", input["az-snp-vtpm"].tpm.pcr11)
}

hardware := 2 if {
	input["az-snp-vtpm"]
	accepted("tcb_bootloader", input["az-snp-vtpm"].reported_tcb_bootloader)
	accepted("tcb_microcode", input["az-snp-vtpm"].reported_tcb_microcode)
	accepted("tcb_snp", input["az-snp-vtpm"].reported_tcb_snp)
	accepted("tcb_tee", input["az-snp-vtpm"].reported_tcb_tee)
}

configuration := 2 if {
	input["az-snp-vtpm"]
	input["az-snp-vtpm"].policy_debug_allowed == false
	az_vm_configuration_approved(input["az-snp-vtpm"].vm_configuration)
}

executables := 3 if {
	input["az-tdx-vtpm"]
	accepted("mr_td", input["az-tdx-vtpm"].quote.body.mr_td)
	accepted("tdx_pcr11", input["az-tdx-vtpm"].tpm.pcr11)
}

hardware := 2 if {
	input["az-tdx-vtpm"]
	accepted("mr_td", input["az-tdx-vtpm"].quote.body.mr_td)
	input["az-tdx-vtpm"].tcb_status == "UpToDate"
}

configuration := 2 if {
	input["az-tdx-vtpm"]
	input["az-tdx-vtpm"].td_attributes.debug == false
	accepted("xfam", input["az-tdx-vtpm"].quote.body.xfam)
	az_vm_configuration_approved(input["az-tdx-vtpm"].vm_configuration)
}

##### Appraisal extensions

# Workload identifiers that init-data binds to the evidence (the Kata agent policy's data),
# published as the `ear.trustee.identifiers` extension (EAR key -18) that resource policies read.
extensions := [{
	"name": "ear.trustee.identifiers",
	"key": -18,
	"value": {"validated": validated_identifiers},
}]

container_images := [image |
	some container in input.init_data_claims.agent_policy_claims.containers
	image := container.OCI.Annotations["io.kubernetes.cri.image-name"]
]

container_uids := [uid |
	some container in input.init_data_claims.agent_policy_claims.containers
	uid := container.OCI.Process.User.UID
]

validated_identifiers[name] := values if {
	some name, values in {"container_images": container_images, "container_uids": container_uids}
	count(values) > 0
}
