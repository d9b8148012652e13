#include <gtest/gtest.h>

#include <set>
#include <string>

#include "media/siprec/multipart.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::siprec {
namespace {

using testing::Crlf;

std::optional<MultipartError> ErrorOf(const Result<std::vector<BodyPart>>& r) {
  EXPECT_FALSE(r.ok());
  return MultipartErrorOf(r.status());
}

TEST(Multipart, ParsesTheSiprecBody) {
  auto parts = ParseMultipart("multipart/mixed;boundary=foobar", testing::SiprecBody());
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].content_type(), "application/sdp");
  // The CRLF before a delimiter belongs to the delimiter.
  std::string sdp = Crlf(testing::kOfferSdp);
  EXPECT_EQ((*parts)[0].body, sdp.substr(0, sdp.size() - 2));
  EXPECT_EQ((*parts)[1].content_type(), "application/rs-metadata+xml");
  EXPECT_EQ((*parts)[1].header("content-disposition"), "recording-session");
  EXPECT_EQ(FindPart(*parts, "APPLICATION/RS-METADATA+XML"), &(*parts)[1]);
  EXPECT_EQ(FindPart(*parts, "text/plain"), nullptr);
}

TEST(Multipart, IgnoresPreambleAndEpilogueAndAcceptsLf) {
  std::string body =
      "This is the preamble. --simple boundary is not a delimiter here.\n"
      "--simple boundary\n"
      "\n"
      "implicitly typed plain text\n"
      "--simple boundary-not-quite\n"
      "--simple boundary  \n"
      "Content-type: text/plain; charset=us-ascii\n"
      "Content-ID:\n"
      "  <part2@example.com>\n"
      "\n"
      "explicitly typed\n"
      "\n"
      "--simple boundary--  \n"
      "This is the epilogue. It is also to be ignored.\n";
  auto parts = ParseMultipart("multipart/mixed; boundary=\"simple boundary\"", body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_TRUE((*parts)[0].headers.empty());
  EXPECT_EQ((*parts)[0].content_type(), "text/plain");  // RFC 2046 §5.1 default
  // A line that only starts with the boundary is content (RFC 2046 §5.1.1).
  EXPECT_EQ((*parts)[0].body, "implicitly typed plain text\n--simple boundary-not-quite");
  EXPECT_EQ((*parts)[1].header("Content-ID"), "<part2@example.com>");  // unfolded
  EXPECT_EQ((*parts)[1].body, "explicitly typed\n");
}

TEST(Multipart, AcceptsEmptyAndHeaderOnlyParts) {
  auto parts = ParseMultipartBody("b", "--b\r\n\r\n--b\r\nContent-Type: text/x\r\n--b--");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "");
  EXPECT_EQ((*parts)[1].content_type(), "text/x");
  EXPECT_EQ((*parts)[1].body, "");
}

TEST(Multipart, MissingClosingDelimiterIsAnError) {
  std::string body = testing::SiprecBody();
  body.resize(body.rfind("--foobar--"));
  auto r = ParseMultipart("multipart/mixed;boundary=foobar", body);
  EXPECT_EQ(ErrorOf(r), MultipartError::kMissingClosingDelimiter);
  EXPECT_EQ(r.status().code(), "multipart.missing.closing.delimiter");
}

