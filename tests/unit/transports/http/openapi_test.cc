// Keeps src/transports/http/openapi.json honest: it must describe exactly the routes the
// router serves (same method, path, access and permission), every $ref must
// resolve, the security schemes must match the scope catalog, and real
// responses of a live App (success and error paths) must have a documented
// status and a body that matches the documented schema.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "transports/http/openapi_doc.h"
#include "authz/catalog.h"
#include "core/base64.h"
#include "core/ids.h"
#include "core/version.h"
#include "media/wav/wav_writer.h"
#include "unit/transports/http/faulty_store.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;
using testing_util::TestClient;

const std::set<std::string> kHttpMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }
std::string Str(const json::value* v) { return v ? Str(*v) : std::string(); }  // "" when absent

const char* AccessName(Access a) {
  switch (a) {
    case Access::kPublic: return "public";
    case Access::kToken: return "token";
    case Access::kPermission: return "permission";
  }
  return "?";
}

// The document, parsed once.
const json::object& Doc() {
  static const json::value doc = [] {
    auto parsed = ParseJsonStrict(OpenApiDocument(), JsonLimits{64, 16u << 20});
    if (!parsed.ok()) {
      ADD_FAILURE() << "openapi.json does not parse: " << parsed.status().message();
      return json::value(json::object());
    }
    return std::move(*parsed);
  }();
  static const json::object empty;
  return doc.is_object() ? doc.as_object() : empty;
}

const json::value* Get(const json::value* v, std::string_view key) {
  if (!v || !v->is_object()) return nullptr;
  return v->as_object().if_contains(key);
}

const json::value* Get(const json::object& o, std::string_view key) { return o.if_contains(key); }

// Resolves a local JSON pointer "#/a/b~1c" inside the document.
const json::value* ResolvePointer(const json::object& doc, std::string_view ref) {
  if (ref.substr(0, 2) != "#/") return nullptr;
  const json::value* cur = nullptr;
  const json::object* obj = &doc;
  std::string_view rest = ref.substr(2);
  while (true) {
    size_t slash = rest.find('/');
    std::string token(rest.substr(0, slash));
    std::string key;
    for (size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        key += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        key += token[i];
      }
    }
    if (!obj) return nullptr;
    cur = obj->if_contains(key);
    if (!cur) return nullptr;
    if (slash == std::string_view::npos) return cur;
    rest = rest.substr(slash + 1);
    obj = cur->is_object() ? &cur->as_object() : nullptr;
  }
}

// Follows $ref chains (components/responses, parameters, ...).
const json::value* Deref(const json::object& doc, const json::value* v) {
  for (int i = 0; v && i < 16; ++i) {
    const json::value* r = Get(v, "$ref");
    if (!r) return v;
    v = ResolvePointer(doc, Str(*r));
  }
  return v;
}

std::vector<std::string> PatternParams(const std::string& pattern) {
  std::vector<std::string> out;
  static const std::regex re(R"(\{([^}/]+)\})");
  for (std::sregex_iterator it(pattern.begin(), pattern.end(), re), end; it != end; ++it) out.push_back((*it)[1]);
  return out;
}

const json::object* Operation(const std::string& pattern, const std::string& method) {
  const json::value* paths = Get(Doc(), "paths");
  const json::value* op = Get(Get(paths, pattern), Lower(method));
  return op && op->is_object() ? &op->as_object() : nullptr;
}

// ---------------------------------------------------------------------------
// A small JSON Schema (2020-12 subset) validator: enough for the keywords the
// document uses, so responses can be checked against it.
class SchemaValidator {
 public:
  // strict: an object may carry only the properties its schema names (unless
  // the schema says additionalProperties), so undocumented fields are caught.
  explicit SchemaValidator(const json::object& doc, bool strict = false) : doc_(doc), strict_(strict) {}

  std::vector<std::string> Validate(const json::value& x, const json::value& schema) const {
    std::vector<std::string> out;
    Check(x, schema, "$", out, 0);
    return out;
  }

 private:
  static bool TypeMatches(const json::value& x, std::string_view t) {
    if (t == "object") return x.is_object();
    if (t == "array") return x.is_array();
    if (t == "string") return x.is_string();
    if (t == "boolean") return x.is_bool();
    if (t == "null") return x.is_null();
    if (t == "number") return x.is_number();
    if (t == "integer") {
      if (x.is_int64() || x.is_uint64()) return true;
      if (x.is_double()) return x.as_double() == static_cast<double>(static_cast<int64_t>(x.as_double()));
    }
    return false;
  }

  static double Num(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.as_int64());
    if (v.is_uint64()) return static_cast<double>(v.as_uint64());
    if (v.is_double()) return v.as_double();
    return 0;
  }

  static size_t CodePoints(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s)
      if ((c & 0xC0) != 0x80) ++n;
    return n;
  }

  // Property names declared by `schema`, its $ref target and its allOf
  // branches. False if one of them decides about extra properties itself.
  bool Named(const json::value& schema, std::set<std::string>& names, int depth) const {
    if (!schema.is_object() || depth > 16) return false;
    const json::object& s = schema.as_object();
    bool closed = !s.contains("additionalProperties");
    if (const auto* p = s.if_contains("properties"); p && p->is_object())
      for (const auto& kv : p->as_object()) names.emplace(kv.key());
    if (const auto* r = s.if_contains("$ref"))
      if (const json::value* target = ResolvePointer(doc_, Str(*r))) closed = Named(*target, names, depth + 1) && closed;
    if (const auto* all = s.if_contains("allOf"); all && all->is_array())
      for (const auto& sub : all->as_array()) closed = Named(sub, names, depth + 1) && closed;
    return closed;
  }

  // same_level: checking one part ($ref target, allOf branch) of a schema whose
  // strictness the caller already checked.
  void Check(const json::value& x, const json::value& schema, const std::string& at, std::vector<std::string>& out,
             int depth, bool same_level = false) const {
    if (depth > 64) {
      out.push_back(at + ": schema nesting too deep");
      return;
    }
    if (schema.is_bool()) {
      if (!schema.as_bool()) out.push_back(at + ": no value allowed here");
      return;
    }
    if (!schema.is_object()) return;
    const json::object& s = schema.as_object();
    if (strict_ && !same_level && x.is_object()) {
      std::set<std::string> names;
      if (Named(schema, names, 0) && !names.empty())
        for (const auto& kv : x.as_object())
          if (!names.count(std::string(kv.key())))
            out.push_back(at + ": property '" + std::string(kv.key()) + "' is not documented");
    }
    if (const auto* r = s.if_contains("$ref")) {
      const json::value* target = ResolvePointer(doc_, Str(*r));
      if (!target) {
        out.push_back(at + ": unresolved $ref " + Str(*r));
        return;
      }
      Check(x, *target, at, out, depth + 1, true);
    }
    if (const auto* all = s.if_contains("allOf"); all && all->is_array())
      for (const auto& sub : all->as_array()) Check(x, sub, at, out, depth + 1, true);
    for (const char* kw : {"oneOf", "anyOf"}) {
      const auto* alts = s.if_contains(kw);
      if (!alts || !alts->is_array()) continue;
      int matches = 0;
      std::vector<std::string> why;
      for (const auto& sub : alts->as_array()) {
        std::vector<std::string> errs;
        Check(x, sub, at, errs, depth + 1);
        if (errs.empty()) ++matches;
        else why.push_back(errs.front());
      }
      if (matches == 0) {
        std::string msg = at + ": matches no alternative of " + kw;
        for (const auto& w : why) msg += " [" + w + "]";
        out.push_back(msg);
      } else if (std::string_view(kw) == "oneOf" && matches > 1) {
        out.push_back(at + ": matches " + std::to_string(matches) + " alternatives of oneOf");
      }
    }
    if (const auto* t = s.if_contains("type")) {
      bool ok = false;
      if (t->is_string()) ok = TypeMatches(x, Str(*t));
      if (t->is_array())
        for (const auto& one : t->as_array()) ok = ok || TypeMatches(x, Str(one));
      if (!ok) {
        out.push_back(at + ": expected type " + json::serialize(*t) + ", got " + json::serialize(x).substr(0, 80));
        return;
      }
    }
    if (const auto* c = s.if_contains("const"); c && *c != x)
      out.push_back(at + ": expected " + json::serialize(*c) + ", got " + json::serialize(x).substr(0, 80));
    if (const auto* e = s.if_contains("enum"); e && e->is_array()) {
      const auto& a = e->as_array();
      if (std::find(a.begin(), a.end(), x) == a.end())
        out.push_back(at + ": " + json::serialize(x).substr(0, 80) + " is not one of " + json::serialize(*e));
    }
    if (x.is_string()) {
      std::string_view v = x.as_string();
      if (const auto* m = s.if_contains("maxLength"); m && CodePoints(v) > Num(*m))
        out.push_back(at + ": longer than maxLength");
      if (const auto* m = s.if_contains("minLength"); m && CodePoints(v) < Num(*m))
        out.push_back(at + ": shorter than minLength");
      if (const auto* p = s.if_contains("pattern"); p && !std::regex_search(std::string(v), std::regex(Str(*p))))
        out.push_back(at + ": '" + std::string(v.substr(0, 80)) + "' does not match " + Str(*p));
      std::string format = s.if_contains("format") ? Str(s.at("format")) : "";
      if (format == "uuid" && !IsUuid(v)) out.push_back(at + ": '" + std::string(v.substr(0, 80)) + "' is not a uuid");
      if (format == "date-time" && !ParseRfc3339(v))
        out.push_back(at + ": '" + std::string(v.substr(0, 80)) + "' is not an RFC 3339 date-time");
    }
    if (x.is_number()) {
      if (const auto* m = s.if_contains("minimum"); m && Num(x) < Num(*m)) out.push_back(at + ": below minimum");
      if (const auto* m = s.if_contains("maximum"); m && Num(x) > Num(*m)) out.push_back(at + ": above maximum");
    }
    if (x.is_array()) {
      const auto& a = x.as_array();
      if (const auto* m = s.if_contains("minItems"); m && a.size() < Num(*m)) out.push_back(at + ": too few items");
      if (const auto* m = s.if_contains("maxItems"); m && a.size() > Num(*m)) out.push_back(at + ": too many items");
      if (const auto* items = s.if_contains("items"))
        for (size_t i = 0; i < a.size(); ++i) Check(a[i], *items, at + "[" + std::to_string(i) + "]", out, depth + 1);
    }
    if (x.is_object()) {
      const auto& o = x.as_object();
      if (const auto* req = s.if_contains("required"); req && req->is_array())
        for (const auto& k : req->as_array())
          if (!o.contains(Str(k))) out.push_back(at + ": missing required property '" + Str(k) + "'");
      const json::object* props = nullptr;
      if (const auto* p = s.if_contains("properties"); p && p->is_object()) props = &p->as_object();
      const json::value* additional = s.if_contains("additionalProperties");
      for (const auto& kv : o) {
        std::string key(kv.key());
        const json::value* ps = props ? props->if_contains(key) : nullptr;
        if (ps) {
          Check(kv.value(), *ps, at + "." + key, out, depth + 1);
        } else if (additional) {
          if (additional->is_bool() && !additional->as_bool()) out.push_back(at + ": unexpected property '" + key + "'");
          else Check(kv.value(), *additional, at + "." + key, out, depth + 1);
        }
      }
    }
  }

  const json::object& doc_;
  const bool strict_;
};

