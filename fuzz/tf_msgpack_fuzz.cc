// terraform-provider-verbatim's DynamicValue decoding (terraform/value_codec.h):
// bytes Terraform (or anything on the plugin socket) sends must decode into a
// Value or a clear error, never crash, and whatever decodes must survive an
// encode/decode round trip unchanged. The first byte picks the schema type.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "terraform/value_codec.h"

using verbatim::terraform::DecodeJson;
using verbatim::terraform::DecodeMsgpack;
using verbatim::terraform::EncodeMsgpack;
using verbatim::terraform::Type;

namespace {

const Type& PickType(uint8_t selector) {
  static const Type kTypes[] = {
      // A resource's object, like verbatim_oauth_client.
      Type::Object({{"id", Type::String()},
                    {"name", Type::String()},
                    {"scopes", Type::Set(Type::String())},
                    {"validity", Type::Number()},
                    {"enabled", Type::Bool()}}),
      // Nested objects in a list, like verbatim_access_check.layers.
      Type::Object({{"layers", Type::List(Type::Object({{"layer", Type::String()},
                                                         {"required", Type::List(Type::String())}}))}}),
      Type::Map(Type::Set(Type::Number())),
      Type::List(Type::List(Type::Bool())),
  };
  return kTypes[selector % (sizeof kTypes / sizeof kTypes[0])];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Type& type = PickType(data[0]);
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto v = DecodeMsgpack(bytes, type);
  if (v.ok()) {
    auto encoded = EncodeMsgpack(*v, type);
    if (!encoded.ok()) std::abort();  // a decoded value must always encode
    auto again = DecodeMsgpack(*encoded, type);
    if (!again.ok() || !(*again == *v)) std::abort();
  }
  (void)DecodeJson(bytes, type);
  return 0;
}
