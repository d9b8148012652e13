#include <gtest/gtest.h>

#include <set>
#include <string>

#include "media/siprec/rs_metadata.h"
#include "media/siprec/xml.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::siprec {
namespace {

std::optional<MetadataError> XmlErrorOf(std::string_view doc) {
  auto r = ParseXml(doc);
  EXPECT_FALSE(r.ok()) << doc;
  return MetadataErrorOf(r.status());
}

TEST(RsMetadata, ExtractsTheRfc7865Example) {
  auto md = ParseRecordingMetadata(testing::kMetadataXml);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->data_mode, "complete");
  EXPECT_EQ(md->group_ids, (std::vector<std::string>{"7+OTCyoxTmqmqyA/1weDAg=="}));
  ASSERT_EQ(md->sessions.size(), 1u);
  EXPECT_EQ(md->sessions[0].id, "hVpd7YQgRW2nD22h7q60JQ==");
  ASSERT_EQ(md->sessions[0].sip_session_ids.size(), 1u);
  EXPECT_EQ(md->sessions[0].sip_session_ids[0].substr(0, 33), "ab30317f1a784dc48ff824d0d3715d86;");
  EXPECT_EQ(md->sessions[0].group_ref, "7+OTCyoxTmqmqyA/1weDAg==");

  ASSERT_EQ(md->streams.size(), 2u);
  EXPECT_EQ(md->streams[0].id, "UAAMm5GRQKSCMVvLyl4rFw==");
  EXPECT_EQ(md->streams[0].session_id, "hVpd7YQgRW2nD22h7q60JQ==");
  EXPECT_EQ(md->streams[0].label, "1");
  EXPECT_EQ(md->streams[1].label, "2");

  ASSERT_EQ(md->participants.size(), 2u);
  const MetadataParticipant& alice = md->participants[0];
  EXPECT_EQ(alice.id, "srfBElmCRp2QB23b7Mpk0w==");
  EXPECT_EQ(alice.name, "Alice");
  EXPECT_EQ(alice.aor, "sip:alice@atlanta.com");
  EXPECT_EQ(alice.send, (std::vector<std::string>{"UAAMm5GRQKSCMVvLyl4rFw=="}));
  EXPECT_EQ(alice.recv, (std::vector<std::string>{"i1Pz3to5hGk8fuXl+PbwCw=="}));
  EXPECT_EQ(alice.send_labels, (std::vector<std::string>{"1"}));
  EXPECT_EQ(md->participants[1].name, "Bob");
  EXPECT_EQ(md->participants[1].send_labels, (std::vector<std::string>{"2"}));

  ASSERT_NE(md->SenderOfLabel("1"), nullptr);
  EXPECT_EQ(md->SenderOfLabel("1")->aor, "sip:alice@atlanta.com");
  EXPECT_EQ(md->SenderOfLabel("2")->aor, "sip:bob@biloxy.com");
  EXPECT_EQ(md->SenderOfLabel("3"), nullptr);
  EXPECT_EQ(md->StreamByLabel("2")->id, "i1Pz3to5hGk8fuXl+PbwCw==");
  EXPECT_EQ(md->conversation_id, std::nullopt);
}

TEST(RsMetadata, MatchesOnLocalNamesWhateverThePrefix) {
  auto md = ParseRecordingMetadata(
      "<rs:recording xmlns:rs='urn:ietf:params:xml:ns:recording:1'>"
      "<rs:participant rs:participant_id='p1'><rs:nameID aor='sip:a@example.com'><rs:name>A</rs:name></rs:nameID>"
      "</rs:participant>"
      "<rs:stream stream_id='s1' session_id='x'><rs:label>7</rs:label></rs:stream>"
      "<rs:participantstreamassoc participant_id='p1'><rs:send>s1</rs:send></rs:participantstreamassoc>"
      "</rs:recording>");
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  ASSERT_EQ(md->participants.size(), 1u);
  EXPECT_EQ(md->participants[0].id, "p1");
  EXPECT_EQ(md->participants[0].name, "A");
  EXPECT_EQ(md->SenderOfLabel("7"), &md->participants[0]);
}

TEST(RsMetadata, AcceptsDraftEraForms) {
  // <aor>/<name> and <send>/<recv> directly in <participant>, "id" attributes.
  auto md = ParseRecordingMetadata(
      "<recording xmlns='urn:ietf:params:xml:ns:recording'>"
      "<session id='sess'/>"
      "<participant id='p1'><aor>sip:agent@example.com</aor><name>Agent</name><send>s1</send><recv>s2</recv></participant>"
      "<participant id='p2'><nameID aor='sip:caller@example.com'/><send>s2</send></participant>"
      "<stream id='s1' session_id='sess'><label>10</label></stream>"
      "<stream streamid='s2' label='11'/>"
      "<participant participant_id='p1'><name>Ignored, first wins</name></participant>"
      "</recording>");
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  ASSERT_EQ(md->participants.size(), 2u);  // the repeated p1 is merged
  EXPECT_EQ(md->participants[0].aor, "sip:agent@example.com");
  EXPECT_EQ(md->participants[0].name, "Agent");
  EXPECT_EQ(md->participants[0].send_labels, (std::vector<std::string>{"10"}));
  EXPECT_EQ(md->participants[1].aor, "sip:caller@example.com");
  EXPECT_EQ(md->SenderOfLabel("11")->id, "p2");
  EXPECT_EQ(md->sessions[0].id, "sess");
}

