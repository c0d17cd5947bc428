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
  } else if (op == "fleet_submit" || op == "fleet_forget") {
    out.op = op == "fleet_submit" ? ControlRequest::Op::fleet_submit : ControlRequest::Op::fleet_forget;
    if (out.op == ControlRequest::Op::fleet_submit) {
      if (!req.contains("document") || !req["document"].is_string())
        return op + ": \"document\" must be the envelope as a string";
      out.document = req["document"].get<std::string>();
    }
    if (!req.contains("key") || !req["key"].is_string()) return op + ": \"key\" must be the etcd key as a string";
    out.key = req["key"].get<std::string>();
    if (out.key.empty() || out.key.size() > kMaxFleetKeyBytes || out.key.front() != '/')
      return op + ": \"key\" must start with / and hold at most " + std::to_string(kMaxFleetKeyBytes) + " bytes";
    for (unsigned char c : out.key)
      if (c < 0x21 || c > 0x7e) return op + ": \"key\" must be printable ASCII without spaces";
  } else if (op == "fleet_contact") {
    out.op = ControlRequest::Op::fleet_contact;
    if (!req.contains("revision") || !req["revision"].is_number_integer() || req["revision"].get<std::int64_t>() < 0)
      return std::string("fleet_contact: \"revision\" must be an integer >= 0");
    out.revision = req["revision"].get<std::int64_t>();
  } else if (op == "job_start" || op == "job_join" || op == "job_end") {
    out.op = op == "job_start" ? ControlRequest::Op::job_start
             : op == "job_join" ? ControlRequest::Op::job_join
                                : ControlRequest::Op::job_end;
    if (!req.contains("job") || !req["job"].is_string()) return op + ": \"job\" must be the job's id as a string";
    out.job = req["job"].get<std::string>();
    if (out.op != ControlRequest::Op::job_end && req.contains("pids")) {
      const auto& pids = req["pids"];
      if (!pids.is_array() || pids.size() > kMaxJobPids)
        return op + ": \"pids\" must be an array of at most " + std::to_string(kMaxJobPids) + " process ids";
      for (const auto& p : pids) {
        if (!p.is_number_integer() || p.get<std::int64_t>() <= 0 || p.get<std::int64_t>() > 0x3fffffff)
          return op + ": \"pids\" must hold process ids (integers > 0)";
        out.pids.push_back(static_cast<pid_t>(p.get<std::int64_t>()));
      }
    }
  } else if (op == "tickets") {
    out.op = ControlRequest::Op::tickets;
  } else if (op == "status") {
    out.op = ControlRequest::Op::status;
  } else {
    return "unknown op " + nlohmann::json(op).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           " (expected submit, tickets, status, fleet_submit, fleet_forget, fleet_contact, job_start, job_join or job_end)";
  }
  return out;
}

}  // namespace execgate
