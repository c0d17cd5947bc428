#include "fleet/curl_handle.h"

#include <mutex>

namespace execgate::fleet::detail {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw EtcdError(EtcdErrorKind::unavailable, "etcd: libcurl failed to initialise");
  });
}

template <class T>
void setopt(CURL* h, CURLoption option, T value, const char* name) {
  if (curl_easy_setopt(h, option, value) != CURLE_OK)
    throw EtcdError(EtcdErrorKind::protocol, std::string("etcd: libcurl refused option ") + name);
}

}  // namespace

CurlEasy make_easy() {
  global_init();
  CurlEasy h(curl_easy_init());
  if (!h) throw EtcdError(EtcdErrorKind::unavailable, "etcd: curl_easy_init failed");
  return h;
}

CurlMulti make_multi() {
  global_init();
  CurlMulti m(curl_multi_init());
  if (!m) throw EtcdError(EtcdErrorKind::unavailable, "etcd: curl_multi_init failed");
  return m;
}

CurlHeaders json_headers(const std::string& token) {
  CurlHeaders list;
  auto add = [&list](const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (!grown) throw std::bad_alloc();
    (void)list.release();  // now owned by grown
    list.reset(grown);
  };
  add("Content-Type: application/json");
  add("Expect:");
  if (!token.empty()) add("Authorization: " + token);
  return list;
}

void set_post_options(CURL* h, const EtcdOptions& options, const std::string& url, const std::string& body,
                      curl_slist* headers, char* errbuf) {
  errbuf[0] = '\0';
  setopt(h, CURLOPT_ERRORBUFFER, errbuf, "ERRORBUFFER");
  setopt(h, CURLOPT_URL, url.c_str(), "URL");
  setopt(h, CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR");
  setopt(h, CURLOPT_FOLLOWLOCATION, 0L, "FOLLOWLOCATION");
  setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1), "HTTP_VERSION");
  setopt(h, CURLOPT_POST, 1L, "POST");
  setopt(h, CURLOPT_POSTFIELDS, body.c_str(), "POSTFIELDS");
  setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()), "POSTFIELDSIZE_LARGE");
  setopt(h, CURLOPT_HTTPHEADER, headers, "HTTPHEADER");
  setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout.count()), "CONNECTTIMEOUT_MS");
  setopt(h, CURLOPT_NOSIGNAL, 1L, "NOSIGNAL");  // threads: no SIGALRM for DNS timeouts
  setopt(h, CURLOPT_SSL_VERIFYPEER, 1L, "SSL_VERIFYPEER");
  setopt(h, CURLOPT_SSL_VERIFYHOST, 2L, "SSL_VERIFYHOST");
  if (!options.ca_file.empty()) setopt(h, CURLOPT_CAINFO, options.ca_file.c_str(), "CAINFO");
  if (!options.cert_file.empty()) setopt(h, CURLOPT_SSLCERT, options.cert_file.c_str(), "SSLCERT");
  if (!options.key_file.empty()) setopt(h, CURLOPT_SSLKEY, options.key_file.c_str(), "SSLKEY");
}

std::string curl_message(CURLcode code, const char* errbuf) {
  return errbuf && errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(code));
}

}  // namespace execgate::fleet::detail