// The validator itself rejects what it should, so a passing conformance test means something.
TEST(OpenApiSchemaValidator, RejectsMismatches) {
  SchemaValidator v(Doc());
  const json::value error = json::parse(
      R"({"status":404,"code":"conversation.not.found","message":"m","messageWithParams":"m","messageParams":{},)"
      R"("contextId":"6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90"})");
  const json::value ref = {{"$ref", "#/components/schemas/Error"}};
  EXPECT_TRUE(v.Validate(error, ref).empty());
  auto broken = [&](std::function<void(json::object&)> edit) {
    json::value copy = error;
    edit(copy.as_object());
    return !v.Validate(copy, ref).empty();
  };
  EXPECT_TRUE(broken([](json::object& o) { o.erase("code"); }));                    // required
  EXPECT_TRUE(broken([](json::object& o) { o["code"] = "no.such.code"; }));           // enum
  EXPECT_TRUE(broken([](json::object& o) { o["status"] = "404"; }));                  // type
  EXPECT_TRUE(broken([](json::object& o) { o["contextId"] = "abc"; }));               // format uuid
  EXPECT_TRUE(broken([](json::object& o) { o["messageParams"] = json::object{{"a", 1}}; }));  // additionalProperties
  EXPECT_TRUE(broken([](json::object& o) { o["explanation"] = json::object{{"decision", "maybe"}}; }));  // oneOf
  const json::value patch = {{"$ref", "#/components/schemas/RecordingMetadataPatch"}};
  EXPECT_FALSE(v.Validate(json::parse(R"({"state":"active"})"), patch).empty());    // additionalProperties: false
  EXPECT_FALSE(v.Validate(json::parse(R"({"retentionDays":0})"), patch).empty());   // minimum
  EXPECT_FALSE(v.Validate(json::parse(R"({"labels":[""]})"), patch).empty());       // minLength
  EXPECT_TRUE(v.Validate(json::parse(R"({"retentionDays":null,"labels":["a"]})"), patch).empty());
  json::value extra = error;
  extra.as_object()["undocumented"] = true;
  EXPECT_TRUE(v.Validate(extra, ref).empty());
  EXPECT_FALSE(SchemaValidator(Doc(), true).Validate(extra, ref).empty());  // strict: undocumented property
  const json::value with_secret = json::parse(
      R"({"id":"6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90","name":"n","description":"","allowedScopes":[],)"
      R"("allowedGrantTypes":[],"roles":[],"accessTokenValiditySeconds":3600,"dateCreated":"2026-01-01T00:00:00Z",)"
      R"("dateModified":"2026-01-01T00:00:00Z","enabled":true,"tokensValidAfter":null,"tokensValidAfterReason":null,)"
      R"("clientType":"confidential","redirectUris":[],"clientSecret":"s"})");
  EXPECT_TRUE(SchemaValidator(Doc(), true).Validate(with_secret, {{"$ref", "#/components/schemas/ClientWithSecret"}}).empty());
  EXPECT_FALSE(SchemaValidator(Doc(), true).Validate(with_secret, {{"$ref", "#/components/schemas/Client"}}).empty());
  const json::value role = {{"$ref", "#/components/schemas/RoleCreate"}};
  EXPECT_FALSE(v.Validate(json::parse(R"({"name":"r","permissions":["a:b"]})"), role).empty());  // pattern
}

// ---------------------------------------------------------------------------
// (1) The document parses and is OpenAPI 3.1.

TEST(OpenApiDocument, ParsesAsOpenApi31) {
  const auto& doc = Doc();
  ASSERT_FALSE(doc.empty());
  EXPECT_EQ(Str(doc.at("openapi")), "3.1.0");
  const json::value* info = Get(doc, "info");
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(Str(Get(info, "title")).empty());
  EXPECT_FALSE(Str(Get(info, "version")).empty());
  const json::value* servers = Get(doc, "servers");
  ASSERT_TRUE(servers && servers->is_array() && !servers->as_array().empty());
  EXPECT_EQ(Str(Get(&servers->as_array()[0], "url")), "/");
  EXPECT_EQ(std::string(OpenApiDocument()).find(")EMBED_DOC\""), std::string::npos);
}

// The version is written once, in project(VERSION ...) of CMakeLists.txt
// (core/version.h); the document, kept by hand, must say the same.
TEST(OpenApiDocument, InfoVersionIsTheBuildVersion) {
  const json::value* info = Get(Doc(), "info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(Str(Get(info, "version")), kVersion) << "update info.version in src/transports/http/openapi.json";
  const json::value* readiness = Get(Doc(), "components");
  for (const char* key : {"schemas", "Readiness", "properties", "version", "examples"})
    readiness = readiness ? Get(readiness, key) : nullptr;
  ASSERT_TRUE(readiness && readiness->is_array() && !readiness->as_array().empty());
  EXPECT_EQ(Str(&readiness->as_array()[0]), kVersion) << "update the Readiness example in src/transports/http/openapi.json";
}

// ---------------------------------------------------------------------------
// (2)-(4): the document and the router describe the same API.

class OpenApiRoutes : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(t_.ok()) << t_.status().ToString(); }
  TestApp t_;
};

TEST_F(OpenApiRoutes, EveryRouteIsDocumented) {
  const auto& routes = t_.app().router().routes();
  ASSERT_FALSE(routes.empty());
  for (const auto& r : routes)
    EXPECT_NE(Operation(r.pattern, r.method), nullptr)
        << "route " << r.method << " " << r.pattern << " is missing from src/transports/http/openapi.json";
}

TEST_F(OpenApiRoutes, EveryDocumentedOperationIsARoute) {
  std::set<std::pair<std::string, std::string>> routes;
  for (const auto& r : t_.app().router().routes()) {
    EXPECT_TRUE(routes.emplace(Lower(r.method), r.pattern).second) << "route registered twice: " << r.method << " "
                                                                   << r.pattern;
  }
  const json::value* paths = Get(Doc(), "paths");
  ASSERT_TRUE(paths && paths->is_object());
  for (const auto& path : paths->as_object()) {
    ASSERT_TRUE(path.value().is_object()) << path.key();
    for (const auto& kv : path.value().as_object()) {
      std::string key(kv.key());
      if (!kHttpMethods.count(key)) continue;  // parameters, summary, ...
      EXPECT_TRUE(routes.count({key, std::string(path.key())}))
          << "documented operation " << key << " " << path.key() << " has no route";
    }
  }
}

TEST_F(OpenApiRoutes, AccessSecurityAndPermissionMatchTheRoute) {
  const json::value* all_schemes = Get(Get(Doc(), "components"), "securitySchemes");
  ASSERT_TRUE(all_schemes && all_schemes->is_object());
  for (const auto& r : t_.app().router().routes()) {
    const json::object* op = Operation(r.pattern, r.method);
    if (!op) continue;  // reported by EveryRouteIsDocumented
    const std::string where = r.method + " " + r.pattern;
    EXPECT_EQ(Str(op->contains("x-verbatim-access") ? op->at("x-verbatim-access") : json::value()),
              AccessName(r.access))
        << where;
    const json::value* security = Get(*op, "security");
    ASSERT_TRUE(security && security->is_array()) << where << ": every operation states its security";
    std::vector<std::string> schemes_used;
    for (const auto& req : security->as_array()) {
      ASSERT_TRUE(req.is_object()) << where;
      for (const auto& kv : req.as_object()) {
        schemes_used.emplace_back(kv.key());
        EXPECT_TRUE(all_schemes->as_object().contains(kv.key())) << where << ": unknown scheme " << kv.key();
      }
    }
    auto uses = [&](const char* s) { return std::count(schemes_used.begin(), schemes_used.end(), s) > 0; };
    if (r.access == Access::kPublic) {
      EXPECT_FALSE(uses("bearerAuth") || uses("oauth2")) << where << " is public but documents a bearer token";
      EXPECT_FALSE(op->contains("x-verbatim-permission")) << where;
      continue;
    }
    // Protected: bearer token (and the oauth2 flow) with the scopes that unlock the permission.
    EXPECT_TRUE(uses("bearerAuth")) << where;
    EXPECT_TRUE(uses("oauth2")) << where;
    std::vector<std::string> expected_scopes;
    if (r.access == Access::kPermission) {
      expected_scopes = authz::ScopesUnlocking(r.action);
      EXPECT_FALSE(expected_scopes.empty()) << where << ": no scope unlocks " << r.action;
      ASSERT_TRUE(op->contains("x-verbatim-permission")) << where;
      EXPECT_EQ(Str(op->at("x-verbatim-permission")), r.action) << where;
    } else {
      EXPECT_FALSE(op->contains("x-verbatim-permission")) << where << ": token-only routes need no permission";
    }
    for (const auto& req : security->as_array()) {
      for (const auto& kv : req.as_object()) {
        if (kv.key() != "oauth2" && kv.key() != "bearerAuth") continue;  // e.g. the AudioHook signature
        std::vector<std::string> scopes;
        for (const auto& s : kv.value().as_array()) scopes.push_back(Str(s));
        EXPECT_EQ(scopes, expected_scopes) << where << ": scopes of " << kv.key();
      }
    }
    // Every protected operation documents the authorization failures.
    const json::value* responses = Get(*op, "responses");
    EXPECT_TRUE(Get(responses, "401")) << where;
    if (r.access == Access::kPermission) {
      EXPECT_TRUE(Get(responses, "403")) << where;
    }
  }
}

