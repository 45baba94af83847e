# ccburst default attestation policy for attached devices (policy id `default_gpu`).
#
# Same shape as default_cpu.rego: pessimistic AR4SI defaults, raised per device type when its
# claims (under input.<device>) match reference values. Add one guarded block per device type.

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

##### sampledevice (development only)

hardware := 2 if {
	input.sampledevice
	accepted("device_svn", input.sampledevice.svn)
}

##### NVIDIA GPUs (Hopper), verified locally: SPDM report signed by the GPU, device chain to the
##### NVIDIA Device Identity CA, FWID bound, nonce bound to the session (evidence/nvidia).
# Reference values: `nvidia_driver_version` and `nvidia_vbios_version` (a value or a list), and
# `nvidia_measurements`, golden measurements as an object {SPDM index: hex, or a list of the
# alternatives a RIM allows} (from NVIDIA's driver and VBIOS RIMs, `ccburst config
# set-rim-reference-values`; RIM index = SPDM index - 1). Every listed index must match.

hardware := 2 if {
	input.nvidia.arch == "Hopper"
	not nvidia_ocsp_unassured
}

# With OCSP checking on ([nvidia_verifier] ocsp_url), the verifier refuses a GPU whose device
# certificates are revoked and reports `ocsp.status` "good" or "unknown" (responder unreachable,
# response unverifiable, status unknown): without OCSP assurance the GPU is only a warning, and a
# GPU said to be revoked never affirms (the default, 97).
hardware := 32 if {
	input.nvidia.arch == "Hopper"
	input.nvidia.ocsp.status == "unknown"
}

nvidia_ocsp_unassured if {
	input.nvidia.ocsp.status != "good"
}

configuration := 2 if {
	input.nvidia
	accepted("nvidia_driver_version", input.nvidia.config.driver_version)
	accepted("nvidia_vbios_version", input.nvidia.config.vbios_version)
}

executables := 3 if {
	input.nvidia
	golden := query_reference_value("nvidia_measurements")
	is_object(golden)
	count(golden) > 0
	every index, value in golden {
		golden_match(input.nvidia.measurements[index], value)
	}
}

# With RIM fetching on ([nvidia_verifier] rim_service_url), the verifier itself compared the GPU's
# measurements with the golden ones of its fetched, signature-checked driver and VBIOS RIMs.
executables := 3 if {
	input.nvidia.rim.measurements_match == true
}

golden_match(measured, value) if {
	is_string(value)
	measured == value
}

golden_match(measured, value) if {
	is_array(value)
	measured in value
}
