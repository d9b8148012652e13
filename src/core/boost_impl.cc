// Boost.Asio and Boost.Beast compiled once (BOOST_*_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
// Asio's TLS (terraform-provider-verbatim's https client), also compiled once.
#include <boost/asio/ssl/impl/src.hpp>