TEST(Multipart, EveryErrorIsReachableAndNamed) {
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += "--b\r\n\r\npart\r\n";
  seventeen += "--b--\r\n";
  struct Case {
    MultipartError error;
    std::string content_type;
    std::string body;
    std::string code;
  };
  std::vector<Case> cases = {
      {MultipartError::kNotMultipart, "application/sdp", "v=0", "multipart.not.multipart"},
      {MultipartError::kMissingBoundary, "multipart/mixed", "--b--", "multipart.missing.boundary"},
      {MultipartError::kBadBoundary, "multipart/mixed;boundary=" + std::string(71, 'b'), "", "multipart.bad.boundary"},
      {MultipartError::kTooLarge, "multipart/mixed;boundary=b", std::string(kMaxMultipartBytes + 1, ' '),
       "multipart.too.large"},
      {MultipartError::kNoDelimiter, "multipart/mixed;boundary=b", "no delimiter -- b", "multipart.no.delimiter"},
      {MultipartError::kNoParts, "multipart/mixed;boundary=b", "--b--\r\n", "multipart.no.parts"},
      {MultipartError::kMissingClosingDelimiter, "multipart/mixed;boundary=b", "--b\r\n\r\nx\r\n",
       "multipart.missing.closing.delimiter"},
      {MultipartError::kTooManyParts, "multipart/mixed;boundary=b", seventeen, "multipart.too.many.parts"},
      {MultipartError::kBadPartHeader, "multipart/mixed;boundary=b", "--b\r\nno colon\r\n\r\nx\r\n--b--",
       "multipart.bad.part.header"},
  };
  std::set<MultipartError> covered;
  for (const Case& c : cases) {
    auto r = ParseMultipart(c.content_type, c.body);
    ASSERT_FALSE(r.ok()) << ToString(c.error);
    EXPECT_EQ(MultipartErrorOf(r.status()), c.error) << r.status().ToString();
    EXPECT_EQ(r.status().code(), c.code);
    covered.insert(c.error);
  }
  auto no_sdp = SplitSiprecBody("multipart/mixed;boundary=b", "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--");
  ASSERT_FALSE(no_sdp.ok());
  EXPECT_EQ(MultipartErrorOf(no_sdp.status()), MultipartError::kMissingSdp);
  EXPECT_EQ(no_sdp.status().code(), "multipart.missing.sdp");
  covered.insert(MultipartError::kMissingSdp);
  for (int i = 0; std::string_view(ToString(static_cast<MultipartError>(i))) != "?"; ++i) {
    EXPECT_TRUE(covered.count(static_cast<MultipartError>(i))) << ToString(static_cast<MultipartError>(i));
  }
}

TEST(Multipart, RejectsBadBoundariesAndPartHeaders) {
  for (std::string_view b : {"", "trailing space ", "semi;colon", "quote\"d"}) {
    EXPECT_EQ(ErrorOf(ParseMultipartBody(b, "--x--")), MultipartError::kBadBoundary) << b;
  }
  EXPECT_TRUE(ParseMultipartBody(std::string(70, 'b'), "--" + std::string(70, 'b') + "\r\n\r\nx\r\n--" + std::string(70, 'b') + "--").ok());
  EXPECT_EQ(ErrorOf(ParseMultipartBody("b", "--b\r\n folded first\r\n\r\n--b--")), MultipartError::kBadPartHeader);
  EXPECT_EQ(ErrorOf(ParseMultipartBody("b", std::string("--b\r\nX: a\0b\r\n\r\n--b--", 20))), MultipartError::kBadPartHeader);
  std::string many = "--b\r\n";
  for (int i = 0; i < 33; ++i) many += "X: y\r\n";
  EXPECT_EQ(ErrorOf(ParseMultipartBody("b", many + "\r\n--b--")), MultipartError::kBadPartHeader);
  EXPECT_EQ(ErrorOf(ParseMultipart("not a type", "")), MultipartError::kNotMultipart);
}

TEST(SiprecBody, SplitsSdpAndMetadata) {
  auto body = SplitSiprecBody("multipart/mixed;boundary=foobar", testing::SiprecBody());
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->sdp.substr(0, 5), "v=0\r\n");
  ASSERT_TRUE(body->metadata);
  EXPECT_EQ(body->metadata->substr(0, 5), "<?xml");

  auto sdp_only = SplitSiprecBody("application/sdp", "v=0\r\n");
  ASSERT_TRUE(sdp_only.ok());
  EXPECT_EQ(sdp_only->sdp, "v=0\r\n");
  EXPECT_EQ(sdp_only->metadata, std::nullopt);

  // The draft-era type name is still sent by some SRCs.
  auto draft = SplitSiprecBody(
      "multipart/mixed;boundary=x",
      "--x\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--x\r\nContent-Type: application/rs-metadata\r\n\r\n<recording/>\r\n--x--\r\n");
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  EXPECT_EQ(draft->metadata, "<recording/>");
}

}  // namespace
}  // namespace verbatim::media::siprec
