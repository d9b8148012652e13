// The msgpack/JSON ↔ Value codec (terraform/value_codec.h). Inputs are built
// byte by byte from the msgpack spec, not with the library under test.
#include "terraform/value_codec.h"

#include "core/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace verbatim::terraform {
namespace {

// Msgpack by hand.
std::string Str(std::string_view s) {
  EXPECT_LT(s.size(), 32u);
  return std::string(1, static_cast<char>(0xa0 | s.size())) + std::string(s);
}
std::string Arr(std::initializer_list<std::string> items) {
  std::string out(1, static_cast<char>(0x90 | items.size()));
  for (const auto& i : items) out += i;
  return out;
}
std::string Map(std::initializer_list<std::pair<std::string, std::string>> kv) {
  std::string out(1, static_cast<char>(0x80 | kv.size()));
  for (const auto& [k, v] : kv) out += Str(k) + v;
  return out;
}
std::string Bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out += static_cast<char>(x);
  return out;
}
const std::string kNil = Bytes({0xc0});
const std::string kTrue = Bytes({0xc3});
const std::string kUnknown = Bytes({0xd4, 0x00, 0x00});  // fixext 1, type 0

Type ClientType() {
  return Type::Object({{"name", Type::String()},
                       {"scopes", Type::Set(Type::String())},
                       {"validity", Type::Number()},
                       {"enabled", Type::Bool()}});
}

TEST(TfType, SerializesLikeTheProtocol) {
  EXPECT_EQ(json::serialize(Type::Set(Type::String()).ToJson()), R"(["set","string"])");
  EXPECT_EQ(json::serialize(Type::List(Type::Object({{"b", Type::Bool()}, {"a", Type::Number()}})).ToJson()),
            R"(["list",["object",{"a":"number","b":"bool"}]])");
  auto parsed = Type::FromJson(Type::Map(Type::List(Type::String())).ToJson());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(*parsed == Type::Map(Type::List(Type::String())));
  EXPECT_FALSE(Type::FromJson(json::value("dynamic")).ok());
}

TEST(TfMsgpack, DecodesAnObjectWithEveryPrimitive) {
  auto v = DecodeMsgpack(Map({{"name", Str("crm")},
                              {"scopes", Arr({Str("recording:write"), Str("recording:control")})},
                              {"validity", Bytes({0xcd, 0x0e, 0x10})},  // uint16 3600
                              {"enabled", kTrue}}),
                         ClientType());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->GetString("name"), "crm");
  EXPECT_EQ(v->Get("validity").as_number(), 3600);
  EXPECT_TRUE(v->Get("enabled").as_bool());
  EXPECT_EQ(v->Get("scopes"), Value::StringSet({"recording:control", "recording:write"}));  // order-insensitive
}

TEST(TfMsgpack, NilIsNullAndMissingAttributesAreNull) {
  auto v = DecodeMsgpack(Map({{"name", kNil}}), ClientType());
  ASSERT_TRUE(v.ok()) << v.status().message();
  for (const char* a : {"name", "scopes", "validity", "enabled"}) EXPECT_TRUE(v->Get(a).is_null()) << a;
  EXPECT_EQ(v->entries().size(), 4u);
  EXPECT_TRUE(DecodeMsgpack(kNil, ClientType())->is_null());
}

TEST(TfMsgpack, AnyExtensionIsUnknownEvenWithRefinements) {
  // ext 12 (refined unknown) with a payload map {1: false} (definitely not null).
  const std::string refined = Bytes({0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2});
  const std::string future = Bytes({0xd5, 0x2a, 0x01, 0x02});  // fixext 2 of a code nobody defined yet
  auto v = DecodeMsgpack(Map({{"name", kUnknown}, {"scopes", refined}, {"validity", future}}), ClientType());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_TRUE(v->Get("name").is_unknown());
  EXPECT_TRUE(v->Get("scopes").is_unknown());
  EXPECT_TRUE(v->Get("validity").is_unknown());
  EXPECT_FALSE(v->WhollyKnown());
}

TEST(TfMsgpack, SetsKeepUnknownElementsApartAndDropKnownDuplicates) {
  auto v = DecodeMsgpack(Arr({Str("a"), kUnknown, Str("a"), kUnknown}), Type::Set(Type::String()));
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->elements().size(), 3u);  // "a", unknown, unknown
  EXPECT_FALSE(v->WhollyKnown());
  EXPECT_FALSE(v->GetStrings("x").has_value());
}

