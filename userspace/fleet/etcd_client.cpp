// EtcdClient's unary requests: kv range / put / txn / deleterange / compaction and
// auth/authenticate over the v3 gateway, with endpoint failover and re-authentication.
#include "fleet/etcd_client.h"

#include "fleet/etcd_client_impl.h"

namespace execgate::fleet {

namespace {

// Appends a response's bytes, refusing (curl then fails the transfer) past the limit.
struct Sink {
  std::string* out;
  bool too_large = false;
};

std::size_t on_response_bytes(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->out->size() + n > EtcdClient::max_response_bytes) {
    sink->too_large = true;
    return 0;
  }
  sink->out->append(data, n);
  return n;
}

// The endpoint without its scheme, as messages name it: "127.0.0.1:2379".
std::string_view host_of(std::string_view endpoint) {
  const auto scheme = endpoint.find("://");
  return scheme == std::string_view::npos ? endpoint : endpoint.substr(scheme + 3);
}

// Runs a parser of a 200 body, putting the request's context in front of its errors.
template <class Parse>
auto parsed(const std::string& context, Parse&& parse) {
  try {
    return parse();
  } catch (const EtcdError& e) {
    throw with_context(e, context);
  }
}

}  // namespace

std::string shown_key(std::string_view key) {
  constexpr std::size_t max_shown = 200;
  std::string out = "\"";
  for (char c : key.substr(0, max_shown)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  out += key.size() > max_shown ? "...\"" : "\"";
  return out;
}

EtcdError with_context(const EtcdError& e, const std::string& context) {
  return EtcdError(e.kind(), context + ": " + e.what(), e.server_message());
}

std::string EtcdClient::Impl::context(std::size_t endpoint, std::string_view what) const {
  return "etcd " + std::string(host_of(options.endpoints[endpoint])) + ": " + std::string(what);
}

std::string EtcdClient::Impl::post_once(std::size_t endpoint, const char* path, const std::string& body,
                                        const std::string& what, bool with_token) {
  CURL* h = easy.get();
  // The handle forgets this request's buffers when it returns (even by an exception), so
  // that it never writes to them later (closing a cached connection may set the error
  // buffer); a reset keeps the live connections.
  struct Forget {
    CURL* h;
    ~Forget() { curl_easy_reset(h); }
  } const forget{h};
  char errbuf[CURL_ERROR_SIZE];
  const detail::CurlHeaders headers = detail::json_headers(with_token ? token : std::string());
  std::string response;
  Sink sink{&response};
  detail::set_post_options(h, options, options.endpoints[endpoint] + path, body, headers.get(), errbuf);
  if (curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count())) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_response_bytes) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) != CURLE_OK)
    throw EtcdError(EtcdErrorKind::protocol, context(endpoint, what) + ": libcurl refused an option");
  const CURLcode rc = curl_easy_perform(h);
  if (sink.too_large)
    throw EtcdError(EtcdErrorKind::protocol, context(endpoint, what) + ": response larger than " +
                                                 std::to_string(max_response_bytes) + " bytes");
  if (rc != CURLE_OK)
    throw EtcdError(EtcdErrorKind::unavailable, context(endpoint, what) + ": unavailable: " + detail::curl_message(rc, errbuf));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) throw gateway_error(response, status, context(endpoint, what));
  return response;
}

std::string EtcdClient::Impl::post_failover(const char* path, const std::string& body, const std::string& what,
                                            bool with_token) {
  const std::size_t n = options.endpoints.size();
  std::string last;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t endpoint = (current + i) % n;
    try {
      std::string response = post_once(endpoint, path, body, what, with_token);
      current = endpoint;
      return response;
    } catch (const EtcdError& e) {
      if (e.kind() != EtcdErrorKind::unavailable) {
        current = endpoint;  // it answered
        throw;
      }
      last = last.empty() ? e.what() : last + "; " + e.what();
    }
  }
  throw EtcdError(EtcdErrorKind::unavailable, last);
}

void EtcdClient::Impl::authenticate() {
  const std::string what = "authenticate as " + shown_key(options.user);
  const std::string body = post_failover("/v3/auth/authenticate", auth_request_json(options.user, options.password),
                                         what, /*with_token=*/false);
  token = parsed(context(current, what), [&] { return parse_auth_token(body); });
}

