// Test certificates made at test time (no private key is ever committed): a
// self-signed P-256 certificate for 127.0.0.1 and localhost, as PEM files.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace verbatim::testing {

struct TestCert {
  std::string cert_file;
  std::string key_file;
};

// Writes <dir>/<name>.crt and <dir>/<name>.key; the subject CN is `cn`.
inline TestCert WriteSelfSignedCert(const std::filesystem::path& dir, const std::string& name,
                                    const std::string& cn = "localhost") {
  TestCert out{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, const_cast<char*>("IP:127.0.0.1,DNS:localhost"));
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  if (FILE* f = std::fopen(out.cert_file.c_str(), "w")) {
    PEM_write_X509(f, x);
    std::fclose(f);
  }
  if (FILE* f = std::fopen(out.key_file.c_str(), "w")) {
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace verbatim::testing
