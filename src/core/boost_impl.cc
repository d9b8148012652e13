// Boost.Asio and Boost.Beast compiled once (BOOST_*_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
// Asio's TLS (HTTPS/WSS listener, the CLI and the Terraform provider's https client), also once.
#include <boost/asio/ssl/impl/src.hpp>
