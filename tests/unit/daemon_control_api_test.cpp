// The control socket's request parser (control_api.h; fuzzed by
// tests/fuzz/control_request_fuzz.cpp): the requests it takes, and for each malformed one
// an error naming what is wrong.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "control_api.h"

using execgate::ControlRequest;
using execgate::parse_control_request;

namespace {

ControlRequest request(std::string_view line) {
  auto r = parse_control_request(line);
  if (const auto* error = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << line << ": refused: " << *error;
    return {};
  }
  return std::get<ControlRequest>(r);
}

std::string error(std::string_view line) {
  auto r = parse_control_request(line);
  if (const auto* e = std::get_if<std::string>(&r)) return *e;
  ADD_FAILURE() << line << ": accepted";
  return {};
}

TEST(ControlRequestParse, ASubmissionWithItsDocumentAndSource) {
  const ControlRequest r = request(R"({"op":"submit","document":"{\"payload\":\"x\"}","source":"ci:job-7"})");
  EXPECT_EQ(r.op, ControlRequest::Op::submit);
  EXPECT_EQ(r.document, R"({"payload":"x"})");
  EXPECT_EQ(r.source, "ci:job-7");
}

TEST(ControlRequestParse, ASubmissionsSourceIsTheSocketUnlessNamed) {
  EXPECT_EQ(request(R"({"op":"submit","document":"d"})").source, "socket");
}

TEST(ControlRequestParse, TicketsAndStatus) {
  EXPECT_EQ(request(R"({"op":"tickets"})").op, ControlRequest::Op::tickets);
  EXPECT_EQ(request(R"({"op":"status"})").op, ControlRequest::Op::status);
  EXPECT_EQ(request(" {\"op\" : \"status\"} ").op, ControlRequest::Op::status) << "whitespace around JSON";
}

TEST(ControlRequestParse, NotJsonIsNamed) {
  EXPECT_EQ(error("status"), "malformed request: not valid JSON");
  EXPECT_EQ(error(""), "malformed request: not valid JSON");
  EXPECT_EQ(error(R"({"op":"status"} trailing)"), "malformed request: not valid JSON");
  EXPECT_EQ(error("{\"op\":\"\xff\"}"), "malformed request: not valid JSON") << "invalid UTF-8";
}

TEST(ControlRequestParse, TheOpMustBeAStringMemberOfAnObject) {
  const std::string want = "request must be a JSON object with a string \"op\"";
  EXPECT_EQ(error("[]"), want);
  EXPECT_EQ(error(R"("status")"), want);
  EXPECT_EQ(error("{}"), want);
  EXPECT_EQ(error(R"({"op":1})"), want);
  EXPECT_EQ(error(R"({"op":null})"), want);
  EXPECT_EQ(error(R"({"Op":"status"})"), want) << "member names are case-sensitive";
}

TEST(ControlRequestParse, AnUnknownOpIsNamedWithTheOnesThereAre) {
  EXPECT_EQ(error(R"({"op":"revoke"})"), "unknown op \"revoke\" (expected submit, tickets, status, fleet_submit, fleet_forget, fleet_contact, job_start, job_join or job_end)");
  EXPECT_EQ(error(R"({"op":"a\"b"})"), "unknown op \"a\\\"b\" (expected submit, tickets, status, fleet_submit, fleet_forget, fleet_contact, job_start, job_join or job_end)")
      << "quoted as JSON";
}

TEST(ControlRequestParse, ASubmissionsDocumentMustBeAString) {
  const std::string want = "submit: \"document\" must be the envelope as a string";
  EXPECT_EQ(error(R"({"op":"submit"})"), want);
  EXPECT_EQ(error(R"({"op":"submit","document":{"payload":"x"}})"), want) << "the envelope as a string, not an object";
  EXPECT_EQ(error(R"({"op":"submit","document":null})"), want);
}

TEST(ControlRequestParse, ASubmissionsSourceMustBeAString) {
  EXPECT_EQ(error(R"({"op":"submit","document":"d","source":7})"), "submit: \"source\" must be a string");
}

}  // namespace