TEST_F(OpenApiRoutes, PathParametersMatchThePattern) {
  const auto& doc = Doc();
  for (const auto& r : t_.app().router().routes()) {
    const json::object* op = Operation(r.pattern, r.method);
    if (!op) continue;
    const std::string where = r.method + " " + r.pattern;
    std::set<std::string> declared;
    std::vector<const json::value*> lists = {Get(*op, "parameters"),
                                             Get(Get(Get(doc, "paths"), r.pattern), "parameters")};
    for (const auto* list : lists) {
      if (!list || !list->is_array()) continue;
      for (const auto& p : list->as_array()) {
        const json::value* param = Deref(doc, &p);
        ASSERT_NE(param, nullptr) << where;
        if (Str(Get(param, "in")) != "path") continue;
        declared.insert(Str(Get(param, "name")));
        const json::value* required = Get(param, "required");
        EXPECT_TRUE(required && required->is_bool() && required->as_bool()) << where << ": path params are required";
      }
    }
    auto names = PatternParams(r.pattern);
    EXPECT_EQ(declared, std::set<std::string>(names.begin(), names.end())) << where;
  }
}

TEST_F(OpenApiRoutes, ServedDocumentIsTheEmbeddedOne) {
  t_.app().SetReady(true);
  HttpResponse res = t_.Call("GET", "/api/v2/openapi.json");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(std::string(res[http::field::content_type]), "application/json");
  EXPECT_EQ(res.body(), std::string(OpenApiDocument()));
}

// ---------------------------------------------------------------------------
// (5) References, components and the catalog.

void CollectRefs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      if (kv.key() == "$ref" && kv.value().is_string()) out.push_back(Str(kv.value()));
      else CollectRefs(kv.value(), out);
    }
  } else if (v.is_array()) {
    for (const auto& x : v.as_array()) CollectRefs(x, out);
  }
}

TEST(OpenApiDocument, EveryRefResolves) {
  std::vector<std::string> refs;
  CollectRefs(json::value(Doc()), refs);
  EXPECT_GT(refs.size(), 100u);
  for (const auto& ref : refs) {
    EXPECT_EQ(ref.rfind("#/components/", 0), 0u) << "only local component refs: " << ref;
    EXPECT_NE(ResolvePointer(Doc(), ref), nullptr) << "unresolved $ref " << ref;
  }
}

TEST(OpenApiDocument, EveryComponentSchemaIsUsed) {
  std::vector<std::string> refs;
  CollectRefs(json::value(Doc()), refs);
  std::set<std::string> used(refs.begin(), refs.end());
  const json::value* schemas = Get(Get(Doc(), "components"), "schemas");
  ASSERT_TRUE(schemas && schemas->is_object());
  for (const auto& kv : schemas->as_object())
    EXPECT_TRUE(used.count("#/components/schemas/" + std::string(kv.key()))) << "unused schema " << kv.key();
}

TEST(OpenApiDocument, HasTheContractSchemas) {
  const json::value* schemas = Get(Get(Doc(), "components"), "schemas");
  for (const char* name :
       {"Error", "Explanation", "Conversation", "Participant", "Recording", "Segment", "Transition",
        "RecordingMetadata", "MediaFile", "Client", "ClientWithSecret", "Role", "AuditEvent", "AuditPage",
        "TokenInfo", "CheckRequest", "CheckResponse", "OrganizationSettings", "TokenResponse",
        "IntrospectionResponse", "JWKS", "AuthorizationServerMetadata", "OAuthError"})
    EXPECT_NE(Get(schemas, name), nullptr) << name;

  // The Error body of docs/api.md §3.
  const json::value* error = Get(schemas, "Error");
  for (const char* field :
       {"status", "code", "message", "messageWithParams", "messageParams", "contextId", "explanation"})
    EXPECT_NE(Get(Get(error, "properties"), field), nullptr) << "Error." << field;
  const json::value* expl = Get(schemas, "Explanation");
  for (const char* field : {"decision", "action", "resource", "principal", "layers", "fix"})
    EXPECT_NE(Get(Get(expl, "properties"), field), nullptr) << "Explanation." << field;

  // Every docs/api.md §3 code is in the code enum.
  const json::value* codes = Get(Get(schemas, "ErrorCode"), "enum");
  ASSERT_TRUE(codes && codes->is_array());
  for (const char* code : {"token.missing", "token.malformed", "token.expired", "token.signature", "token.revoked",
                           "token.audience", "missing.scope", "missing.permission", "missing.permissions",
                           "conversation.not.found", "conversation.ended", "recording.invalid.transition",
                           "bad.request", "payload.too.large", "unsupported.media.type", "too.many.requests",
                           "internal"}) {
    const auto& a = codes->as_array();
    EXPECT_NE(std::find(a.begin(), a.end(), json::value(code)), a.end()) << code;
  }
}

TEST(OpenApiDocument, SecuritySchemesMatchTheScopeCatalog) {
  const json::value* schemes = Get(Get(Doc(), "components"), "securitySchemes");
  const json::value* bearer = Get(schemes, "bearerAuth");
  ASSERT_NE(bearer, nullptr);
  EXPECT_EQ(Str(Get(bearer, "type")), "http");
  EXPECT_EQ(Str(Get(bearer, "scheme")), "bearer");
  EXPECT_EQ(Str(Get(bearer, "bearerFormat")), "JWT");
  const json::value* flow = Get(Get(Get(schemes, "oauth2"), "flows"), "clientCredentials");
  ASSERT_NE(flow, nullptr);
  EXPECT_EQ(Str(Get(flow, "tokenUrl")), "/oauth/token");
  const json::value* scopes = Get(flow, "scopes");
  ASSERT_TRUE(scopes && scopes->is_object());
  EXPECT_EQ(scopes->as_object().size(), authz::AllScopes().size());
  for (const auto& s : authz::AllScopes()) {
    const json::value* d = Get(scopes, s.name);
    ASSERT_NE(d, nullptr) << "scope " << s.name << " is missing from the oauth2 flow";
    std::string text = Lower(Str(*d));
    EXPECT_NE(text.find(Lower(s.summary)), std::string::npos) << s.name << ": " << text;
    for (const auto& u : s.unlocks) EXPECT_NE(text.find(u), std::string::npos) << s.name << " unlocks " << u;
  }
  // The Scope enum lists the same scopes.
  const json::value* scope_enum = Get(Get(Get(Get(Doc(), "components"), "schemas"), "Scope"), "enum");
  ASSERT_TRUE(scope_enum && scope_enum->is_array());
  EXPECT_EQ(scope_enum->as_array().size(), authz::AllScopes().size());
}

TEST(OpenApiDocument, OperationsAreWellFormed) {
  std::set<std::string> ids;
  const json::value* paths = Get(Doc(), "paths");
  ASSERT_TRUE(paths && paths->is_object());
  for (const auto& path : paths->as_object()) {
    for (const auto& kv : path.value().as_object()) {
      if (!kHttpMethods.count(std::string(kv.key()))) continue;
      const std::string where = std::string(kv.key()) + " " + std::string(path.key());
      const json::value& op = kv.value();
      std::string id = Str(Get(&op, "operationId"));
      EXPECT_FALSE(id.empty()) << where;
      EXPECT_TRUE(ids.insert(id).second) << where << ": duplicate operationId " << id;
      const json::value* responses = Get(&op, "responses");
      ASSERT_TRUE(responses && responses->is_object()) << where;
      bool success = false;
      for (const auto& r : responses->as_object()) {
        std::string status(r.key());
        if (status[0] == '2' || status == "101") success = true;  // 101: the WebSocket upgrade
        EXPECT_TRUE(status.size() == 3 && std::all_of(status.begin(), status.end(), ::isdigit)) << where << " " << status;
        const json::value* resp = Deref(Doc(), &r.value());
        ASSERT_NE(resp, nullptr) << where << " " << status;
        EXPECT_FALSE(Str(Get(resp, "description")).empty()) << where << " " << status;
        // The sign-in pages (/oauth/authorize) answer a browser: their errors are pages too.
        const bool page = Get(Get(resp, "content"), "text/html") != nullptr;
        if ((status[0] == '4' || status[0] == '5') && !page) {
          // Error bodies are the shared Error schema (or RFC 6749 §5.2 OAuthError on /oauth/*).
          const json::value* schema = Get(Get(Get(resp, "content"), "application/json"), "schema");
          ASSERT_NE(schema, nullptr) << where << " " << status;
          std::string ref = Str(Get(schema, "$ref"));
          EXPECT_TRUE(ref == "#/components/schemas/Error" || ref == "#/components/schemas/OAuthError")
              << where << " " << status << ": " << ref;
        }
      }
      EXPECT_TRUE(success) << where << ": no success response";
      EXPECT_TRUE(Get(responses, "500")) << where << ": every operation can fail with 500";
      // Operations with a JSON body document 413 and 415.
      const json::value* body = Get(&op, "requestBody");
      if (body && Get(Get(body, "content"), "application/json")) {
        EXPECT_TRUE(Get(responses, "413")) << where;
        EXPECT_TRUE(Get(responses, "415")) << where;
        EXPECT_TRUE(Get(responses, "400")) << where;
      }
    }
  }
}

