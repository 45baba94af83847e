// libxml2 + xmlsec1 plumbing shared by the RIM verifier and the test RIM signer: one process-wide
// initialisation (the libraries' own global state), ownership types, and the namespaces of
// NVIDIA's RIMs. Not for other modules.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::evidence::nvidia::internal {

inline constexpr char kSwidNs[] = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
inline constexpr char kDsigNs[] = "http://www.w3.org/2000/09/xmldsig#";
// The namespace of the `Hash<i>` attributes of a Payload Resource (the reference's
// HashFunctionNamespace).
inline constexpr char kSha384Ns[] = "http://www.w3.org/2001/04/xmlenc#sha384";

struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;
struct DsigCtxFree {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};
using DsigCtxPtr = std::unique_ptr<xmlSecDSigCtx, DsigCtxFree>;

// Initialises libxml2 and xmlsec1 with its OpenSSL engine once (later calls return the first
// outcome); xmlsec's error printing is silenced. Internal when a library fails to initialise.
absl::Status EnsureXmlSecInitialized();

// Parses `xml` without network access, entity substitution or a DTD (a document with one is
// refused). InvalidArgument "nvidia rim: not well-formed XML: <reason>" or "... has a DTD".
absl::StatusOr<XmlDocPtr> ParseXml(std::string_view xml);

// True when `node` is an element named `name` in namespace `ns`.
bool IsElement(const xmlNode* node, const char* ns, const char* name);
// The first child element of `parent` named `name` in `ns`; null when there is none.
xmlNode* ChildElement(const xmlNode* parent, const char* ns, const char* name);

}  // namespace ccburst::evidence::nvidia::internal
