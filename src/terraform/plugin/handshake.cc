#include "terraform/plugin/handshake.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <memory>
#include <sstream>

#include "core/base64.h"

namespace verbatim::terraform::plugin {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

Status OpenSslError(const std::string& what) { return Status::Internal("cannot make the plugin certificate: " + what); }

std::string BioString(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

bool AddExt(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

Result<HandshakeEnv> ReadHandshakeEnv(const std::function<const char*(const char*)>& getenv) {
  const char* cookie = getenv(kMagicCookieKey);
  if (!cookie || std::string_view(cookie) != kMagicCookieValue)
    return Status::FailedPrecondition(
        "plugin.not.terraform",
        "This binary is a Terraform plugin: Terraform starts it. Install it with the CLI configuration in "
        "docs/terraform/index.md, then run `terraform plan`.");
  const char* versions = getenv("PLUGIN_PROTOCOL_VERSIONS");
  bool six = false;
  std::stringstream ss(versions ? versions : "");
  for (std::string v; std::getline(ss, v, ',');)
    if (v == std::to_string(kAppProtocolVersion)) six = true;
  if (!six)
    return Status::FailedPrecondition("plugin.protocol",
                                      std::string("This provider speaks Terraform plugin protocol 6 (Terraform 1.0 or "
                                                  "later, or OpenTofu); this host offers protocol(s) '") +
                                          (versions ? versions : "") + "'.");
  HandshakeEnv env;
  if (const char* cert = getenv("PLUGIN_CLIENT_CERT"); cert && *cert) env.client_cert_pem = cert;
  else
    return Status::FailedPrecondition("plugin.mtls",
                                      "PLUGIN_CLIENT_CERT is not set: this provider serves only over mutual TLS, "
                                      "as Terraform always asks.");
  for (const char* k : {"PLUGIN_UNIX_SOCKET_DIR", "TMPDIR"}) {
    if (const char* d = getenv(k); d && *d) {
      env.socket_dir = d;
      break;
    }
  }
  if (env.socket_dir.empty()) env.socket_dir = "/tmp";
  return env;
}

Result<ServerCert> MakeServerCert() {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("EC key generation failed");
  Cert cert(X509_new());
  if (!cert) return OpenSslError("X509_new failed");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpenSslError("no random serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* sn = bn ? BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) : nullptr;
  BN_free(bn);
  if (!sn) return OpenSslError("serial");
  // Valid from a little in the past (clock skew) for as long as any Terraform run may last.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -30);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 30);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("verbatim"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (!AddExt(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") ||
      !AddExt(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
      !AddExt(cert.get(), NID_subject_alt_name, "DNS:localhost"))
    return OpenSslError("extensions");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return OpenSslError("signing");

  ServerCert out;
  Bio cb(BIO_new(BIO_s_mem())), kb(BIO_new(BIO_s_mem()));
  if (!cb || !kb || PEM_write_bio_X509(cb.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return OpenSslError("PEM encoding");
  out.cert_pem = BioString(cb.get());
  out.key_pem = BioString(kb.get());
  int n = i2d_X509(cert.get(), nullptr);
  if (n <= 0) return OpenSslError("DER encoding");
  out.cert_der.resize(static_cast<size_t>(n));
  auto* p = reinterpret_cast<unsigned char*>(out.cert_der.data());
  i2d_X509(cert.get(), &p);
  return out;
}

std::string HandshakeLine(const std::string& socket_path, const std::string& cert_der) {
  std::string b64 = Base64Encode(cert_der);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();  // go-plugin reads RawStdEncoding
  return std::to_string(kCoreProtocolVersion) + "|" + std::to_string(kAppProtocolVersion) + "|unix|" + socket_path +
         "|grpc|" + b64;
}

}  // namespace verbatim::terraform::plugin
