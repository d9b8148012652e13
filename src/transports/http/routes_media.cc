// GET /api/v2/recordings/conversations/{id}/media?segment=N: the WAV of one
// recording segment, with single-range support (RFC 9110 §14). A segment still
// being written is served up to its last checkpoint, whose header is valid.
#include <algorithm>
#include <filesystem>

#include "transports/http/app.h"
#include "transports/http/file_slice.h"
#include "core/ids.h"
#include "media/wav/wav_reader.h"
#include "media/wav/wav_writer.h"

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

HttpResponse Download(App& app, RequestContext& ctx) {
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
  } else if (!rec->media.empty()) {
    segment = std::max_element(rec->media.begin(), rec->media.end(),
                               [](const auto& a, const auto& b) { return a.segment < b.segment; })->segment;
  }
  auto file = std::find_if(rec->media.begin(), rec->media.end(), [&](const auto& m) { return m.segment == segment; });
  if (file == rec->media.end()) {
    auto& l = ctx.decision->layer(authz::Layer::kResource);
    l.outcome = authz::Outcome::kFail;
    l.code = "media.not.found";
    std::string msg = rec->media.empty()
                          ? "Conversation '" + id + "' has no recorded media yet."
                          : "Conversation '" + id + "' has no media for segment " + std::to_string(segment) + ".";
    ctx.decision->allowed = false;
    ctx.decision->status = 404;
    ctx.decision->code = l.code;
    ctx.decision->message = ctx.decision->message_template = msg;
    ctx.decision->fix = {"GET /api/v2/recordings/conversations/" + id + " lists the media files and their segments."};
    return app.Deny(ctx);
  }
  authz::ResourceFound(*ctx.decision);

  // Stored paths are relative and produced by us; still refuse anything odd.
  std::filesystem::path rel(file->path);
  if (rel.is_absolute() || file->path.find("..") != std::string::npos)
    return app.Fail(ctx, Status::Internal("media path escapes the media root: " + file->path));
  std::filesystem::path path = std::filesystem::path(app.config().media_dir) / rel;
  std::error_code ec;
  // A live segment is its .part; but the catalog learns that a segment closed
  // (renamed to .wav) only just after the rename, so serve whichever exists.
  std::filesystem::path part = path;
  part += media::wav::kPartSuffix;
  if (file->status != "complete" ? std::filesystem::exists(part, ec) : !std::filesystem::exists(path, ec)) path = part;
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
  if (file->status != "complete" && first < media::wav::kHeaderSize &&
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

}  // namespace

void RegisterMediaRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/recordings/conversations/{conversationId}/media", Access::kPermission,
         "recording:media:download", [&app](RequestContext& c) { return Download(app, c); }});
}

}  // namespace verbatim::api
