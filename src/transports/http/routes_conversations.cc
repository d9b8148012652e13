// Conversations: create (with participants), list, get, disconnect, add a participant.
#include <algorithm>

#include "transports/http/app.h"
#include "transports/siprec/media_owner.h"
#include "transports/http/views.h"
#include "core/ids.h"

namespace verbatim::api {
namespace {

constexpr size_t kMaxParticipants = service::Conversations::kMaxParticipants;

// Parses one participant object {id?, name, purpose}; returns an error message or nullopt.
std::optional<std::string> ParseParticipant(const json::value& v, store::Participant& p) {
  if (!v.is_object()) return "Each participant must be an object {id?, name, purpose}.";
  const auto& o = v.as_object();
  for (const auto& kv : o) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "id" && k != "name" && k != "purpose")
      return "Unknown participant field '" + std::string(k.substr(0, 64)) + "'. Known fields: id, name, purpose.";
  }
  auto id = GetString(o, "id");
  auto name = GetString(o, "name");
  auto purpose = GetString(o, "purpose");
  if (!id.ok()) return id.status().message();
  if (!name.ok()) return name.status().message();
  if (!purpose.ok()) return purpose.status().message();
  p.id = id->value_or("");
  p.name = name->value_or("");
  p.purpose = purpose->value_or("");
  if (*id && p.id.empty()) return "Participant 'id' must be a UUID (or omitted to have one generated).";
  return service::Conversations::CheckParticipant(p);
}

// Authorizes, validates {conversationId}, loads the conversation (`live`: 409 if it has ended).
std::optional<store::Conversation> ConversationFromPath(App& app, RequestContext& ctx, HttpResponse& out,
                                                        bool live = false) {
  auto id = app.AuthorizePathId(ctx, "conversationId", "conversation", out);
  if (!id) return std::nullopt;
  auto conv = live ? app.conversations().GetLive(*ctx.decision, *id) : app.conversations().Get(*ctx.decision, *id);
  if (conv.ok()) return std::move(*conv);
  out = app.Refuse(ctx, conv.refusal());
  return std::nullopt;
}

HttpResponse Create(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "conversations")) return app.Deny(ctx);
  HttpResponse err;
  auto body = app.JsonBody(ctx, err);
  if (!body) return err;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "participants" && k != "externalId" && k != "mediaOwner")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) +
                                     "'. Known fields: participants, externalId, mediaOwner.",
                            k);
  }
  service::NewConversation input;
  auto ext = GetString(*body, "externalId");
  if (!ext.ok()) return app.BadRequest(ctx, ext.status().message(), "externalId");
  input.external_id = ext->value_or("");
  if (auto it = body->find("mediaOwner"); it != body->end() && !it->value().is_null()) {
    if (auto problem = ParseMediaOwner(it->value(), input.owner_type, input.owner_id))
      return app.BadRequest(ctx, *problem, "mediaOwner", "{type: trunk|integration|client, id}");
  }
  if (auto it = body->find("participants"); it != body->end()) {
    if (!it->value().is_array())
      return app.BadRequest(ctx, "Field 'participants' must be an array.", "participants", "array of {id?, name, purpose}");
    const auto& arr = it->value().as_array();
    if (arr.size() > kMaxParticipants)
      return app.BadRequest(ctx, "At most " + std::to_string(kMaxParticipants) + " participants.", "participants");
    for (const auto& v : arr) {
      store::Participant p;
      if (auto problem = ParseParticipant(v, p)) return app.BadRequest(ctx, *problem, "participants");
      input.participants.push_back(std::move(p));
    }
  }
  auto c = app.conversations().Create(*ctx.decision, *ctx.principal, std::move(input));
  if (!c.ok()) return app.Refuse(ctx, c.refusal());
  ctx.conversation_id = c->id;
  HttpResponse res = JsonResponse(201, ConversationJson(*c));
  res.set(http::field::location, "/api/v2/conversations/" + c->id);
  return res;
}

HttpResponse List(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "conversations")) return app.Deny(ctx);
  int size = 25, number = 1;
  for (auto [name, target, max] : {std::tuple{"pageSize", &size, 100}, std::tuple{"pageNumber", &number, 1000000}}) {
    if (auto v = ctx.Query(name)) {
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n < 1 || n > max)
        return app.BadRequest(ctx, std::string("Query parameter '") + name + "' must be an integer from 1 to " +
                                       std::to_string(max) + ".", name);
      *target = static_cast<int>(n);
    }
  }
  auto list = app.store().ListConversations({size, (number - 1) * size});
  if (!list.ok()) return app.Fail(ctx, list.status());
  json::array entities;
  for (const auto& c : *list) entities.emplace_back(ConversationJson(c));
  json::object o;
  o["entities"] = std::move(entities);
  o["pageSize"] = size;
  o["pageNumber"] = number;
  return JsonResponse(200, o);
}

HttpResponse Disconnect(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto id = app.AuthorizePathId(ctx, "conversationId", "conversation", out);
  if (!id) return out;
  auto done = app.conversations().Disconnect(*ctx.decision, *ctx.principal, *id, ctx.context_id);
  if (!done.ok()) return app.Refuse(ctx, done.refusal());
  return JsonResponse(200, ConversationJson(*done));
}

HttpResponse AddParticipant(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto conv = ConversationFromPath(app, ctx, out, /*live=*/true);
  if (!conv) return out;
  auto body = app.JsonBody(ctx, out);
  if (!body) return out;
  store::Participant p;
  if (auto problem = ParseParticipant(json::value(*body), p)) return app.BadRequest(ctx, *problem, "participant");
  if (conv->participants.size() >= kMaxParticipants)
    return app.BadRequest(ctx, "The conversation already has " + std::to_string(kMaxParticipants) + " participants.");
  if (Status s = app.store().AddParticipant(conv->id, p); !s.ok()) return app.Fail(ctx, s);
  auto after = app.store().GetConversation(conv->id);
  if (!after.ok()) return app.Fail(ctx, after.status());
  return JsonResponse(201, ConversationJson(*after));
}

}  // namespace

void RegisterConversationRoutes(App& app, Router& r) {
  r.Add({"POST", "/api/v2/conversations", Access::kPermission, "conversation:conversation:create",
         [&app](RequestContext& c) { return Create(app, c); }});
  r.Add({"GET", "/api/v2/conversations", Access::kPermission, "conversation:conversation:view",
         [&app](RequestContext& c) { return List(app, c); }});
  r.Add({"GET", "/api/v2/conversations/{conversationId}", Access::kPermission, "conversation:conversation:view",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto conv = ConversationFromPath(app, ctx, out);
           return conv ? JsonResponse(200, ConversationJson(*conv)) : out;
         }});
  r.Add({"POST", "/api/v2/conversations/{conversationId}/disconnect", Access::kPermission,
         "conversation:conversation:disconnect", [&app](RequestContext& c) { return Disconnect(app, c); }});
  r.Add({"POST", "/api/v2/conversations/{conversationId}/participants", Access::kPermission,
         "conversation:participant:edit", [&app](RequestContext& c) { return AddParticipant(app, c); }});
}

}  // namespace verbatim::api
