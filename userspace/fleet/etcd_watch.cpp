// EtcdClient::watch: one gateway watch stream (POST /v3/watch, a chunked response of one
// JSON object per message) per range, all driven by one curl multi handle on the
// caller's thread.
#include <curl/curl.h>

#include <algorithm>
#include <exception>

#include "fleet/etcd_client.h"
#include "fleet/etcd_client_impl.h"

namespace execgate::fleet {

namespace {

// How long one wait for the streams lasts: the longest before `stop` is seen.
constexpr int poll_ms = 200;
// TCP keepalive on a stream: a peer gone without a FIN (a partition, a host that died) is
// found in about idle + 9 * interval seconds instead of never.
constexpr long keepalive_idle_s = 10;
constexpr long keepalive_interval_s = 5;
// The most of a non-200 answer kept, for its error message.
constexpr std::size_t max_error_body = 64u << 10;

// One range's stream.
struct Stream {
  std::size_t index = 0;  // of the range, as on_message is told
  std::string key, range_end;
  std::int64_t resume_revision = 0;  // where a reopened stream starts: the start, then past what was delivered
  std::string what;                  // "watch \"/a\" .. \"/b\"" for messages
  std::size_t endpoint = 0;
  std::size_t connects = 0;          // endpoints tried while none sent a byte
  bool reauthenticated = false;

  CURLM* multi = nullptr;            // attached to while easy is set
  detail::CurlEasy easy;
  detail::CurlHeaders headers;
  std::string body;                  // the create_request: must outlive the transfer
  char errbuf[CURL_ERROR_SIZE] = {};
  JsonStreamSplitter splitter{EtcdClient::max_response_bytes};
  bool received = false;             // a byte of a 200 answer
  std::string error_body;            // a non-200 answer
  std::exception_ptr error;          // thrown in the write callback (curl is C: nothing may cross it)

  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { detach(); }

