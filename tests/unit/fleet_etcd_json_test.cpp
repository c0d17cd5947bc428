// The etcd gateway's JSON (userspace/fleet/etcd_json.h): request bodies, the strict
// parsers on real responses captured from etcd 3.4 (tests/fuzz/corpus-etcd/) and on
// malformed ones, the watch stream's splitter at every split point, prefix_end, and the
// classification of etcd's errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "fleet/etcd_error.h"
#include "fleet/etcd_json.h"

namespace execgate::fleet {
namespace {

using nlohmann::json;

std::string corpus(const std::string& name) {
  std::ifstream in(std::string(EXECGATE_SOURCE_DIR) + "/tests/fuzz/corpus-etcd/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The kind and message of the EtcdError f throws (fails the test when it throws nothing).
template <class F>
EtcdError thrown(F&& f) {
  try {
    f();
  } catch (const EtcdError& e) {
    return e;
  }
  ADD_FAILURE() << "no EtcdError thrown";
  return EtcdError(EtcdErrorKind::canceled, "none");
}

void expect_protocol(std::string_view body, const std::string& part) {
  const EtcdError e = thrown([&] { parse_range(body); });
  EXPECT_EQ(e.kind(), EtcdErrorKind::protocol) << body;
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
}

TEST(EtcdJson, PrefixEnd) {
  EXPECT_EQ(prefix_end("/p/"), "/p0");
  EXPECT_EQ(prefix_end("a"), "b");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(std::string("a\xfe\xff\xff", 4)), std::string("a\xff", 2));
  EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdJson, RequestBodies) {
  EXPECT_EQ(json::parse(range_request_json("/p/", "/p0", 12, 500, true)),
            json({{"key", "L3Av"}, {"range_end", "L3Aw"}, {"revision", "12"}, {"limit", "500"}, {"keys_only", true}}));
  EXPECT_EQ(json::parse(range_request_json("k", "", 0, 0, false)), json({{"key", "aw=="}}));
  EXPECT_EQ(json::parse(put_request_json("k", "")), json({{"key", "aw=="}, {"value", ""}}));
  EXPECT_EQ(json::parse(delete_request_json("k", "l")), json({{"key", "aw=="}, {"range_end", "bA=="}}));
  const json txn = json::parse(create_txn_json("k", "v"));
  EXPECT_EQ(txn["compare"][0], json({{"result", "EQUAL"}, {"target", "CREATE"}, {"key", "aw=="}, {"create_revision", "0"}}));
  EXPECT_EQ(txn["success"][0], json({{"request_put", {{"key", "aw=="}, {"value", "dg=="}}}}));
  EXPECT_EQ(json::parse(compact_request_json(7)), json({{"revision", "7"}, {"physical", true}}));
  EXPECT_EQ(json::parse(watch_create_json("/p/", "/p0", 5)),
            json({{"create_request", {{"key", "L3Av"}, {"range_end", "L3Aw"}, {"start_revision", "5"}, {"progress_notify", true}}}}));
  EXPECT_EQ(json::parse(auth_request_json("u", "p\"w")), json({{"name", "u"}, {"password", "p\"w"}}));
  EXPECT_EQ(thrown([] { auth_request_json("u", "\xff"); }).kind(), EtcdErrorKind::protocol);
}

TEST(EtcdJson, RealResponses) {
  const RangeResult more = parse_range(corpus("range_more.json"));
  EXPECT_EQ(more.revision, 13);
  EXPECT_TRUE(more.more);
  EXPECT_EQ(more.count, 4);
  ASSERT_EQ(more.kvs.size(), 2u);
  EXPECT_EQ(more.kvs[0].key, "/p/hosts/h1/x");
  EXPECT_EQ(more.kvs[1].key, "/p/k1");
  EXPECT_EQ(more.kvs[1].value, "v1");
  EXPECT_EQ(more.kvs[1].create_revision, 11);
  EXPECT_EQ(more.kvs[1].mod_revision, 11);
  EXPECT_EQ(more.kvs[1].version, 1);

  const RangeResult empty = parse_range(corpus("range_empty.json"));
  EXPECT_TRUE(empty.kvs.empty());
  EXPECT_FALSE(empty.more);
  EXPECT_EQ(empty.count, 0);  // absent when zero

  EXPECT_GT(parse_put(corpus("put.json")), 0);
  EXPECT_GT(parse_delete(corpus("delete.json")), 0);
  EXPECT_TRUE(parse_txn_succeeded(corpus("txn_succeeded.json")));
  EXPECT_FALSE(parse_txn_succeeded(corpus("txn_failed.json")));
  EXPECT_FALSE(parse_auth_token(corpus("auth_token.json")).empty());
}

TEST(EtcdJson, RealWatchStream) {
  JsonStreamSplitter splitter;
  splitter.feed(corpus("watch_stream.json"));
  std::vector<WatchResponse> msgs;
  while (auto m = splitter.next()) msgs.push_back(parse_watch_message(*m));
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_TRUE(msgs[0].created);
  EXPECT_FALSE(msgs[0].progress());
  ASSERT_EQ(msgs[1].events.size(), 6u);
  EXPECT_EQ(msgs[1].events[5].type, WatchEvent::Type::del);
  EXPECT_EQ(msgs[1].events[5].kv.key, "/p/k9");
  EXPECT_EQ(msgs[1].events[5].kv.mod_revision, 15);
  EXPECT_EQ(msgs[2].events.at(0).type, WatchEvent::Type::put);
  EXPECT_EQ(msgs[2].events.at(0).kv.value, "new");
  EXPECT_EQ(msgs[2].revision, 16);
  EXPECT_EQ(msgs[3].events.at(0).type, WatchEvent::Type::del);

  JsonStreamSplitter progress;
  progress.feed(corpus("watch_progress.json"));
  ASSERT_TRUE(progress.next());
  const WatchResponse p = parse_watch_message(*progress.next());
  EXPECT_TRUE(p.progress());
  EXPECT_EQ(p.watch_id, -1);
  EXPECT_EQ(p.revision, 17);

  JsonStreamSplitter compacted;
  compacted.feed(corpus("watch_compacted.json"));
  ASSERT_TRUE(compacted.next());
  const WatchResponse c = parse_watch_message(*compacted.next());
  EXPECT_TRUE(c.canceled);
  EXPECT_EQ(c.compact_revision, 3);
  EXPECT_EQ(c.revision, 0);  // absent in a cancel's header

  JsonStreamSplitter auth;
  auth.feed(corpus("watch_canceled_auth.json"));
  const WatchResponse a = parse_watch_message(*auth.next());
  EXPECT_TRUE(a.created && a.canceled);
  EXPECT_NE(a.cancel_reason.find("user name is empty"), std::string::npos);
  EXPECT_EQ(classify_etcd_error(0, a.cancel_reason), EtcdErrorKind::auth);

  // a stream's error message throws its error
  const EtcdError e = thrown([] { parse_watch_message(corpus("watch_error.json")); });
  EXPECT_EQ(e.kind(), EtcdErrorKind::protocol);
  EXPECT_NE(std::string(e.what()).find("invalid character"), std::string::npos) << e.what();
  const EtcdError s = thrown([] {
    parse_watch_message(R"({"error":{"grpc_code":7,"http_code":403,"message":"etcdserver: permission denied"}})");
  });
  EXPECT_EQ(s.kind(), EtcdErrorKind::permission);
}

TEST(EtcdJson, RealErrors) {
  const EtcdError auth = gateway_error(corpus("error_auth_failed.json"), 400, "etcd 127.0.0.1:23791: authenticate as \"root\"");
  EXPECT_EQ(auth.kind(), EtcdErrorKind::auth);
  EXPECT_STREQ(auth.what(),
               "etcd 127.0.0.1:23791: authenticate as \"root\": authentication failed: etcdserver: authentication "
               "failed, invalid user ID or password");
  EXPECT_EQ(auth.server_message(), "etcdserver: authentication failed, invalid user ID or password");
  EXPECT_EQ(gateway_error(corpus("error_user_empty.json"), 400, "x").kind(), EtcdErrorKind::auth);
  const EtcdError token = gateway_error(corpus("error_invalid_token.json"), 401, "x");
  EXPECT_EQ(token.kind(), EtcdErrorKind::auth);
  EXPECT_TRUE(is_token_rejected(token.server_message()));
  EXPECT_EQ(gateway_error(corpus("error_compacted.json"), 400, "x").kind(), EtcdErrorKind::compacted);
  EXPECT_EQ(gateway_error(R"({"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7})",
                          403, "x")
                .kind(),
            EtcdErrorKind::permission);
  EXPECT_EQ(gateway_error(R"({"error":"etcdserver: no leader","code":14})", 503, "x").kind(), EtcdErrorKind::unavailable);
  EXPECT_EQ(gateway_error(R"({"error":"something","code":2})", 500, "x").kind(), EtcdErrorKind::unavailable);
  EXPECT_EQ(gateway_error("<html>bad gateway</html>", 502, "x").kind(), EtcdErrorKind::unavailable);
  const EtcdError nf = gateway_error("Not Found\n", 404, "etcd h:1: range \"/a\"");
  EXPECT_EQ(nf.kind(), EtcdErrorKind::protocol);
  EXPECT_STREQ(nf.what(), "etcd h:1: range \"/a\": unexpected response (HTTP 404): Not Found?");
  EXPECT_EQ(gateway_error(R"({"error":"etcdserver: mvcc: required revision is a future revision","code":11})", 400, "x")
                .kind(),
            EtcdErrorKind::protocol);
  EXPECT_EQ(gateway_error("", 400, "x").kind(), EtcdErrorKind::protocol);
}

TEST(EtcdJson, Classify) {
  EXPECT_EQ(classify_etcd_error(11, "etcdserver: mvcc: required revision has been compacted"), EtcdErrorKind::compacted);
  EXPECT_EQ(classify_etcd_error(0, "rpc error: code = PermissionDenied desc = etcdserver: permission denied"),
            EtcdErrorKind::permission);
  EXPECT_EQ(classify_etcd_error(16, "etcdserver: invalid auth token"), EtcdErrorKind::auth);
  EXPECT_EQ(classify_etcd_error(3, "etcdserver: user name is empty"), EtcdErrorKind::auth);
  EXPECT_EQ(classify_etcd_error(14, "etcdserver: request timed out"), EtcdErrorKind::unavailable);
  EXPECT_EQ(classify_etcd_error(3, "etcdserver: key is not provided"), EtcdErrorKind::protocol);
  EXPECT_TRUE(is_token_rejected("etcdserver: invalid auth token"));
  EXPECT_TRUE(is_token_rejected("etcdserver: revision of auth store is old"));
  EXPECT_FALSE(is_token_rejected("etcdserver: permission denied"));
  // the base kind, for exit codes
  EXPECT_EQ(static_cast<const Error&>(EtcdError(EtcdErrorKind::permission, "m")).kind(), ErrorKind::verification);
  EXPECT_EQ(static_cast<const Error&>(EtcdError(EtcdErrorKind::unavailable, "m")).kind(), ErrorKind::io);
}

TEST(EtcdJson, StrictRange) {
  const std::string header = R"("header":{"revision":"5"})";
  expect_protocol("", "not valid JSON");
  expect_protocol("garbage", "not valid JSON");
  expect_protocol("[]", "expected a JSON object");
  expect_protocol("{}", "field 'header'");
  expect_protocol(R"({"header":[]})", "field 'header'");
  expect_protocol(R"({"header":{"revision":"x"}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":"-1"}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":"99999999999999999999"}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":18446744073709551615}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":1.5}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":" 5"}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":"+5"}})", "field 'header.revision'");
  expect_protocol(R"({"header":{"revision":""}})", "field 'header.revision'");
  expect_protocol("{" + header + R"(,"more":"true"})", "field 'more'");
  expect_protocol("{" + header + R"(,"kvs":{}})", "field 'kvs'");
  expect_protocol("{" + header + R"(,"kvs":[1]})", "field 'kvs'");
  expect_protocol("{" + header + R"(,"kvs":[{"key":"%%%%"}]})", "field 'kvs[0].key': expected base64");
  expect_protocol("{" + header + R"(,"kvs":[{"key":"YQ"}]})", "field 'kvs[0].key'");
  expect_protocol("{" + header + R"(,"kvs":[{"value":"YQ=="}]})", "field 'kvs[0].key'");
  expect_protocol("{" + header + R"(,"kvs":[{"key":"YQ==","version":"-2"}]})", "field 'kvs[0].version'");
  expect_protocol("{" + header + R"(,"kvs":[{"key":"YQ==","value":7}]})", "field 'kvs[0].value'");
  expect_protocol(std::string(100, '[') + std::string(100, ']'), "nested deeper");
  expect_protocol("{\"header\":{\"revision\":\"5\"},\"x\":\"\xff\"}", "not valid JSON");
  // integers are accepted as numbers too, null is absent, unknown fields are ignored
  const RangeResult r = parse_range(R"({"header":{"revision":9},"count":null,"kvs":[{"key":"YQ==","lease":"3"}],"new":1})");
  EXPECT_EQ(r.revision, 9);
  EXPECT_EQ(r.count, 0);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].key, "a");
  EXPECT_EQ(parse_range(R"({"header":{"revision":"9223372036854775807"}})").revision,
            std::numeric_limits<std::int64_t>::max());
}

