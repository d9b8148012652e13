#include "core/kek_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/private_files.h"

namespace verbatim {
namespace {

namespace fs = std::filesystem;

class KekFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "verbatim-kek-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "kek").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Write(const std::string& content, mode_t mode) {
    std::ofstream(path_, std::ios::binary) << content;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  static mode_t ModeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(KekFileTest, CreateWritesMode0600WhateverTheUmaskAndOpensBack) {
  const mode_t old = ::umask(0);  // the loosest umask: the file must still be 0600
  auto created = CreateKekFile(path_);
  ::umask(old);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(ModeOf(path_), 0600u);
  EXPECT_EQ(fs::file_size(path_), 61u);  // "verbatim-kek-v1\n" + 44 + "\n"
  const std::string id = created->key.id();
  auto opened = OpenKekFile(path_, KekLock::kShared);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->key.id(), id);
}

TEST_F(KekFileTest, CreateNeverOverwrites) {
  Write("keep me", 0600);
  EXPECT_EQ(CreateKekFile(path_).status().code(), "kek.exists");
  std::ifstream in(path_);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "keep me");
}

TEST_F(KekFileTest, RefusesAFileThatGroupOrOthersMayRead) {
  auto key = KeyEncryptionKey::Generate();
  for (mode_t mode : {0644, 0640, 0604, 0660, 0606}) {
    fs::remove(path_);
    Write(FormatKekFile(key), mode);
    auto r = OpenKekFile(path_, KekLock::kShared);
    EXPECT_EQ(r.status().code(), "kek.insecure") << std::oct << mode;
    EXPECT_NE(r.status().message().find("chmod 600 " + path_), std::string::npos) << r.status().message();
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);
  EXPECT_TRUE(OpenKekFile(path_, KekLock::kShared).ok()) << "read-only for its owner is fine";
}

TEST_F(KekFileTest, MissingIsNotFound) {
  auto r = OpenKekFile(path_, KekLock::kShared);
  EXPECT_EQ(r.status().code(), "kek.missing");
  EXPECT_EQ(r.status().kind(), Status::Kind::kNotFound);
}

TEST_F(KekFileTest, TheFormatIsStrict) {
  const std::string good = FormatKekFile(KeyEncryptionKey::Generate());
  const std::string b64 = good.substr(16, 44);
  EXPECT_TRUE(ParseKekFile(good, "k").ok());
  EXPECT_TRUE(ParseKekFile(good.substr(0, good.size() - 1), "k").ok()) << "the final newline is optional";
  for (const std::string& bad : {
           std::string(),
           b64 + "\n",                                         // no header line
           "verbatim-kek-v2\n" + b64 + "\n",                   // another version
           "verbatim-kek-v1\r\n" + b64 + "\r\n",               // CRLF
           "verbatim-kek-v1\n" + b64 + "\n\n",                 // a trailing blank line
           "verbatim-kek-v1\n " + b64 + "\n",                  // whitespace
           "verbatim-kek-v1\n" + b64.substr(0, 40) + "\n",     // short
           "verbatim-kek-v1\n" + b64 + "AAAA\n",               // 35 bytes
           "verbatim-kek-v1\n" + std::string(64, 'a') + "\n",  // hex-looking, wrong size
       }) {
    auto r = ParseKekFile(bad, "/etc/verbatim/kek");
    EXPECT_EQ(r.status().code(), "kek.malformed") << bad;
    EXPECT_NE(r.status().message().find("/etc/verbatim/kek"), std::string::npos);
  }
}

TEST_F(KekFileTest, AnOversizedFileIsRefusedBeforeReading) {
  Write(std::string(4096, 'x'), 0600);
  EXPECT_EQ(OpenKekFile(path_, KekLock::kShared).status().code(), "kek.malformed");
}

TEST_F(KekFileTest, SharedHoldersExcludeAnExclusiveOneAndViceVersa) {
  ASSERT_TRUE(WriteKekFile(path_, KeyEncryptionKey::Generate()).ok());
  {
    auto a = OpenKekFile(path_, KekLock::kShared);
    auto b = OpenKekFile(path_, KekLock::kShared);
    ASSERT_TRUE(a.ok() && b.ok());
    auto rotate = OpenKekFile(path_, KekLock::kExclusive);
    EXPECT_EQ(rotate.status().code(), "kek.locked");
    EXPECT_NE(rotate.status().message().find("Stop the server"), std::string::npos) << rotate.status().message();
  }
  auto rotate = OpenKekFile(path_, KekLock::kExclusive);
  ASSERT_TRUE(rotate.ok()) << "the locks went with their holders";
  auto serve = OpenKekFile(path_, KekLock::kShared);
  EXPECT_EQ(serve.status().code(), "kek.locked");
  EXPECT_NE(serve.status().message().find("being rotated"), std::string::npos) << serve.status().message();
}

TEST_F(KekFileTest, WriteKekFileIsExclusiveAndPrivate) {
  const mode_t old = ::umask(0);
  Status s = WriteKekFile(path_, KeyEncryptionKey::Generate());
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ModeOf(path_), 0600u);
  EXPECT_EQ(WriteKekFile(path_, KeyEncryptionKey::Generate()).code(), "kek.exists");
}

TEST_F(KekFileTest, MakePrivateTreeRemovesGroupAndOtherBitsOnly) {
  fs::create_directories(dir_ / "media" / "conv");
  std::ofstream(dir_ / "media" / "conv" / "segment-1.wav") << "RIFF";
  std::ofstream(dir_ / "media" / "conv" / "run.sh") << "#!";
  ASSERT_EQ(::chmod((dir_ / "media").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir_ / "media" / "conv").c_str(), 0775), 0);
  ASSERT_EQ(::chmod((dir_ / "media" / "conv" / "segment-1.wav").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((dir_ / "media" / "conv" / "run.sh").c_str(), 0755), 0);
  fs::create_symlink("/etc/passwd", dir_ / "media" / "conv" / "link");
  const mode_t passwd_before = ModeOf("/etc/passwd");

  TightenReport report;
  MakePrivateTree(dir_ / "media", report);
  EXPECT_TRUE(report.errors.empty()) << report.errors.front();
  EXPECT_EQ(report.tightened, 4);
  EXPECT_EQ(ModeOf(dir_ / "media"), 0700u);
  EXPECT_EQ(ModeOf(dir_ / "media" / "conv"), 0700u);
  EXPECT_EQ(ModeOf(dir_ / "media" / "conv" / "segment-1.wav"), 0600u);
  EXPECT_EQ(ModeOf(dir_ / "media" / "conv" / "run.sh"), 0700u) << "the owner keeps its bits";
  EXPECT_EQ(ModeOf("/etc/passwd"), passwd_before) << "symbolic links are not followed";

  TightenReport again;
  MakePrivateTree(dir_ / "media", again);
  EXPECT_EQ(again.tightened, 0) << "nothing to do the second time";
  MakePrivate(dir_ / "absent", again);
  EXPECT_TRUE(again.errors.empty());
}

}  // namespace
}  // namespace verbatim