TEST(TfMsgpack, NumbersArriveAsIntFloatOrString) {
  const Type n = Type::Number();
  EXPECT_EQ(DecodeMsgpack(Bytes({0x2a}), n)->as_number(), 42);
  EXPECT_EQ(DecodeMsgpack(Bytes({0xff}), n)->as_number(), -1);
  EXPECT_EQ(DecodeMsgpack(Bytes({0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}), n)->as_number(), -2);
  EXPECT_EQ(DecodeMsgpack(Bytes({0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}), n)->as_number(), 3.141592653589793);
  EXPECT_EQ(DecodeMsgpack(Str("1e3"), n)->as_number(), 1000);
  EXPECT_EQ(DecodeMsgpack(Str("-0.5"), n)->as_number(), -0.5);
  auto bad = DecodeMsgpack(Str("12abc"), n);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("decimal number"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(DecodeMsgpack(Str("1e999"), n).ok());
}

TEST(TfMsgpack, NestedObjectsInLists) {
  const Type layers = Type::List(Type::Object({{"layer", Type::String()}, {"granted", Type::List(Type::String())}}));
  auto v = DecodeMsgpack(Arr({Map({{"layer", Str("scope")}, {"granted", Arr({Str("recording:write")})}}),
                              Map({{"layer", Str("permission")}, {"granted", kNil}})}),
                         layers);
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->elements().size(), 2u);
  EXPECT_EQ(v->elements()[0].GetStrings("granted"), std::vector<std::string>{"recording:write"});
  EXPECT_TRUE(v->elements()[1].Get("granted").is_null());
}

TEST(TfMsgpack, MapsKeepTheirKeys) {
  auto v = DecodeMsgpack(Map({{"b", Str("2")}, {"a", Str("1")}}), Type::Map(Type::String()));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->GetString("a"), "1");
  EXPECT_EQ(v->GetString("b"), "2");
}

struct BadCase {
  const char* name;
  std::string bytes;
  const char* says;
};

TEST(TfMsgpack, BadInputIsAnErrorThatSaysWhereNeverACrash) {
  std::string deep(200, static_cast<char>(0x91));
  deep += kNil;
  const BadCase cases[] = {
      {"empty", "", "empty"},
      {"truncated", Map({{"name", Str("crm")}}).substr(0, 4), "truncated"},
      {"trailing", Map({{"name", Str("x")}}) + kNil, "after the value"},
      {"wrong type", Map({{"scopes", Arr({Str("a"), Bytes({0x07})})}}), "at .scopes[1]: expected a string, got an integer"},
      {"bool for number", Map({{"validity", kTrue}}), "at .validity: expected a number"},
      {"unknown attribute", Map({{"colour", Str("red")}}), "unexpected attribute 'colour'"},
      {"duplicate key", Bytes({0x82}) + Str("name") + kNil + Str("name") + kNil, "duplicate key 'name'"},
      {"non-string key", Bytes({0x81, 0x01, 0xc0}), "map keys must be strings"},
      {"invalid utf-8", Map({{"name", Bytes({0xa2, 0xc3, 0x28})}}), "not valid UTF-8"},
      {"overlong utf-8", Map({{"name", Bytes({0xa2, 0xc0, 0xaf})}}), "not valid UTF-8"},
      {"huge array claim", Map({{"scopes", Bytes({0xdd, 0xff, 0xff, 0xff, 0xff})}}), "limit"},
      {"huge string claim", Map({{"name", Bytes({0xdb, 0x7f, 0xff, 0xff, 0xff})}}), ""},
      {"nested too deep", deep, "deep"},
      {"reserved byte", Bytes({0xc1}), "invalid msgpack"},
  };
  for (const auto& c : cases) {
    Type t = std::string_view(c.name) == "nested too deep" ? Type::List(Type::String()) : ClientType();
    auto v = DecodeMsgpack(c.bytes, t);
    ASSERT_FALSE(v.ok()) << c.name << " decoded as " << DebugString(*v);
    EXPECT_EQ(v.status().code(), "value.malformed") << c.name;
    EXPECT_NE(v.status().message().find(c.says), std::string::npos) << c.name << ": " << v.status().message();
  }
}