TEST(OpenApiDocument, OAuthEndpointsTakeForms) {
  for (const char* path : {"/oauth/token", "/oauth/introspect", "/oauth/revoke"}) {
    const json::object* op = Operation(path, "POST");
    ASSERT_NE(op, nullptr) << path;
    const json::value* form =
        Get(Get(Get(*op, "requestBody"), "content"), "application/x-www-form-urlencoded");
    EXPECT_NE(form, nullptr) << path;
    const json::value* bad = Deref(Doc(), Get(Get(*op, "responses"), "400"));
    EXPECT_EQ(Str(Get(Get(Get(Get(bad, "content"), "application/json"), "schema"), "$ref")),
              "#/components/schemas/OAuthError")
        << path;
  }
  const json::object* metrics = Operation("/metrics", "GET");
  ASSERT_NE(metrics, nullptr);
  EXPECT_NE(Get(Get(Get(Get(*metrics, "responses"), "200"), "content"), "text/plain"), nullptr);
}

// ---------------------------------------------------------------------------
// Live conformance: real responses of a real App against the document.

class OpenApiConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.ok()) << t_.status().ToString();
    admin_ = t_.CreateAdmin();
    std::vector<std::string> all;
    for (const auto& s : authz::AllScopes()) all.push_back(s.name);
    admin_token_ = t_.Token(admin_.id, all);
    crm_ = t_.CreateClient("crm-integration", {"recording:write", "recording:control", "conversation:read"},
                           {"Recording Controller"});
  }

  // Sends the request, expects `status`, and checks the response against the
  // document: documented status, schema-valid body, X-Context-Id.
  json::value Expect(int status, const std::string& method, const std::string& target, const std::string& token = {},
                     const std::string& body = {},
                     std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse res = t_.Call(method, target, token, body, headers);
    const std::string where = method + " " + target;
    EXPECT_EQ(res.result_int(), status) << where << " → " << res.body().substr(0, 600);
    CheckResponse(method, target.substr(0, target.find('?')), res);
    return TestApp::Body(res);
  }

  void CheckResponse(const std::string& method, const std::string& path, const HttpResponse& res) {
    const std::string where = method + " " + path + " → " + std::to_string(res.result_int());
    EXPECT_FALSE(std::string(res["X-Context-Id"]).empty()) << where;
    auto match = t_.app().router().Match(method, path);
    const json::value* response = nullptr;
    if (match.route) {
      const json::object* op = Operation(match.route->pattern, match.route->method);
      ASSERT_NE(op, nullptr) << where << ": undocumented operation";
      response = Deref(Doc(), Get(Get(*op, "responses"), std::to_string(res.result_int())));
      ASSERT_NE(response, nullptr) << where << ": status not documented for " << match.route->pattern << "\n"
                                   << res.body().substr(0, 600);
    } else {
      // 404/405 of unmatched requests: the shared Error body.
      CheckBody(where, res, json::value{{"$ref", "#/components/schemas/Error"}});
      return;
    }
    const json::value* content = Get(response, "content");
    if (!content) {
      EXPECT_TRUE(res.body().empty()) << where << ": documented without a body, got " << res.body().substr(0, 200);
      return;
    }
    std::string ct(res[http::field::content_type]);
    if (const json::value* js = Get(content, "application/json")) {
      EXPECT_EQ(ct, "application/json") << where;
      const json::value* schema = Get(js, "schema");
      ASSERT_NE(schema, nullptr) << where;
      CheckBody(where, res, *schema);
    } else if (Get(content, "text/plain")) {
      EXPECT_EQ(ct.rfind("text/plain", 0), 0u) << where << ": " << ct;
    } else if (Get(content, "audio/wav")) {
      EXPECT_EQ(ct, "audio/wav") << where;
    } else {
      ADD_FAILURE() << where << ": unexpected documented content";
    }
    const json::value* headers = Get(response, "headers");
    if (res.result_int() == 401 && Get(headers, "WWW-Authenticate")) {
      EXPECT_FALSE(std::string(res[http::field::www_authenticate]).empty()) << where;
    }
  }

  void CheckBody(const std::string& where, const HttpResponse& res, const json::value& schema) {
    auto body = ParseJsonStrict(res.body());
    ASSERT_TRUE(body.ok()) << where << ": body is not JSON: " << res.body().substr(0, 200);
    for (const auto& problem : SchemaValidator(Doc(), /*strict=*/true).Validate(*body, schema))
      ADD_FAILURE() << where << ": body does not match the document: " << problem << "\n"
                    << res.body().substr(0, 800);
  }

  static std::string Basic(const TestClient& c) { return "Basic " + Base64Encode(c.id + ":" + c.secret); }
  static std::pair<std::string, std::string> Form() {
    return {"Content-Type", "application/x-www-form-urlencoded"};
  }

  // One node of several: files another node recorded are redirected (MediaDownloadOnAnotherNode).
  TestApp t_{SystemClock::Instance(), [](AppConfig& c) { c.node_id = "node-a"; }};
  TestClient admin_, crm_;
  std::string admin_token_;
};

TEST_F(OpenApiConformance, SystemAndDiscovery) {
  Expect(200, "GET", "/healthz");
  Expect(503, "GET", "/readyz");
  t_.app().SetReady(true);
  Expect(200, "GET", "/readyz");
  Expect(401, "GET", "/metrics");  // needs organization:metrics:view on the API listener
  Expect(200, "GET", "/metrics", admin_token_);
  Expect(200, "GET", "/api/v2/openapi.json");
  Expect(200, "GET", "/.well-known/jwks.json");
  Expect(200, "GET", "/.well-known/oauth-authorization-server");
  Expect(200, "GET", "/.well-known/oauth-protected-resource");
  Expect(404, "GET", "/nope");
  Expect(405, "DELETE", "/healthz");
  HttpResponse too_large = t_.app().RenderReadError(413, "payload.too.large", "The request body is too large.");
  const json::value* schema =
      Get(Get(Get(Deref(Doc(), Get(Get(Get(Doc(), "components"), "responses"), "PayloadTooLarge")), "content"),
              "application/json"),
          "schema");
  ASSERT_NE(schema, nullptr);
  CheckBody("413", too_large, *schema);
}

TEST_F(OpenApiConformance, OAuthEndpoints) {
  json::value tok = Expect(200, "POST", "/oauth/token", {}, "grant_type=client_credentials&scope=recording%3Awrite",
                           {Form(), {"Authorization", Basic(crm_)}});
  std::string access = Str(tok.as_object()["access_token"]);
  ASSERT_FALSE(access.empty());
  Expect(200, "POST", "/oauth/token", {},
         "grant_type=client_credentials&client_id=" + crm_.id + "&client_secret=" + crm_.secret, {Form()});
  Expect(400, "POST", "/oauth/token", {}, "grant_type=client_credentials&scope=admin",
         {Form(), {"Authorization", Basic(crm_)}});
  Expect(400, "POST", "/oauth/token", {}, "grant_type=password", {Form(), {"Authorization", Basic(crm_)}});
  Expect(400, "POST", "/oauth/token", {}, "grant_type=client_credentials&resource=https%3A%2F%2Fexample.com",
         {Form(), {"Authorization", Basic(crm_)}});
  Expect(400, "POST", "/oauth/token", {}, "{}", {{"Authorization", Basic(crm_)}});
  Expect(401, "POST", "/oauth/token", {}, "grant_type=client_credentials",
         {Form(), {"Authorization", Basic({crm_.id, "wrong"})}});

  Expect(200, "POST", "/oauth/introspect", {}, "token=" + access, {Form(), {"Authorization", Basic(crm_)}});
  Expect(200, "POST", "/oauth/introspect", {}, "token=garbage", {Form(), {"Authorization", Basic(crm_)}});
  Expect(400, "POST", "/oauth/introspect", {}, "x=1", {Form(), {"Authorization", Basic(crm_)}});
  Expect(401, "POST", "/oauth/introspect", {}, "token=" + access, {Form()});

  Expect(400, "POST", "/oauth/revoke", {}, "token=" + access + "&token_type_hint=id_token",
         {Form(), {"Authorization", Basic(crm_)}});
  Expect(400, "POST", "/oauth/revoke", {}, "token=" + access, {Form(), {"Authorization", Basic(admin_)}});
  Expect(200, "POST", "/oauth/revoke", {}, "token=" + access, {Form(), {"Authorization", Basic(crm_)}});
  json::value denied = Expect(401, "GET", "/api/v2/tokens/me", access);
  EXPECT_EQ(Str(denied.as_object()["code"]), "token.revoked");
}

