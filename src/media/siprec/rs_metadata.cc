#include "media/siprec/rs_metadata.h"

#include <algorithm>
#include <unordered_map>

#include "media/sip/text.h"

namespace verbatim::media::siprec {
namespace {

// XML whitespace includes CR/LF, which sip::Trim leaves alone.
std::string Clean(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string ChildText(const XmlElement& e, std::string_view name) {
  const XmlElement* c = e.Child(name);
  return c ? Clean(c->text) : std::string();
}

// The RFC 7865 attribute, else the draft-era spellings.
std::string IdAttribute(const XmlElement& e, std::string_view rfc_name) {
  if (auto v = e.Attribute(rfc_name)) return Clean(*v);
  if (auto v = e.Attribute("id")) return Clean(*v);
  return {};
}

Status TooMany(std::string_view what) {
  return sip::ParseFailure("metadata", MetadataError::kTooManyItems, "over 256 " + std::string(what));
}

Status AddUnique(std::vector<std::string>& v, std::string s, size_t limit, std::string_view what) {
  if (s.empty() || std::find(v.begin(), v.end(), s) != v.end()) return Status::Ok();
  if (v.size() >= limit) return TooMany(what);
  v.push_back(std::move(s));
  return Status::Ok();
}

Result<MetadataParticipant*> ParticipantFor(RecordingMetadata& md, const std::string& id) {
  for (MetadataParticipant& p : md.participants) {
    if (p.id == id) return &p;
  }
  if (md.participants.size() >= kMaxMetadataItems) return TooMany("participants");
  md.participants.emplace_back().id = id;
  return &md.participants.back();
}

Status AddSendRecv(const XmlElement& e, MetadataParticipant& p) {
  for (const XmlElement& c : e.children) {
    if (c.name != "send" && c.name != "recv") continue;
    if (p.send.size() + p.recv.size() >= kMaxStreamRefs) return TooMany("send/recv per participant");
    VERBATIM_RETURN_IF_ERROR(AddUnique(c.name == "send" ? p.send : p.recv, Clean(c.text), kMaxStreamRefs, "send/recv"));
  }
  return Status::Ok();
}

Status ReadParticipant(const XmlElement& e, RecordingMetadata& md) {
  auto found = ParticipantFor(md, IdAttribute(e, "participant_id"));
  if (!found.ok()) return found.status();
  MetadataParticipant& p = **found;
  for (const XmlElement& c : e.children) {
    if (c.name == "nameID") {
      if (auto aor = c.Attribute("aor"); aor && p.aor.empty()) p.aor = Clean(*aor);
      if (p.name.empty()) p.name = ChildText(c, "name");
    } else if (c.name == "aor" && p.aor.empty()) {
      p.aor = Clean(c.text);
    } else if (c.name == "name" && p.name.empty()) {
      p.name = Clean(c.text);
    }
  }
  return AddSendRecv(e, p);
}

Status ReadStream(const XmlElement& e, RecordingMetadata& md) {
  std::string id = IdAttribute(e, "stream_id");
  if (id.empty()) {
    if (auto v = e.Attribute("streamid")) id = Clean(*v);
  }
  MetadataStream* s = nullptr;
  for (MetadataStream& existing : md.streams) {
    if (!id.empty() && existing.id == id) s = &existing;
  }
  if (!s) {
    if (md.streams.size() >= kMaxMetadataItems) return TooMany("streams");
    s = &md.streams.emplace_back();
    s->id = std::move(id);
  }
  if (auto v = e.Attribute("session_id")) s->session_id = Clean(*v);
  std::string label = ChildText(e, "label");
  if (label.empty()) {
    if (auto v = e.Attribute("label")) label = Clean(*v);
  }
  if (!label.empty()) s->label = std::move(label);
  return Status::Ok();
}

Status ReadSession(const XmlElement& e, RecordingMetadata& md) {
  std::string id = IdAttribute(e, "session_id");
  MetadataSession* s = nullptr;
  for (MetadataSession& existing : md.sessions) {
    if (existing.id == id) s = &existing;
  }
  if (!s) {
    if (md.sessions.size() >= kMaxMetadataItems) return TooMany("sessions");
    s = &md.sessions.emplace_back();
    s->id = std::move(id);
  }
  for (const XmlElement& c : e.children) {
    if (c.name == "sipSessionID") VERBATIM_RETURN_IF_ERROR(AddUnique(s->sip_session_ids, Clean(c.text), kMaxMetadataItems, "sipSessionIDs"));
    if (c.name == "group-ref" && s->group_ref.empty()) s->group_ref = Clean(c.text);
  }
  return Status::Ok();
}

Status ReadTopLevel(const XmlElement& e, RecordingMetadata& md) {
  if (e.name == "datamode") {
    md.data_mode = Clean(e.text);
    return Status::Ok();
  }
  if (e.name == "group") return AddUnique(md.group_ids, IdAttribute(e, "group_id"), kMaxMetadataItems, "groups");
  if (e.name == "session") return ReadSession(e, md);
  if (e.name == "participant") return ReadParticipant(e, md);
  if (e.name == "stream") return ReadStream(e, md);
  if (e.name == "participantstreamassoc") {
    auto p = ParticipantFor(md, IdAttribute(e, "participant_id"));
    if (!p.ok()) return p.status();
    return AddSendRecv(e, **p);
  }
  return Status::Ok();  // unknown elements and associations we do not need
}

bool IsConversationIdName(std::string_view name) {
  return sip::IEquals(name, "conversationId") || sip::IEquals(name, "conversation-id");
}

// Depth-first, document order; depth is bounded by the reader's limit.
std::optional<std::string> FindConversationId(const XmlElement& e) {
  for (const auto& [name, value] : e.attributes) {
    if (IsConversationIdName(name) && !Clean(value).empty()) return Clean(value);
  }
  if (IsConversationIdName(e.name) && !Clean(e.text).empty()) return Clean(e.text);
  for (const XmlElement& c : e.children) {
    if (auto id = FindConversationId(c)) return id;
  }
  return std::nullopt;
}

}  // namespace

const MetadataStream* RecordingMetadata::StreamByLabel(std::string_view label) const {
  for (const MetadataStream& s : streams) {
    if (s.label == label) return &s;
  }
  return nullptr;
}

const MetadataParticipant* RecordingMetadata::SenderOfLabel(std::string_view label) const {
  for (const MetadataParticipant& p : participants) {
    if (std::find(p.send_labels.begin(), p.send_labels.end(), label) != p.send_labels.end()) return &p;
  }
  return nullptr;
}

Result<RecordingMetadata> ParseRecordingMetadata(std::string_view xml) {
  auto doc = ParseXml(xml);
  if (!doc.ok()) return doc.status();
  if (doc->name != "recording") {
    return sip::ParseFailure("metadata", MetadataError::kNotRecording, "root element is <" + doc->name + ">");
  }
  RecordingMetadata md;
  for (const XmlElement& e : doc->children) VERBATIM_RETURN_IF_ERROR(ReadTopLevel(e, md));
  std::unordered_map<std::string_view, std::string_view> label_of;  // stream_id → label
  for (const MetadataStream& s : md.streams) {
    if (!s.id.empty() && !s.label.empty()) label_of.emplace(s.id, s.label);
  }
  for (MetadataParticipant& p : md.participants) {
    for (const std::string& stream_id : p.send) {
      auto it = label_of.find(stream_id);
      if (it != label_of.end()) (void)AddUnique(p.send_labels, std::string(it->second), kMaxStreamRefs, "labels");
    }
  }
  md.conversation_id = FindConversationId(*doc);
  return md;
}

}  // namespace verbatim::media::siprec