TEST(EtcdJson, StrictOthers) {
  EXPECT_EQ(thrown([] { parse_auth_token(R"({"header":{}})"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_auth_token(R"({"header":{},"token":"a b"})"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_auth_token(R"({"header":{},"token":"a\r\nX: y"})"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_txn_succeeded(R"({"header":{},"succeeded":1})"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_delete(R"({"header":{},"deleted":"x"})"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_put("{}"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_watch_message("{}"); }).kind(), EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_watch_message(R"({"result":{"header":{},"events":[{"type":"PATCH","kv":{"key":"YQ=="}}]}})"); })
                .kind(),
            EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_watch_message(R"({"result":{"header":{},"events":[{"type":"PUT"}]}})"); }).kind(),
            EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_watch_message(R"({"result":{"header":{},"compact_revision":"-4"}})"); }).kind(),
            EtcdErrorKind::protocol);
  EXPECT_EQ(thrown([] { parse_watch_message(R"({"error":42})"); }).kind(), EtcdErrorKind::protocol);
  const WatchResponse progress = parse_watch_message(R"({"result":{"header":{"revision":"8"}}})");
  EXPECT_TRUE(progress.progress());
  EXPECT_EQ(progress.revision, 8);
}

// Every way of cutting a stream of messages into two reads gives the same messages.
TEST(EtcdJson, SplitterEverySplitPoint) {
  const std::vector<std::string> messages = {
      R"({"result":{"header":{"revision":"4"},"created":true}})",
      R"({"a":"brace } in a string { and \" an escaped quote \\","b":[{"c":"]"}]})",
      R"({"e":"\\"})",
      "{}",
  };
  std::string stream;
  for (const auto& m : messages) stream += m + "\n  \r\n\t";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    for (std::size_t cut2 = cut; cut2 <= stream.size(); cut2 += 7) {
      JsonStreamSplitter s;
      std::vector<std::string> got;
      s.feed(std::string_view(stream).substr(0, cut));
      while (auto m = s.next()) got.push_back(*m);
      s.feed(std::string_view(stream).substr(cut, cut2 - cut));
      while (auto m = s.next()) got.push_back(*m);
      s.feed(std::string_view(stream).substr(cut2));
      while (auto m = s.next()) got.push_back(*m);
      EXPECT_EQ(got, messages) << "cut at " << cut << ", " << cut2;
      EXPECT_EQ(s.pending(), 0u);
    }
  }
  // byte by byte
  JsonStreamSplitter s;
  std::vector<std::string> got;
  for (char c : stream) {
    s.feed(std::string_view(&c, 1));
    while (auto m = s.next()) got.push_back(*m);
  }
  EXPECT_EQ(got, messages);
}

TEST(EtcdJson, SplitterRejects) {
  {
    JsonStreamSplitter s;
    s.feed(R"({"a":1})");
    EXPECT_EQ(thrown([&] { s.feed("x{}"); }).kind(), EtcdErrorKind::protocol);
    EXPECT_TRUE(s.next());  // what came before is still there
  }
  {
    JsonStreamSplitter s(16);
    s.feed(R"({"a":"0123456)");
    EXPECT_EQ(s.pending(), 13u);
    const EtcdError e = thrown([&] { s.feed("789abcdef\"}"); });
    EXPECT_NE(std::string(e.what()).find("longer than 16 bytes"), std::string::npos) << e.what();
  }
  {
    JsonStreamSplitter s(16);
    s.feed(R"({"a":"01234567"})");  // exactly 16
    EXPECT_TRUE(s.next());
  }
  {
    JsonStreamSplitter s;
    EXPECT_EQ(thrown([&] { s.feed("[1]"); }).kind(), EtcdErrorKind::protocol);
  }
}

}  // namespace
}  // namespace execgate::fleet
