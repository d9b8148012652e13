// The protocol layer without a socket: ProviderService's handlers called with
// the messages Terraform sends, including bytes that are not what they should be.
#include "terraform/plugin/provider_service.h"

#include <gtest/gtest.h>

#include "terraform/value_codec.h"

namespace verbatim::terraform::plugin {
namespace {

class ProviderServiceTest : public ::testing::Test {
 protected:
  terraform::Provider provider_;
  ProviderService service_{provider_};
  // The handlers never read the context; none is made, so no gRPC runtime starts.
  grpc::ServerContext* ctx_ = nullptr;
};

TEST_F(ProviderServiceTest, SchemaListsEveryTypeWithProtocolTypes) {
  tfplugin6::GetProviderSchema::Request req;
  tfplugin6::GetProviderSchema::Response res;
  ASSERT_TRUE(service_.GetProviderSchema(ctx_, &req, &res).ok());
  EXPECT_EQ(res.resource_schemas().size(), 4u);
  EXPECT_EQ(res.data_source_schemas().size(), 3u);
  bool secret_is_sensitive = false;
  for (const auto& a : res.resource_schemas().at("verbatim_oauth_client").block().attributes())
    if (a.name() == "client_secret") secret_is_sensitive = a.sensitive() && a.computed();
  EXPECT_TRUE(secret_is_sensitive);
  bool provider_secret_is_sensitive = false;
  for (const auto& a : res.provider().block().attributes())
    if (a.name() == "client_secret") provider_secret_is_sensitive = a.sensitive();
  EXPECT_TRUE(provider_secret_is_sensitive);
}

TEST_F(ProviderServiceTest, GarbageFromTheSocketIsADiagnosticNeverACrash) {
  tfplugin6::PlanResourceChange::Request req;
  req.set_type_name("verbatim_oauth_client");
  req.mutable_prior_state()->set_msgpack(std::string("\xc0", 1));
  req.mutable_proposed_new_state()->set_msgpack(std::string("\x85\xa4na", 4));  // truncated
  req.mutable_config()->set_msgpack(std::string("\xc1", 1));
  tfplugin6::PlanResourceChange::Response res;
  ASSERT_TRUE(service_.PlanResourceChange(ctx_, &req, &res).ok());
  ASSERT_EQ(res.diagnostics_size(), 1);
  EXPECT_EQ(res.diagnostics(0).severity(), tfplugin6::Diagnostic::ERROR);
  EXPECT_NE(res.diagnostics(0).detail().find("truncated"), std::string::npos) << res.diagnostics(0).detail();

  tfplugin6::ReadResource::Request read;
  read.set_type_name("verbatim_nope");
  tfplugin6::ReadResource::Response read_res;
  ASSERT_TRUE(service_.ReadResource(ctx_, &read, &read_res).ok());
  EXPECT_EQ(read_res.diagnostics(0).summary(), "unknown resource type verbatim_nope");
}

TEST_F(ProviderServiceTest, NothingRunsAgainstTheApiBeforeConfigure) {
  const Schema& schema = provider_.FindResource("verbatim_role")->schema();
  Value state = Value::Object({{"id", Value::String("r1")}});
  tfplugin6::ReadResource::Request req;
  req.set_type_name("verbatim_role");
  req.mutable_current_state()->set_msgpack(*EncodeMsgpack(state, schema.ObjectType()));
  tfplugin6::ReadResource::Response res;
  ASSERT_TRUE(service_.ReadResource(ctx_, &req, &res).ok());
  ASSERT_EQ(res.diagnostics_size(), 1);
  EXPECT_EQ(res.diagnostics(0).summary(), "provider \"verbatim\" is not configured");
}

TEST_F(ProviderServiceTest, UpgradeReadsStoredJsonAndDropsRetiredAttributes) {
  tfplugin6::UpgradeResourceState::Request req;
  req.set_type_name("verbatim_role");
  req.set_version(0);
  req.mutable_raw_state()->set_json(
      R"({"id":"r1","name":"Supervisor","description":"","permissions":["audit:event:view"],"retired":true})");
  tfplugin6::UpgradeResourceState::Response res;
  ASSERT_TRUE(service_.UpgradeResourceState(ctx_, &req, &res).ok());
  ASSERT_EQ(res.diagnostics_size(), 0) << res.diagnostics(0).detail();
  const Schema& schema = provider_.FindResource("verbatim_role")->schema();
  auto v = DecodeMsgpack(res.upgraded_state().msgpack(), schema.ObjectType());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->GetString("name"), "Supervisor");
  EXPECT_EQ(v->Get("permissions"), Value::StringSet({"audit:event:view"}));

  req.set_version(7);
  tfplugin6::UpgradeResourceState::Response newer;
  ASSERT_TRUE(service_.UpgradeResourceState(ctx_, &req, &newer).ok());
  ASSERT_EQ(newer.diagnostics_size(), 1);
  EXPECT_NE(newer.diagnostics(0).summary().find("newer terraform-provider-verbatim"), std::string::npos);
}

TEST_F(ProviderServiceTest, ConfigureWithoutCredentialsNamesTheEnvironmentVariables) {
  tfplugin6::ConfigureProvider::Request req;
  Value config = Value::Object({{"endpoint", Value::String("http://127.0.0.1:9")}});
  req.mutable_config()->set_msgpack(*EncodeMsgpack(config, provider_.schema().ObjectType()));
  tfplugin6::ConfigureProvider::Response res;
  unsetenv("VERBATIM_CLIENT_ID");
  ASSERT_TRUE(service_.ConfigureProvider(ctx_, &req, &res).ok());
  ASSERT_EQ(res.diagnostics_size(), 1);
  EXPECT_NE(res.diagnostics(0).detail().find("VERBATIM_CLIENT_ID"), std::string::npos) << res.diagnostics(0).detail();
  EXPECT_EQ(provider_.api(), nullptr);
}

}  // namespace
}  // namespace verbatim::terraform::plugin