TEST_F(OpenApiConformance, ConversationsAndRecordingControl) {
  const std::string& A = admin_token_;
  json::value conv = Expect(201, "POST", "/api/v2/conversations", A,
                            R"({"participants":[{"name":"Alice","purpose":"customer"},{"name":"Bob","purpose":"agent"}],)"
                            R"("externalId":"call-1"})");
  const std::string id = Str(conv.as_object()["id"]);
  ASSERT_TRUE(IsUuid(id));
  const std::string missing = NewUuid();
  const std::string conv_path = "/api/v2/conversations/" + id;
  const std::string rec = "/api/v2/recordings/conversations/" + id;

  Expect(201, "POST", "/api/v2/conversations", A);  // no body: no participants
  Expect(400, "POST", "/api/v2/conversations", A, R"({"participants":[{"name":"X","purpose":"boss"}]})");
  Expect(415, "POST", "/api/v2/conversations", A, "participants", {{"Content-Type", "text/plain"}});
  Expect(401, "POST", "/api/v2/conversations");
  Expect(200, "GET", "/api/v2/conversations?pageSize=10&pageNumber=1", A);
  Expect(400, "GET", "/api/v2/conversations?pageSize=0", A);
  Expect(200, "GET", conv_path, A);
  Expect(400, "GET", "/api/v2/conversations/not-a-uuid", A);
  Expect(404, "GET", "/api/v2/conversations/" + missing, A);
  Expect(201, "POST", conv_path + "/participants", A, R"({"name":"Carol","purpose":"ivr"})");
  Expect(400, "POST", conv_path + "/participants", A, R"({"name":"","purpose":"ivr"})");

  // The seed's story: recording:write cannot start, recording:control can.
  const std::string write_token = t_.Token(crm_.id, {"recording:write"});
  const std::string control_token = t_.Token(crm_.id, {"recording:control"});
  json::value denied = Expect(403, "POST", rec + "/actions/start", write_token);
  EXPECT_EQ(Str(denied.as_object()["code"]), "missing.scope");
  Expect(401, "POST", rec + "/actions/start");
  Expect(401, "POST", rec + "/actions/start", "garbage");
  Expect(404, "POST", "/api/v2/recordings/conversations/" + missing + "/actions/start", control_token);
  Expect(400, "POST", "/api/v2/recordings/conversations/nope/actions/start", control_token);
  Expect(400, "POST", rec + "/actions/start", control_token, R"({"why":"x"})");
  Expect(415, "POST", rec + "/actions/start", control_token, "x", {{"Content-Type", "text/plain"}});
  json::value started = Expect(200, "POST", rec + "/actions/start", control_token, R"({"reason":"consent"})");
  EXPECT_EQ(Str(started.as_object()["state"]), "active");
  Expect(200, "POST", rec + "/actions/start", control_token);  // idempotent
  Expect(200, "POST", rec + "/actions/pause", control_token, R"({"reason":"pci"})");
  Expect(200, "POST", rec + "/actions/resume", control_token);
  Expect(200, "POST", rec + "/actions/stop", control_token);
  json::value bad_transition = Expect(409, "POST", rec + "/actions/pause", control_token);
  EXPECT_EQ(Str(bad_transition.as_object()["code"]), "recording.invalid.transition");
  Expect(409, "POST", rec + "/actions/resume", control_token);
  Expect(200, "POST", rec + "/actions/start", control_token);  // new segment

  // Viewing and metadata.
  Expect(403, "GET", rec, control_token);  // no recording:read scope
  Expect(200, "GET", rec, A);
  Expect(404, "GET", "/api/v2/recordings/conversations/" + missing, A);
  json::value perm = Expect(403, "PATCH", rec, write_token, R"({"notes":"x"})");
  EXPECT_EQ(Str(perm.as_object()["code"]), "missing.permission");  // Recording Controller cannot edit
  Expect(200, "PATCH", rec, A, R"({"labels":["vip","pci"],"retentionDays":30,"notes":"escalated"})");
  Expect(200, "PATCH", rec, A, R"({"retentionDays":null})");
  Expect(400, "PATCH", rec, A, R"({"state":"active"})");
  Expect(400, "PATCH", rec, A, R"({"retentionDays":0})");
  Expect(404, "PATCH", "/api/v2/recordings/conversations/" + missing, A, R"({"notes":"x"})");

  // The end of the conversation.
  Expect(404, "POST", "/api/v2/conversations/" + missing + "/disconnect", A);
  Expect(200, "POST", conv_path + "/disconnect", A);
  json::value ended = Expect(409, "POST", rec + "/actions/start", control_token);
  EXPECT_EQ(Str(ended.as_object()["code"]), "conversation.ended");
  Expect(409, "POST", conv_path + "/disconnect", A);
  Expect(409, "POST", conv_path + "/participants", A, R"({"name":"Dan","purpose":"agent"})");
  Expect(200, "GET", rec, A);
  Expect(200, "GET", conv_path, A);
}

TEST_F(OpenApiConformance, Administration) {
  const std::string& A = admin_token_;
  const std::string crm_token = t_.Token(crm_.id, {"recording:control"});
  json::value both = Expect(403, "GET", "/api/v2/oauth/clients", crm_token);
  EXPECT_EQ(Str(both.as_object()["code"]), "missing.permissions");

  // Clients.
  json::value created = Expect(201, "POST", "/api/v2/oauth/clients", A,
                               R"({"name":"reporting","description":"nightly export","allowedScopes":["recording:read"],)"
                               R"("allowedGrantTypes":["client_credentials"],"roles":["Recording Viewer"],)"
                               R"("accessTokenValiditySeconds":600})");
  const std::string cid = Str(created.as_object()["id"]);
  ASSERT_TRUE(IsUuid(cid));
  const std::string cp = "/api/v2/oauth/clients/" + cid;
  Expect(400, "POST", "/api/v2/oauth/clients", A, R"({"name":"x","allowedScopes":["everything"]})");
  Expect(400, "POST", "/api/v2/oauth/clients", A, R"({"allowedScopes":[]})");
  Expect(415, "POST", "/api/v2/oauth/clients", A, "name=x", {{"Content-Type", "application/x-www-form-urlencoded"}});
  Expect(200, "GET", "/api/v2/oauth/clients", A);
  Expect(200, "GET", cp, A);
  Expect(400, "GET", "/api/v2/oauth/clients/123", A);
  Expect(404, "GET", "/api/v2/oauth/clients/" + NewUuid(), A);
  Expect(200, "PATCH", cp, A, R"({"description":"changed","roles":["Auditor"]})");
  Expect(400, "PATCH", cp, A, R"({"accessTokenValiditySeconds":59})");
  Expect(404, "PATCH", "/api/v2/oauth/clients/" + NewUuid(), A, R"({"description":"x"})");
  Expect(200, "POST", cp + "/secret", A);
  Expect(400, "PUT", cp + "/roles/Auditor", A);  // {roleId} is an id only, never a name
  Expect(200, "PUT", cp + "/roles/" + authz::FindBuiltinRole("Auditor")->id, A);
  Expect(400, "PUT", cp + "/roles/no-such-role", A);
  Expect(200, "DELETE", cp + "/roles/" + authz::FindBuiltinRole("Auditor")->id, A);
  Expect(404, "DELETE", "/api/v2/oauth/clients/" + NewUuid() + "/roles/Auditor", A);
  Expect(204, "DELETE", cp, A);
  Expect(404, "DELETE", cp, A);
  Expect(200, "POST", "/api/v2/oauth/keys/rotate", A);

  // Roles.
  Expect(200, "GET", "/api/v2/authorization/roles", A);
  json::value role = Expect(201, "POST", "/api/v2/authorization/roles", A,
                            R"({"name":"Supervisor","description":"listens in","permissions":["recording:*:*"]})");
  const std::string rid = Str(role.as_object()["id"]);
  const std::string rp = "/api/v2/authorization/roles/" + rid;
  Expect(409, "POST", "/api/v2/authorization/roles", A, R"({"name":"supervisor","permissions":[]})");
  Expect(400, "POST", "/api/v2/authorization/roles", A, R"({"name":"Bad","permissions":["Recording:start"]})");
  Expect(400, "POST", "/api/v2/authorization/roles", A, R"({"name":"Auditor","permissions":[]})");
  Expect(200, "GET", rp, A);
  Expect(400, "GET", "/api/v2/authorization/roles/x", A);
  Expect(404, "GET", "/api/v2/authorization/roles/" + NewUuid(), A);
  Expect(200, "PUT", rp, A, R"({"permissions":["recording:recording:view"]})");
  const std::string builtin = "/api/v2/authorization/roles/" + authz::FindBuiltinRole("Auditor")->id;
  Expect(200, "GET", builtin, A);
  json::value ro = Expect(403, "PUT", builtin, A, R"({"description":"mine now"})");
  EXPECT_EQ(Str(ro.as_object()["code"]), "role.builtin");
  Expect(403, "DELETE", builtin, A);
  Expect(201, "POST", "/api/v2/authorization/roles", A, R"({"name":"Other","permissions":[]})");
  Expect(409, "PUT", rp, A, R"({"name":"Other"})");
  Expect(204, "DELETE", rp, A);
  Expect(404, "DELETE", rp, A);

  // Settings.
  Expect(200, "GET", "/api/v2/organization/settings", A);
  Expect(200, "PATCH", "/api/v2/organization/settings", A,
         R"({"autoStart":false,"pauseBehavior":"skip","retentionDays":365})");
  Expect(400, "PATCH", "/api/v2/organization/settings", A, R"({"pauseBehavior":"beep"})");
  Expect(403, "PATCH", "/api/v2/organization/settings", crm_token, R"({"autoStart":true})");
}

