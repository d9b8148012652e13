// Trunk definitions: one validation for the API body, the config file and
// the CLI; the digest password becomes HA1s and is never shown again.
#include "transports/siprec/trunk_config.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "media/sip/digest.h"

namespace verbatim::api {
namespace {

const TimePoint kNow = FromUnixMillis(1'700'000'000'000);

store::SipTrunk Create(const std::string& body_json, std::optional<TrunkInputError>* error = nullptr) {
  auto body = ParseJsonObject(body_json);
  EXPECT_TRUE(body.ok()) << body_json;
  TrunkInput in;
  store::SipTrunk t;
  t.id = NewUuid();
  auto e = TrunkInputFromJson(*body, in);
  if (!e) e = ApplyTrunkInput(in, true, kNow, t);
  if (error)
    *error = e;
  else
    EXPECT_FALSE(e.has_value()) << (e ? e->field + ": " + e->message : "");
  return t;
}

std::string FieldOf(const std::string& body_json) {
  std::optional<TrunkInputError> e;
  Create(body_json, &e);
  return e ? e->field : "<accepted>";
}

TEST(TrunkConfig, KeepsOnlyHa1sOfThePasswordAndNeverShowsThem) {
  store::SipTrunk t = Create(R"({"name":"cube-east","networks":["192.0.2.0/24","2001:db8::/32"],)"
                             R"("digest":{"username":"cube","password":"correct horse battery"}})");
  EXPECT_EQ(t.digest_username, "cube");
  EXPECT_EQ(t.digest_realm, "verbatim");
  EXPECT_EQ(t.digest_ha1_sha256, media::sip::DigestHa1Hex(media::sip::DigestAlgorithm::kSha256, "cube", "verbatim",
                                                          "correct horse battery"));
  EXPECT_EQ(t.digest_ha1_md5,
            media::sip::DigestHa1Hex(media::sip::DigestAlgorithm::kMd5, "cube", "verbatim", "correct horse battery"));
  EXPECT_EQ(t.transports, (std::vector<std::string>{"udp", "tcp"})) << "both by default";
  EXPECT_EQ(t.max_sessions, 100);
  EXPECT_EQ(t.rtp_source, "offer");

  const std::string shown = json::serialize(TrunkJson(t, kTrunkOriginApi));
  EXPECT_EQ(shown.find("correct horse"), std::string::npos) << shown;
  EXPECT_EQ(shown.find(t.digest_ha1_md5), std::string::npos) << shown;
  EXPECT_EQ(shown.find(t.digest_ha1_sha256), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"passwordSet\":true"), std::string::npos) << shown;
}

TEST(TrunkConfig, RefusesWhatWouldWidenOrBreakTheAllowList) {
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["10.0.0.5/24"]})"), "networks") << "host bits set";
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["example.com"]})"), "networks") << "names are not addresses";
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":[]})"), "networks");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["0.0.0.0/0"]})"), "networks") << "the whole Internet needs a digest";
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["::/0"],"digest":{"username":"u","password":"0123456789abcdef"}})"),
            "<accepted>");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"transports":["tls"]})"), "<accepted>");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"transports":["sctp"]})"), "transports");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"srtp":"always"})"), "srtp");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"srtp":"required"})"), "srtp")
      << "SDES keys only over TLS: required without tls could never record";
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"transports":["tls"],"srtp":"required"})"),
            "<accepted>");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"transports":[]})"), "transports");
  EXPECT_EQ(FieldOf(R"({"name":"a b","networks":["192.0.2.1"]})"), "name");
  EXPECT_EQ(FieldOf(R"({"networks":["192.0.2.1"]})"), "name");
  EXPECT_EQ(FieldOf(R"({"name":"a"})"), "networks");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"digest":{"username":"u","password":"short"}})"),
            "digest.password");
  EXPECT_EQ(
      FieldOf(R"({"name":"a","networks":["192.0.2.1"],"digest":{"username":"u\"x","password":"0123456789abcdef"}})"),
      "digest.username")
      << "a quote would end the quoted-string of the challenge";
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"digest":{"username":"u"}})"), "digest.password");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"limits":{"maxChannelsPerSession":0}})"),
            "limits.maxChannelsPerSession");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"limits":{"maxBandwidthKbps":64}})"),
            "limits.maxBandwidthKbps");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"rtpSource":"anyone"})"), "rtpSource");
  EXPECT_EQ(FieldOf(R"({"name":"a","networks":["192.0.2.1"],"secret":"x"})"), "secret");
}

TEST(TrunkConfig, PatchChangesOnlyWhatIsGivenAndNeedsThePasswordForNewCredentials) {
  store::SipTrunk t = Create(R"({"name":"sbc","networks":["192.0.2.0/24"],)"
                             R"("digest":{"username":"sbc","password":"0123456789abcdef"}})");
  const std::string ha1 = t.digest_ha1_sha256;
  auto patch = [&](const std::string& body_json) {
    TrunkInput in;
    auto body = ParseJsonObject(body_json);
    EXPECT_TRUE(body.ok());
    auto e = TrunkInputFromJson(*body, in);
    if (!e) e = ApplyTrunkInput(in, false, kNow, t);
    return e ? e->field : std::string("<accepted>");
  };
  EXPECT_EQ(patch(R"({"limits":{"maxSessions":5}})"), "<accepted>");
  EXPECT_EQ(t.max_sessions, 5);
  EXPECT_EQ(t.networks, std::vector<std::string>{"192.0.2.0/24"});
  EXPECT_EQ(t.digest_ha1_sha256, ha1);
  EXPECT_EQ(patch(R"({"digest":{"username":"other"}})"), "digest.password") << "HA1 binds the username";
  EXPECT_EQ(t.digest_username, "sbc");
  EXPECT_EQ(patch(R"({"digest":{"algorithms":["SHA-256"]}})"), "<accepted>") << "dropping MD5 needs no password";
  EXPECT_TRUE(t.digest_ha1_md5.empty());
  EXPECT_EQ(t.digest_ha1_sha256, ha1);
  EXPECT_EQ(patch(R"({"digest":{"algorithms":["MD5"]}})"), "digest.password") << "adding one does";
  EXPECT_EQ(patch(R"({"digest":null})"), "<accepted>");
  EXPECT_TRUE(t.digest_username.empty() && t.digest_ha1_sha256.empty());
}

