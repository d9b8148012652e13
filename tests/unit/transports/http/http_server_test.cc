// HttpServer over real sockets: a response carrying a FileSlice is streamed
// (handler body first, then the file's bytes), the internal header never
// leaves the process, and the connection stays usable afterwards.
#include "transports/http/http_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "transports/http/file_slice.h"

namespace verbatim::api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpServerFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-http-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    content_.resize(300000);  // several chunks
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>('a' + (i * 7) % 26);
    std::ofstream(dir_ / "file.bin", std::ios::binary).write(content_.data(), static_cast<std::streamsize>(content_.size()));

    HttpServerOptions opts;
    opts.port = 0;
    opts.threads = 1;
    server_ = std::make_unique<HttpServer>(
        opts,
        [this](std::shared_ptr<const OwnedRequest> req, Responder respond) {
          HttpResponse res{http::status::ok, 11};
          res.set(http::field::content_type, "application/octet-stream");
          if (req->view.path == "/slice") {
            res.body() = "HEAD";
            AttachFileSlice(res, {(dir_ / "file.bin").string(), 1000, content_.size() - 1000, {}});
          } else if (req->view.path == "/renamed") {
            AttachFileSlice(res, {(dir_ / "gone.part").string(), 0, 10, (dir_ / "file.bin").string()});
          } else if (req->view.path == "/missing") {
            AttachFileSlice(res, {(dir_ / "missing.bin").string(), 0, 10, {}});
          } else {
            res.body() = "plain";
          }
          respond(std::move(res));
        },
        [](int status, std::string code, std::string message) {
          HttpResponse res{static_cast<http::status>(status), 11};
          res.body() = code + ": " + message;
          return res;
        });
    ASSERT_TRUE(server_->Listen().ok());
    server_->Start();
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  }

  void TearDown() override {
    boost::system::error_code ec;
    socket_.close(ec);
    server_->Stop(std::chrono::milliseconds(1000));
    std::filesystem::remove_all(dir_);
  }

  http::response<http::string_body> Get(const std::string& target) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(socket_, req);
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    return res;
  }

  std::filesystem::path dir_;
  std::string content_;
  std::unique_ptr<HttpServer> server_;
  asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  boost::beast::flat_buffer buffer_;
};

TEST_F(HttpServerFileTest, StreamsBodyThenSliceAndKeepsTheConnection) {
  auto res = Get("/slice");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "HEAD" + content_.substr(1000));
  EXPECT_EQ(res[http::field::content_length], std::to_string(4 + content_.size() - 1000));
  EXPECT_EQ(res.find(kFileSliceHeader), res.end()) << "internal header leaked";
  EXPECT_EQ(res[http::field::content_type], "application/octet-stream");
  auto next = Get("/plain");  // same connection
  EXPECT_EQ(next.body(), "plain");
  EXPECT_EQ(Get("/slice").body().size(), 4 + content_.size() - 1000);
}

TEST_F(HttpServerFileTest, FollowsARenameAndAnswers500ForAMissingFile) {
  EXPECT_EQ(Get("/renamed").body(), content_.substr(0, 10));
  auto missing = Get("/missing");
  EXPECT_EQ(missing.result_int(), 500u);
  EXPECT_EQ(missing.find(kFileSliceHeader), missing.end());
  EXPECT_EQ(Get("/plain").body(), "plain");  // still usable
}

}  // namespace
}  // namespace verbatim::api
