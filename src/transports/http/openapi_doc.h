// The OpenAPI 3.1 document (src/transports/http/openapi.json), embedded at build time.
#pragma once

#include <string_view>

namespace verbatim::api {
std::string_view OpenApiDocument();
}