TEST_F(OpenApiConformance, IntrospectionAndAudit) {
  const std::string& A = admin_token_;
  const std::string crm_token = t_.Token(crm_.id, {"recording:write"});
  Expect(200, "GET", "/api/v2/tokens/me", crm_token);
  Expect(200, "GET", "/api/v2/tokens/me", A);
  Expect(401, "GET", "/api/v2/tokens/me");

  const std::string conv = NewUuid();
  Expect(200, "POST", "/api/v2/authorization/check", crm_token,
         R"({"action":"recording:recording:start","resource":"conversation/)" + conv + R"("})");
  Expect(200, "POST", "/api/v2/authorization/check", crm_token, R"({"method":"GET","path":"/healthz"})");
  Expect(200, "POST", "/api/v2/authorization/check", crm_token, R"({"token":")" + crm_token + R"(","method":"GET","path":"/api/v2/conversations"})");
  Expect(200, "POST", "/api/v2/authorization/check", A,
         R"({"principal":{"clientId":")" + crm_.id +
             R"("},"scopes":["recording:control"],"method":"POST","path":"/api/v2/recordings/conversations/)" + conv +
             R"(/actions/start"})");
  Expect(403, "POST", "/api/v2/authorization/check", crm_token,
         R"({"principal":")" + admin_.id + R"(","action":"oauth:client:view"})");
  Expect(200, "POST", "/api/v2/authorization/check", A,
         R"({"principal":{"name":"planned","scopes":["recording:write"],"roles":["Recording Controller"]},)"
         R"("action":"recording:recording:start"})");
  Expect(400, "POST", "/api/v2/authorization/check", A,
         R"({"principal":{"roles":["No Such Role"]},"action":"recording:recording:start"})");
  Expect(200, "POST", "/api/v2/authorization/effective-access", A,
         R"({"principal":{"scopes":["recording:write"],"roles":["Recording Controller"]}})");
  Expect(200, "POST", "/api/v2/authorization/effective-access", A, R"({"principal":")" + crm_.id + R"("})");
  Expect(400, "POST", "/api/v2/authorization/effective-access", A, "{}");
  Expect(403, "POST", "/api/v2/authorization/effective-access", crm_token, "{}");
  Expect(400, "POST", "/api/v2/authorization/check", crm_token, "{}");
  Expect(400, "POST", "/api/v2/authorization/check", crm_token, R"({"method":"GET","path":"/nope"})");
  Expect(415, "POST", "/api/v2/authorization/check", crm_token, "x", {{"Content-Type", "text/plain"}});
  Expect(401, "POST", "/api/v2/authorization/check", {}, "{}");

  // A denial, then its replay from the audit log.
  HttpResponse denial = t_.Call("GET", "/api/v2/oauth/clients", crm_token);
  ASSERT_EQ(denial.result_int(), 403);
  const std::string context_id(denial["X-Context-Id"]);
  json::value page = Expect(200, "GET", "/api/v2/audit/events?pageSize=2", A);
  ASSERT_TRUE(page.is_object());
  json::value next = page.as_object()["nextCursor"];
  if (next.is_string()) Expect(200, "GET", "/api/v2/audit/events?pageSize=2&cursor=" + Str(next), A);
  Expect(200, "GET", "/api/v2/audit/events?decision=deny&since=2020-01-01T00:00:00Z", A);
  Expect(200, "GET", "/api/v2/audit/events?conversationId=" + conv + "&principal=" + crm_.id, A);
  Expect(400, "GET", "/api/v2/audit/events?decision=maybe", A);
  Expect(400, "GET", "/api/v2/audit/events?since=yesterday", A);
  Expect(403, "GET", "/api/v2/audit/events", crm_token);
  json::value event = Expect(200, "GET", "/api/v2/audit/events/" + context_id, A);
  EXPECT_EQ(Str(event.as_object()["code"]), "missing.permissions");
  Expect(404, "GET", "/api/v2/audit/events/" + NewUuid(), A);
  Expect(400, "GET", "/api/v2/audit/events/abc", A);
}

// Delegation ceiling, last administrator, token cutoff and need-to-know
// introspection (docs/decisions.md): every new response as documented.
TEST_F(OpenApiConformance, DelegationCutoffAndIntrospection) {
  const std::string& A = admin_token_;
  // A delegate that manages clients and holds Recording Controller only.
  store::Role manager{NewUuid(), "Client Manager", "", {"oauth:client:*", "authorization:role:*"}, {}, {}};
  ASSERT_TRUE(t_.app().directory().CreateRole(manager).ok());
  auto delegate = t_.CreateClient("delegate", {"admin", "recording:control"}, {"Client Manager", "Recording Controller"});
  const std::string D = t_.Token(delegate.id, {"admin", "recording:control"});

  json::value beyond = Expect(403, "POST", "/api/v2/oauth/clients", D,
                              R"({"name":"x","allowedScopes":["admin"],"roles":["System Administrator"]})");
  EXPECT_EQ(Str(beyond.as_object()["code"]), "delegation.exceeds.grantor");
  Expect(403, "PATCH", "/api/v2/oauth/clients/" + admin_.id, D, R"({"description":"x"})");
  Expect(403, "DELETE", "/api/v2/oauth/clients/" + admin_.id, D);
  Expect(403, "POST", "/api/v2/oauth/clients/" + admin_.id + "/secret", D);
  Expect(403, "DELETE", "/api/v2/oauth/clients/" + admin_.id + "/tokens", D);
  Expect(403, "PUT", "/api/v2/oauth/clients/" + crm_.id + "/roles/" + authz::FindBuiltinRole("Auditor")->id, D);
  Expect(403, "POST", "/api/v2/authorization/roles", D, R"({"name":"Mine","permissions":["*:*:*"]})");
  Expect(403, "PUT", "/api/v2/authorization/roles/" + manager.id, D, R"({"permissions":["*:*:*"]})");
  store::Role root{NewUuid(), "Root", "", {"*:*:*"}, {}, {}};
  ASSERT_TRUE(t_.app().directory().CreateRole(root).ok());
  Expect(403, "DELETE", "/api/v2/authorization/roles/" + root.id, D);
  Expect(400, "POST", "/api/v2/authorization/roles", A, R"({"name":")" + NewUuid() + R"(","permissions":[]})");

  // The last full administrator.
  json::value last = Expect(409, "DELETE", "/api/v2/oauth/clients/" + admin_.id, A);
  EXPECT_EQ(Str(last.as_object()["code"]), "admin.last");
  Expect(409, "PATCH", "/api/v2/oauth/clients/" + admin_.id, A, R"({"enabled":false})");
  Expect(409, "DELETE",
         "/api/v2/oauth/clients/" + admin_.id + "/roles/" + authz::FindBuiltinRole("System Administrator")->id, A);

  // Tokens follow their client.
  const std::string crm_token = t_.Token(crm_.id, {"recording:control"});
  json::value revoked = Expect(200, "DELETE", "/api/v2/oauth/clients/" + crm_.id + "/tokens", A);
  EXPECT_TRUE(revoked.as_object()["tokensValidAfter"].is_string());
  json::value refused = Expect(401, "GET", "/api/v2/tokens/me", crm_token);
  EXPECT_EQ(Str(refused.as_object()["code"]), "token.revoked");
  Expect(404, "DELETE", "/api/v2/oauth/clients/" + NewUuid() + "/tokens", A);
  Expect(400, "DELETE", "/api/v2/oauth/clients/nope/tokens", A);
  Expect(200, "PATCH", "/api/v2/oauth/clients/" + crm_.id, A, R"({"enabled":false})");
  Expect(401, "POST", "/oauth/token", {}, "grant_type=client_credentials", {Form(), {"Authorization", Basic(crm_)}});
  Expect(200, "PATCH", "/api/v2/oauth/clients/" + crm_.id, A, R"({"enabled":true})");

  // Introspection: another client's token without the permission.
  const std::string fresh = t_.Token(crm_.id, {"recording:control"});
  json::value hidden = Expect(200, "POST", "/oauth/introspect", {}, "token=" + fresh,
                              {Form(), {"Authorization", Basic(delegate)}});
  EXPECT_FALSE(hidden.as_object()["active"].as_bool());
  json::value shown = Expect(200, "POST", "/oauth/introspect", {}, "token=" + fresh,
                             {Form(), {"Authorization", Basic(admin_)}});
  EXPECT_TRUE(shown.as_object()["active"].as_bool());
}

TEST_F(OpenApiConformance, MediaDownload) {
  const std::string& A = admin_token_;
  json::value conv = Expect(201, "POST", "/api/v2/conversations", A,
                            R"({"participants":[{"name":"Alice","purpose":"customer"},{"name":"Bob","purpose":"agent"}]})");
  const std::string id = Str(conv.as_object()["id"]);
  const std::string media = "/api/v2/recordings/conversations/" + id + "/media";
  Expect(404, "GET", media, A);  // media.not.found: nothing recorded yet

  // One complete two-channel segment, as the recorder leaves it.
  const uint32_t data_bytes = 8000 * 2 * 2 / 10;  // 100 ms of 16-bit stereo at 8 kHz
  const std::string rel = id + "-1.wav";
  {
    std::ofstream out(t_.dir() / "media" / rel, std::ios::binary);
    auto header = media::wav::BuildHeader(2, 8000, data_bytes);
    out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    out << std::string(data_bytes, '\0');
  }
  store::MediaFile f;
  f.segment = 1;
  f.path = rel;
  f.channels = 2;
  f.bytes = media::wav::kHeaderSize + data_bytes;
  f.duration_ms = 100;
  f.status = "complete";
  f.channel_labels = {"Alice", "Bob"};
  f.updated_at = std::chrono::system_clock::now();
  ASSERT_TRUE(t_.store().UpsertMediaFile(id, f).ok());

  Expect(200, "GET", "/api/v2/recordings/conversations/" + id, A);  // lists the media file
  Expect(200, "GET", media, A);
  Expect(200, "GET", media + "?segment=1", A);
  Expect(206, "GET", media + "?segment=1", A, {}, {{"Range", "bytes=0-99"}});
  Expect(416, "GET", media, A, {}, {{"Range", "bytes=999999-"}});
  Expect(404, "GET", media + "?segment=2", A);
  Expect(400, "GET", media + "?segment=0", A);
  Expect(400, "GET", "/api/v2/recordings/conversations/x/media", A);
  Expect(404, "GET", "/api/v2/recordings/conversations/" + NewUuid() + "/media", A);
  Expect(403, "GET", media, t_.Token(crm_.id, {"recording:control"}));
  Expect(401, "GET", media);
}