TEST(RsMetadata, FindsAConversationIdHintAnywhere) {
  auto element = ParseRecordingMetadata(
      "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><group group_id='g'>"
      "<extensiondata xmlns:v='urn:example:verbatim'><v:conversationId> c-123 </v:conversationId></extensiondata>"
      "</group></recording>");
  ASSERT_TRUE(element.ok()) << element.status().ToString();
  EXPECT_EQ(element->conversation_id, "c-123");

  auto attribute = ParseRecordingMetadata("<recording><session session_id='s' conversation-id='c-9'/></recording>");
  ASSERT_TRUE(attribute.ok());
  EXPECT_EQ(attribute->conversation_id, "c-9");
}

TEST(RsMetadata, RejectsOtherRoots) {
  auto r = ParseRecordingMetadata("<html><body/></html>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(MetadataErrorOf(r.status()), MetadataError::kNotRecording);
  EXPECT_EQ(r.status().code(), "metadata.not.recording");
}

TEST(RsMetadata, BoundsWhatOneDocumentDescribes) {
  auto doc = [](std::string_view element, int n) {
    std::string s = "<recording>";
    for (int i = 0; i < n; ++i) s += std::string(element) + std::to_string(i) + "'/>";
    return s + "</recording>";
  };
  EXPECT_TRUE(ParseRecordingMetadata(doc("<participant participant_id='p", 256)).ok());
  for (std::string_view element : {"<participant participant_id='p", "<stream stream_id='s", "<session session_id='x",
                                   "<group group_id='g"}) {
    auto r = ParseRecordingMetadata(doc(element, 257));
    ASSERT_FALSE(r.ok()) << element;
    EXPECT_EQ(MetadataErrorOf(r.status()), MetadataError::kTooManyItems) << element;
    EXPECT_EQ(r.status().code(), "metadata.too.many.items");
  }
  std::string sends = "<recording><participantstreamassoc participant_id='p'>";
  for (int i = 0; i < 257; ++i) sends += "<send>s" + std::to_string(i) + "</send>";
  auto r = ParseRecordingMetadata(sends + "</participantstreamassoc></recording>");
  EXPECT_EQ(MetadataErrorOf(r.status()), MetadataError::kTooManyItems);
  // Repeats of one id are merged, not counted.
  std::string repeats = "<recording>";
  for (int i = 0; i < 300; ++i) repeats += "<participant participant_id='same'/>";
  auto merged = ParseRecordingMetadata(repeats + "</recording>");
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->participants.size(), 1u);
}

TEST(Xml, RejectsEveryDoctype) {
  std::string laughs =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;\">]>\n"
      "<recording>&lol2;</recording>";
  EXPECT_EQ(XmlErrorOf(laughs), MetadataError::kDoctype);
  EXPECT_EQ(XmlErrorOf("<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><recording/>"), MetadataError::kDoctype);
  EXPECT_EQ(XmlErrorOf("<!doctype r><recording/>"), MetadataError::kDoctype);
  EXPECT_EQ(XmlErrorOf("<recording><!DOCTYPE x></recording>"), MetadataError::kDoctype);
  // Without a DTD, an entity reference other than the five predefined ones is an error.
  EXPECT_EQ(XmlErrorOf("<recording>&xxe;</recording>"), MetadataError::kBadEntity);
}

TEST(Xml, BoundsNestingAndElementCount) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "<a>";
    for (int i = 0; i < depth; ++i) s += "</a>";
    return s;
  };
  EXPECT_TRUE(ParseXml(nested(32)).ok());
  EXPECT_EQ(XmlErrorOf(nested(33)), MetadataError::kTooDeep);
  EXPECT_EQ(XmlErrorOf(nested(100000)), MetadataError::kTooLarge);  // bytes bound first

  std::string wide = "<r>";
  for (int i = 0; i < 10'000; ++i) wide += "<e/>";
  wide += "</r>";
  XmlLimits roomy;
  roomy.max_bytes = 1 << 20;
  auto r = ParseXml(wide, roomy);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(MetadataErrorOf(r.status()), MetadataError::kTooManyElements);

  EXPECT_EQ(XmlErrorOf("<" + std::string(257, 'n') + "/>"), MetadataError::kNameTooLong);
  EXPECT_TRUE(ParseXml("<" + std::string(256, 'n') + "/>").ok());
}