TEST(TrunkConfig, ConfigFileTrunksGetStableIdsAndTypoedKeysAreRefused) {
  const std::string toml = R"(
data_dir = "/var/lib/verbatim"

[[siprec.trunks]]
name = "cube-east"
networks = ["192.0.2.0/24"]
transports = ["tcp"]
max_channels = 4
rtp_source = "latch"

[[siprec.trunks]]
name = "sbc"
networks = ["2001:db8::/48"]
digest_username = "sbc"
digest_password = "0123456789abcdef"
)";
  auto trunks = ParseTrunksToml(toml, kNow);
  ASSERT_TRUE(trunks.ok()) << trunks.status().ToString();
  ASSERT_EQ(trunks->size(), 2u);
  EXPECT_EQ((*trunks)[0].id, ConfigTrunkId("cube-east"));
  EXPECT_EQ((*trunks)[0].id, ConfigTrunkId("CUBE-East")) << "stable, case-insensitive";
  EXPECT_TRUE(IsUuid((*trunks)[0].id));
  EXPECT_EQ((*trunks)[0].transports, std::vector<std::string>{"tcp"});
  EXPECT_EQ((*trunks)[0].max_channels, 4);
  EXPECT_EQ((*trunks)[0].rtp_source, "latch");
  EXPECT_FALSE((*trunks)[1].digest_ha1_sha256.empty());

  auto typo = ParseTrunksToml("[[siprec.trunks]]\nname = \"a\"\nnetworks = [\"192.0.2.1\"]\nmax_sesions = 3\n", kNow);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("max_sesions"), std::string::npos) << typo.status().message();
  auto twice = ParseTrunksToml(
      "[[siprec.trunks]]\nname = \"a\"\nnetworks = [\"192.0.2.1\"]\n"
      "[[siprec.trunks]]\nname = \"A\"\nnetworks = [\"192.0.2.2\"]\n",
      kNow);
  EXPECT_FALSE(twice.ok());
  auto bad = ParseTrunksToml("[[siprec.trunks]]\nname = \"a\"\nnetworks = [\"192.0.2.1/33\"]\n", kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("(a)"), std::string::npos) << "names the trunk: " << bad.status().message();
  EXPECT_TRUE(ParseTrunksToml("http_listen = \"0.0.0.0:8080\"\n", kNow)->empty());
}

TEST(TrunkConfig, PolicyCarriesEveryDecision) {
  store::SipTrunk t =
      Create(R"({"name":"nat","networks":["198.51.100.0/24"],"transports":["udp"],)"
             R"("limits":{"maxSessions":0,"maxChannelsPerSession":3,"maxBandwidthKbps":0},"rtpSource":"latch"})");
  media::siprec::Trunk p = ToPolicy(t, kTrunkOriginApi);
  EXPECT_EQ(p.owner(), "trunk:" + t.id);
  EXPECT_TRUE(p.Allows(media::siprec::SipTransport::kUdp));
  EXPECT_FALSE(p.Allows(media::siprec::SipTransport::kTcp));
  EXPECT_TRUE(p.InNetworks(*media::siprec::ParseIpAddress("198.51.100.77")));
  EXPECT_FALSE(p.InNetworks(*media::siprec::ParseIpAddress("198.51.101.1")));
  EXPECT_EQ(p.limits.max_sessions, 0u);
  EXPECT_EQ(p.limits.max_channels, 3u);
  EXPECT_EQ(p.rtp_source, media::siprec::RtpSource::kLatch);
  EXPECT_FALSE(p.digest.has_value());
  EXPECT_EQ(p.srtp, media::siprec::SrtpPolicy::kOptional) << "the default";
  media::siprec::Trunk secure = ToPolicy(
      Create(R"({"name":"sec","networks":["198.51.100.0/24"],"transports":["tls"],"srtp":"required"})"),
      kTrunkOriginApi);
  EXPECT_EQ(secure.srtp, media::siprec::SrtpPolicy::kRequired);
  EXPECT_TRUE(secure.Allows(media::siprec::SipTransport::kTls));
  EXPECT_FALSE(secure.Allows(media::siprec::SipTransport::kTcp));

  store::SipTrunk dev = DevTrunk(kNow);
  media::siprec::Trunk d = ToPolicy(dev, kTrunkOriginDev);
  EXPECT_TRUE(d.InNetworks(*media::siprec::ParseIpAddress("127.0.0.1")));
  EXPECT_TRUE(d.InNetworks(*media::siprec::ParseIpAddress("::1")));
  EXPECT_FALSE(d.InNetworks(*media::siprec::ParseIpAddress("127.0.0.2"))) << "loopback means this host, exactly";
  EXPECT_FALSE(d.InNetworks(*media::siprec::ParseIpAddress("10.0.0.1")));
}

}  // namespace
}  // namespace verbatim::api