  void detach() noexcept {
    if (easy && multi) curl_multi_remove_handle(multi, easy.get());
    easy.reset();
    headers.reset();
  }
};

std::size_t on_stream_bytes(char* data, std::size_t size, std::size_t count, void* user) {
  auto* s = static_cast<Stream*>(user);
  const std::size_t n = size * count;
  try {
    long status = 0;
    curl_easy_getinfo(s->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      s->error_body.append(data, std::min(n, max_error_body - std::min(max_error_body, s->error_body.size())));
      return n;
    }
    s->received = true;
    s->splitter.feed(std::string_view(data, n));
    return n;
  } catch (...) {
    s->error = std::current_exception();
    return 0;  // fails the transfer
  }
}

}  // namespace

void EtcdClient::watch(const std::vector<std::pair<std::string, std::string>>& ranges, std::int64_t start_revision,
                       const std::function<bool(std::size_t, const WatchResponse&)>& on_message,
                       const std::atomic<bool>& stop) {
  if (ranges.empty()) throw Error(ErrorKind::usage, "etcd: a watch of no range");
  Impl& impl = *impl_;
  if (!impl.options.user.empty() && impl.token.empty()) impl.authenticate();
  const detail::CurlMulti multi = detail::make_multi();  // outlives the streams (declared first)
  std::vector<std::unique_ptr<Stream>> streams;

  auto context = [&impl](const Stream& s) {
    return impl.context(s.endpoint, s.what + (s.resume_revision > 0
                                                  ? " from revision " + std::to_string(s.resume_revision)
                                                  : std::string()));
  };
  // (Re)opens s's stream on s.endpoint, from s.resume_revision.
  auto open = [&](Stream& s) {
    s.detach();
    s.splitter = JsonStreamSplitter(max_response_bytes);
    s.received = false;
    s.error_body.clear();
    s.error = nullptr;
    s.body = watch_create_json(s.key, s.range_end, s.resume_revision);
    s.easy = detail::make_easy();
    s.headers = detail::json_headers(impl.options.user.empty() ? std::string() : impl.token);
    CURL* h = s.easy.get();
    detail::set_post_options(h, impl.options, impl.options.endpoints[s.endpoint] + "/v3/watch", s.body,
                             s.headers.get(), s.errbuf);
    if (curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_bytes) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, keepalive_idle_s) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, keepalive_interval_s) != CURLE_OK)
      throw EtcdError(EtcdErrorKind::protocol, context(s) + ": libcurl refused an option");
    if (curl_multi_add_handle(multi.get(), h) != CURLM_OK)
      throw EtcdError(EtcdErrorKind::unavailable, context(s) + ": curl_multi_add_handle failed");
    s.multi = multi.get();
  };

  for (std::size_t i = 0; i < ranges.size(); ++i) {
    auto s = std::make_unique<Stream>();
    s->index = i;
    s->key = ranges[i].first;
    s->range_end = ranges[i].second;
    s->resume_revision = start_revision;
    s->what = "watch " + shown_key(s->key) + (s->range_end.empty() ? "" : " .. " + shown_key(s->range_end));
    s->endpoint = impl.current;
    open(*s);
    streams.push_back(std::move(s));
  }

  // A message of s: delivered, or the error of its cancel thrown; true to go on.
  auto deliver = [&](Stream& s, const std::string& message) {
    WatchResponse r;
    try {
      r = parse_watch_message(message);
    } catch (const EtcdError& e) {
      throw with_context(e, context(s));
    }
    if (r.canceled) {
      if (r.compact_revision > 0)
        throw EtcdError(EtcdErrorKind::compacted, context(s) + ": revision compacted: etcd has compacted up to revision " +
                                                      std::to_string(r.compact_revision),
                        r.cancel_reason);
      if (is_token_rejected(r.cancel_reason) && !impl.options.user.empty() && !s.reauthenticated) {
        s.reauthenticated = true;  // the token expired: once more with a new one
        impl.token.clear();
        impl.authenticate();
        open(s);
        return true;
      }
      EtcdErrorKind kind = classify_etcd_error(0, r.cancel_reason);
      if (kind == EtcdErrorKind::protocol) kind = EtcdErrorKind::canceled;
      throw EtcdError(kind,
                      context(s) + ": " + std::string(to_string(kind)) + ": " +
                          (r.cancel_reason.empty() ? std::string("(no reason given)") : shown_key(r.cancel_reason)),
                      r.cancel_reason);
    }
    // a reopened stream resumes after what was delivered
    for (const auto& ev : r.events) s.resume_revision = std::max(s.resume_revision, ev.kv.mod_revision + 1);
    if (r.progress() && r.revision > 0) s.resume_revision = std::max(s.resume_revision, r.revision + 1);
    return on_message(s.index, r);
  };

  // A stream's transfer ended: reopened on the next endpoint when it never connected,
  // else its error thrown.
  auto finished = [&](Stream& s, CURLcode result) {
    if (s.error) {
      try {
        std::rethrow_exception(s.error);
      } catch (const EtcdError& e) {
        throw with_context(e, context(s));
      }
    }
    long status = 0;
    curl_easy_getinfo(s.easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 0 && status != 200) throw gateway_error(s.error_body, status, context(s));
    const std::size_t n = impl.options.endpoints.size();
    if (!s.received && result != CURLE_OK && ++s.connects < n) {
      s.endpoint = (s.endpoint + 1) % n;
      open(s);
      return;
    }
    throw EtcdError(EtcdErrorKind::unavailable,
                    context(s) + ": unavailable: " +
                        (result == CURLE_OK ? std::string("etcd ended the watch stream")
                                            : "the watch stream failed: " + detail::curl_message(result, s.errbuf)));
  };

  while (!stop.load()) {
    int running = 0;
    const CURLMcode mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK)
      throw EtcdError(EtcdErrorKind::unavailable, "etcd: watch: curl_multi_perform: " + std::string(curl_multi_strerror(mc)));
    for (auto& s : streams) {
      while (auto message = s->splitter.next()) {
        if (!deliver(*s, *message) || stop.load()) return;
      }
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      // copied: msg does not survive removing its handle (which reopening does)
      const CURL* const done = msg->easy_handle;
      const CURLcode result = msg->data.result;
      for (auto& s : streams)
        if (s->easy.get() == done) {
          // messages that came with the end first (a canceled watch says why)
          while (auto message = s->splitter.next())
            if (!deliver(*s, *message) || stop.load()) return;
          if (s->easy.get() == done) finished(*s, result);  // else reopened by deliver
          break;
        }
    }
    if (stop.load()) return;
    const CURLMcode pc = curl_multi_poll(multi.get(), nullptr, 0, poll_ms, nullptr);
    if (pc != CURLM_OK)
      throw EtcdError(EtcdErrorKind::unavailable, "etcd: watch: curl_multi_poll: " + std::string(curl_multi_strerror(pc)));
  }
}

}  // namespace execgate::fleet