TEST(TfMsgpack, EncodesWhatItDecodes) {
  Value v = Value::Object({{"name", Value::String("crm")},
                           {"scopes", Value::StringSet({"b", "a"})},
                           {"validity", Value::Number(3600)},
                           {"enabled", Value::Unknown()}});
  auto bytes = EncodeMsgpack(v, ClientType());
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_NE(bytes->find(kUnknown), std::string::npos);  // the plain unknown of the wire format
  auto back = DecodeMsgpack(*bytes, ClientType());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, v) << DebugString(*back);
  // Integral numbers go out as integers, others as floats.
  EXPECT_EQ(*EncodeMsgpack(Value::Number(42), Type::Number()), Bytes({0x2a}));
  EXPECT_EQ(static_cast<unsigned char>((*EncodeMsgpack(Value::Number(0.5), Type::Number()))[0]), 0xcb);
}

TEST(TfMsgpack, EncodingAValueOfTheWrongShapeIsAnErrorNotGarbage) {
  auto bad = EncodeMsgpack(Value::Object({{"name", Value::Number(1)}}), ClientType());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(".name"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(EncodeMsgpack(Value::Object({{"nope", Value::Null()}}), ClientType()).ok());
  // Attributes the value lacks go out as nil, so Terraform always sees the whole object.
  auto partial = EncodeMsgpack(Value::Object({{"name", Value::String("x")}}), ClientType());
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(static_cast<unsigned char>((*partial)[0]), 0x84);
}

TEST(TfJson, ReadsStoredStateAndCanDropAttributesTheSchemaNoLongerHas) {
  const std::string raw = R"({"name":"crm","scopes":["a"],"validity":60,"enabled":null,"retired":"x"})";
  EXPECT_FALSE(DecodeJson(raw, ClientType()).ok());
  DecodeOptions lenient;
  lenient.ignore_unknown_attributes = true;
  auto v = DecodeJson(raw, ClientType(), lenient);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->GetString("name"), "crm");
  EXPECT_EQ(v->Get("validity").as_number(), 60);
  EXPECT_TRUE(v->Get("enabled").is_null());
  EXPECT_FALSE(DecodeJson(R"({"name":1})", ClientType()).ok());
  EXPECT_FALSE(DecodeJson("{", ClientType()).ok());
}

}  // namespace
}  // namespace verbatim::terraform

namespace verbatim::terraform {
namespace {

// Found by fuzz/tf_msgpack_fuzz.cc: whatever decodes must come back the same
// after an encode/decode round trip.
TEST(TfMsgpack, RoundTripOfARefinedUnknownAndAStringNumber) {
  const std::string bytes = *Base64Decode("gqRuYW1lxwMMgQHCqHZhbGlkaXR5ozFlMw==");
  const Type t = Type::Object({{"id", Type::String()},
                               {"name", Type::String()},
                               {"scopes", Type::Set(Type::String())},
                               {"validity", Type::Number()},
                               {"enabled", Type::Bool()}});
  auto v = DecodeMsgpack(bytes, t);
  ASSERT_TRUE(v.ok()) << v.status().message();
  auto encoded = EncodeMsgpack(*v, t);
  ASSERT_TRUE(encoded.ok()) << encoded.status().message();
  auto again = DecodeMsgpack(*encoded, t);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, *v) << DebugString(*v) << " vs " << DebugString(*again);
}

}  // namespace
}  // namespace verbatim::terraform

namespace verbatim::terraform {
namespace {

// Found by fuzz/tf_msgpack_fuzz.cc: 2^64 (an integral double no integer type
// holds) must go out as a float64, byte for byte.
TEST(TfMsgpack, HugeIntegralNumbersGoOutAsFloat64) {
  auto enc = EncodeMsgpack(Value::Number(18446744073709551616.0), Type::Number());
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, std::string("\xcb\x43\xf0\x00\x00\x00\x00\x00\x00", 9));
  EXPECT_EQ(DecodeMsgpack(*enc, Type::Number())->as_number(), 18446744073709551616.0);
  auto big = DecodeMsgpack(std::string("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9), Type::Number());  // uint64 max
  ASSERT_TRUE(big.ok());
  auto round = DecodeMsgpack(*EncodeMsgpack(*big, Type::Number()), Type::Number());
  EXPECT_EQ(round->as_number(), big->as_number());
}

}  // namespace
}  // namespace verbatim::terraform
