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