TEST(Xml, DecodesEntitiesCdataAndSkipsCommentsAndPis) {
  auto doc = ParseXml(
      "\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><r a=\"&lt;&amp;&gt;&quot;&apos;\" b='&#65;&#x263A;'>"
      "x &lt;y&gt; <![CDATA[<raw & stuff>]]><?pi data?><!-- inner -->z</r><!-- after -->");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "r");
  EXPECT_EQ(doc->Attribute("a"), "<&>\"'");
  EXPECT_EQ(doc->Attribute("b"), "A\xE2\x98\xBA");
  EXPECT_EQ(doc->text, "x <y> <raw & stuff>z");
  EXPECT_EQ(XmlErrorOf("<r>&#0;</r>"), MetadataError::kBadEntity);
  EXPECT_EQ(XmlErrorOf("<r>&#xD800;</r>"), MetadataError::kBadEntity);
  EXPECT_EQ(XmlErrorOf("<r>&#x110000;</r>"), MetadataError::kBadEntity);
  EXPECT_EQ(XmlErrorOf("<r>&amp</r>"), MetadataError::kBadEntity);
  EXPECT_EQ(XmlErrorOf("<r a='&#xZZ;'/>"), MetadataError::kBadEntity);
}

TEST(Xml, StripsPrefixesAndDropsNamespaceDeclarations) {
  auto doc = ParseXml("<a:r xmlns:a='urn:x' xmlns='urn:y' a:id='1'><b:c xmlns:b='urn:z'/></a:r>");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "r");
  ASSERT_EQ(doc->attributes.size(), 1u);
  EXPECT_EQ(doc->Attribute("id"), "1");
  ASSERT_NE(doc->Child("c"), nullptr);
  EXPECT_EQ(XmlErrorOf("<a:r></b:r>"), MetadataError::kMismatchedTag);  // prefixes must still match
}

TEST(Xml, EveryErrorIsReachableAndNamed) {
  struct Case {
    MetadataError error;
    std::string doc;
    std::string code;
  };
  std::vector<Case> cases = {
      {MetadataError::kEmpty, "<?xml version='1.0'?>  <!-- nothing -->", "metadata.empty"},
      {MetadataError::kTooLarge, std::string(64 * 1024 + 1, ' '), "metadata.too.large"},
      {MetadataError::kDoctype, "<!DOCTYPE r><r/>", "metadata.doctype"},
      {MetadataError::kTooDeep, [] { std::string s; for (int i = 0; i < 33; ++i) s += "<a>"; return s; }(), "metadata.too.deep"},
      {MetadataError::kTooManyElements, [] { std::string s = "<r>"; for (int i = 0; i < 10'000; ++i) s += "<e/>"; return s + "</r>"; }(), "metadata.too.many.elements"},
      {MetadataError::kNameTooLong, "<r " + std::string(300, 'a') + "='1'/>", "metadata.name.too.long"},
      {MetadataError::kBadName, "<1r/>", "metadata.bad.name"},
      {MetadataError::kBadAttribute, "<r a='1' a='2'/>", "metadata.bad.attribute"},
      {MetadataError::kBadEntity, "<r>&nbsp;</r>", "metadata.bad.entity"},
      {MetadataError::kMismatchedTag, "<r><a></b></r>", "metadata.mismatched.tag"},
      {MetadataError::kUnexpectedEnd, "<r><a>", "metadata.unexpected.end"},
      {MetadataError::kBadSyntax, "<r/><r/>", "metadata.bad.syntax"},
  };
  std::set<MetadataError> covered;
  std::set<std::string> names;
  for (const Case& c : cases) {
    auto r = ParseXml(c.doc);
    ASSERT_FALSE(r.ok()) << ToString(c.error);
    EXPECT_EQ(MetadataErrorOf(r.status()), c.error) << r.status().ToString();
    EXPECT_EQ(r.status().code(), c.code);
    covered.insert(c.error);
    names.insert(ToString(c.error));
  }
  for (MetadataError e : {MetadataError::kNotRecording, MetadataError::kTooManyItems}) {
    covered.insert(e);  // RsMetadata.RejectsOtherRoots, RsMetadata.BoundsWhatOneDocumentDescribes
    names.insert(ToString(e));
  }
  for (int i = 0; std::string_view(ToString(static_cast<MetadataError>(i))) != "?"; ++i) {
    EXPECT_TRUE(covered.count(static_cast<MetadataError>(i))) << ToString(static_cast<MetadataError>(i));
  }
  EXPECT_EQ(names.size(), covered.size());
}

TEST(Xml, RejectsMalformedMarkup) {
  for (std::string_view doc : {"text<r/>", "<r/>text", "<r>", "<r a=1/>", "<r a/>", "<r a='<'/>", "<r a='1'b='2'/>",
                               "<r><!-- unterminated</r>", "<r><![CDATA[x</r>", "<r><?pi</r>", "<r><!ENTITY x></r>",
                               "<r></r >x", "<r></r", "<r a='1", "</r>", "<>", "<r/><!--"}) {
    auto r = ParseXml(doc);
    EXPECT_FALSE(r.ok()) << doc;
  }
  EXPECT_TRUE(ParseXml("<r></r >").ok());
  EXPECT_TRUE(ParseXml("<r a = \"1\" />").ok());
}

}  // namespace
}  // namespace verbatim::media::siprec
