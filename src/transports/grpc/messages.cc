#include "transports/grpc/messages.h"

#include "core/clock.h"
#include "core/recording_state.h"

namespace verbatim::transports::grpc {

void Fill(v1::Segment& out, const store::Segment& s) {
  out.set_index(s.index);
  out.set_started_at(FormatRfc3339(s.started_at));
  if (s.ended_at) out.set_ended_at(FormatRfc3339(*s.ended_at));
}

void Fill(v1::Transition& out, const store::Transition& t) {
  out.set_seq(t.seq);
  out.set_action(t.action);
  out.set_from(ToString(t.from));
  out.set_to(ToString(t.to));
  out.set_segment(t.segment);
  out.set_at(FormatRfc3339(t.at));
  auto* p = out.mutable_principal();
  p->set_type(t.actor.principal_type);
  p->set_id(t.actor.principal_id);
  p->set_name(t.actor.principal_name);
  out.set_client_id(t.actor.client_id);
  out.set_reason(t.reason);
  out.set_context_id(t.context_id);
}

void Fill(v1::Recording& out, const store::Recording& r, bool ended) {
  out.set_conversation_id(r.conversation_id);
  out.set_state(ToString(r.state));
  for (const auto& s : r.segments) Fill(*out.add_segments(), s);
  for (const auto& t : r.timeline) Fill(*out.add_timeline(), t);
  auto* m = out.mutable_metadata();
  for (const auto& l : r.metadata.labels) m->add_labels(l);
  if (r.metadata.retention_days) m->set_retention_days(*r.metadata.retention_days);
  m->set_notes(r.metadata.notes);
  for (const auto& f : r.media) {
    auto* mf = out.add_media();
    mf->set_segment(f.segment);
    mf->set_status(f.status);
    mf->set_format(f.format);
    mf->set_channels(f.channels);
    for (const auto& l : f.channel_labels) mf->add_channel_labels(l);
    mf->set_sample_rate(f.sample_rate);
    mf->set_duration_ms(f.duration_ms);
    mf->set_bytes(f.bytes);
    mf->set_url("/api/v2/recordings/conversations/" + r.conversation_id + "/media?segment=" + std::to_string(f.segment));
    mf->set_node(f.node_id);
    if (f.interrupted_at) mf->set_interrupted_at(FormatRfc3339(*f.interrupted_at));
  }
  if (!ended)
    for (auto a : AllowedActions(r.state)) out.add_allowed_actions(ToString(a));
  out.set_version(r.version);
  out.set_conversation_ended(ended);
}

void Fill(v1::Conversation& out, const store::Conversation& c) {
  out.set_id(c.id);
  out.set_state(c.state);
  out.set_started_at(FormatRfc3339(c.started_at));
  if (c.ended_at) out.set_ended_at(FormatRfc3339(*c.ended_at));
  for (const auto& p : c.participants) {
    auto* o = out.add_participants();
    o->set_id(p.id);
    o->set_name(p.name);
    o->set_purpose(p.purpose);
  }
  out.set_external_id(c.external_id);
  if (const size_t colon = c.owner.find(':'); !c.owner.empty() && colon != std::string::npos) {
    out.mutable_media_owner()->set_type(c.owner.substr(0, colon));
    out.mutable_media_owner()->set_id(c.owner.substr(colon + 1));
  }
}

}  // namespace verbatim::transports::grpc