// A file recorded on another node: a 307 to a signed URL on that node's
// advertised address, or a 503 saying why it cannot be sent there now.
TEST_F(OpenApiConformance, MediaDownloadOnAnotherNode) {
  const std::string& A = admin_token_;
  json::value conv = Expect(201, "POST", "/api/v2/conversations", A,
                            R"({"participants":[{"name":"Alice","purpose":"customer"}]})");
  const std::string id = Str(conv.as_object()["id"]);
  const std::string media = "/api/v2/recordings/conversations/" + id + "/media?segment=1";
  store::MediaFile f;
  f.segment = 1;
  f.path = id + "-1.wav";  // not in this node's media directory: it is node-b's
  f.channels = 1;
  f.status = "complete";
  f.node_id = "node-b";
  f.updated_at = std::chrono::system_clock::now();
  ASSERT_TRUE(t_.store().UpsertMediaFile(id, f).ok());

  json::value unknown = Expect(503, "GET", media, A);  // node-b never registered
  EXPECT_EQ(Str(unknown.as_object()["code"]), "media.node.unadvertised");

  const auto now = std::chrono::system_clock::now();
  store::NodeRecord b{"node-b", "http://node-b.internal:8080/", now, now, now + std::chrono::seconds(10)};
  ASSERT_TRUE(t_.store().HeartbeatNode(b).ok());
  HttpResponse redirect = t_.Call("GET", media, A);
  ASSERT_EQ(redirect.result_int(), 307) << redirect.body();
  CheckResponse("GET", "/api/v2/recordings/conversations/" + id + "/media", redirect);
  const std::string location(redirect[http::field::location]);
  const std::string prefix = "http://node-b.internal:8080/api/v2/recordings/conversations/" + id + "/media?segment=1&node=node-b&";
  EXPECT_EQ(location.rfind(prefix, 0), 0u) << location;
  EXPECT_EQ(std::string(redirect[http::field::cache_control]), "no-store");
  EXPECT_EQ(Str(TestApp::Body(redirect).as_object()["location"]), location);
  // That URL is node-b's: this node refuses it, with the explanation, and without a token.
  json::value wrong = Expect(403, "GET", location.substr(location.find("/api/")));
  EXPECT_EQ(Str(wrong.as_object()["code"]), "media.url.wrong.node");
  // Changed: the signature no longer verifies.
  std::string forged = location.substr(location.find("/api/"));
  forged.replace(forged.find("segment=1"), 9, "segment=2");
  json::value invalid = Expect(403, "GET", forged);
  EXPECT_EQ(Str(invalid.as_object()["code"]), "media.url.invalid");

  b.lease_expires_at = now - std::chrono::seconds(1);  // node-b stopped renewing
  ASSERT_TRUE(t_.store().HeartbeatNode(b).ok());
  HttpResponse down = t_.Call("GET", media, A);
  ASSERT_EQ(down.result_int(), 503) << down.body();
  CheckResponse("GET", "/api/v2/recordings/conversations/" + id + "/media", down);
  EXPECT_EQ(Str(TestApp::Body(down).as_object()["code"]), "media.node.down");
  EXPECT_FALSE(std::string(down[http::field::retry_after]).empty());
}

TEST_F(OpenApiConformance, MediaIntegrationsAndAudioHook) {
  const std::string& A = admin_token_;
  json::value created =
      Expect(201, "POST", "/api/v2/media/integrations", A, R"({"name":"genesys-prod","roles":["Media Ingest"]})");
  const std::string id = Str(created.as_object()["id"]);
  Expect(201, "POST", "/api/v2/media/integrations", A, R"({"name":"defaults"})");
  Expect(409, "POST", "/api/v2/media/integrations", A, R"({"name":"GENESYS-PROD"})");
  Expect(400, "POST", "/api/v2/media/integrations", A, R"({"name":"x","roles":["nobody"]})");
  Expect(400, "POST", "/api/v2/media/integrations", A, R"({"name":"x","secret":"mine"})");
  Expect(415, "POST", "/api/v2/media/integrations", A, "name=x", {{"Content-Type", "text/plain"}});
  Expect(403, "POST", "/api/v2/media/integrations", t_.Token(crm_.id, {"recording:control"}), R"({"name":"x"})");
  Expect(200, "GET", "/api/v2/media/integrations", A);
  Expect(400, "DELETE", "/api/v2/media/integrations/key", A);
  Expect(204, "DELETE", "/api/v2/media/integrations/" + id, A);
  Expect(404, "DELETE", "/api/v2/media/integrations/" + id, A);
  Expect(401, "GET", "/api/v2/media/integrations");
  // Upgrades go to the WebSocket endpoint; a plain GET learns that it needs one.
  Expect(426, "GET", "/api/v2/media/audiohook");
  Expect(426, "GET", "/api/v2/media/audiohook", A);
}

TEST_F(OpenApiConformance, SipTrunks) {
  const std::string& A = admin_token_;
  const std::string base = "/api/v2/media/siprec/trunks";
  json::value created = Expect(201, "POST", base, A,
                               R"({"name":"cube-east","networks":["192.0.2.0/24"],"transports":["udp"],)"
                               R"("digest":{"username":"cube","password":"correct horse battery"},)"
                               R"("limits":{"maxSessions":10},"rtpSource":"offer"})");
  const std::string id = Str(created.as_object()["id"]);
  Expect(409, "POST", base, A, R"({"name":"CUBE-EAST","networks":["198.51.100.0/24"]})");
  Expect(400, "POST", base, A, R"({"name":"bad","networks":["10.0.0.5/24"]})");
  Expect(400, "POST", base, A, R"({"name":"open","networks":["0.0.0.0/0"]})");
  Expect(403, "POST", base, t_.Token(crm_.id, {"recording:control"}), R"({"name":"x","networks":["192.0.2.1"]})");
  Expect(200, "GET", base, A);
  Expect(200, "GET", base + "/" + id, A);
  Expect(200, "PATCH", base + "/" + id, A, R"({"digest":null,"limits":{"maxChannelsPerSession":2}})");
  Expect(200, "PATCH", base + "/" + id, A, R"({"transports":["tls"],"srtp":"required"})");
  Expect(400, "PATCH", base + "/" + id, A, R"({"transports":["udp"]})");  // srtp required needs tls
  Expect(400, "GET", base + "/not-a-uuid", A);
  // A conversation whose media this trunk may feed.
  Expect(201, "POST", "/api/v2/conversations", A, R"({"mediaOwner":{"type":"trunk","id":")" + id + R"("}})");
  Expect(400, "POST", "/api/v2/conversations", A, R"({"mediaOwner":{"type":"trunk","id":")" + NewUuid() + R"("}})");
  Expect(204, "DELETE", base + "/" + id, A);
  Expect(404, "DELETE", base + "/" + id, A);
  Expect(404, "GET", base + "/" + id, A);
  Expect(401, "GET", base);
}

// 429 after too many failed authentications: documented, with Retry-After.
TEST(OpenApiRateLimits, TooManyRequestsIsDocumented) {
  TestApp t(SystemClock::Instance(), [](AppConfig& cfg) {
    cfg.limits.auth_failures_per_ip = 0.001;
    cfg.limits.auth_failure_burst = 2;
  });
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto check = [&](const std::string& method, const std::string& path, HttpResponse res) {
    const std::string where = method + " " + path;
    ASSERT_EQ(res.result_int(), 429) << where << " " << res.body();
    EXPECT_FALSE(std::string(res[http::field::retry_after]).empty()) << where;
    auto m = t.app().router().Match(method, path);
    ASSERT_NE(m.route, nullptr);
    const json::object* op = Operation(m.route->pattern, method);
    ASSERT_NE(op, nullptr);
    const json::value* response = Deref(Doc(), Get(Get(*op, "responses"), "429"));
    ASSERT_NE(response, nullptr) << where << ": 429 not documented";
    EXPECT_NE(Get(Get(response, "headers"), "Retry-After"), nullptr) << where;
    auto body = ParseJsonStrict(res.body());
    ASSERT_TRUE(body.ok());
    const json::value* schema = Get(Get(Get(response, "content"), "application/json"), "schema");
    ASSERT_NE(schema, nullptr) << where;
    for (const auto& p : SchemaValidator(Doc(), /*strict=*/true).Validate(*body, *schema))
      ADD_FAILURE() << where << ": " << p << "\n" << res.body();
  };
  for (int i = 0; i < 3; ++i) t.Call("GET", "/api/v2/conversations", "garbage");
  check("GET", "/api/v2/conversations", t.Call("GET", "/api/v2/conversations", "garbage"));
  check("GET", "/api/v2/tokens/me", t.Call("GET", "/api/v2/tokens/me"));
  check("POST", "/oauth/token",
        t.Call("POST", "/oauth/token", {}, "grant_type=client_credentials&client_id=x&client_secret=y",
               {{"Content-Type", "application/x-www-form-urlencoded"}}));
}