std::string EtcdClient::Impl::call(const char* path, const std::string& body, const std::string& what) {
  if (options.user.empty()) return post_failover(path, body, what, false);
  if (token.empty()) authenticate();
  try {
    return post_failover(path, body, what, true);
  } catch (const EtcdError& e) {
    if (!is_token_rejected(e.server_message())) throw;
  }
  token.clear();  // expired, or issued before an auth change: once more with a new one
  authenticate();
  return post_failover(path, body, what, true);
}

EtcdClient::EtcdClient(EtcdOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.endpoints.empty()) throw Error(ErrorKind::usage, "etcd: no endpoint");
  for (auto& e : options.endpoints) {
    if (!e.starts_with("http://") && !e.starts_with("https://"))
      throw Error(ErrorKind::usage, "etcd: endpoint " + shown_key(e) + " is not http:// or https://");
    while (e.ends_with('/')) e.pop_back();
  }
  if (options.timeout.count() <= 0) throw Error(ErrorKind::usage, "etcd: the timeout must be positive");
  impl_->options = std::move(options);
  impl_->easy = detail::make_easy();
}

EtcdClient::~EtcdClient() = default;

const std::string& EtcdClient::current_endpoint() const noexcept { return impl_->options.endpoints[impl_->current]; }

RangeResult EtcdClient::range(const std::string& key, const std::string& range_end, std::int64_t revision,
                              std::int64_t limit, bool keys_only) {
  const std::string what = "range " + shown_key(key);
  const std::string body =
      impl_->call("/v3/kv/range", range_request_json(key, range_end, revision, limit, keys_only), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_range(body); });
}

RangeResult EtcdClient::newest(const std::string& key, const std::string& range_end, std::int64_t revision) {
  const std::string what = "range " + shown_key(key) + " (newest)";
  const std::string body =
      impl_->call("/v3/kv/range", range_request_json(key, range_end, revision, 1, true, true), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_range(body); });
}

RangeResult EtcdClient::range_prefix(const std::string& prefix, std::int64_t revision) {
  // etcd has no empty key: every key is the range from "\0" to "\0"
  const std::string end = prefix_end(prefix);
  std::string from = prefix.empty() ? std::string(1, '\0') : prefix;
  RangeResult all = range(from, end, revision, range_page_limit);
  bool more = all.more && !all.kvs.empty();
  while (more) {
    from = all.kvs.back().key + '\0';  // the first key after the last one read
    RangeResult page = range(from, end, all.revision, range_page_limit);
    more = page.more && !page.kvs.empty();
    all.kvs.insert(all.kvs.end(), std::make_move_iterator(page.kvs.begin()), std::make_move_iterator(page.kvs.end()));
  }
  all.more = false;
  return all;
}

std::int64_t EtcdClient::put(const std::string& key, const std::string& value) {
  const std::string what = "put " + shown_key(key);
  const std::string body = impl_->call("/v3/kv/put", put_request_json(key, value), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_put(body); });
}

bool EtcdClient::create(const std::string& key, const std::string& value) {
  const std::string what = "create " + shown_key(key);
  const std::string body = impl_->call("/v3/kv/txn", create_txn_json(key, value), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_txn_succeeded(body); });
}

std::int64_t EtcdClient::remove(const std::string& key) {
  const std::string what = "delete " + shown_key(key);
  const std::string body = impl_->call("/v3/kv/deleterange", delete_request_json(key, ""), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_delete(body); });
}

std::int64_t EtcdClient::remove_prefix(const std::string& prefix) {
  const std::string what = "delete prefix " + shown_key(prefix);
  const std::string from = prefix.empty() ? std::string(1, '\0') : prefix;
  const std::string body = impl_->call("/v3/kv/deleterange", delete_request_json(from, prefix_end(prefix)), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_delete(body); });
}

std::int64_t EtcdClient::compact(std::int64_t revision) {
  const std::string what = "compact to revision " + std::to_string(revision);
  const std::string body = impl_->call("/v3/kv/compaction", compact_request_json(revision), what);
  return parsed(impl_->context(impl_->current, what), [&] { return parse_compact(body); });
}

}  // namespace execgate::fleet
