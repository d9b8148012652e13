// Small helpers the pieces of media_load share: random identifiers (Call-IDs,
// tags, branches, conversation ids, SSRCs) and IPv4 socket addresses.
// The ids only have to be unique within a run, so a seeded mt19937_64 does.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace bench {

std::mt19937_64& Rng();  // one generator for the process, seeded from std::random_device
std::string Hex(size_t bytes);   // `bytes` random bytes as 2 × bytes lowercase hex digits
std::string Uuid4();             // a random RFC 4122 version-4 UUID
sockaddr_in Addr(const std::string& host, uint16_t port);  // host: a dotted IPv4 address

}  // namespace bench
