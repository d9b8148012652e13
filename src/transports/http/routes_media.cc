// GET /api/v2/recordings/conversations/{id}/media?segment=N: the WAV of one
// recording segment, with single-range support (RFC 9110 §14). A segment still
// being written is served up to its last checkpoint, whose header is valid.
// A segment recorded on another node is a 307 to a signed URL on that node
// (service/media_url.h; docs/api.md §7 "Downloading on several nodes").
#include <algorithm>
#include <filesystem>

#include "transports/http/app.h"
#include "transports/http/file_slice.h"
#include "core/ids.h"
#include "media/wav/wav_reader.h"
#include "media/wav/wav_writer.h"
#include "service/media_url.h"

namespace verbatim::api {
namespace {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// "bytes=a-b" | "bytes=a-" | "bytes=-n"; one range only. nullopt = unsatisfiable/invalid.
std::optional<ByteRange> ParseRange(std::string_view h, uint64_t size) {
  if (h.rfind("bytes=", 0) != 0 || size == 0) return std::nullopt;
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  uint64_t a = 0, b = 0;
  std::string_view left = h.substr(0, dash), right = h.substr(dash + 1);
  if (left.empty()) {
    if (!num(right, b) || b == 0) return std::nullopt;
    return ByteRange{size - std::min(b, size), size - 1};
  }
  if (!num(left, a) || a >= size) return std::nullopt;
  if (right.empty()) return ByteRange{a, size - 1};
  if (!num(right, b) || b < a) return std::nullopt;
  return ByteRange{a, std::min(b, size - 1)};
}

// A refusal by the resource layer, with the explanation's usual shape.
HttpResponse RefuseResource(App& app, RequestContext& ctx, int status, std::string code, std::string message,
                            std::string fix) {
  auto& l = ctx.decision->layer(authz::Layer::kResource);
  l.outcome = authz::Outcome::kFail;
  l.code = code;
  l.detail = message;
  ctx.decision->allowed = false;
  ctx.decision->status = status;
  ctx.decision->code = std::move(code);
  ctx.decision->message = ctx.decision->message_template = std::move(message);
  ctx.decision->fix = {std::move(fix)};
  return app.Deny(ctx);
}

// The segment the request names (`segment`), or the latest one; its file, or nullptr.
const store::MediaFile* FindSegment(const store::Recording& rec, int segment) {
  if (segment == 0 && !rec.media.empty())
    segment = std::max_element(rec.media.begin(), rec.media.end(),
                               [](const auto& a, const auto& b) { return a.segment < b.segment; })->segment;
  auto file = std::find_if(rec.media.begin(), rec.media.end(), [&](const auto& m) { return m.segment == segment; });
  return file == rec.media.end() ? nullptr : &*file;
}

// Whether another node holds the file ("" on either side: one node, every file is local).
bool HeldElsewhere(const store::MediaFile& file, const std::string& self) {
  return !self.empty() && !file.node_id.empty() && file.node_id != self;
}

// Serves a segment this node holds: the whole file or one range, streamed.
HttpResponse ServeFile(App& app, RequestContext& ctx, const std::string& id, const store::MediaFile& file) {
  const int segment = file.segment;

  // Stored paths are relative and produced by us; still refuse anything odd.
  std::filesystem::path rel(file.path);
  if (rel.is_absolute() || file.path.find("..") != std::string::npos)
    return app.Fail(ctx, Status::Internal("media path escapes the media root: " + file.path));
  std::filesystem::path path = std::filesystem::path(app.config().media_dir) / rel;
  std::error_code ec;
  // A live segment is its .part; but the catalog learns that a segment closed
  // (renamed to .wav) only just after the rename, so serve whichever exists.
  std::filesystem::path part = path;
  part += media::wav::kPartSuffix;
  if (file.status != "complete" ? std::filesystem::exists(part, ec) : !std::filesystem::exists(path, ec)) path = part;
  auto info = media::wav::ReadWavInfo(path);
  if (!info.ok()) return app.Fail(ctx, Status::Internal("media file unreadable: " + info.status().ToString()));
  const uint64_t size = info->data_offset + info->data_size;  // never past the last checkpoint

  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "audio/wav");
  res.set(http::field::accept_ranges, "bytes");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::content_disposition,
          "attachment; filename=\"" + id + "-segment-" + std::to_string(segment) + ".wav\"");
  uint64_t first = 0, last = size - 1;
  std::string_view range = ctx.http.header("Range");
  if (!range.empty()) {
    auto r = ParseRange(range, size);
    if (!r) {
      HttpResponse bad = ErrorResponse(416, "range.not.satisfiable",
                                       "Range '" + std::string(range.substr(0, 64)) + "' cannot be served from " +
                                           std::to_string(size) + " bytes.",
                                       ctx.context_id, InputProblem("Range", "bytes=first-last", "Ask for one range within the file."));
      bad.set(http::field::content_range, "bytes */" + std::to_string(size));
      return bad;
    }
    first = r->first;
    last = r->last;
    res.result(http::status::partial_content);
    res.set(http::field::content_range,
            "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
  }
  // The bytes stream from the file (FileSlice), never all in memory. A live
  // .part's on-disk header may already describe a later checkpoint than the
  // size we promise: its header bytes come from memory, for exactly `size`.
  uint64_t from = first;
  if (file.status != "complete" && first < media::wav::kHeaderSize &&
      info->data_offset == media::wav::kHeaderSize) {
    auto header = media::wav::BuildHeader(info->channels, info->sample_rate, static_cast<uint32_t>(info->data_size));
    const uint64_t until = std::min<uint64_t>(last + 1, media::wav::kHeaderSize);
    res.body().assign(reinterpret_cast<const char*>(header.data()) + first, static_cast<size_t>(until - first));
    from = until;
  }
  if (from <= last) {
    FileSlice slice{path.string(), from, last - from + 1, {}};
    if (path.extension() == media::wav::kPartSuffix) slice.renamed_path = path.parent_path() / path.stem();
    AttachFileSlice(res, slice);
  }
  return res;
}

// The file is on `file.node_id`: send the caller there with a signed URL, or
// say why that node cannot serve it now.
HttpResponse RedirectToOwner(App& app, RequestContext& ctx, const std::string& id, const store::MediaFile& file) {
  auto nodes = app.store().ListNodes();
  if (!nodes.ok()) return app.Fail(ctx, nodes.status());
  auto owner = std::find_if(nodes->begin(), nodes->end(), [&](const auto& n) { return n.id == file.node_id; });
  const std::string segment = std::to_string(file.segment);
  if (owner == nodes->end() || owner->advertise_url.empty())
    return RefuseResource(app, ctx, 503, "media.node.unadvertised",
                          "Segment " + segment + " of conversation '" + id + "' was recorded on node " +
                              file.node_id + ", which advertises no URL, so this node cannot send you there.",
                          "Start node " + file.node_id +
                              " with --advertise-url (docs/deployment.md \"Several nodes\"), or ask that node directly.");
  const TimePoint now = app.clock().Now();
  if (owner->lease_expires_at <= now) {
    HttpResponse res = RefuseResource(
        app, ctx, 503, "media.node.down",
        "Segment " + segment + " of conversation '" + id + "' is on node " + file.node_id +
            ", which has not renewed its lease since " + FormatRfc3339(owner->heartbeat_at) + ".",
        "Retry once node " + file.node_id + " runs again: it recovers its files at start (docs/deployment.md "
        "\"Media sessions and node failure\").");
    res.set(http::field::retry_after, "30");
    return res;
  }
  service::MediaUrlGrant grant;
  grant.conversation_id = id;
  grant.segment = file.segment;
  grant.node_id = owner->id;
  grant.expires = ToUnixSeconds(now + service::kMediaUrlLifetime);
  grant.principal_type = ctx.principal->type;
  grant.principal_id = ctx.principal->id;
  grant.context_id = ctx.context_id;
  std::string base = owner->advertise_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string location = base + "/api/v2/recordings/conversations/" + id + "/media?" +
                               service::SignedMediaQuery(*app.config().secrets, grant);
  HttpResponse res{http::status::temporary_redirect, 11};
  res.set(http::field::location, location);
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::content_type, "application/json");
  res.body() = ToJson(json::object{{"location", location},
                                   {"node", owner->id},
                                   {"expiresAt", FormatRfc3339(FromUnixSeconds(grant.expires))},
                                   {"message", "Segment " + segment + " is on node " + owner->id +
                                                   ": follow Location (a signed URL, no token needed) within " +
                                                   std::to_string(service::kMediaUrlLifetime.count()) + " s."}});
  res.prepare_payload();
  return res;
}

