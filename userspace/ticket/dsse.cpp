// DSSE v1 envelope: PAE, encoding and strict decoding.
#include "execgate/dsse.h"

#include <nlohmann/json.hpp>

#include "execgate/encoding.h"
#include "execgate/ticket_errors.h"
#include "strict_json.h"

namespace execgate::dsse {

using nlohmann::json;
using ticket_detail::FieldReader;

std::string pae(std::string_view payload_type, std::string_view payload) {
  std::string out;
  out.reserve(payload_type.size() + payload.size() + 32);
  out += "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

std::string encode(const Envelope& env) {
  std::string out;
  out += "{\"payloadType\":";
  out += json(env.payload_type).dump();
  out += ",\"payload\":\"";
  out += base64_encode(as_bytes(env.payload));
  out += "\",\"signatures\":[{\"keyid\":";
  out += json(env.keyid).dump();
  out += ",\"sig\":\"";
  out += base64_encode(env.sig);
  out += "\"}]}";
  return out;
}

// Strict, canonical base64: decodes and re-encodes to the same text.
static Bytes canonical_b64(const FieldReader& r, const char* key, std::size_t max_bytes) {
  std::string text = r.string(key, max_bytes);
  Bytes raw;
  try {
    raw = base64_decode(text);
  } catch (const Error&) {
    r.fail(key, "standard base64 with '=' padding");
  }
  if (base64_encode(raw) != text) r.fail(key, "canonical base64 (non-zero padding bits)");
  return raw;
}

Envelope decode(std::string_view text) {
  const std::string what = "envelope";
  if (text.size() > kMaxEnvelopeBytes)
    throw MalformedError(what + ": " + std::to_string(text.size()) + " bytes, more than the limit of " +
                         std::to_string(kMaxEnvelopeBytes));
  json doc = ticket_detail::parse_strict(text, what, 4);
  FieldReader top(doc, what);
  top.only({"payloadType", "payload", "signatures"});
  Envelope env;
  env.payload_type = top.string("payloadType", 256, false);
  Bytes payload = canonical_b64(top, "payload", kMaxEnvelopeBytes);
  env.payload.assign(payload.begin(), payload.end());
  const json& sigs = top.array("signatures", 1, 1);
  FieldReader s(sigs[0], what, "signatures[0].");
  s.only({"keyid", "sig"});
  env.keyid = s.string("keyid", 64);
  if (!is_lower_hex(env.keyid, 16)) s.fail("keyid", "16 lower-case hex digits (execgate key id)");
  Bytes sig = canonical_b64(s, "sig", 256);
  if (sig.size() != env.sig.size()) s.fail("sig", "base64 of a 64-byte Ed25519 signature");
  std::copy(sig.begin(), sig.end(), env.sig.begin());
  return env;
}

}  // namespace execgate::dsse