// The request schemas accept exactly what the handlers accept, at the limits.
TEST_F(OpenApiConformance, RequestSchemasAgreeWithHandlers) {
  const std::string& A = admin_token_;
  json::value conv = Expect(201, "POST", "/api/v2/conversations", A);
  const std::string id = Str(conv.as_object()["id"]);
  struct Case {
    std::string method, target, body;
  };
  auto label = [](size_t n) { return std::string(n, 'l'); };
  auto labels = [&](size_t count) {
    std::string s = "[";
    for (size_t i = 0; i < count; ++i) s += (i ? ",\"" : "\"") + std::string("x") + std::to_string(i) + "\"";
    return s + "]";
  };
  const std::string rec = "/api/v2/recordings/conversations/" + id;
  const std::vector<Case> cases = {
      {"PATCH", rec, R"({"labels":)" + labels(50) + "}"},
      {"PATCH", rec, R"({"labels":)" + labels(51) + "}"},
      {"PATCH", rec, R"({"labels":[")" + label(64) + R"("]})"},
      {"PATCH", rec, R"({"labels":[")" + label(65) + R"("]})"},
      {"PATCH", rec, R"({"labels":[""]})"},
      {"PATCH", rec, R"({"retentionDays":36500})"},
      {"PATCH", rec, R"({"retentionDays":36501})"},
      {"PATCH", rec, R"({"retentionDays":1})"},
      {"PATCH", rec, R"({"retentionDays":"30"})"},
      {"PATCH", rec, R"({"notes":")" + std::string(4096, 'n') + R"("})"},
      {"PATCH", rec, R"({"notes":")" + std::string(4097, 'n') + R"("})"},
      {"PATCH", rec, R"({"action":"start"})"},
      {"PATCH", rec, R"({"foo":1})"},
      {"POST", rec + "/actions/start", R"({"reason":")" + std::string(512, 'r') + R"("})"},
      {"POST", rec + "/actions/pause", R"({"reason":")" + std::string(513, 'r') + R"("})"},
      {"POST", rec + "/actions/pause", R"({"reason":5})"},
      {"POST", rec + "/actions/pause", R"({"reason":null})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":")" + std::string(128, 'c') + R"("})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":")" + std::string(129, 'c') + R"("})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":""})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","accessTokenValiditySeconds":60})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","accessTokenValiditySeconds":86400})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","accessTokenValiditySeconds":86401})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","allowedGrantTypes":["implicit"]})"},
      {"POST", "/api/v2/oauth/clients",
       R"({"name":"v","allowedGrantTypes":["authorization_code"],"redirectUris":["https://app.example/cb"]})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","clientType":"spa"})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","redirectUris":"https://app.example/cb"})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","allowedScopes":["audit:read","admin"]})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","allowedScopes":"admin"})"},
      {"POST", "/api/v2/oauth/clients", R"({"name":"v","secret":"mine"})"},
      {"POST", "/api/v2/authorization/roles", R"({"name":"r1","permissions":["a:b:c","x-y:*:*"]})"},
      {"POST", "/api/v2/authorization/roles", R"({"name":"r2","permissions":["a:b"]})"},
      {"POST", "/api/v2/authorization/roles", R"({"name":"r3","permissions":["A:b:c"]})"},
      {"POST", "/api/v2/authorization/roles", R"({"name":"r4"})"},
      {"POST", "/api/v2/authorization/roles", R"({"name":"r5","permissions":["a:b:c"],"builtin":true})"},
      {"PATCH", "/api/v2/organization/settings", R"({"retentionDays":36500})"},
      {"PATCH", "/api/v2/organization/settings", R"({"retentionDays":0})"},
      {"PATCH", "/api/v2/organization/settings", R"({"pauseBehavior":"silence"})"},
      {"PATCH", "/api/v2/organization/settings", R"({"autoStart":"yes"})"},
      {"POST", "/api/v2/conversations", R"({"participants":[{"id":")" + NewUuid() + R"(","name":"A","purpose":"external"}]})"},
      {"POST", "/api/v2/conversations", R"({"participants":[{"id":"p1","name":"A","purpose":"agent"}]})"},
      {"POST", "/api/v2/conversations", R"({"participants":[{"name":")" + std::string(256, 'a') + R"(","purpose":"agent"}]})"},
      {"POST", "/api/v2/conversations", R"({"participants":[{"name":")" + std::string(257, 'a') + R"(","purpose":"agent"}]})"},
      {"POST", "/api/v2/conversations", R"({"externalId":")" + std::string(257, 'e') + R"("})"},
      {"POST", "/api/v2/conversations", R"({"participants":{}})"},
      {"POST", "/api/v2/conversations/" + id + "/participants", R"({"name":"B","purpose":"customer"})"},
      {"POST", "/api/v2/conversations/" + id + "/participants", R"({"name":"B","purpose":"customer","role":"x"})"},
      {"POST", "/api/v2/authorization/check", R"({"action":"recording:recording:view","resource":"conversation/)" + id + R"("})"},
      {"POST", "/api/v2/authorization/check", R"({"action":"recording:recording:view","extra":1})"},
      {"POST", "/api/v2/authorization/check",
       R"({"principal":{"name":"p","scopes":["recording:write"],"roles":["Auditor"]},"action":"recording:recording:start"})"},
      {"POST", "/api/v2/authorization/effective-access", R"({"principal":{"scopes":["recording:write"],"roles":["Auditor"]}})"},
      {"POST", "/api/v2/authorization/effective-access", R"({"principal":{"scopes":["recording:everything"]}})"},
      {"POST", "/api/v2/authorization/effective-access", R"({"principal":{"scopes":[],"colour":"red"}})"},
      {"POST", "/api/v2/authorization/effective-access", R"({"principal":{"name":""}})"},
      {"POST", "/api/v2/authorization/effective-access", R"({"principal":{"scopes":[]},"extra":1})"},
      {"POST", "/api/v2/authorization/effective-access", R"({})"},
  };
  for (const auto& c : cases) {
    auto match = t_.app().router().Match(c.method, c.target);
    ASSERT_NE(match.route, nullptr) << c.method << " " << c.target;
    const json::object* op = Operation(match.route->pattern, c.method);
    ASSERT_NE(op, nullptr);
    const json::value* schema = Get(Get(Get(Get(*op, "requestBody"), "content"), "application/json"), "schema");
    ASSERT_NE(schema, nullptr) << c.method << " " << match.route->pattern << " documents no JSON body";
    auto body = ParseJsonStrict(c.body);
    ASSERT_TRUE(body.ok()) << c.body;
    auto problems = SchemaValidator(Doc()).Validate(*body, *schema);
    HttpResponse res = t_.Call(c.method, c.target, A, c.body);
    const bool accepted = res.result_int() / 100 == 2;
    EXPECT_EQ(problems.empty(), accepted)
        << c.method << " " << match.route->pattern << " " << c.body.substr(0, 120) << "\n  schema says "
        << (problems.empty() ? "valid" : "invalid: " + problems.front()) << "; server answered " << res.result_int()
        << " " << res.body().substr(0, 300);
  }
}

// 503 audit.unavailable (the audit log cannot record): documented on every
// protected operation and on /readyz, with Retry-After; live bodies match.
// Aggregated audit events match the AuditEvent schema.
TEST(OpenApiAudit, AuditUnavailableAndAggregatesAreDocumented) {
  testing_util::FaultyStore* faulty = nullptr;
  TestApp t(
      SystemClock::Instance(),
      [](AppConfig& cfg) {
        cfg.audit_max_queued = 1;
        cfg.limits.auth_failures_per_ip = 0;
      },
      [&](std::unique_ptr<store::Store> inner) {
        auto wrapped = std::make_unique<testing_util::FaultyStore>(std::move(inner));
        faulty = wrapped.get();
        return wrapped;
      });
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  t.app().SetReady(true);
  for (const auto& r : t.app().router().routes()) {
    if (r.access == Access::kPublic) continue;
    const json::object* op = Operation(r.pattern, r.method);
    ASSERT_NE(op, nullptr);
    const json::value* response = Deref(Doc(), Get(Get(*op, "responses"), "503"));
    ASSERT_NE(response, nullptr) << r.method << " " << r.pattern << ": 503 audit.unavailable not documented";
    EXPECT_NE(Get(Get(response, "headers"), "Retry-After"), nullptr) << r.method << " " << r.pattern;
    EXPECT_NE(Str(Get(response, "description")).find("audit.unavailable"), std::string::npos) << r.pattern;
  }
  auto admin = t.CreateAdmin();
  std::vector<std::string> all;
  for (const auto& s : authz::AllScopes()) all.push_back(s.name);
  const std::string token = t.Token(admin.id, all);
  // Unauthenticated denials beyond the first few of an address become one aggregate.
  const int own = service::DenialAggregatorOptions{}.individual_per_key;
  for (int i = 0; i < own + 3; ++i) {
    ASSERT_EQ(t.Call("GET", "/api/v2/conversations").result_int(), 401);
    // The queue holds one event at most: wait for the writer (Flush would end the aggregation interval).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (t.app().audit().queued() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(t.app().audit().Flush());  // ends the interval: one aggregate of three

  auto check = [&](const std::string& method, const std::string& path, const HttpResponse& res, int status) {
    const std::string where = method + " " + path;
    ASSERT_EQ(res.result_int(), status) << where << " " << res.body();
    auto m = t.app().router().Match(method, path);
    ASSERT_NE(m.route, nullptr);
    const json::object* op = Operation(m.route->pattern, method);
    ASSERT_NE(op, nullptr) << where;
    const json::value* response = Deref(Doc(), Get(Get(*op, "responses"), std::to_string(status)));
    ASSERT_NE(response, nullptr) << where;
    const json::value* schema = Get(Get(Get(response, "content"), "application/json"), "schema");
    ASSERT_NE(schema, nullptr) << where;
    auto body = ParseJsonStrict(res.body());
    ASSERT_TRUE(body.ok()) << where;
    for (const auto& p : SchemaValidator(Doc(), /*strict=*/true).Validate(*body, *schema))
      ADD_FAILURE() << where << ": " << p << "\n" << res.body();
  };
  const HttpResponse listed = t.Call("GET", "/api/v2/audit/events?decision=deny", token);
  check("GET", "/api/v2/audit/events", listed, 200);
  EXPECT_NE(listed.body().find("\"aggregate\":{\"count\":3,"), std::string::npos) << listed.body();
  ASSERT_TRUE(t.app().audit().Flush());

  faulty->CloseGate();  // the writer blocks: one queued event fills the queue
  check("GET", "/api/v2/tokens/me", t.Call("GET", "/api/v2/tokens/me", token), 200);
  check("GET", "/api/v2/tokens/me", t.Call("GET", "/api/v2/tokens/me", token), 503);
  check("POST", "/api/v2/conversations", t.Call("POST", "/api/v2/conversations", token, "{}"), 503);
  check("GET", "/readyz", t.Call("GET", "/readyz"), 503);
  faulty->OpenGate();
  ASSERT_TRUE(t.app().audit().Flush());
}

}  // namespace
}  // namespace verbatim::api
