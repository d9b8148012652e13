// The go-plugin handshake: who may start us, the line we print, and the
// certificate Terraform must accept.
#include "terraform/plugin/handshake.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <map>

#include "core/base64.h"
#include "terraform/plugin/provider_service.h"

namespace verbatim::terraform::plugin {
namespace {

auto Env(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const char* k) -> const char* {
    auto it = m.find(k);
    return it == m.end() ? nullptr : it->second.c_str();
  };
}

TEST(Handshake, RefusesToRunUnlessTerraformStartedIt) {
  auto none = ReadHandshakeEnv(Env({}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), "plugin.not.terraform");
  auto v5 = ReadHandshakeEnv(Env({{kMagicCookieKey, kMagicCookieValue}, {"PLUGIN_PROTOCOL_VERSIONS", "5"}}));
  ASSERT_FALSE(v5.ok());
  EXPECT_EQ(v5.status().code(), "plugin.protocol");
  auto no_cert = ReadHandshakeEnv(Env({{kMagicCookieKey, kMagicCookieValue}, {"PLUGIN_PROTOCOL_VERSIONS", "5,6"}}));
  ASSERT_FALSE(no_cert.ok());
  EXPECT_EQ(no_cert.status().code(), "plugin.mtls");
  auto ok = ReadHandshakeEnv(Env({{kMagicCookieKey, kMagicCookieValue},
                                  {"PLUGIN_PROTOCOL_VERSIONS", "5,6"},
                                  {"PLUGIN_CLIENT_CERT", "PEM"},
                                  {"PLUGIN_UNIX_SOCKET_DIR", "/run/x"}}));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->client_cert_pem, "PEM");
  EXPECT_EQ(ok->socket_dir, "/run/x");
}

TEST(Handshake, LineIsSixFieldsWithTheCertificateUnpadded) {
  std::string der(100, 'x');  // base64 of 100 bytes needs "==" of padding
  std::string line = HandshakeLine("/tmp/d/plugin.sock", der);
  EXPECT_EQ(line.rfind("1|6|unix|/tmp/d/plugin.sock|grpc|", 0), 0u) << line;
  std::string b64 = line.substr(line.rfind('|') + 1);
  EXPECT_EQ(b64.find('='), std::string::npos);
  EXPECT_EQ(Base64Decode(b64 + "=="), der);
}

TEST(Handshake, CertificateIsWhatGoPluginsClientAccepts) {
  auto cert = MakeServerCert();
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  const auto* p = reinterpret_cast<const unsigned char*>(cert->cert_der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(cert->cert_der.size()));
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);  // SAN localhost: go-plugin's ServerName
  EXPECT_EQ(X509_check_ca(x), 1);                                 // CA:TRUE: it is its own root
  EXPECT_EQ(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
  EVP_PKEY* key = X509_get0_pubkey(x);
  EXPECT_EQ(X509_verify(x, key), 1);  // self-signed
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(x)), 0);
  X509_free(x);
  EXPECT_NE(cert->key_pem.find("PRIVATE KEY"), std::string::npos);
  // Fresh for every run.
  EXPECT_NE(MakeServerCert()->cert_der, cert->cert_der);
}

TEST(ProviderSchemaProto, ModesAndTypesAreWhatTerraformReads) {
  Schema s;
  s.attributes = {Required("name", Type::String(), "n"), OptionalComputed("roles", Type::Set(Type::String()), "r"),
                  Sensitive(Computed("client_secret", Type::String(), "s"))};
  tfplugin6::Schema out;
  ToProto(s, &out);
  ASSERT_EQ(out.block().attributes_size(), 3);
  const auto& roles = out.block().attributes(1);
  EXPECT_EQ(roles.type(), R"(["set","string"])");
  EXPECT_TRUE(roles.optional() && roles.computed() && !roles.required());
  EXPECT_TRUE(out.block().attributes(0).required());
  EXPECT_TRUE(out.block().attributes(2).sensitive() && out.block().attributes(2).computed());
}

}  // namespace
}  // namespace verbatim::terraform::plugin
