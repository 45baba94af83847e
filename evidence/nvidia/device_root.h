// The NVIDIA Device Identity CA, the self-signed root of every NVIDIA GPU's device certificate
// chain (GPU FMC leaf -> BROM -> provisioner ICA -> identity CA -> this root), shipped with
// ccburst as the Intel and AMD roots are (device_root.cc says where NVIDIA publishes it). A chain
// is anchored only when its last certificate is byte-identical to a configured anchor; this one is
// the default, and its DER SHA-256 is pinned here so that a changed copy is caught at start-up.
#pragma once

#include <string_view>

namespace ccburst::evidence::nvidia {

// SHA-256 of the DER certificate, hex. Recompute with
// `openssl x509 -in nvidia_device_root.pem -outform DER | sha256sum`.
inline constexpr std::string_view kNvidiaDeviceRootSha256 =
    "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48";

// The NVIDIA Device Identity CA (PEM, ECDSA P-384, valid 2021-11-05 .. 9999-12-31).
std::string_view NvidiaDeviceRootPem();

}  // namespace ccburst::evidence::nvidia
