#include "control_api.h"

#include <nlohmann/json.hpp>

namespace execgate {

std::variant<ControlRequest, std::string> parse_control_request(std::string_view line) {
  const nlohmann::json req = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) return std::string("malformed request: not valid JSON");
  if (!req.is_object() || !req.contains("op") || !req["op"].is_string())
    return std::string("request must be a JSON object with a string \"op\"");
  const std::string& op = req["op"].get_ref<const std::string&>();
  ControlRequest out;
  if (op == "submit") {
    out.op = ControlRequest::Op::submit;
    if (!req.contains("document") || !req["document"].is_string())
      return std::string("submit: \"document\" must be the envelope as a string");
    out.document = req["document"].get<std::string>();
    if (req.contains("source")) {
      if (!req["source"].is_string()) return std::string("submit: \"source\" must be a string");
      out.source = req["source"].get<std::string>();
    }
  } else if (op == "tickets") {
    out.op = ControlRequest::Op::tickets;
  } else if (op == "status") {
    out.op = ControlRequest::Op::status;
  } else {
    return "unknown op " + nlohmann::json(op).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           " (expected submit, tickets or status)";
  }
  return out;
}

}  // namespace execgate