// A request that carries a signed URL instead of a token: the signature
// stands for the decision another node made (and audited); this node audits
// the download under the same principal.
HttpResponse SignedDownload(App& app, RequestContext& ctx) {
  const std::string id = ctx.Param("conversationId");
  if (auto bad = app.RequireUuid(ctx, id, "conversation")) return *bad;
  ctx.conversation_id = id;
  authz::Request request;
  request.action = ctx.route->action;
  request.resource = "conversation/" + id;
  ctx.decision = authz::NewDecision(request);
  auto& token = ctx.decision->layer(authz::Layer::kToken);
  auto grant = service::VerifySignedMedia(*app.config().secrets, id, [&ctx](std::string_view n) { return ctx.Query(n); },
                                          app.config().node_id, app.clock().Now());
  if (!grant.ok()) {
    token.outcome = authz::Outcome::kFail;
    token.code = grant.status().code();
    token.detail = grant.status().message();
    authz::Deny(*ctx.decision, 403, grant.status().code(), grant.status().message(), {});
    ctx.decision->fix = {"GET /api/v2/recordings/conversations/" + id +
                         "/media with a bearer token (on any node) returns a fresh signed URL."};
    return app.Deny(ctx);
  }
  token.outcome = authz::Outcome::kPass;
  token.granted_by = "signed-url";
  token.detail = "A signed media URL from decision " + grant->context_id + " on another node.";
  for (auto l : {authz::Layer::kScope, authz::Layer::kPermission}) {
    auto& layer = ctx.decision->layer(l);
    layer.outcome = authz::Outcome::kPass;
    layer.detail = "Checked by decision " + grant->context_id + ".";
  }
  authz::Principal who;
  who.type = grant->principal_type;
  who.id = grant->principal_id;
  ctx.decision->principal = authz::PrincipalSummary{who.type, who.id, "", {}, "", ""};
  ctx.principal = std::move(who);
  ctx.decision->allowed = true;

  auto rec = app.store().GetRecording(id);
  if (!rec.ok()) return app.Fail(ctx, rec.status());
  const store::MediaFile* file = FindSegment(*rec, grant->segment);
  if (!file || HeldElsewhere(*file, app.config().node_id))
    return RefuseResource(app, ctx, 404, "media.not.found",
                          "Conversation '" + id + "' has no media for segment " + std::to_string(grant->segment) +
                              " on this node.",
                          "GET /api/v2/recordings/conversations/" + id + " lists the media files and their nodes.");
  authz::ResourceFound(*ctx.decision);
  return ServeFile(app, ctx, id, *file);
}

