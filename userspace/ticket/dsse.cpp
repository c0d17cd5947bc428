// DSSE v1 envelope: PAE, encoding and strict decoding.
#include "execgate/dsse.h"

#include <nlohmann/json.hpp>

#include <array>

#include "common/encoding.h"
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

namespace {

constexpr std::array<std::int8_t, 256> make_b64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kB64 = make_b64_table();

// Strict, canonical RFC 4648 base64 (standard alphabet, '=' padding, zero padding bits):
// exactly one text encodes a given byte string. Envelope data is public, so this need not
// be constant-time (and is much faster than libsodium's constant-time decoder).
bool decode_canonical_b64(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  out.reserve(in.size() / 4 * 3);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const int a = kB64[p[i]], b = kB64[p[i + 1]];
    if (a < 0 || b < 0) return false;
    if (last && p[i + 2] == '=' && p[i + 3] == '=') {
      if (b & 0x0f) return false;
      out.push_back(static_cast<char>(a << 2 | b >> 4));
      return true;
    }
    const int c = kB64[p[i + 2]];
    if (c < 0) return false;
    if (last && p[i + 3] == '=') {
      if (c & 0x03) return false;
      out.push_back(static_cast<char>(a << 2 | b >> 4));
      out.push_back(static_cast<char>((b & 0x0f) << 4 | c >> 2));
      return true;
    }
    const int d = kB64[p[i + 3]];
    if (d < 0) return false;
    out.push_back(static_cast<char>(a << 2 | b >> 4));
    out.push_back(static_cast<char>((b & 0x0f) << 4 | c >> 2));
    out.push_back(static_cast<char>((c & 0x03) << 6 | d));
  }
  return true;
}

std::string canonical_b64(const FieldReader& r, const char* key, std::size_t max_bytes) {
  const nlohmann::json& v = r.get(key);
  if (!v.is_string()) r.fail(key, "a base64 string");
  const auto& text = v.get_ref<const std::string&>();
  if (text.size() > max_bytes) r.fail(key, "at most " + std::to_string(max_bytes) + " bytes");
  std::string raw;
  if (!decode_canonical_b64(text, raw)) r.fail(key, "canonical standard base64 with '=' padding");
  return raw;
}

}  // namespace

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
  env.payload = canonical_b64(top, "payload", kMaxEnvelopeBytes);
  const json& sigs = top.array("signatures", 1, 1);
  FieldReader s(sigs[0], what, "signatures[0].");
  s.only({"keyid", "sig"});
  env.keyid = s.string("keyid", 64);
  if (!is_lower_hex(env.keyid, 16)) s.fail("keyid", "16 lower-case hex digits (execgate key id)");
  const std::string sig = canonical_b64(s, "sig", 256);
  if (sig.size() != env.sig.size()) s.fail("sig", "base64 of a 64-byte Ed25519 signature");
  std::copy(sig.begin(), sig.end(), env.sig.begin());
  return env;
}

}  // namespace execgate::dsse
