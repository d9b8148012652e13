#include "core/tls_server.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace verbatim::tls {
namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 list minus the DHE suites (no DH
// parameters to manage); TLS 1.3 suites are OpenSSL's defaults, all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The ALPN wire list (RFC 7301 §3.1: length-prefixed names) lives with the
// SSL_CTX: freed by OpenSSL when the last reference to the context goes,
// which may be after the ssl::context object (a live connection holds one).
int AlpnIndex() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(ptr);
      });
  return index;
}

int SelectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  const auto* ours = static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), AlpnIndex()));
  if (!ours) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned int>(ours->size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // RFC 7301 §3.2: no_application_protocol
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// The OpenSSL error queue as one line (and cleared).
std::string OpenSslErrors(const boost::system::error_code& ec) {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  if (out.empty() && ec) out = ec.message();
  return out;
}

std::string DescribeCertificate(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (!cert) return "no certificate";
  std::string out;
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return out;
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  BIO_puts(bio, ", expires ");
  ASN1_TIME_print(bio, X509_get0_notAfter(cert));
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n > 0) out.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerContext(const std::string& cert_file, const std::string& key_file,
                                                         const ServerOptions& options, std::string* description) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (ec || SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Status::Internal("cannot configure TLS: " + OpenSslErrors(ec));
  }
  if (!options.alpn.empty()) {
    auto wire = std::make_unique<std::string>();
    for (const auto& p : options.alpn) {
      if (p.empty() || p.size() > 255) return Status::Internal("cannot configure TLS: ALPN names are 1-255 bytes");
      *wire += static_cast<char>(p.size());
      *wire += p;
    }
    if (SSL_CTX_set_ex_data(native, AlpnIndex(), wire.get()) != 1)
      return Status::Internal("cannot configure TLS: " + OpenSslErrors({}));
    wire.release();  // owned by the SSL_CTX now
    SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  }
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return Status::InvalidArgument("tls.certificate",
                                   "Cannot load the TLS certificate chain from " + cert_file +
                                       " (PEM, leaf first): " + OpenSslErrors(ec));
  }
  EVP_PKEY* key = nullptr;
  if (BIO* in = BIO_new_file(key_file.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
    BIO_free(in);
  }
  if (!key) {
    return Status::InvalidArgument("tls.key",
                                   "Cannot load the TLS private key from " + key_file + " (PEM): " + OpenSslErrors(ec));
  }
  const int used = SSL_CTX_use_PrivateKey(native, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument("tls.key", "The TLS private key in " + key_file +
                                                  " does not match the certificate in " + cert_file + ": " +
                                                  OpenSslErrors({}));
  }
  if (description) *description = DescribeCertificate(native);
  return ctx;
}

Result<std::shared_ptr<ServerCredentials>> ServerCredentials::Load(std::string cert_file, std::string key_file,
                                                                   ServerOptions options) {
  std::shared_ptr<ServerCredentials> creds(
      new ServerCredentials(std::move(cert_file), std::move(key_file), std::move(options)));
  VERBATIM_RETURN_IF_ERROR(creds->Reload());
  return creds;
}

std::shared_ptr<ssl::context> ServerCredentials::Current() const {
  MutexLock lock(mu_);
  return ctx_;
}

Status ServerCredentials::Reload() {
  std::string description;
  auto ctx = MakeServerContext(cert_file_, key_file_, options_, &description);
  if (!ctx.ok()) return ctx.status();
  MutexLock lock(mu_);
  ctx_ = std::move(*ctx);
  description_ = std::move(description);
  return Status::Ok();
}

std::string ServerCredentials::Describe() const {
  MutexLock lock(mu_);
  return description_;
}

}  // namespace verbatim::tls
