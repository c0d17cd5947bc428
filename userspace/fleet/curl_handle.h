// libcurl for the etcd client: RAII owners of easy and multi handles and header lists,
// and the options every request to etcd shares (HTTP/1.1 only, http/https only, TLS
// verification always on, the client's CA and certificate). Internal to execgate_fleet_etcd.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "fleet/etcd_client.h"

namespace execgate::fleet::detail {

struct CurlEasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlHeaders = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// New handles (libcurl's global state initialised once, first); throw on failure.
CurlEasy make_easy();
CurlMulti make_multi();

// The headers of a JSON POST: Content-Type, no "Expect: 100-continue", and the token as
// "Authorization: <token>" when there is one.
CurlHeaders json_headers(const std::string& token);

// Sets the options every request shares on a fresh (or reset) handle: a POST of body (not
// copied: it must outlive the transfer) to url with headers, HTTP/1.1, http(s) only, no
// redirects, the connect timeout, no signals, errbuf (CURL_ERROR_SIZE bytes) for curl's
// message, and TLS per options (peer and host always verified).
void set_post_options(CURL* h, const EtcdOptions& options, const std::string& url, const std::string& body,
                      curl_slist* headers, char* errbuf);

// curl's message for a failed transfer: errbuf when it has one, else curl_easy_strerror.
std::string curl_message(CURLcode code, const char* errbuf);

}  // namespace execgate::fleet::detail
