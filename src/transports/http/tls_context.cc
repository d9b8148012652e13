#include "transports/http/tls_context.h"

namespace verbatim::api {
namespace {

tls::ServerOptions HttpTlsOptions() { return tls::ServerOptions{{"http/1.1"}}; }

}  // namespace

TlsCredentials::TlsCredentials(std::string cert_file, std::string key_file)
    : tls::ServerCredentials(std::move(cert_file), std::move(key_file), HttpTlsOptions()) {}

Result<std::shared_ptr<TlsCredentials>> TlsCredentials::Load(std::string cert_file, std::string key_file) {
  std::shared_ptr<TlsCredentials> creds(new TlsCredentials(std::move(cert_file), std::move(key_file)));
  VERBATIM_RETURN_IF_ERROR(creds->Reload());
  return creds;
}

Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                         const std::string& key_file,
                                                                         std::string* description) {
  return tls::MakeServerContext(cert_file, key_file, HttpTlsOptions(), description);
}

}  // namespace verbatim::api