HttpResponse Download(App& app, RequestContext& ctx) {
  if (ctx.Query("signature") && ctx.http.header("Authorization").empty()) return SignedDownload(app, ctx);
  HttpResponse out;
  auto path_id = app.AuthorizePathId(ctx, "conversationId", "conversation", out);
  if (!path_id) return out;
  const std::string& id = *path_id;
  auto rec = app.LoadRecording(ctx, id, out);
  if (!rec) return out;
  int segment = 0;
  if (auto s = ctx.Query("segment")) {
    char* end = nullptr;
    long n = std::strtol(s->c_str(), &end, 10);
    if (s->empty() || *end || n < 1 || n > 100000)
      return app.BadRequest(ctx, "'segment' must be a segment index (1, 2, …).", "segment", "integer ≥ 1");
    segment = static_cast<int>(n);
  }
  const store::MediaFile* file = FindSegment(*rec, segment);
  if (!file)
    return RefuseResource(app, ctx, 404, "media.not.found",
                          rec->media.empty() ? "Conversation '" + id + "' has no recorded media yet."
                                             : "Conversation '" + id + "' has no media for segment " +
                                                   std::to_string(segment) + ".",
                          "GET /api/v2/recordings/conversations/" + id + " lists the media files and their segments.");
  authz::ResourceFound(*ctx.decision);
  if (HeldElsewhere(*file, app.config().node_id)) return RedirectToOwner(app, ctx, id, *file);
  return ServeFile(app, ctx, id, *file);
}

}  // namespace

void RegisterMediaRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/recordings/conversations/{conversationId}/media", Access::kPermission,
         "recording:media:download", [&app](RequestContext& c) { return Download(app, c); }});
}

}  // namespace verbatim::api
