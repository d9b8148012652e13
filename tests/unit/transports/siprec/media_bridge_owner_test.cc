// MediaBridge::Attach and conversation owners: a media session joins only a
// conversation its own trunk, integration or client owns, whichever way it
// names it (id, external id); what it creates, it owns.
#include <gtest/gtest.h>

#include "transports/siprec/media_bridge.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

media::capture::SessionSpec Spec(std::string owner, std::optional<std::string> conversation = std::nullopt,
                                 std::string external_id = "") {
  media::capture::SessionSpec s;
  s.source = "siprec";
  s.owner = std::move(owner);
  s.conversation_id = std::move(conversation);
  s.external_id = std::move(external_id);
  s.participants = {{"", "Alice", "external"}};
  return s;
}

TEST(MediaBridgeOwner, JoinsOnlyItsOwnConversations) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  MediaBridge bridge(t.app(), "node-1");
  const std::string a = "trunk:aaaaaaaa-0000-4000-8000-000000000001";
  const std::string b = "trunk:bbbbbbbb-0000-4000-8000-000000000002";

  // A creates one by naming a fresh id, and owns it.
  const std::string id = NewUuid();
  auto created = bridge.Attach(Spec(a, id, "call-1@a"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(t.store().GetConversation(id)->owner, a);
  bridge.Detach(id, false, "test: the session ends, the conversation stays");

  // B names it by id, or by A's Call-ID: refused, nothing added to it.
  for (const auto& spec : {Spec(b, id), Spec(b, std::nullopt, "call-1@a")}) {
    auto denied = bridge.Attach(spec);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.status().code(), "conversation.not.owned");
    EXPECT_EQ(denied.status().kind(), Status::Kind::kPermissionDenied);
  }
  EXPECT_EQ(t.store().GetConversation(id)->participants.size(), 1u);

  // A joins its own (by id and by Call-ID).
  auto joined = bridge.Attach(Spec(a, id));
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_FALSE(joined->created);
  bridge.Detach(id, false, "test");
  EXPECT_TRUE(bridge.Attach(Spec(a, std::nullopt, "call-1@a")).ok());
  bridge.Detach(id, false, "test");

  // A conversation created through the API without a mediaOwner: nobody may join.
  store::Conversation api;
  api.id = NewUuid();
  api.started_at = t.app().clock().Now();
  api.created_by = "client-x";
  ASSERT_TRUE(t.store().CreateConversation(api).ok());
  EXPECT_EQ(bridge.Attach(Spec(a, api.id)).status().code(), "conversation.not.owned");
  EXPECT_EQ(bridge.Attach(Spec("", api.id)).status().code(), "conversation.not.owned") << "no owner is not a wildcard";

  // Ownership is decided before the state: another source learns nothing about an ended one.
  ASSERT_TRUE(t.store().DisconnectConversation(id, t.app().clock().Now(), {"system", "t", "t", ""}, NewUuid()).ok());
  EXPECT_EQ(bridge.Attach(Spec(b, id)).status().code(), "conversation.not.owned");
  EXPECT_EQ(bridge.Attach(Spec(a, id)).status().code(), "conversation.ended");
}

}  // namespace
}  // namespace verbatim::api
